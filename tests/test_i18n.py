"""English and Chinese: tr() looks texts up and fills their fields, every key the app uses is in both
catalogues with the same fields, no text is marked in a way that has no key, and the language follows a
link's lang= and the sidebar's switch."""
from __future__ import annotations

import pickle

import pytest
from apptest_support import server_like_pages
from babel.messages.pofile import read_po
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from explorer import i18n
from explorer.i18n_keys import all_keys, fields_of, literal_keys, source_files

APP = str(ROOT / "streamlit_app.py")


def po_entries(lang: str) -> dict[str, str]:
    with (i18n.LOCALE_DIR / f"{lang}.po").open("rb") as handle:
        return {(f"{m.context}{i18n.CONTEXT_SEPARATOR}" if m.context else "") + str(m.id): str(m.string or "")
                for m in read_po(handle) if m.id}


@pytest.fixture(autouse=True)
def _language_source_restored():
    """Each test leaves the language source as it found it: the app's (installed when it is imported)."""
    import explorer.app.language  # noqa: F401

    before = i18n.set_language_source(None)
    i18n.set_language_source(before)
    yield
    i18n.set_language_source(before)


@pytest.fixture
def chinese():
    i18n.set_language_source(lambda: "zh")


def test_tr_translates_then_fills_named_fields(chinese):
    assert i18n.tr("Home") == i18n.catalogue("zh")["Home"] != "Home"
    assert i18n.tr("no such text {n}", n=3) == "no such text 3"      # an unknown text falls back to English
    i18n.set_language_source(lambda: "en")
    assert i18n.tr("Home") == "Home"


def test_a_language_source_that_fails_or_names_no_language_gives_english():
    def broken() -> str:
        raise RuntimeError("no session")
    i18n.set_language_source(broken)
    assert i18n.language() == "en" and i18n.tr("Home") == "Home"
    i18n.set_language_source(lambda: "klingon")
    assert i18n.language() == "en"


def test_later_translates_when_shown_and_pickles(chinese):
    made = i18n.later("Home")
    assert str(made) == i18n.catalogue("zh")["Home"]
    assert str(pickle.loads(pickle.dumps(made))) == str(made)     # worker messages cross a pipe
    i18n.set_language_source(lambda: "en")
    assert str(made) == "Home"


def test_every_key_the_app_uses_is_in_both_catalogues():
    keys = all_keys()
    assert len(keys) > 500
    for lang in i18n.LANGUAGES:
        entries = po_entries(lang)
        missing = sorted(k for k in keys if not entries.get(k))
        assert not missing, f"{lang}.po lacks {len(missing)} keys, e.g. {missing[:5]}: python -m explorer.i18n_keys"
        stale = sorted(set(entries) - set(keys))
        assert not stale, f"{lang}.po has {len(stale)} keys the code no longer uses, e.g. {stale[:5]}"


def test_english_says_each_key_as_it_is():
    assert all(said == key.rpartition(i18n.CONTEXT_SEPARATOR)[2] for key, said in po_entries("en").items())


def test_one_english_word_in_two_senses_has_two_translations(chinese):
    assert i18n.trp("training", "Step") != i18n.tr("Step")          # the step-through button, a lesson's step
    i18n.set_language_source(lambda: "en")
    assert i18n.trp("training", "Step") == i18n.tr("Step") == "Step"


def test_a_translation_keeps_every_named_field_and_its_format():
    wrong = {k: v for k, v in po_entries("zh").items() if v and fields_of(k) != fields_of(v)}
    assert not wrong, f"{len(wrong)} translations change their fields, e.g. {list(wrong.items())[:3]}"


def test_a_chinese_text_is_chinese():
    """A translation left in English (copied, not translated) is caught unless the text is a name or formula."""
    import re
    english = {k: v for k, v in po_entries("zh").items()
               if v == k and re.search(r"[A-Za-z]{3,} [a-z]{3,} [a-z]{3,}", k)}
    assert not english, f"{len(english)} texts are 'translated' as themselves, e.g. {list(english)[:5]}"


def test_no_text_is_marked_with_an_f_string_or_a_sum(tmp_path):
    _, misuses = literal_keys(source_files())
    assert not misuses, [f"{m.where}: {m.what}" for m in misuses]
    bad = tmp_path / "bad.py"
    bad.write_text('from explorer.i18n import tr\nx = 3\ntr(f"{x} units")\ntr("a" + "b")\ntr("fine {x}", x=x)\n')
    keys, misuses = literal_keys([bad])
    assert len(misuses) == 2 and list(keys) == ["fine {x}"]


def test_fields_of_reads_names_and_specs():
    assert fields_of("MSE {mse:.4f} of {n} images") == ["mse:.4f", "n:"]
    assert fields_of("{{literal}} braces") == []
    assert fields_of("%{y:.3f} at %{x}") == fields_of("%{x} 处 %{y:.3f}")      # a hover template's


@pytest.fixture
def app():
    """An AppTest whose test thread reads the session's language too: AppTest formats a menu's options there
    (setting a value looks its label up), where no script runs, so the app's own source would say English."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from explorer.app import language

    with server_like_pages():
        at = AppTest.from_file(APP, default_timeout=120)

        def either_thread() -> str:
            if get_script_run_ctx(suppress_warning=True) is not None:
                return language.session_language()
            return str(at.session_state["lang"]) if "lang" in at.session_state else i18n.DEFAULT_LANGUAGE
        i18n.set_language_source(either_thread)
        yield at


def test_a_link_with_lang_zh_opens_the_app_in_chinese_and_the_switch_goes_back(app):
    app.query_params["lang"] = "zh"
    app.run()
    assert not app.exception
    zh_title = i18n.catalogue("zh")["Autoencoder Explorer"] if "Autoencoder Explorer" in i18n.catalogue("zh") \
        else "Autoencoder Explorer"
    assert app.title[0].value == zh_title
    assert app.session_state["lang"] == "zh"
    assert app.sidebar.selectbox(key="dataset").label == i18n.catalogue("zh")["Dataset"]
    app.sidebar.radio(key="lang").set_value("en").run()
    assert app.sidebar.selectbox(key="dataset").label == "Dataset"
    assert "lang" not in app.query_params


def test_a_bad_lang_in_a_link_falls_back_to_english_with_a_notice(app):
    app.query_params["lang"] = "fr"
    app.run()
    assert not app.exception
    assert app.session_state["lang"] == "en"
    assert any("language" in t.value for t in app.toast)


# Every page in Chinese under AppTest, which sees what a browser hides until hovered or opened: help
# texts, every option of a menu, placeholders, table headers, the charts' hover texts.
CHINESE_PAGES = [("pages/home.py", None), ("pages/train.py", None), ("pages/reconstructions.py", "denoising"),
                 ("pages/activations.py", "sparse_kl"), ("pages/latent.py", "vae-2d"), ("pages/latent.py", None),
                 ("pages/compare.py", None), ("pages/claims.py", None), ("pages/lessons.py", None)]


@pytest.mark.parametrize("page, model", CHINESE_PAGES, ids=[f"{p[6:-3]}-{m or 'default'}" for p, m in CHINESE_PAGES])
def test_every_page_in_chinese_has_no_english_left(app, page, model):
    from english_left import english_left

    app.query_params["lang"] = "zh"
    if model:
        app.query_params["model"] = model
    app.run()
    if page != "pages/home.py":
        app.switch_page(page)
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    left = {text: words for _, text, words in english_left(app)}
    assert not left, f"English left on {page} in Chinese:\n" + "\n".join(f"{t!r} ← {w}" for t, w in left.items())


def test_rewording_a_shown_text_keeps_kept_results_and_changing_a_number_does_not(tmp_path):
    """Measures and baselines kept on disk are keyed by a digest of their code (explorer.code_digest): a
    translation must not throw them away, a changed computation must."""
    from explorer.code_digest import code_digest

    def digest(source: str) -> str:
        path = tmp_path / "m.py"
        path.write_text(source)
        return code_digest([path])
    base = digest('"""Doc."""\ndef f(x):\n    raise ValueError(tr("bad {x}", x=x))  # why\n    return x * 2\n')
    assert digest('"""Other doc."""\ndef f(x):\n    raise ValueError(tr("很差 {x}", x=x))\n    return x * 2\n') == base
    assert digest('"""Doc."""\ndef f(x):\n    raise ValueError(tr("bad {x}", x=x))\n    return x * 3\n') != base
    assert digest('"""Doc."""\ndef f(x):\n    raise ValueError(tr("bad {x}", x=-x))\n    return x * 2\n') != base
