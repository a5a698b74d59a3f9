"""The types a checkpoint's fields must have: checked when a checkpoint is read (a wrong one is refused,
naming the field) and cleaned in every ModelRecord (a wrong one is dropped), so that nothing downstream
meets a list where it expects a number."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from .i18n import N_, tr

# The top-level fields besides `format`, and what each must be.
TOP_FIELDS: dict[str, type] = {"variant": str, "config": dict, "dataset": str, "state_dict": dict, "metrics": dict,
                               "history": dict, "train": dict, "created": str, "torch_version": str}
# The values of a record the product reads, each a number (float: an int too), a flag or a text, or None.
TRAIN_FIELDS: dict[str, type] = {"epochs_run": int, "epochs_planned": int, "steps": int, "seconds": float,
                                 "samples_per_second": float, "stopped_early": bool, "batched": int, "epochs": int,
                                 "batch_size": int, "lr": float, "seed": int}
METRIC_FIELDS: dict[str, type] = {"n_test": int, "recon_mse": float, "fvu": float, "explained_variance": float,
                                  "l2_ratio": float, "mean_image_mse": float, "mean_l0": float, "mean_l1": float,
                                  "dead_fraction": float, "dense_fraction": float, "kl_sum": float,
                                  "learned_nothing": bool, "learned_nothing_reason": str}
HISTORY_SERIES = ("epoch", "seconds")      # one number per epoch
HISTORY_SPLITS = ("train", "test")         # term name → one number per epoch
WHAT: dict[type, str] = {str: N_("a text"), dict: N_("a dict"), int: N_("a whole number"), float: N_("a number"),
                         bool: N_("true or false")}     # shown with tr()


def kind_of(value: Any) -> str:
    """'a list', 'an int', 'None': how a message names what a field holds (in the reader's language)."""
    if value is None:
        return "None"
    name = type(value).__name__
    return tr("an {type}", type=name) if name[0] in "aeiou" else tr("a {type}", type=name)


def fits(value: Any, kind: type) -> bool:
    """Whether value is of kind: a bool counts as no number, an int counts as a float."""
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def field_problem(payload: Mapping[str, Any]) -> str | None:
    """What is wrong with a checkpoint dict's field types ('its config is a list, not a dict'), or None."""
    for name, kind in TOP_FIELDS.items():
        if name in payload and not fits(payload[name], kind):
            return tr("its {name} is {found}, not {wanted}", name=name, found=kind_of(payload[name]),
                      wanted=tr(WHAT[kind]))
    if bad := [k for k in payload["config"] if not isinstance(k, str)]:
        return tr("its config has a key {key} that is not a name", key=repr(bad[0]))
    for name, tensor in payload["state_dict"].items():
        if not isinstance(name, str):
            return tr("its state_dict has a key {key} that is not a name", key=repr(name))
        if not isinstance(tensor, torch.Tensor):
            return tr("its state_dict's {key} is {found}, not a tensor", key=repr(name), found=kind_of(tensor))
    return (_fields_problem(payload["metrics"], METRIC_FIELDS, N_("its metric {name} is {found}, not {wanted}"))
            or _fields_problem(payload.get("train", {}), TRAIN_FIELDS,
                               N_("its training record's {name} is {found}, not {wanted}"))
            or history_problem(payload["history"]))


def _fields_problem(values: Mapping[str, Any], kinds: Mapping[str, type], said: str = "") -> str | None:
    """The first field of a wrong kind, said as `said` (a key with {name}, {found} and {wanted}); '' when
    only whether there is one matters."""
    for name, kind in kinds.items():
        if values.get(name) is not None and not fits(values[name], kind):
            return tr(said, name=name, found=kind_of(values[name]), wanted=tr(WHAT[kind])) if said else name
    return None


def history_problem(history: Mapping[str, Any]) -> str | None:
    """What is wrong with a training history's shape (per-epoch series of numbers), or None."""
    for name in HISTORY_SERIES:
        if name in history and not _numbers(history[name]):
            return tr("its history's {name} is not a list of numbers ({value})", name=name,
                      value=_shown(history[name]))
    for split in HISTORY_SPLITS:
        terms = history.get(split, {})
        if not isinstance(terms, dict):
            return tr("its history's {split} is {found}, not a dict of loss terms", split=split, found=kind_of(terms))
        for term, values in terms.items():
            if not isinstance(term, str) or not _numbers(values):
                return tr("its history's {split} term {term} is not a list of numbers ({value})", split=split,
                          term=_shown(term), value=_shown(values))
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _numbers(values: Any) -> bool:
    return isinstance(values, list) and all(fits(v, float) for v in values)


def clean_fields(values: Any, kinds: Mapping[str, type]) -> dict[str, Any]:
    """values as a dict with every known field of the wrong type left out (values itself when all fit)."""
    if not isinstance(values, dict):
        return {}
    if all(isinstance(k, str) for k in values) and _fields_problem(values, kinds) is None:
        return values
    return {k: v for k, v in values.items()
            if isinstance(k, str) and (v is None or k not in kinds or fits(v, kinds[k]))}


def clean_history(history: Any) -> dict[str, Any]:
    """history with every series and term that is not a list of numbers left out (history itself when all fit)."""
    if not isinstance(history, dict):
        return {}
    if history_problem(history) is None:
        return history
    cleaned = {k: v for k, v in history.items() if k not in (*HISTORY_SERIES, *HISTORY_SPLITS)}
    cleaned.update({k: history[k] for k in HISTORY_SERIES if _numbers(history.get(k))})
    for split in HISTORY_SPLITS:
        terms = history.get(split)
        if isinstance(terms, dict):
            cleaned[split] = {t: v for t, v in terms.items() if isinstance(t, str) and _numbers(v)}
    return cleaned
