"""The dictionary itself: each unit's encoder filter and decoder atom, and a feature page per unit (as
Neuronpedia's for language-model SAEs): its images in activation-quantile bins and the units it fires with."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .activations import encoder_filters
from .datasets import Dataset
from .i18n import N_, tr
from .variants.base import Autoencoder, evaluating

# Quantile ranges of a unit's active values whose images a feature page shows, strongest first: the top
# decile, and three lower bins spread down to the weakest tenth (what the unit does when it barely fires).
QUANTILE_BINS: tuple[tuple[float, float], ...] = ((0.9, 1.0), (0.6, 0.7), (0.3, 0.4), (0.0, 0.1))
SHOWN_PER_BIN = 10
PARTNERS = 8          # the units a feature page lists as firing together with its unit
# A unit active on more than this fraction of the images has A_j ≈ every image, so J(j, k) ≈ P(k): co-firing
# would rank its partners by their own firing rates. Such units' partners are ranked by correlation instead.
NEARLY_ALWAYS = 0.9
# The two things Autoencoder.describe_decoder() says (explorer/variants/base.py), shown as tr(decoder).
DECODER_WORDS = (N_("linear decoder (an additive dictionary)"), N_("sigmoid decoder (pixels in [0, 1])"))


@dataclass(frozen=True)
class Dictionary:
    """Every unit's two faces: what it reads (encoder filter) and what it writes (decoder atom)."""

    filters: np.ndarray       # (K, D) encoder filters (Autoencoder.code_filters)
    atoms: np.ndarray         # (K, D) decoder atoms (Autoencoder.decoder_atoms): column j of W_dec
    decoder: str              # the model's describe_decoder(): 'linear decoder (…)' or 'sigmoid decoder (…)'
    linear_decoder: bool      # x̂ = Σ_j z_j·atom_j + b_dec: the atom adds to the pixels (else to the logit)
    one_layer: bool           # no hidden layers: filter and atom are the weights themselves, not a linear path

    @property
    def atom_adds_to(self) -> str:
        """What a unit's atom adds to, for labels (in the reader's language)."""
        return tr("the pixels") if self.linear_decoder else tr("the logit, before the sigmoid")

    @property
    def decoder_shown(self) -> str:
        """The model's describe_decoder(), in the reader's language."""
        return tr(self.decoder)


def read_dictionary(model: Autoencoder) -> Dictionary:
    """The model's encoder filters and decoder atoms, and how to read them."""
    with torch.no_grad():
        atoms = model.decoder_atoms().cpu().numpy()
    return Dictionary(encoder_filters(model), atoms, model.describe_decoder(), model.linear_decoder,
                      not model.config.hidden)


@dataclass(frozen=True)
class QuantileBin:
    """The test images whose activation of a unit lies in one quantile range of its active values."""

    low: float                # quantile range [low, high) of the unit's active values, e.g. 0.9–1.0
    high: float
    count: int                # images in the bin
    z_low: float              # the smallest and largest activation in it (nan when empty)
    z_high: float
    images: np.ndarray        # (n,) indices of the test images shown, strongest first (n ≤ SHOWN_PER_BIN)
    values: np.ndarray        # (n,) their activations z_j
    class_counts: np.ndarray  # (C,) classes of every image in the bin

    @property
    def main_class(self) -> tuple[int, int]:
        """The class most of the bin's images belong to, and how many of them do."""
        top = int(np.argmax(self.class_counts))
        return top, int(self.class_counts[top])

    @property
    def label(self) -> str:
        if self.high >= 1.0:
            return tr("Top {percent} %", percent=round((1 - self.low) * 100))
        return f"{round(self.low * 100)}–{round(self.high * 100)} %"


@dataclass(frozen=True)
class Partner:
    """Another unit k, seen from unit j: how often the two fire on the same images."""

    unit: int
    jaccard: float            # |A_j ∩ A_k| / |A_j ∪ A_k|
    given: float              # P(k active | j active) = |A_j ∩ A_k| / |A_j|
    firing_rate: float        # P(k active) = |A_k| / N: what `given` would be if k ignored j
    correlation: float        # Pearson correlation of z_j and z_k over the test images


@dataclass(frozen=True)
class FeatureReport:
    """Everything a unit's feature page shows, for one model, dataset split and activity threshold."""

    unit: int
    active_when: str          # what 'active' means here, e.g. '|z_j| > 0'
    n_images: int             # test images
    n_active: int             # test images on which the unit is active
    filter: np.ndarray        # (D,) encoder filter
    atom: np.ndarray          # (D,) decoder atom
    decoder: str              # the model's describe_decoder()
    bins: tuple[QuantileBin, ...]
    partners: tuple[Partner, ...]
    ranked_by: str            # 'jaccard', or 'correlation' where co-firing cannot tell partners apart
    class_firing: np.ndarray  # (C,) P(unit active | class c) over the test images

    @property
    def firing_rate(self) -> float:
        return self.n_active / self.n_images if self.n_images else 0.0

    @property
    def nearly_always(self) -> bool:
        """Active on more than NEARLY_ALWAYS of the images: which images it fires on says little."""
        return self.firing_rate > NEARLY_ALWAYS


def quantile_bins(values: np.ndarray, labels: np.ndarray, n_classes: int,
                  bins: tuple[tuple[float, float], ...] = QUANTILE_BINS, shown: int = SHOWN_PER_BIN,
                  images: np.ndarray | None = None) -> tuple[QuantileBin, ...]:
    """The active values (m,) of one unit split by rank into quantile bins: with the values sorted
    ascending (ties by image order), bin [q₀, q₁) holds ranks ⌊q₀·m⌋ … ⌊q₁·m⌋ − 1 (the top bin up to the
    largest value). Each bin shows `shown` of its images, strongest first: the strongest of the top bin,
    and in a lower bin images evenly spaced through it, a sample of the whole range. `images` (m,) are
    the values' image indices (default 0 … m−1), `labels` (m,) their classes."""
    images = np.arange(len(values)) if images is None else np.asarray(images)
    ascending = np.argsort(values, kind="stable")                                 # (m,) ranks → positions
    m = len(values)
    out = []
    for low, high in bins:
        start, stop = int(np.floor(low * m)), m if high >= 1.0 else int(np.floor(high * m))
        members = ascending[start:stop][::-1]                                      # strongest first
        if high >= 1.0 or len(members) <= shown:
            picked = members[:shown]
        else:
            picked = members[np.linspace(0, len(members) - 1, shown).round().astype(int)]
        out.append(QuantileBin(low, high, len(members),
                               float(values[members].min()) if len(members) else float("nan"),
                               float(values[members].max()) if len(members) else float("nan"),
                               images[picked], values[picked],
                               np.bincount(labels[members], minlength=n_classes)))
    return tuple(out)


def co_firing(active: np.ndarray, unit: int) -> tuple[np.ndarray, np.ndarray]:
    """For unit j and every unit k, from active (N, K) bool: the Jaccard index |A_j ∩ A_k| / |A_j ∪ A_k|
    and P(k active | j active) = |A_j ∩ A_k| / |A_j|, A_j the images on which j is active (both 0 where
    the denominator is). Jaccard is symmetric and small for a partner that fires everywhere; P(k | j) is
    not: a dense unit k has P(k | j) near 1 for every j."""
    on = active.astype(np.int64)                                                   # (N, K)
    both = on[:, unit] @ on                                                        # (K,) |A_j ∩ A_k|
    sizes = on.sum(axis=0)                                                         # (K,) |A_k|
    union = sizes[unit] + sizes - both
    jaccard = np.divide(both, union, out=np.zeros(len(sizes)), where=union > 0)
    given = both / sizes[unit] if sizes[unit] else np.zeros(len(sizes))
    return jaccard, given


def correlations(codes: np.ndarray, unit: int) -> np.ndarray:
    """(K,) Pearson correlation of z_j with every z_k over the images (nan where either is constant)."""
    centred = codes - codes.mean(axis=0)                                           # (N, K)
    spread = np.sqrt((centred ** 2).sum(axis=0))                                   # (K,)
    denominator = spread[unit] * spread
    return np.divide(centred[:, unit] @ centred, denominator, out=np.full(len(spread), np.nan),
                     where=denominator > 0)


def partners(codes: np.ndarray, active: np.ndarray, unit: int, n: int = PARTNERS) -> tuple[tuple[Partner, ...], str]:
    """The n units that fire together with `unit` most, ranked by Jaccard index (ties by unit index), and
    'jaccard'. Where the unit is active on nearly every image (more than NEARLY_ALWAYS of them: a dense
    unit, or a Gaussian code, whose 'active' is a property of the unit, not of an image), co-firing only
    repeats each partner's own firing rate: then ranked by |Pearson correlation| of the activations
    instead, and 'correlation'. Partners that never fire with it (Jaccard 0), or whose activations are
    constant, are left out."""
    jaccard, given = co_firing(active, unit)
    correlation = correlations(codes, unit)
    rates = active.mean(axis=0)
    nearly_always = bool(active[:, unit].mean() > NEARLY_ALWAYS)
    others = np.array([k for k in range(codes.shape[1]) if k != unit], dtype=int)
    if nearly_always:
        others = others[~np.isnan(correlation[others])]
        ranked, how = others[np.argsort(-np.abs(correlation[others]), kind="stable")], "correlation"
    else:
        others = others[jaccard[others] > 0]
        ranked, how = others[np.argsort(-jaccard[others], kind="stable")], "jaccard"
    return tuple(Partner(int(k), float(jaccard[k]), float(given[k]), float(rates[k]), float(correlation[k]))
                 for k in ranked[:n]), how


def feature_report(model: Autoencoder, data: Dataset, unit: int, threshold: float | None = None) -> FeatureReport:
    """Unit `unit`'s feature page over the test split; 'active' is the model's code kind's meaning at
    `threshold` (default: the code's own)."""
    if not 0 <= unit < model.config.latent_dim:
        raise ValueError(f"unit must be between 0 and {model.config.latent_dim - 1}; got {unit}")
    with evaluating(model):
        codes_t = model.encode_all(data.test_x)                                   # (N, K)
    threshold = model.code.threshold if threshold is None else threshold
    active = model.code.active(codes_t, threshold).cpu().numpy()                  # (N, K) bool
    codes = codes_t.cpu().numpy()
    labels = data.test_y.cpu().numpy()
    n_classes = len(data.class_names)
    on = np.flatnonzero(active[:, unit])                                          # (m,) images where it fires
    bins = quantile_bins(codes[on, unit], labels[on], n_classes, images=on)
    found, how = partners(codes, active, unit)
    per_class = np.bincount(labels, minlength=n_classes)
    fired = np.bincount(labels[on], minlength=n_classes)
    atoms = read_dictionary(model)
    return FeatureReport(unit, model.code.describe(threshold), len(codes), len(on), atoms.filters[unit],
                         atoms.atoms[unit], atoms.decoder, bins, found, how,
                         np.divide(fired, per_class, out=np.zeros(n_classes), where=per_class > 0))
