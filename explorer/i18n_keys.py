"""Every text the app shows, as catalogue keys: the literals the code passes to tr/trn/N_/later, and the
texts the variants and datasets declare; `python -m explorer.i18n_keys` writes them into the catalogues."""
from __future__ import annotations

import argparse
import ast
import json
import os
import string
import sys
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

from .i18n import CONTEXT_SEPARATOR, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parents[1]
# A fixed date in the header: rewriting a catalogue with the same keys and texts changes no byte.
FIXED_DATE = datetime(2026, 12, 1, tzinfo=timezone.utc)
HEADER = ("# {language} texts of Autoencoder Explorer: one entry per English text the app shows.\n"
          "# Written by `python -m explorer.i18n_keys` (keys from the code); edit only the msgstr lines.")
MARKERS = {"tr": 1, "N_": 1, "later": 1, "trn": 2, "trp": 2}    # function → how many leading literal args it takes


@dataclass(frozen=True)
class Misuse:
    """A marker called with something other than a plain literal: its text cannot be a catalogue key."""
    where: str
    what: str


def source_files(root: Path = ROOT) -> list[Path]:
    """The app's code: the entry script, the pages and the library (the CLI's words stay English)."""
    files = [root / "streamlit_app.py", *sorted((root / "pages").glob("*.py")),
             *sorted((root / "explorer").rglob("*.py"))]
    return [f for f in files if f.name not in ("cli.py", "__main__.py", "i18n_keys.py")]


def _marker_name(call: ast.Call) -> str | None:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return name if name in MARKERS else None


def literal_keys(files: Iterable[Path]) -> tuple[dict[str, list[str]], list[Misuse]]:
    """{key: where it is used} for every marker call with literal text, and the calls whose text is an
    f-string or a concatenation (a bug: such a text has no fixed key). A marker given a variable is fine
    where the variable holds a key collected elsewhere (runtime_keys)."""
    keys: dict[str, list[str]] = {}
    misuses: list[Misuse] = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or (name := _marker_name(node)) is None:
                continue
            where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{node.lineno}"
            args = node.args[:MARKERS[name]]
            for arg in args:
                if isinstance(arg, (ast.JoinedStr, ast.BinOp)):
                    misuses.append(Misuse(where, f"{name}() given an f-string or a sum; write "
                                                 f"{name}(\"… {{name}} …\", name=value)"))
            texts = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if name == "trp" and len(texts) == 2:      # (context, text): one key
                texts = [f"{texts[0]}{CONTEXT_SEPARATOR}{texts[1]}"]
            for text in texts:
                keys.setdefault(text, []).append(where)
    return keys, misuses


def runtime_keys() -> dict[str, list[str]]:
    """The texts the variants and datasets declare (summaries, parameter help, term titles), which the
    app shows through tr(variable)."""
    from .datasets import DATASETS
    from .registry import get_variant, variant_names
    from .variants.base import RECON_MSE, TOTAL

    keys: dict[str, list[str]] = {}

    def add(text: str, where: str) -> None:
        if text:
            keys.setdefault(text, []).append(where)

    for term in (RECON_MSE, TOTAL):
        add(term.title, f"term {term.name}")
        add(term.about, f"term {term.name}")
    for name in variant_names():
        cls = get_variant(name)
        add(cls.summary, f"variant {name}")
        for f in fields(cls.config_class):
            add(str(f.metadata.get("help", "")), f"variant {name} --param {f.name}")
        for term in cls.terms():
            add(term.title, f"variant {name} term {term.name}")
            add(term.about, f"variant {name} term {term.name}")
        for metric in cls.extra_metrics:
            add(metric.title, f"variant {name} metric {metric.name}")
    for name, spec in DATASETS.items():
        add(spec.description, f"dataset {name}")
    return keys


def all_keys() -> dict[str, list[str]]:
    keys, _ = literal_keys(source_files())
    for key, where in runtime_keys().items():
        keys.setdefault(key, []).extend(where)
    return keys


def fields_of(text: str) -> list[str]:
    """The {named} fields of a text with their format specs, sorted: a translation must keep them all."""
    try:
        return sorted(f"{name}:{spec}" for _, name, spec, _ in string.Formatter().parse(text) if name is not None)
    except ValueError:
        return ["<unbalanced braces>"]


def update(translations: dict[str, dict[str, str]] | None = None, root: Path = LOCALE_DIR) -> dict[str, int]:
    """Rewrite every language's catalogue with exactly the keys the code uses: English says each key as it
    is; another language keeps its translations, takes new ones from `translations`, and leaves the rest
    empty (reported). Returns {lang: untranslated count}."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    keys = all_keys()
    missing: dict[str, int] = {}
    for lang in LANGUAGES:
        path = root / f"{lang}.po"
        old: dict[str, str] = {}
        if path.exists():
            with path.open("rb") as handle:
                old = {(f"{m.context}{CONTEXT_SEPARATOR}" if m.context else "") + str(m.id): str(m.string)
                       for m in read_po(handle) if m.id and isinstance(m.string, str)}
        old.update({k: v for k, v in (translations or {}).get(lang, {}).items() if v})
        catalog = Catalog(locale=lang, project="Autoencoder Explorer", version="2", charset="utf-8",
                          header_comment=HEADER.format(language=LANGUAGES[lang]), creation_date=FIXED_DATE,
                          revision_date=FIXED_DATE, last_translator="Autoencoder Explorer",
                          language_team=LANGUAGES[lang])
        for key in sorted(keys):
            context, _, text = key.rpartition(CONTEXT_SEPARATOR)
            said = text if lang == "en" else old.get(key, "")
            where = [(w.rsplit(":", 1)[0], 0) for w in keys[key][:3] if ":" in w]
            catalog.add(text, said, context=context or None, locations=where)
        missing[lang] = sum(1 for key in keys if not (key if lang == "en" else old.get(key)))
        tmp = path.with_suffix(f".po.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            write_po(handle, catalog, width=120, omit_header=False, sort_output=True, include_lineno=False)
        tmp.replace(path)
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.i18n_keys", description=__doc__)
    parser.add_argument("--merge", nargs="*", default=[], metavar="JSON",
                        help="files of {English text: Chinese text} to take into the zh catalogue")
    parser.add_argument("--missing", action="store_true", help="print the keys still untranslated in zh")
    args = parser.parse_args(argv)
    _, misuses = literal_keys(source_files())
    for m in misuses:
        print(f"{m.where}: {m.what}", file=sys.stderr)
    merged: dict[str, str] = {}
    for name in args.merge:
        merged.update(json.loads(Path(name).read_text(encoding="utf-8")))
    missing = update({"zh": merged})
    print(" · ".join(f"{lang}: {n} untranslated" for lang, n in missing.items()))
    if args.missing:
        from .i18n import catalogue
        catalogue.cache_clear()
        zh = catalogue("zh")
        for key in sorted(all_keys()):
            if key not in zh:
                print(json.dumps(key, ensure_ascii=False))
    return 1 if misuses else 0


if __name__ == "__main__":
    sys.exit(main())
