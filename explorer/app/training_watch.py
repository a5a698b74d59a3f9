"""A training run seen from every page: while this session trains, the sidebar of every page but Train shows
its progress, and when it ends the page reruns once, so the finished model is listed wherever the student is."""
from __future__ import annotations

import time

import streamlit as st

from ..checkpoint import ModelRecord
from ..i18n import tr
from . import keys, models
from .catalog import TrainedEntry
from .jobs import TrainingJob
from .model_menu import GROUPS
from .navigation import page_file

REDRAW_EVERY = 1.0       # seconds between the sidebar's progress redraws (a fragment: the page itself stays)


def list_finished(job: TrainingJob) -> bool:
    """Make a finished job's model part of the model list — on disk it is listed already; a model that could
    not be written is held in this session — once per job; True the first time (the caller reruns)."""
    if job.running or job.status in ("failed", "cancelled") or job.metrics is None:
        return False
    if job.saved_key is None and job.key not in st.session_state.get(keys.SESSION_MODELS, {}):
        epochs_run = len(job.history["epoch"])
        label = tr("{variant} · {dataset} · trained {time} ({epochs} epochs)", variant=job.variant,
                   dataset=job.data.name, time=time.strftime('%H:%M'), epochs=epochs_run)
        record = ModelRecord(job.data.name, job.metrics.to_dict(), job.history, job.summary or {})
        models.add_session_model(TrainedEntry(key=job.key, label=label, variant=job.variant, dataset=job.data.name,
                                              record=record, model=job.model), activate_it=False)
    if st.session_state.get(keys.TRAIN_LISTED) == job.key:
        return False
    st.session_state[keys.TRAIN_LISTED] = job.key
    return True


def follow(on_train_page: bool) -> None:
    """In the sidebar: this session's run in progress, or, the run after it ended, a note naming its model."""
    job: TrainingJob | None = st.session_state.get(keys.TRAIN_JOB)
    if job is None or on_train_page:      # the Train page draws the run itself, and lists its model
        return
    if job.running:
        _progress(job.key)
    elif list_finished(job):
        st.toast(tr("{variant} finished training ({epochs} epochs): it is in the model list, under “{group}”.",
                    variant=job.variant, epochs=len(job.history["epoch"]), group=tr(GROUPS["mine"])),
                 icon=":material/check_circle:")


@st.fragment(run_every=REDRAW_EVERY)
def _progress(job_key: str) -> None:
    job: TrainingJob | None = st.session_state.get(keys.TRAIN_JOB)
    if job is None or job.key != job_key:
        return
    if not job.running:
        st.rerun(scope="app")             # the whole page: the sidebar's menu lists the finished model
    if job.status == "queued":
        st.progress(0.0, text=tr("{variant}: queued (another run is using the CPU)", variant=job.variant))
    else:
        epoch, _ = job.snapshot()
        st.progress(min(job.fraction, 1.0), text=tr("Training {variant}: epoch {epoch}/{epochs}", variant=job.variant,
                                                    epoch=epoch, epochs=job.settings.epochs))
    st.page_link(page_file("train"), label=tr("Watch it on Train"), icon=":material/model_training:")
