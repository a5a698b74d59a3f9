"""Autoencoder Explorer — the entry point: page navigation and the shared sidebar."""
import time

RUN_STARTED = time.perf_counter()   # for the load test's server-side page times (app.timing)
import explorer.app.preload  # noqa: E402,F401  — the first library import in every script: see its docstring

import streamlit as st  # noqa: E402

from explorer.app import identity, keys, language, links, model_menu, models, training_watch  # noqa: E402
from explorer.app.legacy_pages import leave_legacy_pages_mode  # noqa: E402
from explorer.app.navigation import PAGES  # noqa: E402
from explorer.app.timing import run_timer  # noqa: E402
from explorer.checkpoint import CheckpointError  # noqa: E402
from explorer.datasets import DATASETS, DEFAULT_DATASET  # noqa: E402
from explorer.device import available_devices  # noqa: E402
from explorer.i18n import N_, later, tr  # noqa: E402

leave_legacy_pages_mode()
language.apply_link()     # before the first text: what follows is already in the reader's language
st.set_page_config(page_title="Autoencoder Explorer", page_icon="🧠", layout="wide")
# Small images are upscaled by the browser: keep pixels square and crisp, never blurred. Below 1400 px (a
# projector's 1024 or 1280) the wide layout's 5 rem side margins cost a page a sixth of its width: narrow them.
st.markdown("<style>img { image-rendering: pixelated; }\n"
            "@media (max-width: 1399px) { [data-testid='stMainBlockContainer'] "
            "{ padding-left: 1.5rem; padding-right: 1.5rem; } }\n" + language.chrome_css() + "</style>",
            unsafe_allow_html=True)

navigation = st.navigation([st.Page(p.path, title=tr(p.title), icon=p.icon, default=p.default) for p in PAGES])

st.session_state.setdefault(keys.DATASET, DEFAULT_DATASET)
st.session_state.setdefault(keys.DEVICE, "auto")

# An upload from the last interaction is handled before the selectors exist, so it can select itself.
upload = st.session_state.get(keys.UPLOAD)
if upload is not None and st.session_state.get(keys.UPLOAD_SEEN) != upload.file_id:
    st.session_state[keys.UPLOAD_SEEN] = upload.file_id
    try:
        kept = bool(st.session_state.get(keys.KEEP_UPLOAD))
        added = models.add_upload(upload.name, upload.getvalue(), keep=kept)
        facts = {"name": upload.name, "variant": added.entry.variant, "dataset": added.entry.dataset}
        # Said when shown (later): a language switched afterwards says it again in the new language.
        said = later("Loaded {name}: {variant} on {dataset}, for this tab.", **facts) if not kept or added.not_kept \
            else later("Loaded {name}: {variant} on {dataset}, kept in this browser's model list.", **facts)
        st.session_state[keys.UPLOAD_NOTE] = ("warning", later("{said} Not kept: {why}.", said=said,
                                                                why=added.not_kept)) if added.not_kept \
            else ("success", said)
    except CheckpointError as exc:
        st.session_state[keys.UPLOAD_NOTE] = ("error", str(exc))

entries = models.model_entries()
# A link names the model (shipped or saved) and the dataset: applied once, before the selectors exist.
if (linked := links.value(links.MODEL, lambda name: links.model_key(name, entries), N_("model"))) is not None:
    models.activate(linked, entries[linked].dataset)
links.preset(keys.DATASET, links.DATASET, links.one_of(list(DATASETS)), N_("dataset"))
if st.session_state.get(keys.ACTIVE_MODEL) not in entries:
    if st.session_state.get(keys.ACTIVE_MODEL):   # it was there: its file was removed or replaced
        st.session_state[keys.MODEL_GONE] = True
    st.session_state[keys.ACTIVE_MODEL] = models.default_model_key(entries)


def follow_model_dataset() -> None:
    """Picking a model switches to the dataset it was trained on (its images have that size)."""
    entry = models.model_entries().get(st.session_state.get(keys.ACTIVE_MODEL) or "")
    if entry is not None and entry.dataset in DATASETS:
        st.session_state[keys.DATASET] = entry.dataset


with st.sidebar:
    language.switch()
    model_menu.draw(entries, on_change=follow_model_dataset)
    st.selectbox(tr("Dataset"), list(DATASETS), key=keys.DATASET,
                 help=tr("Test images shown on every page. {datasets}", datasets=" · ".join(
                     tr("**{name}**: {description}", name=name, description=tr(spec.description))
                     for name, spec in DATASETS.items())))
    st.selectbox(tr("Device"), ["auto", *available_devices()], key=keys.DEVICE,
                 help=tr("'auto' uses a GPU when there is one."))
    with st.expander(tr("Upload a checkpoint (.pt)")):
        st.file_uploader(tr("Checkpoint file"), type=["pt"], key=keys.UPLOAD, label_visibility="collapsed",
                         help=tr("A file written by this app or `python -m explorer train`."))
        st.checkbox(tr("Keep it in this browser"), key=keys.KEEP_UPLOAD,
                    help=tr("Listed again after a reload or a server restart, in this browser only."))
        note = st.session_state.get(keys.UPLOAD_NOTE)
        if note:
            {"success": st.success, "warning": st.warning}.get(note[0], st.error)(str(note[1]))
    if st.session_state.pop(keys.MODEL_GONE, False):
        st.warning(tr("The model you had selected is no longer on disk (its checkpoint was removed or "
                      "replaced); showing the default model instead."))
    training_watch.follow(on_train_page=navigation.url_path == "train")
    st.caption(tr("Running on **{device}**", device=models.current_device()))
    identity.remember()

active = entries.get(st.session_state.get(keys.ACTIVE_MODEL) or "")
st.session_state[keys.LINK_MODEL_ID] = links.model_id(active) if active else None
st.session_state[keys.LINK_MODEL_OWN] = bool(active and active.own)

with run_timer(navigation.url_path or "home", RUN_STARTED):
    navigation.run()
