"""Choosing the models a page shows together (Compare, Claims): a preset per sweep and for the shipped
variants, a multiselect of every model, and `models=` in the link."""
from __future__ import annotations

import streamlit as st

from ..i18n import N_, tr
from ..registry import get_variant
from ..variants.base import DictionaryConfig
from . import links, page
from .catalog import ModelEntry, group_sweeps

MAX_MODELS = 10      # models compared at once
PER_ROW = 3          # preset buttons per row: their labels still fit at a projector's 1024 px
VERBS = (N_("compare"), N_("judge"))     # what the pages pass pick_models as `what` (Compare, Claims)


def presets(entries: dict[str, ModelEntry]) -> dict[str, list[str]]:
    """Preset name → model keys: each sweep (shipped, and this browser's), the shipped variants (the classic ones,
    and the sparse autoencoders), and this browser's own models (trained or uploaded here)."""
    sweeps = group_sweeps(entries)
    shipped = [k for k, e in entries.items() if e.source == "shipped" and not any(k in m for m in sweeps.values())]
    # Two sets of the shipped variants (eleven of them, more than a comparison holds): the classic
    # autoencoders of the seed notes, and the sparse autoencoders with a dictionary's shape.
    dictionary = [k for k in shipped if issubclass(get_variant(entries[k].variant).config_class, DictionaryConfig)]
    return {**{title: members[:MAX_MODELS] for title, members in sweeps.items()},
            N_("the classic variants"): [k for k in shipped if k not in dictionary][:MAX_MODELS],
            N_("the sparse autoencoders"): dictionary[:MAX_MODELS],
            N_("my own models"): [k for k, e in entries.items() if e.own][:MAX_MODELS]}


def pick_models(state_key: str, entries: dict[str, ModelEntry], what: str, default: str | None = None) -> list[str]:
    """Preset buttons over a multiselect bound to state_key (a link's `models=` applied first); the keys
    chosen. default: the preset chosen in a new session (else the first preset of two or more models). what:
    the verb the multiselect's label names, as a key (N_("compare")), shown with tr."""
    choices = presets(entries)
    links.preset(state_key, "models", links.list_of(lambda name: links.model_key(name, entries)), N_("models"))
    first = next((v for name, v in choices.items() if name == default and len(v) >= 2), None) or \
        next((v for v in choices.values() if len(v) >= 2), list(entries)[:2])
    st.session_state.setdefault(state_key, first)
    known = [k for k in st.session_state[state_key] if k in entries]
    if len(known) > MAX_MODELS:
        links.notice(tr("{count} models were asked for; showing the first {most}.", count=len(known), most=MAX_MODELS))
    st.session_state[state_key] = known[:MAX_MODELS]
    st.caption(tr("Presets"))
    for col, name in page.in_rows(list(choices), PER_ROW):
        preset = choices[name]
        # A sweep's preset is named by its sweep (a name, as it is); the others are keys, said with tr.
        col.button(tr(name), disabled=len(preset) < 2, width="stretch", key=f"{state_key}_preset_{name}",
                   on_click=lambda preset=preset: st.session_state.update({state_key: preset}),
                   help=(tr("Needs at least two models.") if len(preset) < 2
                         else tr("{count} models", count=len(preset)))
                   + (tr(" — the models trained or uploaded in this browser.") if name == "my own models" else ""))
    return st.multiselect(tr("Models to {what} (two to {most})", what=tr(what), most=MAX_MODELS), list(entries),
                          key=state_key,
                          max_selections=MAX_MODELS, format_func=lambda k: entries[k].label)
