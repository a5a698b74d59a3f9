"""What the server's training job and its worker process say to each other (pickled over pipes)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..i18n import Later
from ..metrics import CodeStats, Evaluation
from ..training import TrainSettings


# -- server → worker ----------------------------------------------------------------------------------
@dataclass
class JobSpec:
    """Train this: the worker loads the data itself and builds the same model from the same seed."""

    variant: str
    params: dict
    dataset: str
    device: str
    data_dir: str
    settings: TrainSettings
    preview_indices: list[int] = field(default_factory=list)   # test images reconstructed after each epoch
    keep_path: str | None = None    # where the last finished epoch is kept (jobs.py: a killed worker loses little)
    keep_every: float = 1.0         # seconds at least between two such writes
    start_paused: bool = False      # step-through from the start: wait after the first step


@dataclass
class Stop:
    """Stop after the current step and keep what was learned."""

    member: int = 0                 # which of the jobs the worker trains together (a list of JobSpec)


@dataclass
class Pace:
    """Step-through training: 'pause' (after the step under way), 'resume', 'step' (one batch, then wait),
    'epoch' (to the end of this epoch, then wait) or 'delay' (`delay` seconds after every step: slow motion)."""

    action: str
    member: int = 0
    delay: float = 0.0


# -- worker → server ----------------------------------------------------------------------------------
@dataclass
class Progress:
    fraction: float                 # of all steps
    epoch: int
    terms: dict[str, float]         # this step's loss terms
    member: int = 0                 # which job of the worker's list it is about


@dataclass
class EpochDone:
    epoch: int
    train_terms: dict[str, float]   # the epoch's train means
    test_terms: dict[str, float]
    seconds: float
    preview: np.ndarray             # (n, D) reconstructions of the preview images
    fraction: float
    member: int = 0                 # which job of the worker's list it is about
    units: UnitActivity | None = None   # the code units on the unit sample, after this epoch


@dataclass
class UnitActivity:
    """The code units on a fixed sample of test images (metrics.code_statistics): each unit's mean activation
    ρ̂ⱼ and firing rate, the dead and the always-on ones, in the code kind's own meaning of active."""

    stats: CodeStats
    images: int                     # the sample's size


@dataclass
class Paused:
    """Training waits (step-through) after global step `global_step`: that step's terms, and the preview's
    reconstructions and the units as of now."""

    epoch: int
    step: int                       # within the epoch, 1-based
    global_step: int
    terms: dict[str, float]
    preview: np.ndarray
    units: UnitActivity
    member: int = 0


@dataclass
class Finished:
    state: dict[str, np.ndarray]    # the trained weights (numpy: no torch tensors in the pipe)
    metrics: Evaluation
    summary: dict
    stopped: bool                   # stopped early on request
    member: int = 0                 # which job of the worker's list it is about


@dataclass
class Failed:
    message: str | Later            # one line for the page (a Later: in the reader's language, where shown)
    member: int = 0                 # which job of the worker's list it is about


WorkerMessage = Progress | EpochDone | Paused | Finished | Failed
