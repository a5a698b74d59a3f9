"""Classical baselines on the L0–FVU frontier, from scikit-learn: PCA and NMF with k components, and a learned
dictionary with OMP codes of k non-zeros — fitted on the train split, measured on the test split as
`evaluate --json` measures a model; and where the models' lines stand against them at the same L0."""
from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .code_digest import code_digest
from .compare import Point, counts
from .datasets import Dataset
from .i18n import N_, tr
from .measure_store import MeasureStore, dataset_digest
from .metrics import fraction_of_variance_unexplained
from .variants.base import Autoencoder

METHOD_TITLES = {"pca": "PCA", "nmf": "NMF", "omp": N_("OMP dictionary learning")}    # shown with tr()
DEFAULT_KS = (5, 10, 20)
DEFAULT_ATOMS = 64            # the shipped SAEs' dictionary size
MAX_ATOMS = 512               # the dictionary's fit grows with its atoms (64 atoms, 4,000 images: ~8 s)
MAX_KS = 8                    # each k is an NMF fit of its own
DICTIONARY_EPOCHS = 5         # passes over the train split: mnist-5k's OMP FVU at k = 5/10/20 is within 0.0015 of
                              # sklearn's own early stop (7 passes), in less time
DICTIONARY_BATCH = 256        # sklearn's default
NMF_MAX_ITER = 200            # sklearn's default; k = 20 on mnist-5k stops there (FVU 0.450, 0.445 at 400)
SPAN_SLACK = 0.02             # "at L0 ≈ 20" reaches a line that ends at 19.8 (an OMP code that needed fewer)
STORE_KIND = "baselines"
ArrayMap = Callable[[np.ndarray], np.ndarray]


def _recipe() -> str:
    """A digest of this module and the scikit-learn version: kept results made by other code or another
    scikit-learn are fitted anew."""
    import sklearn

    return code_digest([Path(__file__)])[:16] + "-sklearn-" + sklearn.__version__


@dataclass(frozen=True)
class BaselinePoint:
    """One classical method at one k on a dataset's test split, in `evaluate --json`'s terms."""

    method: str                   # "pca" | "nmf" | "omp"
    k: int                        # components (PCA, NMF), or non-zeros allowed per image (OMP)
    atoms: int                    # the dictionary's size: k for PCA and NMF, the learned dictionary's for OMP
    dataset: str
    n_test: int
    mean_l0: float                # non-zero code entries per test image, averaged
    max_l0: int                   # the most non-zero entries of any test image's code
    fvu: float                    # Σ‖x − x̂‖² / Σ‖x − x̄‖² over the test split, x̄ the mean test image
    recon_mse: float              # per-pixel MSE of the reconstruction
    dead_fraction: float | None   # atoms never used on the test split; None for PCA (every component is)
    fit_seconds: float            # fitting on the train split (the dictionary's fit is made once for every k)
    code_seconds: float           # encoding and reconstructing the test split

    @property
    def explained_variance(self) -> float:
        return 1.0 - self.fvu

    @property
    def title(self) -> str:
        return METHOD_TITLES[self.method]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "explained_variance": self.explained_variance, "title": self.title}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BaselinePoint:
        return cls(**{f.name: values[f.name] for f in fields(cls)})


def check_settings(ks: Sequence[int], atoms: int, input_dim: int) -> tuple[int, ...]:
    """The ks, sorted and distinct, if they can be fitted: 1 ≤ k ≤ atoms ≤ MAX_ATOMS, k ≤ the pixels, at most
    MAX_KS of them; ValueError naming the problem otherwise."""
    if not 1 <= atoms <= MAX_ATOMS:
        raise ValueError(f"the atoms must be between 1 and {MAX_ATOMS} (the dictionary's fit grows with them); "
                         f"got {atoms}")
    distinct = tuple(sorted(set(ks)))
    if not distinct:
        raise ValueError("give at least one k, e.g. 5,10,20")
    if len(distinct) > MAX_KS:
        raise ValueError(f"at most {MAX_KS} values of k at once (each is an NMF fit of its own); got {len(distinct)}")
    top = min(atoms, input_dim)
    if distinct[0] < 1 or distinct[-1] > top:
        bad = next(k for k in distinct if not 1 <= k <= top)
        raise ValueError(f"k = {bad} is out of range: k must be between 1 and {top} (at most the {atoms} atoms "
                         f"and the {input_dim} pixels)")
    return distinct


def baseline_points(data: Dataset, ks: Sequence[int] = DEFAULT_KS, atoms: int = DEFAULT_ATOMS, seed: int = 0,
                    store: MeasureStore | None = None) -> list[BaselinePoint]:
    """PCA, NMF and OMP dictionary learning at each k, fitted on data's train split, measured on its test split
    (clipping nothing); read from `store` when it holds them, fitted and kept there otherwise.

    - PCA with k components (Pearson 1901; Hotelling 1933): the train mean plus the projection on the first
      k principal axes, exact (`PCA(svd_solver="covariance_eigh")`: the eigenvectors of the train covariance;
      the same FVU as the full SVD on mnist-5k, in a fifth of the time).
    - NMF with k components (Lee & Seung 1999): X ≈ W·H with W, H ≥ 0, initialised by NNDSVDa (Boutsidis &
      Gallopoulos 2008), coordinate descent (`NMF`); the test codes W solve the same problem with H fixed.
    - Dictionary learning with OMP codes (Mairal et al. 2009, online dictionary learning; Pati et al. 1993,
      orthogonal matching pursuit): `MiniBatchDictionaryLearning` learns `atoms` unit-norm atoms D on the
      centred train images (the train mean plays an SAE's decoder bias), once for every k; each test image is
      coded by `SparseCoder(transform_algorithm="omp", transform_n_nonzero_coefs=k)`: at most k greedy
      least-squares picks, x̂ = x̄_train + c·D."""
    ks = check_settings(ks, atoms, data.input_dim)
    key: dict[str, object] = {}
    if store is not None:
        key = store_key(data, ks, atoms, seed)
        if (kept := kept_points(store, key)) is not None:
            return kept
    x_test = data.test_x.detach().cpu().numpy().astype(np.float64)      # (N_test, D)
    found = []
    for coder in fitted_coders(data, ks, atoms, seed):
        started = time.perf_counter()
        codes = coder.encode(x_test)                                    # (N_test, atoms)
        x_hat = coder.decode(codes)                                     # (N_test, D)
        found.append(_measured(coder, data.name, x_test, codes, x_hat, time.perf_counter() - started))
    if store is not None:
        store.keep_value(STORE_KIND, [p.to_dict() for p in found], **key)
    return found


def store_key(data: Dataset, ks: Sequence[int], atoms: int, seed: int) -> dict[str, object]:
    """What kept baselines depend on: the dataset's images, the settings, this code and scikit-learn's version."""
    return {"data": dataset_digest(data), "ks": list(ks), "atoms": atoms, "seed": seed, "recipe": _recipe()}


def kept_points(store: MeasureStore, key: dict[str, object]) -> list[BaselinePoint] | None:
    """The baselines kept under key, or None (nothing kept, or unreadable)."""
    value = store.value(STORE_KIND, **key)
    if not isinstance(value, list):
        return None
    try:
        return [BaselinePoint.from_dict(v) for v in value]
    except (KeyError, TypeError):
        return None


@dataclass(frozen=True)
class Coder:
    """A baseline fitted at one k: images (N, D) → codes (N, atoms) → reconstructions (N, D)."""

    method: str
    k: int
    atoms: int
    fit_seconds: float
    encode: ArrayMap
    decode: ArrayMap


def fitted_coders(data: Dataset, ks: Sequence[int], atoms: int, seed: int = 0) -> Iterator[Coder]:
    """PCA, then NMF, then OMP dictionary learning at each k, fitted on data's train split as `baseline_points`
    says, one at a time (the dictionary once for every k)."""
    ks = check_settings(ks, atoms, data.input_dim)
    x_train = data.train_x.detach().cpu().numpy().astype(np.float64)    # (N_train, D)
    yield from _pca(x_train, ks, seed)
    yield from _nmf(x_train, ks, seed)
    yield from _omp(x_train, ks, atoms, seed)


def _measured(coder: Coder, dataset: str, x_test: np.ndarray, codes: np.ndarray, x_hat: np.ndarray,
              code_seconds: float) -> BaselinePoint:
    """The point's numbers with `evaluate`'s definitions: FVU by the same function, MSE per pixel."""
    used = codes != 0                                                   # (N_test, atoms)
    return BaselinePoint(
        method=coder.method, k=coder.k, atoms=coder.atoms, dataset=dataset, n_test=len(x_test),
        mean_l0=float(used.sum(axis=1).mean()), max_l0=int(used.sum(axis=1).max()),
        fvu=fraction_of_variance_unexplained(torch.from_numpy(x_test), torch.from_numpy(x_hat)),
        recon_mse=float(((x_test - x_hat) ** 2).mean()),
        dead_fraction=None if coder.method == "pca" else float((~used.any(axis=0)).mean()),
        fit_seconds=coder.fit_seconds, code_seconds=code_seconds)


def _pca(x_train: np.ndarray, ks: tuple[int, ...], seed: int) -> Iterator[Coder]:
    from sklearn.decomposition import PCA

    for k in ks:
        started = time.perf_counter()
        pca = PCA(n_components=k, svd_solver="covariance_eigh", random_state=seed).fit(x_train)
        yield Coder("pca", k, k, time.perf_counter() - started, pca.transform, pca.inverse_transform)


def _nmf(x_train: np.ndarray, ks: tuple[int, ...], seed: int) -> Iterator[Coder]:
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning

    def quietly(call: ArrayMap) -> ArrayMap:
        def run(x: np.ndarray) -> np.ndarray:
            with warnings.catch_warnings():      # stopping at NMF_MAX_ITER is the recipe, not a fault
                warnings.simplefilter("ignore", ConvergenceWarning)
                return call(x.astype(np.float32)).astype(np.float64)
        return run

    for k in ks:
        started = time.perf_counter()
        nmf = NMF(n_components=k, init="nndsvda", max_iter=NMF_MAX_ITER, random_state=seed)
        # float32: sklearn's NMF keeps it; on mnist-5k the same FVU to 4 decimals as float64 in half the time
        quietly(nmf.fit_transform)(x_train)
        yield Coder("nmf", k, k, time.perf_counter() - started, quietly(nmf.transform), quietly(nmf.inverse_transform))


def _omp(x_train: np.ndarray, ks: tuple[int, ...], atoms: int, seed: int) -> Iterator[Coder]:
    from sklearn.decomposition import MiniBatchDictionaryLearning, SparseCoder

    started = time.perf_counter()
    mean = x_train.mean(axis=0)                                         # (D,)
    learner = MiniBatchDictionaryLearning(n_components=atoms, batch_size=DICTIONARY_BATCH, max_iter=DICTIONARY_EPOCHS,
                                          fit_algorithm="cd", random_state=seed).fit(x_train - mean)
    dictionary = learner.components_                                    # (atoms, D), unit-norm rows
    fit_seconds = time.perf_counter() - started
    for k in ks:
        coder = SparseCoder(dictionary, transform_algorithm="omp", transform_n_nonzero_coefs=k)
        yield Coder("omp", k, atoms, fit_seconds, *_centred(coder, mean))


def _centred(coder: Any, mean: np.ndarray) -> tuple[ArrayMap, ArrayMap]:
    """(encode, decode) of a coder of centred images: codes of x − x̄, reconstructions x̄ + c·D."""
    def encode(x: np.ndarray) -> np.ndarray:
        return coder.transform(x - mean)                                # (N, atoms), ≤ k non-zeros a row

    def decode(codes: np.ndarray) -> np.ndarray:
        return coder.inverse_transform(codes) + mean                    # (N, D)
    return encode, decode


def dictionary_atoms(points: Sequence[BaselinePoint]) -> int:
    """The learned dictionary's size among points (0 when they hold no OMP point)."""
    return next((p.atoms for p in points if p.method == "omp"), 0)


def frontier_settings(models: Sequence[Autoencoder], input_dim: int,
                      ks: Sequence[int] = DEFAULT_KS) -> tuple[tuple[int, ...], int]:
    """(ks, atoms) for baselines drawn beside models: the code size most common among the models with exact-zero
    codes (the larger on a tie; DEFAULT_ATOMS without any), within MAX_ATOMS, and the ks that fit it."""
    sizes = Counter(m.config.latent_dim for m in models if m.code.exact_zeros)
    atoms = max(sizes, key=lambda size: (sizes[size], size)) if sizes else DEFAULT_ATOMS
    atoms = min(atoms, MAX_ATOMS)
    fitting = tuple(k for k in ks if k <= min(atoms, input_dim))
    return fitting or (min(atoms, input_dim),), atoms


@dataclass(frozen=True)
class Matchup:
    """A model line (a sweep, or a variant's models) against a baseline at one L0: which reconstructs better."""

    group: str
    l0: float
    model_fvu: float              # interpolated linearly in L0 along the line
    method: str
    baseline_fvu: float           # interpolated linearly in L0 along the baseline's ks

    @property
    def winner(self) -> str:
        """'baseline', 'model', or 'tie' (equal to the three decimals shown)."""
        shown_model, shown_baseline = round(self.model_fvu, 3), round(self.baseline_fvu, 3)
        return "tie" if shown_model == shown_baseline else "baseline" if shown_baseline < shown_model else "model"

    def sentence(self) -> str:
        """The matchup in a sentence, in the reader's language (English outside the app)."""
        values = dict(l0=self.l0, title=tr(METHOD_TITLES[self.method]), group=self.group, model_fvu=self.model_fvu,
                      baseline_fvu=self.baseline_fvu)
        if self.winner == "baseline":
            return tr("At L0 ≈ {l0:.3g}, {title} reconstructs better (FVU {baseline_fvu:.3f}) than {group} "
                      "({model_fvu:.3f}).", **values)
        if self.winner == "model":
            return tr("At L0 ≈ {l0:.3g}, {group} reconstructs better (FVU {model_fvu:.3f}) than {title} "
                      "({baseline_fvu:.3f}).", **values)
        return tr("At L0 ≈ {l0:.3g}, {group} and {title} reconstruct as well as each other (FVU {model_fvu:.3f}).",
                  **values)


def interpolate_along(line: list[tuple[float, float]], x: float) -> float | None:
    """y at x by linear interpolation along line (sorted (x, y)), or None outside its span (within SPAN_SLACK)."""
    xs, ys = [a for a, _ in line], [b for _, b in line]
    if not xs[0] * (1 - SPAN_SLACK) <= x <= xs[-1] * (1 + SPAN_SLACK):
        return None
    return float(np.interp(x, xs, ys))


def against_baseline(pts: Sequence[Point], baselines: Sequence[BaselinePoint], method: str = "omp",
                     at: Sequence[float] = DEFAULT_KS) -> list[Matchup]:
    """Each line of points that count (exact-zero codes that learned something, see `compare.counts`) against
    the baseline `method`: at each L0 of `at` that both lines span, or at the line's own points' L0 when it spans
    none (a single model), both FVUs interpolated linearly in L0 as `compare.frontier_at` does."""
    reference = sorted((b.mean_l0, b.fvu) for b in baselines if b.method == method)
    if not reference:
        return []
    found = []
    for group in dict.fromkeys(p.group for p in pts):
        line = sorted((p.x, p.y) for p in pts if p.group == group and counts(p))
        if not line:
            continue
        spanned = [x for x in at if line[0][0] <= x <= line[-1][0]] if len(line) > 1 else []
        for l0 in spanned or [x for x, _ in line]:
            model_fvu, baseline_fvu = interpolate_along(line, l0), interpolate_along(reference, l0)
            if model_fvu is not None and baseline_fvu is not None:
                found.append(Matchup(group, float(l0), model_fvu, method, baseline_fvu))
    return found


def matchup_summary(matchups: Sequence[Matchup]) -> str:
    """One line: in how many of the comparisons the baseline reconstructs better at the same L0, and worse."""
    if not matchups:
        return ""
    title = tr(METHOD_TITLES[matchups[0].method])
    wins = sum(m.winner == "baseline" for m in matchups)
    losses = sum(m.winner == "model" for m in matchups)
    ties = len(matchups) - wins - losses
    if ties:
        return tr("Against {title} at the same L0, it reconstructs better in {wins} of {total} comparisons, worse "
                  "in {losses}, as well in {ties}.", title=title, wins=wins, total=len(matchups), losses=losses,
                  ties=ties)
    return tr("Against {title} at the same L0, it reconstructs better in {wins} of {total} comparisons, worse in "
              "{losses}.", title=title, wins=wins, total=len(matchups), losses=losses)
