"""Latent-space views: codes of a seeded sample, PCA / t-SNE / UMAP maps, neighbours, decoded paths,
VAE samples and manifolds, and exports (CSV, TensorFlow Embedding Projector TSV)."""
from __future__ import annotations

import io
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import torch

from . import tsne
from .datasets import Dataset
from .i18n import N_, tr
from .variants.base import Autoencoder, evaluating

METHODS = ("pca", "tsne", "umap", "raw")


def umap_available() -> bool:
    try:
        import umap  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class CodeSample:
    """A seeded sample of images and their codes, from the test split or from all images."""

    codes: np.ndarray       # (n, K)
    labels: np.ndarray      # (n,) class index
    split: np.ndarray       # (n,) "test" | "train"
    index: np.ndarray       # (n,) index within its split
    images: np.ndarray      # (n, D) the images, for showing a selection

    def __len__(self) -> int:
        return len(self.codes)


@torch.no_grad()
def code_sample(model: Autoencoder, data: Dataset, n: int = 2000, source: str = "all", seed: int = 0) -> CodeSample:
    """n images drawn with `seed` from the test split ('test') or train + test ('all'), with codes."""
    if source not in ("test", "all"):
        raise ValueError(f"source must be 'test' or 'all'; got {source!r}")
    if n < 1:
        raise ValueError(f"a sample needs at least one image; got n={n}")
    parts = [("test", data.test_x, data.test_y)] + ([("train", data.train_x, data.train_y)] if source == "all" else [])
    split = np.concatenate([[name] * len(x) for name, x, _ in parts])
    index = np.concatenate([np.arange(len(x)) for _, x, _ in parts])
    x = torch.cat([x for _, x, _ in parts])
    y = torch.cat([y for _, _, y in parts])
    pick = np.sort(np.random.default_rng(seed).permutation(len(x))[: min(n, len(x))])
    chosen = torch.as_tensor(pick, device=x.device)
    images = x[chosen]
    return CodeSample(model.encode_all(images).cpu().numpy(), y[chosen].cpu().numpy(), split[pick], index[pick],
                      images.cpu().numpy())


@dataclass
class Projection:
    coords: np.ndarray                        # (n, dims)
    method: str
    explained_variance: np.ndarray | None     # PCA: fraction of variance per component
    mean: np.ndarray | None = None            # PCA: (K,) the codes' mean …
    axes: np.ndarray | None = None            # … and (dims, K) the components: new codes map exactly
    iteration: int | None = None              # t-SNE: steps taken when this map was drawn …
    iterations: int | None = None             # … of this many (equal on the finished map)

    @property
    def final(self) -> bool:
        """Whether this is the finished map, not a t-SNE map still on its way."""
        return self.iteration == self.iterations


TSNE_ITERATIONS = tsne.ITERATIONS
SLOW_METHODS = ("tsne", "umap")     # seconds, not milliseconds: worth showing on the way and keeping


def project(codes: np.ndarray, method: str = "pca", dims: int = 2, seed: int = 0, perplexity: float = 30.0,
            iterations: int = TSNE_ITERATIONS) -> Projection:
    """Map codes (n, K) to (n, dims): the last map of project_steps."""
    return deque(project_steps(codes, method, dims, seed, perplexity, iterations), maxlen=1)[0]


def project_steps(codes: np.ndarray, method: str = "pca", dims: int = 2, seed: int = 0, perplexity: float = 30.0,
                  iterations: int = TSNE_ITERATIONS, every: int = tsne.EVERY) -> Iterator[Projection]:
    """Maps of codes (n, K) to (n, dims) as they are made; the last is the finished one. PCA is exact
    (SVD); 'raw' is the code itself when it has `dims` coordinates; UMAP needs umap-learn — each one
    map. t-SNE (openTSNE, seeded) gives its PCA start, then a map every `every` iterations. Bad
    settings raise ValueError here, before any work."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if dims not in (2, 3):
        raise ValueError(f"dims must be 2 or 3; got {dims}")
    n, k = codes.shape
    codes = codes.astype(np.float64)
    if method == "raw":
        if k < dims:
            raise ValueError(f"the code has {k} dimensions; a raw {dims}-D map needs at least {dims}")
        return iter([Projection(codes[:, :dims], "raw", None)])
    if method == "pca":
        centred = codes - codes.mean(axis=0)
        _, singular, vt = np.linalg.svd(centred, full_matrices=False)
        variance = singular**2
        coords = centred @ vt[:dims].T
        if coords.shape[1] < dims:          # a code smaller than the map: pad with zeros
            coords = np.pad(coords, ((0, 0), (0, dims - coords.shape[1])))
        total = variance.sum()
        axes = np.pad(vt[:dims], ((0, max(0, dims - len(vt))), (0, 0)))
        return iter([Projection(coords, "pca", variance / total if total > 0 else np.zeros_like(variance),
                                codes.mean(axis=0), axes)])
    if np.ptp(codes, axis=0).max(initial=0.0) == 0:
        # Every code is the same (a model whose units are all silent): nothing to separate, and a
        # PCA start scaled by the codes' spread divides by zero.
        raise ValueError(tr("all {n} codes are identical (is every unit dead?), so a {method} map has nothing to "
                            "show; PCA draws them as one point", n=n, method=method))
    if method == "tsne":
        layouts = tsne.layouts(codes, dims, seed, perplexity, iterations, every)
        return (Projection(step.coords, "tsne", None, iteration=step.iteration, iterations=step.iterations)
                for step in layouts)
    if not umap_available():
        raise ValueError("UMAP needs the optional package umap-learn (pip install umap-learn)")
    return _umap(codes, dims, seed)


def _umap(codes: np.ndarray, dims: int, seed: int) -> Iterator[Projection]:
    import umap

    yield Projection(umap.UMAP(n_components=dims, random_state=seed).fit_transform(codes), "umap", None)


def method_recipe(method: str) -> str:
    """What decides a map besides its inputs and settings: the library doing it and its version."""
    if method == "tsne":
        return tsne.recipe()
    if method == "umap":
        try:
            return f"umap-learn {version('umap-learn')}"
        except PackageNotFoundError:          # project_steps says why, in a sentence
            return "umap-learn (not installed)"
    return f"numpy {np.__version__}"


def knn_accuracy(points: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Leave-one-out k-nearest-neighbour class accuracy: the fraction of points whose class is the most
    common among their k nearest other points (Euclidean); a tie goes to the tied class met first,
    nearest first. On a map against the same points' codes, it says how much class structure the map
    kept (the map invents none: what it loses shows as a lower accuracy)."""
    points = np.asarray(points, dtype=np.float64)
    labels = np.asarray(labels)
    n = len(points)
    if n < 2 or len(labels) != n:
        raise ValueError(f"need at least 2 points and one label each; got {n} points and {len(labels)} labels")
    k = min(k, n - 1)
    classes = np.unique(labels, return_inverse=True)[1]
    squared = (points**2).sum(axis=1)
    right = 0
    for start in range(0, n, 512):                   # 512 rows of distances at a time: bounded memory
        rows = np.arange(start, min(n, start + 512))
        distances = squared[rows, None] - 2 * points[rows] @ points.T + squared[None, :]
        distances[np.arange(len(rows)), rows] = np.inf          # a point is not its own neighbour
        near = np.argsort(distances, axis=1, kind="stable")[:, :k]
        for row, neighbours in zip(rows, classes[near], strict=True):
            votes = np.bincount(neighbours)
            tied = votes == votes.max()
            winner = next(c for c in neighbours if tied[c])    # the nearest of the tied classes
            right += int(winner == classes[row])
    return right / n


PLACE_NEIGHBOURS = 10


def place(projection: Projection, codes: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, str]:
    """Where new codes (m, K) land on a map of codes (n, K): (m, dims) coordinates, and how they were
    placed. PCA and raw maps place them exactly; t-SNE and UMAP maps have no formula for a new point,
    so it goes to the distance-weighted mean of its nearest codes' places — where openTSNE's
    `transform` starts a new point before optimising it."""
    new = np.atleast_2d(new).astype(np.float64)
    dims = projection.coords.shape[1]
    if projection.mean is not None and projection.axes is not None:
        return (new - projection.mean) @ projection.axes.T, tr("exactly, on the PCA axes")
    if projection.method == "raw":
        return new[:, :dims], tr("exactly: the map is the code")
    k = min(PLACE_NEIGHBOURS, len(codes))
    placed = []
    for row in new:
        rows, distances = nearest(codes, row, k)
        weights = 1.0 / (distances + 1e-9)
        placed.append((projection.coords[rows] * weights[:, None]).sum(axis=0) / weights.sum())
    return np.array(placed), tr("among its {k} nearest codes (distance-weighted), as openTSNE's transform "
                                "starts a new point: {method} has no formula for new points", k=k,
                                method=projection.method)


def nearest(codes: np.ndarray, query: np.ndarray, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The k rows of codes closest to query (Euclidean), nearest first, and their distances."""
    distances = np.linalg.norm(codes - query, axis=1)
    order = np.argsort(distances, kind="stable")[:k]
    return order, distances[order]


def nearest_neighbours(codes: np.ndarray, i: int, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The k points closest to point i in code space (Euclidean), nearest first, and their distances."""
    rows, distances = nearest(codes, codes[i], k + 1)
    others = rows != i                               # point i is its own nearest: leave it out
    return rows[others][:k], distances[others][:k]


@dataclass(frozen=True)
class ImageRef:
    """One image of a dataset: its split ("test" | "train") and its index within that split."""

    split: str
    index: int

    def __str__(self) -> str:
        """'test #17', in the reader's language."""
        return image_name(self.split, self.index)


SPLIT_NAMES = {"test": N_("test #{index}"), "train": N_("train #{index}")}     # an image by its split and number


def image_name(split: str, index: int) -> str:
    """An image named by its split and index ('test #17'), in the reader's language."""
    return tr(SPLIT_NAMES[split], index=index) if split in SPLIT_NAMES else f"{split} #{index}"


def image_of(data: Dataset, ref: ImageRef) -> torch.Tensor:
    """The image `ref` names, (D,) on the data's device."""
    return data.split(ref.split)[0][ref.index]


def class_of(data: Dataset, ref: ImageRef) -> int:
    return int(data.split(ref.split)[1][ref.index])


def names_an_image(data: Dataset, ref: object) -> bool:
    """Whether `ref` is an ImageRef naming an image of `data` (one kept from another dataset may not)."""
    return (isinstance(ref, ImageRef) and ref.split in ("train", "test")
            and 0 <= ref.index < len(data.split(ref.split)[0]))


def sample_ref(sample: CodeSample, row: int) -> ImageRef:
    """The image at `row` of a sample."""
    return ImageRef(str(sample.split[row]), int(sample.index[row]))


def default_walk(labels: np.ndarray) -> tuple[int, int]:
    """Two ends for a first walk that crosses from one class to another: the first image of the lowest
    class present and the first of the next class (images 0 and 1 when there is one class only)."""
    classes = np.unique(labels)
    if len(classes) < 2:
        return 0, min(1, len(labels) - 1)
    return int(np.argmax(labels == classes[0])), int(np.argmax(labels == classes[1]))


def neighbours_of(sample: CodeSample, code: np.ndarray, ref: ImageRef, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The k rows of the sample nearest to `code` (the code of image `ref`) in code space, nearest
    first, and their distances; the image itself is left out when the sample holds it."""
    rows, distances = nearest(sample.codes, code, k + 1)
    others = (sample.split[rows] != ref.split) | (sample.index[rows] != ref.index)
    return rows[others][:k], distances[others][:k]


def map_caption(projection: Projection, perplexity: float) -> str | None:
    """What a slow map on screen is, for the caption under it: one still being made says how far it
    is; only the finished one says it is kept. None for the maps made at once (PCA, raw)."""
    if projection.method == "tsne" and not projection.final:
        return tr("Running: iteration {iteration} of {iterations} of a seeded t-SNE (openTSNE) at perplexity "
                  "{perplexity:g}. The points move until the last iteration.", iteration=projection.iteration,
                  iterations=projection.iterations, perplexity=perplexity)
    if projection.method == "tsne":
        return tr("t-SNE (openTSNE) after {iterations} iterations at perplexity {perplexity:g}, seeded: made once "
                  "and kept, so it shows at once next time, for everyone, even after a restart.",
                  iterations=projection.iterations, perplexity=perplexity)
    if projection.method == "umap":
        return tr("UMAP (umap-learn), seeded: made once and kept, so it shows at once next time, for everyone, "
                  "even after a restart.")
    return None


def interpolate(model: Autoencoder, x_a: torch.Tensor, x_b: torch.Tensor, steps: int = 10) -> np.ndarray:
    """Decode the straight line between the codes of two images (the VAE's means): (steps, D)."""
    with evaluating(model):
        z = model.encode(torch.stack([x_a, x_b]))                     # (2, K)
        t = torch.linspace(0, 1, steps, device=z.device)[:, None]     # (steps, 1)
        return model.decode((1 - t) * z[0] + t * z[1]).cpu().numpy()


def prior_samples(model: Autoencoder, n: int, seed: int) -> np.ndarray:
    """n images drawn from a generative model's prior (same seed, same images)."""
    generator = torch.Generator(device=model.device).manual_seed(seed)
    with evaluating(model):
        return model.sample(n, generator=generator).cpu().numpy()


def manifold_grid(model: Autoencoder, dims: tuple[int, int] = (0, 1), n: int = 15, span: float = 2.5) -> np.ndarray:
    """Kingma & Welling's figure: decode a n×n grid over two latent dimensions (others at 0).

    Rows go from +span (top) to −span, columns from −span to +span. Returns (n·n, D), row-major."""
    k = model.config.latent_dim
    if not (0 <= dims[0] < k and 0 <= dims[1] < k) or dims[0] == dims[1]:
        raise ValueError(f"choose two different latent dimensions between 0 and {k - 1}; got {dims}")
    values = torch.linspace(-span, span, n, device=model.device)
    z = torch.zeros(n, n, k, device=model.device)
    z[:, :, dims[0]] = values[None, :]                 # columns: first dimension
    z[:, :, dims[1]] = values.flip(0)[:, None]         # rows: second dimension, top = +span
    with evaluating(model):
        return model.decode(z.reshape(n * n, k)).cpu().numpy()


def traversal(model: Autoencoder, x: torch.Tensor, dim: int, values: np.ndarray) -> np.ndarray:
    """Decode an image's code with one dimension swept over `values`: (len(values), D)."""
    with evaluating(model):
        z = model.encode(x[None]).repeat(len(values), 1)
        z[:, dim] = torch.as_tensor(values, dtype=z.dtype, device=z.device)
        return model.decode(z).cpu().numpy()


def codes_csv(sample: CodeSample, class_names: tuple[str, ...], coords: np.ndarray | None = None) -> str:
    """CSV: split, index, label, class, [x, y(, z)], code_0 … code_{K−1}."""
    buffer = io.StringIO()
    axes = ["x", "y", "z"][: coords.shape[1]] if coords is not None else []
    code_columns = [f"code_{j}" for j in range(sample.codes.shape[1])]
    buffer.write(",".join(["split", "index", "label", "class", *axes, *code_columns]) + "\n")
    for row in range(len(sample)):
        cells = [sample.split[row], str(sample.index[row]), str(sample.labels[row]),
                 _csv_cell(class_names[sample.labels[row]])]
        cells += [f"{v:.6g}" for v in (coords[row] if coords is not None else [])]
        cells += [f"{v:.6g}" for v in sample.codes[row]]
        buffer.write(",".join(cells) + "\n")
    return buffer.getvalue()


def _csv_cell(text: str) -> str:
    return f'"{text}"' if any(c in text for c in ',"\n') else text


def projector_vectors(sample: CodeSample) -> str:
    """vectors.tsv as TensorFlow's Embedding Projector loads it: one code per line."""
    return "\n".join("\t".join(f"{v:.6g}" for v in row) for row in sample.codes) + "\n"


def projector_metadata(sample: CodeSample, class_names: tuple[str, ...]) -> str:
    """metadata.tsv for the Embedding Projector: each code's label, class, split and index."""
    return "label\tclass\tsplit\tindex\n" + "".join(
        f"{sample.labels[i]}\t{class_names[sample.labels[i]]}\t{sample.split[i]}\t{sample.index[i]}\n"
        for i in range(len(sample)))


def projector_tsv(sample: CodeSample, class_names: tuple[str, ...]) -> tuple[str, str]:
    """(vectors.tsv, metadata.tsv) as TensorFlow's Embedding Projector loads them."""
    return projector_vectors(sample), projector_metadata(sample, class_names)
