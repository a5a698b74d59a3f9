"""Hyperparameter fields with help text and ranges: one source for validation, the CLI and the UI."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .i18n import tr


def _default_of(f: dataclasses.Field[Any]) -> Any:
    """A dataclass field's default value (calling its factory for tuples)."""
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def param(default: Any, help: str, *, low: float | None = None, high: float | None = None,
          low_open: bool = False, high_open: bool = False, choices: tuple[str, ...] | None = None,
          log_scale: bool = False, ui_low: float | None = None, ui_high: float | None = None,
          symbol: str | None = None) -> Any:
    """A dataclass field carrying what a user needs to set it well.

    low/high bound the allowed values (open or closed ends); ui_low/ui_high suggest the range a
    widget or sweep should span (e.g. λ on a log scale around 1e-5…1e-2); symbol is how tables
    and legends name it (λ for lam; the field name when None)."""
    meta = {"help": help, "low": low, "high": high, "low_open": low_open, "high_open": high_open,
            "choices": choices, "log_scale": log_scale, "ui_low": ui_low, "ui_high": ui_high,
            "symbol": symbol}
    if isinstance(default, tuple):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


def describe_range(meta: Mapping[str, Any]) -> str:
    """'(0, 1)', '>= 0', 'one of gaussian, masking' — the allowed range as a user reads it."""
    if meta.get("choices"):
        return tr("one of {choices}", choices=", ".join(meta["choices"]))
    low, high = meta.get("low"), meta.get("high")
    if low is not None and high is not None:
        left = "(" if meta["low_open"] else "["
        right = ")" if meta["high_open"] else "]"
        return f"{left}{low:g}, {high:g}{right}"
    if low is not None:
        return f"{'>' if meta['low_open'] else '>='} {low:g}"
    if high is not None:
        return f"{'<' if meta['high_open'] else '<='} {high:g}"
    return tr("any value")


MAX_WHOLE = 2**63      # a whole number beyond int64 is no size or count of anything here


def _shown(value: Any) -> str:
    """value's repr, cut short: a message quotes a crafted value without repeating all of it."""
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def parse_int_list(value: Any, name: str) -> tuple[int, ...]:
    """Accept 128, '256,128', '' (no hidden layer), [256, 128] → a tuple of ints."""
    if isinstance(value, bool):
        raise ValueError(tr("{name} must be a list of layer sizes such as '256,128', got {got}", name=name,
                            got=repr(value)))
    if isinstance(value, int):
        return (_layer_size(value, name, value),)
    if isinstance(value, str):
        parts = [p.strip() for p in value.replace(" ", ",").split(",") if p.strip()]
        try:
            return tuple(_layer_size(int(p), name, value) for p in parts)
        except ValueError:
            raise ValueError(tr("{name} must be a comma-separated list of layer sizes such as '256,128', got {got}",
                                name=name, got=_shown(value))) from None
    try:
        sizes = list(value)
    except TypeError:
        raise ValueError(tr("{name} must be a list of layer sizes such as '256,128', got {got}", name=name,
                            got=_shown(value))) from None
    return tuple(_layer_size(v, name, value) for v in sizes)


def _layer_size(item: Any, name: str, value: Any) -> int:
    """One entry of a list of layer sizes (from a file or JSON): a whole number, not a flag or a fraction."""
    if isinstance(item, float) and item.is_integer() and abs(item) < MAX_WHOLE:
        item = int(item)
    if isinstance(item, str) and item.strip().lstrip("-").isdigit():
        item = int(item)
    if isinstance(item, int) and not isinstance(item, bool) and abs(item) < MAX_WHOLE:
        return item
    raise ValueError(tr("{name} must be a list of whole layer sizes such as '256,128', got {got}", name=name,
                        got=_shown(value)))


def _coerce(value: Any, default: Any, name: str) -> Any:
    """Convert a string (CLI, UI) or a JSON value to the type of the field's default."""
    if isinstance(default, tuple):
        return parse_int_list(value, name)
    if isinstance(default, bool):
        if isinstance(value, str):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(tr("{name} must be true or false, got {got}", name=name, got=_shown(value)))
        return bool(value)
    if isinstance(default, (int, float)) and isinstance(value, bool):    # True is 1 to Python, not to a user
        raise ValueError(tr("{name} must be a whole number, got {got}", name=name, got=repr(value))
                         if isinstance(default, int) else
                         tr("{name} must be a number, got {got}", name=name, got=repr(value)))
    if isinstance(default, int):
        try:
            whole = value if isinstance(value, int) else float(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(tr("{name} must be a whole number, got {got}", name=name, got=_shown(value))) from None
        if isinstance(whole, float) and not whole.is_integer():
            raise ValueError(tr("{name} must be a whole number, got {got}", name=name, got=_shown(value)))
        if abs(whole) >= MAX_WHOLE:
            raise ValueError(tr("{name} must be a whole number below 2^63, got {got}", name=name, got=_shown(value)))
        return int(whole)
    if isinstance(default, float):
        try:
            return float(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(tr("{name} must be a number, got {got}", name=name, got=_shown(value))) from None
    return str(value)


C = TypeVar("C", bound="Config")


@dataclass
class Config:
    """Base of every variant's config: validated on construction, round-trips through plain dicts."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, _coerce(getattr(self, f.name), _default_of(f), f.name))
        self.validate()

    def validate(self) -> None:
        """Check every field against its declared range; subclasses add cross-field checks."""
        for f in dataclasses.fields(self):
            check_field(f.name, getattr(self, f.name), f.metadata)

    @classmethod
    def field_specs(cls) -> dict[str, dict]:
        """name → {default, help, low, high, choices, log_scale, …} for the UI and `--help`."""
        specs = {}
        for f in dataclasses.fields(cls):
            specs[f.name] = {"default": _default_of(f), **f.metadata, "range": describe_range(f.metadata)}
        return specs

    @classmethod
    def from_dict(cls: type[C], values: Mapping[str, Any] | None = None) -> C:
        """Build from plain values (strings allowed); an unknown key is a ValueError naming it."""
        values = dict(values or {})
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = [k for k in values if k not in known]
        if unknown:
            raise ValueError(tr("unknown parameter {name} for this variant; known parameters: {known}",
                                name=repr(unknown[0]), known=", ".join(known)))
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/`weights_only`-safe values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def check_field(name: str, value: Any, meta: Mapping[str, Any]) -> None:
    """Raise ValueError naming the field and its allowed range when value is outside it."""
    if not meta:
        return
    if meta.get("choices"):
        if value not in meta["choices"]:
            raise ValueError(tr("{name} must be {range}; got {got}", name=name, range=describe_range(meta),
                                got=repr(value)))
        return
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(tr("{name} must be a finite number in {range}; got {value}", name=name,
                                range=describe_range(meta), value=v))
        low, high = meta.get("low"), meta.get("high")
        too_low = low is not None and (v <= low if meta["low_open"] else v < low)
        too_high = high is not None and (v >= high if meta["high_open"] else v > high)
        if too_low or too_high:
            text = describe_range(meta)
            raise ValueError(tr("{name} must be in {range}; got {value:g}", name=name, range=text, value=v)
                             if text[0] in "([" else
                             tr("{name} must be {range}; got {value:g}", name=name, range=text, value=v))


def log_grid(spec: dict) -> list[float]:
    """Values 1, 2, 5 × 10^k across a log-scale field's suggested range (with 0 if allowed and the
    default), for sliders and sweeps."""
    low, high = spec.get("ui_low"), spec.get("ui_high")
    if low is None or high is None or low <= 0:
        raise ValueError(f"a log grid needs a positive suggested range; got {low!r}…{high!r}")
    values = []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 5):
            value = float(f"{mantissa}e{exponent}")
            if low <= value <= high:
                values.append(value)
    if spec.get("low") == 0 and not spec.get("low_open"):
        values.insert(0, 0.0)
    default = spec.get("default")
    if isinstance(default, float) and default not in values:
        values = sorted(values + [default])
    return values
