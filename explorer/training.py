"""One training loop for every variant: resident tensors, a fresh permutation per epoch, Adam, seeded."""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch

from .datasets import Dataset
from .i18n import Later, later, tr
from .train_step import TrainStep
from .variants.base import Autoencoder, batch_rows, evaluating

# Steps between host syncs (NaN check, progress callback) on an accelerator: reading a value back
# stalls the GPU's queue, and at these model sizes a step is shorter than the stall. On the CPU there
# is no queue to stall, so every step is checked.
ACCELERATOR_CHECK_EVERY = 50
SEED_EPOCHS = 10          # the seeds train 10 epochs …
SEED_TRAIN_SIZE = 60000   # … of MNIST's 60,000 training images


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the model is unusable and nothing should be saved. `text` is the
    message to show (a Later: in the reader's language where it is shown); str(error) is English (CLI, sweeps)."""

    def __init__(self, message: str | Later, history: dict):
        super().__init__(english(message))
        self.text = message
        self.history = history

    @classmethod
    def at(cls, terms: dict[str, float], epoch: int, where: str | Later, lr: float, history: dict,
           model: Autoencoder | None = None) -> NonFiniteLossError:
        """The error for a loss that blew up at epoch `epoch`, `where` ('step 3'), naming the terms then and
        what to blame: a penalty weight that makes its term too large to add up (given the model), else the
        learning rate."""
        total = terms["total"]
        became = (later("became {value}", value=total) if not math.isfinite(total)
                  else later("overflowed"))                                       # finite per batch, not summed
        cause = _blamed_weight(model, terms) if model is not None else None
        if cause is None:
            blown = _blown_term(model, terms) if model is not None else ""
            cause = later("{blown}The learning rate ({lr:g}) is probably too high: try 1e-3 or lower.",
                          blown=blown, lr=lr)
        return cls(later("The loss {became} at epoch {epoch}, {where} ({terms}). {cause} Nothing was saved.",
                         became=became, epoch=epoch, where=where,
                         terms=", ".join(f"{k}={v:.4g}" for k, v in terms.items()), cause=cause), history)


def english(text: str | Later) -> str:
    """A text as English says it (a Later's key, filled), whatever the reader's language: what the CLI,
    sweeps and checkpoints record."""
    if isinstance(text, str):
        return text
    return text.text.format(**{k: english(v) if isinstance(v, Later) else v for k, v in text.values.items()})


# A weighted penalty this large cannot be summed over an epoch in float32 (max 3.4e38); no useful weight gets
# near it (the penalties' weights span about 1e-5 to 10), so it is the weight's doing, not the learning rate's.
OVERFLOWING_TERM = 1e30
FAR_ABOVE_RANGE = 1e3     # a weight this many times its suggested range's top is far too large


def weight_phrase(model: Autoencoder, weight: str) -> tuple[str, bool]:
    """('lam = 1e+38 (its usual range is 1e-05 to 0.01)', whether far above that range) for a penalty weight,
    in English (overweighted_said: in the reader's language)."""
    phrase, far_above = _weight_phrase(model, weight)
    return english(phrase), far_above


def _weight_phrase(model: Autoencoder, weight: str) -> tuple[Later, bool]:
    """weight_phrase's words, translated when shown."""
    value = float(getattr(model.config, weight))
    spec = model.config_class.field_specs().get(weight, {})
    low, high = spec.get("ui_low"), spec.get("ui_high")
    far_above = high is not None and value > FAR_ABOVE_RANGE * high
    if low is not None and high is not None:
        return later("{weight} = {value:g} (its usual range is {low:g} to {high:g})", weight=weight, value=value,
                     low=low, high=high), far_above
    return later("{weight} = {value:g}", weight=weight, value=value), far_above


def overweighted(model: Autoencoder) -> str | None:
    """'lam = 1e+30 (its usual range is 1e-05 to 0.01)' for the first penalty weight far above its usual
    range (what a model that learned nothing should blame before its learning rate), else None. English."""
    said = overweighted_said(model)
    return None if said is None else english(said)


def overweighted_said(model: Autoencoder) -> Later | None:
    """overweighted's phrase, translated where it is shown."""
    for term in model.penalty_terms:
        if term.weight is not None:
            phrase, far_above = _weight_phrase(model, term.weight)
            if far_above:
                return phrase
    return None


def _blamed_weight(model: Autoencoder, terms: dict[str, float]) -> Later | None:
    """The sentence blaming a penalty's weight, when one made the loss non-finite: its weighted term is too
    large to add up, or its term went non-finite with a weight far above its usual range."""
    for term in model.penalty_terms:
        value = terms.get(term.name)
        if term.weight is None or value is None:
            continue
        weighted = model.penalty_weights()[term.name] * value
        phrase, far_above = _weight_phrase(model, term.weight)
        if math.isfinite(value) and not (math.isfinite(weighted) and abs(weighted) < OVERFLOWING_TERM):
            return later("The {title} penalty ({name} = {value:.4g}) times its weight {phrase} is {weighted:.3g}, "
                         "too large to add up: lower {weight}.", title=later(term.title), name=term.name,
                         value=value, phrase=phrase, weighted=weighted, weight=term.weight)
        if not math.isfinite(value) and far_above:
            return later("The {title} penalty ({name}) became {value}, weighted by {phrase}: lower {weight}.",
                         title=later(term.title), name=term.name, value=value, phrase=phrase, weight=term.weight)
    return None


def _blown_term(model: Autoencoder, terms: dict[str, float]) -> Later | str:
    """'The KL penalty (kl, weighted by beta = 1 …) became nan. ' for the first penalty that went non-finite."""
    for term in model.penalty_terms:
        value = terms.get(term.name)
        if value is not None and not math.isfinite(value):
            if term.weight:
                return later("The {title} penalty ({name}, weighted by {phrase}) became {value}. ",
                             title=later(term.title), name=term.name, phrase=_weight_phrase(model, term.weight)[0],
                             value=value)
            return later("The {title} penalty ({name}) became {value}. ", title=later(term.title), name=term.name,
                         value=value)
    return ""


@dataclass
class TrainSettings:
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(tr("epochs must be at least 1; got {epochs}", epochs=self.epochs))
        if self.batch_size < 1:
            raise ValueError(tr("batch size must be at least 1; got {size}", size=self.batch_size))
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(tr("learning rate must be a positive number; got {lr:g}", lr=self.lr))


@dataclass
class TrainEvent:
    """What a progress callback sees, after every step ('step') and every epoch ('epoch')."""

    kind: str                    # "step" or "epoch"
    epoch: int                   # 1-based
    epochs: int
    step: int                    # 1-based step within the epoch
    steps_per_epoch: int
    global_step: int
    terms: dict[str, float]      # this step's terms, or the epoch's train means
    history: dict
    model: Autoencoder

    @property
    def fraction_done(self) -> float:
        return self.global_step / (self.epochs * self.steps_per_epoch)


@dataclass
class TrainResult:
    model: Autoencoder
    history: dict
    settings: TrainSettings
    stopped_early: bool
    seconds: float
    samples_seen: int
    steps: int = 0
    captured: bool = False              # full batches were replayed from a CUDA graph (train_step)
    eager_because: str | None = None    # why not, where not
    batched: int = 1                    # models trained as one computation with it (explorer.batched), itself included

    @property
    def samples_per_second(self) -> float:
        return self.samples_seen / self.seconds if self.seconds > 0 else float("nan")

    def summary(self) -> dict:
        """Plain values for the checkpoint's `train` entry."""
        return {"epochs_run": len(self.history["epoch"]), "steps": self.steps,
                "seconds": round(self.seconds, 3), "samples_per_second": round(self.samples_per_second, 1),
                "stopped_early": self.stopped_early, "batched": self.batched, **self.settings.__dict__}


def default_epochs(n_train: int, batch_size: int) -> int:
    """Epochs of this dataset that give about the seeds' optimizer-step budget (10 epochs of 60,000).

    Small datasets need many more epochs for the same number of steps (PRODUCT.md, 'Scales')."""
    seed_steps = SEED_EPOCHS * math.ceil(SEED_TRAIN_SIZE / batch_size)
    return max(1, round(seed_steps / math.ceil(n_train / batch_size)))


def new_history() -> dict:
    return {"epoch": [], "train": {}, "test": {}, "seconds": []}


def mean_loss_terms(model: Autoencoder, x: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """Loss terms over all of x in eval mode, with fixed randomness so epochs compare fairly."""
    devices = [x.device] if x.device.type == "cuda" else []
    sums: dict[str, float] = {}
    with evaluating(model), torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        rows = batch_rows(x)
        for start in range(0, len(x), rows):
            batch = x[start:start + rows]
            for name, value in model.loss(batch).items():
                sums[name] = sums.get(name, 0.0) + float(value) * len(batch)
    return {name: total / len(x) for name, total in sums.items()}


def check_batch_size(settings: TrainSettings, data: Dataset) -> None:
    """A batch cannot hold more images than the training split has."""
    if settings.batch_size > len(data.train_x):
        raise ValueError(tr("batch size {size} is larger than the {count} training images of {dataset}; use at "
                            "most {count}", size=settings.batch_size, count=len(data.train_x), dataset=data.name))


def train(model: Autoencoder, data: Dataset, settings: TrainSettings,
          callback: Callable[[TrainEvent], bool | None] | None = None,
          history: dict | None = None, check_every: int | None = None, capture: bool = True) -> TrainResult:
    """Train in place; the callback may return True to stop early and keep what was learned.

    Loss terms are summed on the device; every check_every steps (every step on the CPU,
    ACCELERATOR_CHECK_EVERY elsewhere) and at each epoch's end they are read back once, checked for
    NaN and handed to the callback. On a CUDA device the step is recorded once as a CUDA graph and
    replayed (capture=False: eager steps). Raises NonFiniteLossError (naming epoch, step and the likely
    cause) if the loss blows up."""
    model.check_fits(data.name, data.input_dim, data.image_shape)
    check_batch_size(settings, data)
    device = data.device
    model.to(device)
    torch.manual_seed(settings.seed)
    generator = torch.Generator(device=device).manual_seed(settings.seed)
    optimizer = make_optimizer(model.parameters(), settings.lr, device, capturable=capture)
    one_step = TrainStep(model, optimizer, settings.batch_size, device, capture)
    x_train = data.train_x
    n = len(x_train)
    steps_per_epoch = math.ceil(n / settings.batch_size)
    if check_every is None:
        check_every = 1 if device.type == "cpu" else ACCELERATOR_CHECK_EVERY
    history = history if history is not None else new_history()
    start_epoch = len(history["epoch"])
    if start_epoch == 0:
        model.start_from(x_train)          # a fresh model: its data-dependent start (the mean image)
    stopped, global_step, seen = False, 0, 0
    started = time.perf_counter()
    model.train()
    for epoch in range(start_epoch + 1, start_epoch + settings.epochs + 1):
        epoch_started = time.perf_counter()
        order = torch.randperm(n, generator=generator, device=device)
        sums: torch.Tensor | None = None          # (terms,) this epoch's terms × batch size, on the device
        last_check = 0
        for step in range(1, steps_per_epoch + 1):
            batch = x_train[order[(step - 1) * settings.batch_size: step * settings.batch_size]]
            terms = one_step(batch)
            step_terms = torch.stack(list(terms.values()))      # (terms,) a copy: a graph rewrites its outputs
            sums = step_terms * len(batch) if sums is None else sums + step_terms * len(batch)
            global_step += 1
            seen += len(batch)
            if step % check_every and step != steps_per_epoch:
                continue                          # no host sync this step
            # One host sync for this step's terms and the running sums (a NaN since the last check is in them).
            both = torch.cat([step_terms, sums]).tolist()
            values = dict(zip(terms, both[:len(terms)], strict=True))
            summed = dict(zip(terms, both[len(terms):], strict=True))
            if not (math.isfinite(values["total"]) and math.isfinite(summed["total"])):
                where = (later("step {step}", step=step) if step - last_check == 1 else
                         later("steps {first}–{last}", first=last_check + 1, last=step))
                raise NonFiniteLossError.at(values, epoch, where, settings.lr, history, model)
            last_check = step
            if callback is not None and callback(TrainEvent("step", epoch, start_epoch + settings.epochs,
                                                            step, steps_per_epoch, global_step, values,
                                                            history, model)):
                stopped = True
                break
        assert sums is not None
        epoch_sums = dict(zip(terms, sums.tolist(), strict=True))
        epoch_samples = min(n, step * settings.batch_size)
        record_epoch(history, epoch, {k: v / epoch_samples for k, v in epoch_sums.items()},
                     mean_loss_terms(model, data.test_x, settings.seed),
                     time.perf_counter() - epoch_started)
        model.train()
        if callback is not None and callback(TrainEvent("epoch", epoch, start_epoch + settings.epochs,
                                                        step, steps_per_epoch, global_step,
                                                        {k: v[-1] for k, v in history["train"].items()},
                                                        history, model)):
            stopped = True
        if stopped:
            break
    model.eval()
    return TrainResult(model, history, settings, stopped, time.perf_counter() - started, seen, global_step,
                       one_step.captured, one_step.eager_because)


def make_optimizer(parameters: Iterable[torch.Tensor], lr: float, device: torch.device,
                   capturable: bool = False) -> torch.optim.Optimizer:
    """Adam; the fused kernel (CPU and CUDA) is ~20 % faster than the default for these small nets.
    capturable (CUDA only): its step count stays on the device, so a CUDA graph can record its step."""
    fused = device.type in ("cpu", "cuda")
    return torch.optim.Adam(parameters, lr=lr, fused=fused, foreach=None if fused else True,
                            capturable=capturable and device.type == "cuda")


def record_epoch(history: dict, epoch: int, train_terms: dict, test_terms: dict, seconds: float) -> None:
    history["epoch"].append(epoch)
    history["seconds"].append(round(seconds, 4))
    for split, terms in (("train", train_terms), ("test", test_terms)):
        for name, value in terms.items():
            history[split].setdefault(name, []).append(float(value))
