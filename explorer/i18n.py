"""The app's words in English and Simplified Chinese: English source texts, looked up in one gettext
catalogue per language (explorer/locale/<lang>.po, read with Babel).

Write a shown text as `tr("Mean L0 of {count} images", count=n)`: the English text is the catalogue's
key (msgid), its {named} fields are filled after the lookup, so a translation may move them. A text
defined where the reader's language is not known yet (a module constant, a message made in another
thread) is marked with `N_("…")` and translated where it is shown with `tr(text)`, or made as
`later("…", **values)`, which translates when it is turned into a string. Formulas, numbers and the
names of variants, datasets and files are never translated. `python -m explorer.i18n_keys` lists every
key the code uses and updates the catalogues; tests/test_i18n.py fails on a key missing in either."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}   # code (as in a link's lang=) → its own name
DEFAULT_LANGUAGE = "en"
CONTEXT_SEPARATOR = "\x04"      # gettext's: a key "context\x04text" is the text in that context


def _default_source() -> str:
    return DEFAULT_LANGUAGE


_language_source: Callable[[], str] = _default_source


def set_language_source(source: Callable[[], str] | None) -> Callable[[], str]:
    """Where language() asks for the reader's language (the app: its session's choice); None: English.
    The library never imports Streamlit, so the app hands it this. Returns the source it replaces."""
    global _language_source
    replaced, _language_source = _language_source, source or _default_source
    return replaced


def language() -> str:
    """The reader's language code: the source's answer if it is one of LANGUAGES, else English (also
    when the source cannot answer, e.g. outside a page's run)."""
    try:
        lang = _language_source()
    except Exception:   # noqa: BLE001 — a text must never fail for want of a language
        return DEFAULT_LANGUAGE
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    """{English text: its translation} from explorer/locale/<lang>.po; untranslated and fuzzy entries
    are left out, so they fall back to English."""
    from babel.messages.pofile import read_po  # only when a text is first looked up

    path = LOCALE_DIR / f"{lang}.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        read = read_po(handle)
    return {(f"{m.context}{CONTEXT_SEPARATOR}" if m.context else "") + str(m.id): str(m.string) for m in read
            if m.id and isinstance(m.string, str) and m.string and not m.fuzzy}


def _said(key: str, text: str, values: dict[str, object]) -> str:
    """The catalogue's translation of key (else the English text), its {named} fields filled from values."""
    shown = catalogue(language()).get(key, text) if text else text
    return shown.format(**values) if values else shown


def tr(text: str, /, **values: object) -> str:
    """`text` in the reader's language, its {named} fields filled from values (str.format)."""
    return _said(text, text, values)


def trp(context: str, text: str, /, **values: object) -> str:
    """tr for a text that one English word says in two senses (gettext's msgctxt): trp("training", "Step")
    is the step-through button, tr("Step") a lesson's step."""
    return _said(f"{context}{CONTEXT_SEPARATOR}{text}", text, values)


def trn(singular: str, plural: str, count: int, /, **values: object) -> str:
    """The singular or plural text for count (both are keys; a language without plurals gives both the
    same translation); {count} is filled too."""
    return tr(singular if count == 1 else plural, count=count, **values)


def N_(text: str) -> str:
    """Marks a text for the catalogue where it is defined; it is translated where it is shown, tr(text)."""
    return text


@dataclass(frozen=True)
class Later:
    """A text translated when it is shown, not when it is made: made in a thread or process that does not
    know the reader's language, or kept while the reader may switch languages."""
    text: str
    values: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return tr(self.text, **{k: str(v) if isinstance(v, Later) else v for k, v in self.values.items()})


def later(text: str, /, **values: object) -> Later:
    """A text to translate when it is shown; a value that is itself a Later is translated with it."""
    return Later(text, dict(values))
