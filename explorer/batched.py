"""Many models of one variant and shape trained as one computation: their weights stacked on a model
axis, one vmapped pass, one backward, one fused Adam step for all (Adam is elementwise, so each model
keeps its own moments), and each model its own batch order, random draws, history, NaN check and stop.

Small models are bound by per-step overhead, not arithmetic (PRODUCT.md, 'Targets'): eight of them
stepping together pay that overhead once. A model trained here gets, within float rounding, what
`training.train` gives it alone with the same seed: the same initial weights (built alone), the same
batch order (its own generator), the same noise (`Autoencoder.draw` from its own generator, seeded as
`train` seeds the global one), the same terms and Adam steps. Recipe: torch.func's model ensembling
(`stack_module_state` + `functional_call` + `vmap`)."""
from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from .datasets import Dataset
from .i18n import later
from .training import (
    ACCELERATOR_CHECK_EVERY,
    NonFiniteLossError,
    TrainEvent,
    TrainResult,
    TrainSettings,
    check_batch_size,
    make_optimizer,
    mean_loss_terms,
    new_history,
    record_epoch,
)
from .variants.base import Autoencoder

Callback = Callable[[TrainEvent], "bool | None"]
BATCH_MOST = 16      # models per computation: memory grows with it, and the gain has flattened by then
# … and at most this many weights in one stack (100 MB; with gradients and Adam's moments about 400 MB)
BATCH_WEIGHTS = 25_000_000


class NotBatchableError(ValueError):
    """These models cannot be trained as one computation (the reason says why); train them one by one."""


def batch_key(model: Autoencoder, settings: TrainSettings) -> tuple:
    """What models trained together must share: variant, network shape and every config field but the
    penalty weights and the variant's `per_model_fields`, and the batch size and learning rate (one
    Adam step for all). Seeds and epochs may differ."""
    free = {t.weight for t in model.penalty_terms if t.weight} | set(model.per_model_fields)
    shared = tuple(sorted((k, repr(v)) for k, v in model.config.to_dict().items() if k not in free))
    return (model.name, shared, settings.batch_size, settings.lr)


def group_batchable(items: Sequence[tuple[Autoencoder, TrainSettings]], most: int) -> list[list[int]]:
    """Indices of items in groups that can train as one (same batch_key), at most `most` per group and
    BATCH_WEIGHTS weights in all, in first-seen order; a group of one trains alone."""
    groups: dict[tuple, list[list[int]]] = {}
    for i, (model, settings) in enumerate(items):
        chunks = groups.setdefault(batch_key(model, settings), [[]])
        fits = max(1, BATCH_WEIGHTS // sum(p.numel() for p in model.parameters()))
        if len(chunks[-1]) >= min(most, fits):
            chunks.append([])
        chunks[-1].append(i)
    return [chunk for chunks in groups.values() for chunk in chunks]


class _Terms(nn.Module):
    """A model's unweighted loss terms as a module call, for functional_call; per-model config values
    (the variant's per_model_fields) arrive as () tensors and are swapped into the config meanwhile."""

    def __init__(self, model: Autoencoder):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, draws: Mapping[str, torch.Tensor],
                fields: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        saved = self.model.config
        if fields:
            swapped = copy.copy(saved)
            for name, value in fields.items():
                object.__setattr__(swapped, name, value)
            self.model.config = swapped
        try:
            return self.model.unweighted_terms(x, dict(draws) or None)
        finally:
            self.model.config = saved


@dataclass
class _Member:
    """One model of the batch and what is its own."""

    index: int                       # position in the caller's list
    model: Autoencoder
    settings: TrainSettings
    callback: Callback | None
    order_generator: torch.Generator
    draw_generator: torch.Generator
    history: dict
    started: float
    steps: int = 0
    seen: int = 0


def train_batched(models: Sequence[Autoencoder], data: Dataset, settings: Sequence[TrainSettings],
                  callbacks: Sequence[Callback | None] | None = None, check_every: int | None = None
                  ) -> list[TrainResult | NonFiniteLossError]:
    """Train models (same batch_key) in place as one computation; per model a TrainResult, or the
    NonFiniteLossError its loss raised (the others go on). A callback returning True stops its model.

    Callbacks see the same events as with `train`; `event.model` holds the current weights at "epoch"
    events (they are written back from the stack once per epoch, not at every step). Raises
    NotBatchableError before any model changes if the variant's pass cannot run under vmap."""
    if not models or len(models) != len(settings):
        raise ValueError("give one TrainSettings per model")
    keys = {batch_key(m, s) for m, s in zip(models, settings, strict=True)}
    if len(keys) > 1:
        raise NotBatchableError("these models differ in variant, shape, batch size or learning rate")
    callbacks = list(callbacks) if callbacks is not None else [None] * len(models)
    device = data.device
    first, common = models[0], settings[0]
    for model in models:
        model.check_fits(data.name, data.input_dim, data.image_shape)
        model.to(device).train()
    # A batch refused at its first step leaves the models as they came (they then train one by one).
    as_given: list[dict[str, torch.Tensor]] | None = [{k: v.clone() for k, v in m.state_dict().items()}
                                                      for m in models]
    for model in models:
        model.start_from(data.train_x)       # a fresh model's data-dependent start, as `train` makes it
    check_batch_size(common, data)
    started = time.perf_counter()
    members = [_Member(i, m, s, cb, torch.Generator(device=device).manual_seed(s.seed),
                       torch.Generator(device=device).manual_seed(s.seed), new_history(), started)
               for i, (m, s, cb) in enumerate(zip(models, settings, callbacks, strict=True))]
    results: list[TrainResult | NonFiniteLossError | None] = [None] * len(models)

    template = _Terms(copy.deepcopy(first)).train()

    def terms_of(p: dict, b: dict, x: torch.Tensor, d: dict, f: dict) -> dict[str, torch.Tensor]:
        return functional_call(template, (p, b), (x, d, f))

    # Members with one seed (a sweep's trials) read the same batches: then the batch is gathered once and
    # goes in unstacked (vmap broadcasts it), not copied M times.
    shared_order = len({s.seed for s in settings}) == 1
    step_terms_of = vmap(terms_of, in_dims=(0, 0, None if shared_order else 0, 0, 0), randomness="error")
    stack = _Stack(members, device, common.lr, [t.name for t in first.penalty_terms],
                   [f for f in first.per_model_fields if f in first.config.to_dict()])

    x_train = data.train_x
    n, batch_size = len(x_train), common.batch_size
    steps_per_epoch = math.ceil(n / batch_size)
    total_epochs = max(s.epochs for s in settings)
    if check_every is None:            # host syncs: as `train` makes them
        check_every = 1 if device.type == "cpu" else ACCELERATOR_CHECK_EVERY
    for epoch in range(1, total_epochs + 1):
        if not stack.members:
            break
        epoch_started = time.perf_counter()
        orders = torch.stack([torch.randperm(n, generator=m.order_generator, device=device)
                              for m in stack.members[:1 if shared_order else None]])  # (M or 1, n)
        sums: torch.Tensor | None = None                                            # (M, terms)
        stopping: set[int] = set()                                                   # members' indices
        step = last_check = 0
        for step in range(1, steps_per_epoch + 1):
            rows = orders[:, (step - 1) * batch_size: step * batch_size]           # (M or 1, b)
            batch = x_train[rows[0]] if shared_order else x_train[rows]            # (b, D) or (M, b, D)
            draws = _stacked([m.model.draw(batch if shared_order else batch[j], m.draw_generator)
                              for j, m in enumerate(stack.members)])
            try:
                terms = step_terms_of(stack.params, stack.buffers, batch, draws, stack.fields)
            except RuntimeError as exc:
                if as_given is not None:
                    for model, state in zip(models, as_given, strict=True):
                        model.load_state_dict(state)
                    raise NotBatchableError(f"{first.name}'s training pass cannot run under vmap "
                                            f"({str(exc).splitlines()[0]})") from exc
                raise
            as_given = None                   # the pass runs under vmap: no refusal from here on
            total = first.total_of(terms, stack.weights)                            # (M,)
            stack.optimizer.zero_grad(set_to_none=True)
            total.sum().backward()          # model j's weights get the gradient of its own total only
            stack.optimizer.step()
            named = {"total": total.detach(), **{k: v.detach() for k, v in terms.items()}}
            step_terms = torch.stack(list(named.values()), dim=1)                   # (M, terms)
            sums = step_terms * len(rows[0]) if sums is None else sums + step_terms * len(rows[0])
            for member in stack.members:
                member.steps += 1
                member.seen += len(rows[0])
            last_step = step == steps_per_epoch
            if step % check_every and not last_step:
                continue                          # no host sync this step (as `train` on an accelerator)
            values_all, sums_all = step_terms.tolist(), sums.tolist()              # one host sync
            where = (later("step {step}", step=step) if step - last_check == 1 else
                     later("steps {first}–{last}", first=last_check + 1, last=step))
            last_check = step
            failed: list[int] = []
            for j, member in enumerate(stack.members):
                values = dict(zip(named, values_all[j], strict=True))
                if not (math.isfinite(values["total"]) and math.isfinite(sums_all[j][0])):
                    results[member.index] = NonFiniteLossError.at(values, epoch, where, member.settings.lr,
                                                                  member.history, member.model)
                    failed.append(j)
                elif member.callback is not None and member.callback(TrainEvent(
                        "step", epoch, member.settings.epochs, step, steps_per_epoch, member.steps, values,
                        member.history, member.model)):
                    stopping.add(member.index)
            if failed:
                sums, orders = stack.drop(failed, sums, orders, shared_order)
                if not stack.members:
                    break
            if (stopping or last_step) and sums is not None:
                ended = [j for j, m in enumerate(stack.members) if last_step or m.index in stopping]
                for j in ended:
                    member = stack.members[j]
                    stack.write_back(j)
                    epoch_samples = min(n, step * batch_size)
                    record_epoch(member.history, epoch, dict(zip(named, (v / epoch_samples for v in sums[j].tolist()),
                                                                 strict=True)),
                                 mean_loss_terms(member.model, data.test_x, member.settings.seed),
                                 time.perf_counter() - epoch_started)
                    member.model.train()
                    asked = member.callback is not None and member.callback(TrainEvent(
                        "epoch", epoch, member.settings.epochs, step, steps_per_epoch, member.steps,
                        {k: v[-1] for k, v in member.history["train"].items()}, member.history, member.model))
                    if asked or member.index in stopping or epoch >= member.settings.epochs:
                        stopped = bool(asked) or member.index in stopping
                        results[member.index] = _result(member, stopped, len(models))
                done = [j for j in ended if results[stack.members[j].index] is not None]
                if done:
                    sums, orders = stack.drop(done, sums, orders, shared_order)
                stopping.clear()
                if not stack.members:
                    break
    for member in members:
        member.model.eval()
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def warm_up() -> None:
    """Pay now what the first training step of a process costs, batched or not — the first optimizer
    imports torch._dynamo (about 2.4 s on 2 cores), the first vmap torch.func's machinery — e.g. in a
    spare training worker while it waits for a job."""
    from .registry import build_model

    models = [build_model("ae", {"hidden": "2", "latent_dim": "1"}, input_dim=4, seed=s) for s in (0, 1)]
    template = _Terms(copy.deepcopy(models[0])).train()
    params, buffers = ({f"model.{k}": v for k, v in stacked.items()} for stacked in stack_module_state(models))
    optimizer = make_optimizer(params.values(), 1e-3, torch.device("cpu"))
    terms = vmap(lambda p, b, x: functional_call(template, (p, b), (x, {}, {})), in_dims=(0, 0, None))(
        params, buffers, torch.rand(3, 4))
    terms["recon_mse"].sum().backward()
    optimizer.step()


def _result(member: _Member, stopped: bool, together: int) -> TrainResult:
    member.model.eval()
    return TrainResult(member.model, member.history, member.settings, stopped, time.perf_counter() - member.started,
                       member.seen, member.steps, False,
                       f"trained as one computation with {together - 1} other model(s)" if together > 1 else None,
                       batched=together)


def _stacked(draws: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Each model's draws, stacked on a model axis: name → (M, ...)."""
    return {name: torch.stack([d[name] for d in draws]) for name in draws[0]} if draws[0] else {}


class _Stack:
    """The members still training: their weights and buffers stacked (M, ...) as the optimizer's leaves,
    and the Adam state that goes with them; members leave by `drop`, their Adam moments with them."""

    def __init__(self, members: list[_Member], device: torch.device, lr: float, weight_names: list[str],
                 field_names: list[str]):
        self.members = list(members)
        self.lr, self.device = lr, device
        self.weight_names, self.field_names = weight_names, field_names
        self._values_per_member()
        params, buffers = stack_module_state([m.model for m in members])
        # stack_module_state's tensors are new ones (stacked copies): the stack's own leaves, as they are
        self.params = {f"model.{k}": v for k, v in params.items()}
        self.buffers = {f"model.{k}": v for k, v in buffers.items()}
        self.optimizer = self._adam(self.params)

    def _adam(self, params: dict[str, torch.Tensor]) -> torch.optim.Optimizer:
        return make_optimizer(params.values(), self.lr, self.device)

    def _values_per_member(self) -> None:
        """Each penalty's weight and each per-model config field's value, per member: name → (M,)."""
        per_model = [m.model.penalty_weights() for m in self.members]
        self.weights = {name: torch.tensor([w[name] for w in per_model], device=self.device)
                        for name in self.weight_names}
        self.fields: dict[str, torch.Tensor] = {}
        for name in self.field_names:
            values = [getattr(m.model.config, name) for m in self.members]
            if isinstance(values[0], bool) or not isinstance(values[0], (int, float)):
                continue                   # only numbers travel as tensors (a kind of noise is shared)
            dtype = torch.long if isinstance(values[0], int) else torch.float32
            self.fields[name] = torch.tensor(values, dtype=dtype, device=self.device)

    def write_back(self, j: int) -> None:
        """Copy member j's slice of the stack into its own model."""
        state = {k.removeprefix("model."): v[j].detach() for k, v in {**self.params, **self.buffers}.items()}
        self.members[j].model.load_state_dict(state)

    def drop(self, leaving: list[int], sums: torch.Tensor | None, orders: torch.Tensor,
             shared_order: bool) -> tuple[torch.Tensor | None, torch.Tensor]:
        """Take members out of the stack (their results are kept by the caller), and out of the running
        sums (M, terms) and this epoch's orders (M, n) — unless those are one order shared by all."""
        keep = [j for j in range(len(self.members)) if j not in set(leaving)]
        self.members = [self.members[j] for j in keep]
        if not keep:
            return None, orders
        self._values_per_member()
        index = torch.tensor(keep, device=self.device)
        old_state = {name: self.optimizer.state.get(p, {}) for name, p in self.params.items()}
        self.params = {k: v.detach()[index].clone().requires_grad_() for k, v in self.params.items()}
        self.buffers = {k: v[index].clone() for k, v in self.buffers.items()}
        self.optimizer = self._adam(self.params)
        for name, p in self.params.items():
            state = old_state[name]
            if state:
                self.optimizer.state[p] = {k: (v.clone() if k == "step" else v[index].clone())
                                           for k, v in state.items()}
        return None if sums is None else sums[index], orders if shared_order else orders[index]
