"""One optimizer step on a batch: run eagerly, or on a CUDA GPU recorded once as a CUDA graph and replayed.

At these model sizes a GPU step is a few dozen small kernels, and launching them from Python costs more
than running them; a graph launches the whole step (forward, backward, Adam) at once. A graph replays
fixed shapes and fixed addresses: each full batch is copied into one static input, and a last, smaller
batch runs eagerly. The variants' losses are written without host syncs (no .item(), no data-dependent
shapes); a model whose step cannot be recorded falls back to eager steps and says why
(`TrainStep.eager_because`). Recipe: PyTorch's "CUDA Graphs" notes, whole-network capture."""
from __future__ import annotations

import torch

from .variants.base import Autoencoder

WARMUP_STEPS = 3    # eager steps on a side stream before recording: autograd and the allocator settle first


class TrainStep:
    """Call with a batch (B, D) to train one step; returns the step's loss terms, detached, on the device."""

    def __init__(self, model: Autoencoder, optimizer: torch.optim.Optimizer, batch_size: int, device: torch.device,
                 capture: bool = True):
        self.model, self.optimizer, self.batch_size = model, optimizer, batch_size
        self.capture = capture and device.type == "cuda"
        if self.capture:     # the warm-up and each epoch's last, smaller batch step eagerly on purpose:
            optimizer._warned_capturable_if_run_uncaptured = True       # so torch does not warn that it does
        self.eager_because: str | None = None               # why full batches run eagerly, where they do
        if device.type != "cuda":
            self.eager_because = f"CUDA graphs need a CUDA device, not {device}"
        elif not capture:
            self.eager_because = "recording was turned off"
        self.warmed = 0
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static_x: torch.Tensor | None = None                  # (batch_size, D) the graph's input
        self.static_terms: dict[str, torch.Tensor] = {}            # the graph's outputs, rewritten each replay

    @property
    def captured(self) -> bool:
        """Whether full batches are replayed from a recorded graph."""
        return self.graph is not None

    def __call__(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.graph is not None and len(batch) == self.batch_size:
            assert self.static_x is not None
            self.static_x.copy_(batch)
            self.graph.replay()
            return self.static_terms
        if not self.capture or len(batch) != self.batch_size:
            return self.eager(batch)
        if self.warmed < WARMUP_STEPS:
            self.warmed += 1
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                terms = self.eager(batch)
            torch.cuda.current_stream().wait_stream(side)
            return terms
        try:
            return self.record(batch)
        except RuntimeError as exc:          # e.g. a sync inside the loss: "operation not permitted when capturing"
            self.graph, self.capture = None, False
            self.eager_because = f"the step could not be recorded as a CUDA graph ({str(exc).splitlines()[0]})"
            return self.eager(batch)

    def eager(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        terms = self.model.loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        terms["total"].backward()
        self.optimizer.step()
        return {name: value.detach() for name, value in terms.items()}

    def record(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """Record one step on a static copy of batch, then replay it: recording runs nothing, so the replay
        is this batch's step. Gradients are None when recording starts, so the graph writes them afresh
        at every replay instead of adding to the last step's."""
        static_x = batch.detach().clone()
        graph = torch.cuda.CUDAGraph()
        self.optimizer.zero_grad(set_to_none=True)
        # thread_local: a failed recording here does not break CUDA work of the app's other threads
        with torch.cuda.graph(graph, capture_error_mode="thread_local"):
            terms = self.model.loss(static_x)
            terms["total"].backward()
            self.optimizer.step()
        self.graph, self.static_x = graph, static_x
        self.static_terms = {name: value.detach() for name, value in terms.items()}
        graph.replay()
        return self.static_terms
