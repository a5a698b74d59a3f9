"""The models a page compares, loaded and evaluated with a progress bar naming each one evaluated for the first
time, in the place of what the page drew there before (never a faded chart of the models chosen before)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from ..compare import ComparedModel
from ..datasets import Dataset
from ..i18n import tr
from . import caches, models

Report = Callable[[int, int, str], None]       # (models done, models to do, the one under way)


def pending(model_keys: list[str], data: Dataset) -> list[str]:
    """The models not yet evaluated on data by this server."""
    device = models.current_device()
    return [k for k in model_keys if not caches.metrics_ready(k, data.name, device)]


def evaluate(model_keys: list[str], data: Dataset, report: Report) -> None:
    """Load and evaluate each model into the shared caches, reporting before each; one that cannot be loaded
    or does not fit the data is left to the page's own message (models.compared_models says why)."""
    entries = models.model_entries()
    for done, key in enumerate(model_keys):
        report(done, len(model_keys), entries[key].label)
        models.compared_models([key], data)


def progress_text(done: int, total: int, label: str) -> str:
    return tr("Evaluating {n} of {total} on the test split: {label}…", n=done + 1, total=total, label=label)


def compared_with_progress(model_keys: list[str], data: Dataset) -> tuple[Any, list[ComparedModel], list[str]]:
    """A container for what the page draws of these models, the models (models.compared_models) and the
    messages about those left out. When some are new to this server, a progress bar takes the container's
    place first: what the last run drew there (the models chosen before) leaves the screen at once instead
    of sitting faded while the new ones are evaluated."""
    todo = pending(model_keys, data)
    if not todo:
        return st.container(), *models.compared_models(model_keys, data)
    slot = st.empty()
    bar = slot.progress(0.0, text=progress_text(0, len(todo), models.model_entries()[todo[0]].label))

    def report(done: int, total: int, label: str) -> None:
        bar.progress(done / total, text=progress_text(done, total, label))

    evaluate(todo, data, report)
    return slot.container(), *models.compared_models(model_keys, data)
