"""The objective with its numbers in: each term's value, its weight and the total they make, as the Train page
writes them under the variant's formula while training runs or waits (total = objective + Σᵢ wᵢ·Ωᵢ, the
same sum `Autoencoder.total_of` trains on)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .i18n import tr
from .variants.base import Autoencoder


@dataclass(frozen=True)
class FilledTerm:
    name: str
    title: str
    value: float
    weight: float | None = None          # None for the objective itself
    weight_symbol: str = ""              # β, λ, α… (the config field's symbol)


@dataclass(frozen=True)
class FilledObjective:
    terms: tuple[FilledTerm, ...]        # the objective, then each penalty
    total: float                         # as the loss reported it

    @property
    def summed(self) -> float:
        """objective + Σ weight × penalty, from the values shown: equal to `total` up to rounding."""
        return sum(t.value * (1.0 if t.weight is None else t.weight) for t in self.terms)

    def latex(self) -> str:
        """The filled objective as LaTeX, each term's title (in the reader's language) under its value."""
        parts = []
        for t in self.terms:
            value = rf"\underbrace{{{t.value:.4g}}}_{{\text{{{_latex_text(tr(t.title))}}}}}"
            parts.append(value if t.weight is None else
                         rf"\underbrace{{{t.weight:.3g}}}_{{{t.weight_symbol or 'w'}}} \cdot {value}")
        return " + ".join(parts) + rf" = {self.total:.4g}"


def _latex_text(title: str) -> str:
    return title.replace("\\", "").replace("{", "").replace("}", "").replace("_", r"\_")


def filled_objective(model: Autoencoder, terms: Mapping[str, float]) -> FilledObjective | None:
    """The model's objective with the values of `terms` (a step's or an epoch's, as `loss` names them);
    None until every term has a value."""
    cls = type(model)
    weights = model.penalty_weights()
    specs = model.config.field_specs()
    names = [cls.objective_term.name, *(t.name for t in cls.penalty_terms)]
    if "total" not in terms or any(n not in terms for n in names):
        return None
    filled = [FilledTerm(cls.objective_term.name, cls.objective_term.title, float(terms[cls.objective_term.name]))]
    for term in cls.penalty_terms:
        symbol = (specs.get(term.weight) or {}).get("symbol") or (term.weight or "") if term.weight else ""
        filled.append(FilledTerm(term.name, term.title, float(terms[term.name]), weights[term.name], symbol))
    return FilledObjective(tuple(filled), float(terms["total"]))
