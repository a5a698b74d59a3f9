"""Stability across seeds: how much of a dictionary comes back when the same settings are trained from
another seed — the mean cosine of Hungarian-matched decoder atoms, and the fraction of atoms shared.

Definition (Paulo & Belrose 2025, "Sparse autoencoders trained on the same data learn different
features", arXiv:2501.16615, whose alignment script is the recipe; `overcomplete`'s
`metrics.cosine_hungarian_loss` is the same matching written as a loss, Σ (1 − cos)): for two models
A and B of one setting with decoder atoms a_i, b_j (K, D) each (`Autoencoder.decoder_atoms`: what a
unit adds to the picture),

    C_ij = a_i·b_j / (‖a_i‖ ‖b_j‖)                      (K, K) cosine similarity; 0 for a zero atom
    π    = argmax over one-to-one assignments of Σ_i C_iπ(i)   (the Hungarian algorithm:
                                                          scipy.optimize.linear_sum_assignment, maximize=True)
    score(A, B) = (1/K) Σ_i C_iπ(i)                       = 1 − cosine_hungarian_loss / K

so 1 means B's dictionary is A's up to the order of its units (and each atom's positive scale). The
cosine keeps its sign, as both references do: a code unit only ever adds its atom (codes are ≥ 0 in
these SAEs), so an atom and its negative are different features. A unit counts as shared when its
matched cosine exceeds SHARED_COSINE = 0.7, the threshold Paulo & Belrose count shared latents with
(they ask it of the encoder and the decoder; here it is the decoder's reading, with the encoder
filters' matched cosine reported beside it). They found about 30 % of latents shared across seeds in
large language-model SAEs, and TopK SAEs less stable than L1 ones.

Over N models every pair is matched (N(N−1)/2 pairs); the number is the mean of the pair scores.
Its interval is a 95 % bootstrap over atoms: each resample redraws, per pair, K of its matched
cosines with replacement and averages as above. It says how much the number rests on which units
these dictionaries happen to hold; it does not measure the spread from seed to seed, which the pair
scores show themselves (with 2 or 3 seeds there are too few pairs to resample).

For scale, the same score is also measured between the untrained dictionaries the seeds start from
(`registry.build_model` with each seed, before the data-dependent start, which sets biases only):
random directions in D dimensions, matched as well as the Hungarian algorithm can, score about
0.075 for 64 atoms of 784 pixels (measured). A trained score near that says the seeds learned nothing
in common."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from .registry import build_model
from .resampling import Estimate, interval
from .variants.base import Autoencoder

SHARED_COSINE = 0.7        # matched cosine above which a unit counts as shared (Paulo & Belrose 2025)
BOOTSTRAP = 2000           # resamples of the atoms behind the interval (cheap: K numbers per pair)
SEED = 0
TRAINING_KEYS = ("epochs", "batch_size", "lr")     # how the models were trained, besides the seed: must agree
INTERVAL_METHOD = ("95 % bootstrap over atoms: per pair, K matched cosines redrawn with replacement "
                   f"({BOOTSTRAP} resamples); the pair scores show the spread from seed to seed")


class StabilityInputError(ValueError):
    """These models cannot be compared across seeds; the message names why and what to give instead."""


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(K_a, K_b) cosine similarity of the rows of a (K_a, D) and b (K_b, D); 0 where a row is all zeros
    (a unit whose atom is empty adds nothing, so it resembles nothing)."""
    a_norm = np.linalg.norm(a, axis=1, keepdims=True)     # (K_a, 1)
    b_norm = np.linalg.norm(b, axis=1, keepdims=True)     # (K_b, 1)
    a_unit = np.divide(a, a_norm, out=np.zeros_like(a), where=a_norm > 0)
    b_unit = np.divide(b, b_norm, out=np.zeros_like(b), where=b_norm > 0)
    return a_unit @ b_unit.T


def match_atoms(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The one-to-one matching of a's rows (K, D) to b's (K, D) with the largest total cosine: for each
    row i of a, the row of b it is matched to (K,) and their cosine (K,)."""
    if a.shape != b.shape:
        raise StabilityInputError(f"dictionaries of shapes {a.shape} and {b.shape} cannot be matched one to one")
    cos = cosine_matrix(a, b)                                      # (K, K)
    rows, partner = linear_sum_assignment(cos, maximize=True)      # rows come back as 0..K−1, in order
    return partner, cos[rows, partner]


@dataclass(frozen=True)
class PairMatch:
    """Two of the models matched atom to atom."""

    first: int                      # indices into SeedStability.labels
    second: int
    score: float                    # mean matched cosine of the decoder atoms
    shared_fraction: float          # of the K units, those matched above SHARED_COSINE
    encoder_score: float            # the same reading of the encoder filters (their own matching)
    partner: np.ndarray = field(repr=False)    # (K,) the unit of `second` matched to each unit of `first`
    matched: np.ndarray = field(repr=False)    # (K,) their decoder atoms' cosine


@dataclass(frozen=True)
class SeedStability:
    """One setting trained from several seeds: how alike their dictionaries are."""

    labels: list[str]
    seeds: list[int]
    atoms: int                      # K, units (atoms) per model
    pairs: list[PairMatch]
    mean: Estimate                  # mean matched decoder cosine over the pairs, with its interval
    shared: Estimate                # fraction of units matched above the threshold, with its interval
    encoder_mean: float             # mean matched encoder-filter cosine over the pairs
    untrained: float                # the same score between the seeds' untrained dictionaries (for scale)
    threshold: float = SHARED_COSINE

    @property
    def pair_range(self) -> tuple[float, float]:
        """The lowest and highest pair score: the spread from seed to seed."""
        scores = [p.score for p in self.pairs]
        return min(scores), max(scores)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for `stability --json`."""
        return {
            "measure": "mean cosine of Hungarian-matched decoder atoms (Paulo & Belrose 2025)",
            "models": [{"label": label, "seed": seed} for label, seed in zip(self.labels, self.seeds, strict=True)],
            "atoms": self.atoms,
            "mean_cosine": self.mean.value,
            "interval": self.mean.as_list(),
            "interval_method": INTERVAL_METHOD,
            "threshold": self.threshold,
            "shared_fraction": self.shared.value,
            "shared_interval": self.shared.as_list(),
            "encoder_mean_cosine": self.encoder_mean,
            "untrained_mean_cosine": self.untrained,
            "pairs": [{"a": self.labels[p.first], "b": self.labels[p.second],
                       "seeds": [self.seeds[p.first], self.seeds[p.second]],
                       "mean_cosine": p.score, "shared_fraction": p.shared_fraction,
                       "encoder_mean_cosine": p.encoder_score,
                       "partner": p.partner.tolist(), "matched_cosine": p.matched.tolist()} for p in self.pairs],
        }


def _training(model: Autoencoder, given: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if given is not None:
        return given
    return model.meta.train if model.meta is not None else {}


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def why_not_seed_runs(models: Sequence[Autoencoder], labels: Sequence[str] | None = None,
                      training: Sequence[Mapping[str, Any] | None] | None = None) -> str | None:
    """Why these models are not one setting trained from different seeds (one line naming the first
    difference), or None if they are: same variant and config, same dataset and training (epochs,
    batch size, learning rate) where recorded, and each a recorded seed of its own.

    training: each model's training summary (a checkpoint's `train`: its seed, epochs…); by default
    read from the model's checkpoint record."""
    names = list(labels) if labels is not None else [f"model {i + 1}" for i in range(len(models))]
    trains = [_training(m, t) for m, t in zip(models, training or [None] * len(models), strict=True)]
    if len(models) < 2:
        return f"stability compares two or more models of one setting trained from different seeds; got {len(models)}"
    first, first_name = models[0], names[0]
    for model, name in zip(models[1:], names[1:], strict=True):
        if model.name != first.name:
            return (f"{first_name} is {first.name} and {name} is {model.name}: stability compares one variant's "
                    f"models trained from different seeds")
        ours, theirs = first.config.to_dict(), model.config.to_dict()
        if differ := [k for k in ours if ours[k] != theirs.get(k)]:
            what = ", ".join(f"{k} ({_shown(ours[k])} vs {_shown(theirs.get(k))})" for k in differ[:3])
            return (f"{first_name} and {name} differ in {what}: stability compares one setting trained from "
                    f"different seeds (a sweep over seed)")
    datasets = {name: m.meta.dataset for m, name in zip(models, names, strict=True) if m.meta is not None}
    if len(set(datasets.values())) > 1:
        where = ", ".join(f"{name} on {dataset}" for name, dataset in datasets.items())
        return f"the models were trained on different datasets ({where}); give models of one dataset"
    for key in TRAINING_KEYS:
        known = {name: t[key] for t, name in zip(trains, names, strict=True) if key in t}
        if len(set(known.values())) > 1:
            what = ", ".join(f"{name} {_shown(value)}" for name, value in known.items())
            return f"the models were trained with different {key.replace('_', ' ')} ({what}); give one setting's models"
    seen: dict[int, str] = {}
    for t, name in zip(trains, names, strict=True):
        seed = t.get("seed")
        if not isinstance(seed, int):
            return f"{name} has no recorded seed (no training summary in its checkpoint); train it with --seed"
        if seed in seen:
            return (f"{seen[seed]} and {name} were both trained from seed {seed}: give models trained from "
                    f"different seeds (python -m explorer sweep --param seed=0,1,2)")
        seen[seed] = name
    return None


def _dictionary(weights: torch.Tensor) -> np.ndarray:
    return weights.detach().to("cpu", torch.float64).numpy()


def seed_stability(models: Sequence[Autoencoder], labels: Sequence[str] | None = None,
                   training: Sequence[Mapping[str, Any] | None] | None = None,
                   bootstrap: int = BOOTSTRAP, seed: int = SEED) -> SeedStability:
    """Every pair of the models matched atom to atom (see the module's docstring), their mean matched
    cosine with its bootstrap interval, and the fraction of units shared; StabilityInputError (one line)
    if the models are not one setting trained from different seeds (`why_not_seed_runs`)."""
    names = list(labels) if labels is not None else [f"model {i + 1}" for i in range(len(models))]
    if (reason := why_not_seed_runs(models, names, training)) is not None:
        raise StabilityInputError(reason)
    trains = [_training(m, t) for m, t in zip(models, training or [None] * len(models), strict=True)]
    with torch.no_grad():
        atoms = [_dictionary(m.decoder_atoms()) for m in models]       # each (K, D)
        filters = [_dictionary(m.code_filters()) for m in models]      # each (K, D)
    pairs = []
    for i in range(len(models)):
        for j in range(i + 1, len(models)):
            partner, matched = match_atoms(atoms[i], atoms[j])
            _, encoder_matched = match_atoms(filters[i], filters[j])
            pairs.append(PairMatch(i, j, float(matched.mean()), float((matched > SHARED_COSINE).mean()),
                                   float(encoder_matched.mean()), partner, matched))
    k = len(atoms[0])
    rng = np.random.default_rng(seed)
    mean_draws, shared_draws = np.zeros(bootstrap), np.zeros(bootstrap)      # (R,) each, summed over pairs
    for pair in pairs:                     # one pair at a time: R × K numbers, whatever the number of pairs
        resampled = pair.matched[rng.integers(0, k, size=(bootstrap, k))]    # (R, K)
        mean_draws += resampled.mean(axis=1) / len(pairs)
        shared_draws += (resampled > SHARED_COSINE).mean(axis=1) / len(pairs)
    mean = interval(float(np.mean([p.score for p in pairs])), mean_draws)
    shared = interval(float(np.mean([p.shared_fraction for p in pairs])), shared_draws)
    seeds = [int(t["seed"]) for t in trains]
    return SeedStability(names, seeds, k, pairs, mean, shared, float(np.mean([p.encoder_score for p in pairs])),
                         _untrained_score(models[0], seeds))


def _untrained_score(model: Autoencoder, seeds: Sequence[int]) -> float:
    """The mean matched decoder cosine over every pair of the dictionaries these seeds initialise
    (the weights training starts from, as registry.build_model makes them)."""
    with torch.device("cpu"), torch.no_grad():
        atoms = [_dictionary(build_model(model.name, model.config.to_dict(), seed=s).decoder_atoms()) for s in seeds]
    return float(np.mean([match_atoms(atoms[i], atoms[j])[1].mean()
                          for i in range(len(atoms)) for j in range(i + 1, len(atoms))]))
