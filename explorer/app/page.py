"""Page scaffolding: what a page works on (the active model and the dataset), or the reason there is
none and what to do, shown once, after which the page stops."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import streamlit as st

from ..checkpoint import CheckpointError
from ..datasets import DEFAULT_DATASET, Dataset, DatasetUnavailableError
from ..i18n import tr
from ..variants.base import Autoencoder, DataMismatchError
from . import caches, keys
from .catalog import ModelEntry
from .legacy_pages import leave_legacy_pages_mode
from .models import current_device, default_model_key, load_entry, model_entries

T = TypeVar("T")


@dataclass
class PageContext:
    entry: ModelEntry
    model: Autoencoder
    data: Dataset
    device: str
    link_slot: Any = None       # where links.publish draws "Link to this view" (beside the title)

    @property
    def key(self) -> str:
        return self.entry.key


def current_dataset() -> tuple[Dataset | None, str | None]:
    """(dataset, None) or (None, the message saying why it cannot be loaded and what to do)."""
    name = st.session_state.get(keys.DATASET, DEFAULT_DATASET)
    try:
        return caches.dataset(name, current_device()), None
    except DatasetUnavailableError as exc:
        return None, str(exc)


def header(title: str) -> Any:
    """The page's title, and a slot beside it for "Link to this view" (filled by links.publish)."""
    row = st.container(horizontal=True, vertical_alignment="bottom")   # the link's button keeps its full label
    row.title(title, width="stretch")
    return row.empty()


def model_page(title: str) -> PageContext:
    """Start a page that shows the active model: title, then its context — or, if there is none,
    the reason and what to do, and the page stops there."""
    leave_legacy_pages_mode()
    slot = header(title)
    ctx = active_context()
    if ctx is None:
        st.stop()
    assert ctx is not None      # st.stop() does not return
    ctx.link_slot = slot
    st.caption(tr("Active model: **{label}** · {variant} · {decoder}", label=ctx.entry.label, variant=ctx.model.name,
                  decoder=tr(ctx.model.describe_decoder())))
    return ctx


@dataclass
class DataPage:
    data: Dataset
    link_slot: Any


def data_page(title: str) -> DataPage:
    """Start a page that needs only the dataset (Train, Compare); stops with the reason if unavailable."""
    leave_legacy_pages_mode()
    slot = header(title)
    data, problem = current_dataset()
    if data is None:
        st.error(problem, icon="📦")
        st.stop()
    assert data is not None
    return DataPage(data, slot)


def active_context() -> PageContext | None:
    """The active model and dataset, or None after showing what is wrong and what to do."""
    data, problem = current_dataset()
    if data is None:
        st.error(problem, icon="📦")
        return None
    entries = model_entries()
    entry = entries.get(st.session_state.get(keys.ACTIVE_MODEL) or "") or entries.get(default_model_key(entries) or "")
    if entry is None:
        st.info(tr("No model yet: train one on the **Train** page, or upload a checkpoint in the sidebar."))
        return None
    device = current_device()
    try:
        model = load_entry(entry, device)
        model.check_fits(data.name, data.input_dim, data.image_shape)
    except (CheckpointError, DataMismatchError) as exc:
        st.error(f"{exc}", icon="🧩")
        return None
    return PageContext(entry, model, data, device)


def seed(key: str) -> int:
    """The seed behind a "Reshuffle" / "Other images" / "New samples" button (keys.*_SEED)."""
    return int(st.session_state.get(key, 0))


def next_seed(key: str) -> None:
    """The button was pressed: draw the next seed."""
    st.session_state[key] = seed(key) + 1



def in_rows(items: Sequence[T], per_row: int) -> Iterator[tuple[Any, T]]:
    """Each item with a column of its own, per_row columns to a row (the last row may have fewer items)."""
    for start in range(0, len(items), per_row):
        yield from zip(st.columns(per_row), items[start:start + per_row], strict=False)
