"""The reader's language: a link's `lang=en|zh`, the sidebar's switch, and the source explorer.i18n asks."""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from .. import i18n
from . import keys

LINK_NAME = "lang"      # the link parameter: …/latent?model=vae-2d&lang=zh


def session_language() -> str:
    """This session's language; English outside a page's run (a background thread has no session)."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return i18n.DEFAULT_LANGUAGE
    return str(st.session_state.get(keys.LANGUAGE, i18n.DEFAULT_LANGUAGE))


def install() -> None:
    """Let the library's tr() read this session's language (once per process; idempotent)."""
    i18n.set_language_source(session_language)


def apply_link() -> None:
    """A link's lang= chooses the language once per session (the sidebar's switch wins afterwards)."""
    from . import links  # links imports navigation, which marks its titles with this package's i18n

    links.preset(keys.LANGUAGE, LINK_NAME, links.one_of(list(i18n.LANGUAGES)), i18n.N_("language"))
    st.session_state.setdefault(keys.LANGUAGE, i18n.DEFAULT_LANGUAGE)


def switch() -> None:
    """The sidebar's switch: each language in its own name ("English", "中文")."""
    st.radio(i18n.tr("Language"), list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.__getitem__, key=keys.LANGUAGE,
             horizontal=True, label_visibility="collapsed", on_change=keep_choices)


def _choice_keys() -> list[str]:
    """The keys of this session's widgets that choose among options shown through format_func (selectbox,
    radio, multiselect, segmented control, pills, select slider). Streamlit's internals: [] if they moved."""
    try:
        from streamlit.runtime.state.session_state_proxy import get_session_state

        state = get_session_state()._state          # SafeSessionState → SessionState
        widgets = state._new_widget_state.widget_metadata
        mapping = state._key_id_mapper.id_key_mapping
    except (AttributeError, ImportError):
        return []
    chosen = []
    for widget_id, meta in widgets.items():
        serde = getattr(meta.deserializer, "__self__", None)
        if (hasattr(serde, "formatted_options") or hasattr(serde, "format_func")) and widget_id in mapping:
            chosen.append(mapping[widget_id])
    return chosen


def keep_choices() -> None:
    """Switching languages keeps every choice: Streamlit's frontend holds a menu's choice as its shown label,
    which the other language no longer has (the menu would fall back to its first option). Read now, with
    the labels the browser sent, each such choice is set again by value before the page runs."""
    for key in _choice_keys():
        if key == keys.LANGUAGE or key not in st.session_state:
            continue
        try:
            st.session_state[key] = st.session_state[key]
        except Exception:   # noqa: BLE001 — a widget whose value cannot be set keeps Streamlit's own handling
            continue


def chrome_css() -> str:
    """CSS that says Streamlit's own words on its file uploader (its frontend speaks only English) in the
    reader's language: the English is set to size 0 and the translation drawn after it; '' for English."""
    if session_language() == i18n.DEFAULT_LANGUAGE:
        return ""
    upload = i18n.tr("Upload").replace('"', "")
    limit = i18n.tr("{size} MB per file", size=st.get_option("server.maxUploadSize")).replace('"', "")
    button = "[data-testid='stFileUploaderDropzone'] [data-testid='stBaseButton-secondary'] p"
    return (f"{button} {{ font-size: 0; }}\n"
            f"{button}::after {{ content: \"{upload}\"; font-size: 0.875rem; }}\n"
            f"[data-testid='stFileUploaderDropzoneInstructions'] span {{ font-size: 0; }}\n"
            f"[data-testid='stFileUploaderDropzoneInstructions'] span::after {{ content: \"{limit}\"; "
            f"font-size: 0.875rem; }}\n")


def link_values() -> dict[str, str]:
    """What a link carries for the language: nothing for English (the default), else lang=<code>."""
    lang = session_language()
    return {} if lang == i18n.DEFAULT_LANGUAGE else {LINK_NAME: lang}


install()
for _lang in i18n.LANGUAGES:      # read once here (about 0.1 s), before the first visitor, not in a page's run
    i18n.catalogue(_lang)
