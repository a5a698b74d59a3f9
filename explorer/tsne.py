"""t-SNE that converges visibly: openTSNE, optimised in chunks of iterations, each layout handed out on the way.

openTSNE's affinities, then its gradient descent a chunk at a time; the last layout is the map."""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np

from .i18n import tr

ITERATIONS = 750          # in all, the early-exaggeration phase included (openTSNE's own 250 + 500)
EARLY_ITERATIONS = 250    # clusters form under exaggeration first, then spread out
EXAGGERATION = 12.0
# Barnes–Hut's accuracy/speed trade-off. Measured on 2,000 codes of the shipped ae (mnist-5k), one
# thread: 750 iterations take 3.3 s of CPU at 0.8 against 4.8 s at openTSNE's default 0.5, with the
# same 10-NN class accuracy in the map (0.967 and 0.958 of the code's own) and maps that look alike.
THETA = 0.8
EVERY = 50                # iterations between intermediate layouts (~0.2 s of work for 2,000 codes)
EXACT_NEIGHBOURS_UP_TO = 10_000   # exact kNN for the affinities below this: 0.3 s for 2,000 codes (Annoy 0.7 s)


@dataclass(frozen=True)
class Layout:
    """A t-SNE layout after `iteration` of `iterations` optimisation steps (0: the PCA start)."""

    coords: np.ndarray        # (n, dims)
    iteration: int
    iterations: int


def recipe() -> str:
    """What, besides the inputs, decides the map: the library and the schedule (a cache key part;
    read from the package's metadata, so a disk-cache lookup does not import openTSNE)."""
    return (f"openTSNE {version('openTSNE')}, Barnes-Hut theta {THETA}, exaggeration {EXAGGERATION:g} "
            f"for min({EARLY_ITERATIONS}, a third), PCA start")


def stage(iteration: int, iterations: int) -> str:
    """What the optimisation is doing at this iteration, in words for the caption under a map."""
    if iteration == 0:
        return tr("the start: the codes' first two principal components")
    if iteration < iterations and iteration <= min(EARLY_ITERATIONS, iterations // 3):
        return tr("early exaggeration: each point is pulled hard towards its neighbours, so clusters form")
    if iteration < iterations:
        return tr("exaggeration off: the clusters spread out and settle")
    return tr("finished")


def threads() -> int:
    """All cores but one: on a laptop the browser drawing the intermediate maps needs the other
    (and on 2 busy cores, two OpenMP threads spinning at each barrier took 4× the CPU of one)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores - 1)


def check(n: int, perplexity: float) -> None:
    """ValueError unless openTSNE can use this perplexity on n points as asked (it would quietly lower it)."""
    if not 1 <= perplexity <= n - 1:
        raise ValueError(f"perplexity must be at least 1 and below the number of points ({n}); got {perplexity:g}")


def layouts(codes: np.ndarray, dims: int = 2, seed: int = 0, perplexity: float = 30.0,
            iterations: int = ITERATIONS, every: int = EVERY) -> Iterator[Layout]:
    """The PCA start, then the layout every `every` iterations, the last after all `iterations`
    (copies: later steps never change a layout already handed out). The chunks barely matter: openTSNE
    keeps its gains and momentum between calls; only its affinities, multiplied by the exaggeration
    and divided again in each call, round differently (a test checks). Same `every`, same map, bit
    for bit: what the kept maps rely on."""
    check(len(codes), perplexity)
    if iterations < 1 or every < 1:
        raise ValueError(f"iterations and every must be at least 1; got {iterations} and {every}")
    return _layouts(np.ascontiguousarray(codes, dtype=np.float64), dims, seed, perplexity, iterations, every)


def _layouts(codes: np.ndarray, dims: int, seed: int, perplexity: float, iterations: int,
             every: int) -> Iterator[Layout]:
    start = pca_start(codes, dims, seed)
    yield Layout(start.copy(), 0, iterations)     # before openTSNE is even imported: a map at once
    from openTSNE import TSNEEmbedding, affinity

    jobs = threads()
    affinities = affinity.PerplexityBasedNN(
        codes, perplexity=perplexity, method="exact" if len(codes) <= EXACT_NEIGHBOURS_UP_TO else "annoy",
        n_jobs=jobs, random_state=seed)
    embedding = TSNEEmbedding(start, affinities, negative_gradient_method="bh", theta=THETA, n_jobs=jobs,
                              random_state=seed)
    early = min(EARLY_ITERATIONS, iterations // 3)
    done = 0
    while done < iterations:
        phase_end = early if done < early else iterations
        steps = min(every, phase_end - done)
        if done < early:
            embedding.optimize(steps, exaggeration=EXAGGERATION, momentum=0.5, inplace=True)
        else:
            embedding.optimize(steps, momentum=0.8, inplace=True)
        done += steps
        yield Layout(np.array(embedding), done, iterations)


def pca_start(codes: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """openTSNE's recommended start, made with numpy: the first principal components, scaled so the
    first has standard deviation 1e-4 (small, so the early forces shape it), plus a seeded jitter of
    1 % of that (points with identical codes must not sit exactly on one another)."""
    centred = codes - codes.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    start = centred @ vt[:dims].T
    if start.shape[1] < dims:                 # a code with fewer dimensions than the map
        start = np.pad(start, ((0, 0), (0, dims - start.shape[1])))
    start *= 1e-4 / start[:, 0].std()
    start += np.random.default_rng(seed).normal(0.0, 1e-6, start.shape)
    return np.ascontiguousarray(start)
