"""The peer toolbox `overcomplete` 0.3.0 trained on our data and step budget: test FVU, L0 and dead units of
its TopK, BatchTopK and JumpReLU SAEs, measured as `evaluate --json` measures ours.

overcomplete is never a dependency of the product: install it (and what it needs to import that the project
env lacks; it calls `plt.cm.get_cmap`, gone in matplotlib 3.9) into a folder of its own, with the env's pip:

    pip install --target /tmp/peer --no-deps overcomplete==0.3.0 einops tqdm "matplotlib<3.9" opencv-python-headless

    python bench/peer_sae.py                         # mnist-5k, our step budget (147 epochs × 32 steps), seed 0
    python bench/peer_sae.py --peer-path DIR --seed 1 --jump 0.01:1e-3,1:0.3

Protocol, overcomplete's own way: the train split centred by its mean image and scaled by one number so that
each pixel has variance 1 on average (JumpSAE's docstring asks for mean 0, std 1; per-pixel std is 0 on MNIST's
border), 64 concepts, its default encoder (linear + ReLU) and dictionary (rows on the unit L2 sphere, no bias),
its `train_sae` loop (gradient norm clipped at 1, its default), Adam at our lr, our batch size and epochs.
Losses: its `top_k_auxiliary_loss` (penalty 0.1, its default) for TopK and BatchTopK; for JumpSAE, which ships
no loss, MSE + λ·L0 with L0 counted by its own `heaviside` (the step whose pseudo-gradient reaches the
thresholds, Rajamanoharan et al. 2024), its default kernel (silverman), λ and the bandwidth ε swept (--jump).
BatchTopK's `top_k` counts codes kept in a whole batch: each batch keeps k × its size (so k per image on
average, the last, smaller batch included); at inference the model uses its running threshold (codes ≥ θ),
as its eval mode does, so its test L0 is measured, not set.
Measures on the test split: reconstruction mapped back to pixels, FVU = Σ‖x − x̂‖² / Σ‖x − x̄_test‖², mean L0 =
non-zero codes per test image, dead = units never non-zero on the test split (explorer.metrics' functions)."""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer import load_dataset  # noqa: E402
from explorer.metrics import code_statistics, fraction_of_variance_unexplained  # noqa: E402
from explorer.training import TrainSettings, default_epochs  # noqa: E402
from explorer.variants.base import CodeKind  # noqa: E402

PEER_VERSION = "0.3.0"
INSTALL = (f'pip install --target {{path}} --no-deps overcomplete=={PEER_VERSION} einops tqdm "matplotlib<3.9" '
           "opencv-python-headless")
CONCEPTS = 64                          # our SAEs' dictionary size
NONZERO = CodeKind("overcomplete codes", 0.0)   # a unit is active when its code is not exactly 0, as for ours
JUMP_BANDWIDTH = 1e-3                  # JumpSAE's default ε
# At its default ε the thresholds barely rise in this budget whatever λ (measured: L0 stays above 30 of 64), so
# the sweep shows two of those and then λ at ε = 0.3, where L0 lands in 5…20 (not monotonically in λ).
JUMP_RUNS = "0.01:1e-3,1:1e-3,0.005:0.3,0.01:0.3,0.1:0.3,1:0.3"


def import_peer(path: str) -> SimpleNamespace:
    """overcomplete's SAE classes, losses and loop, imported from path (put first on sys.path)."""
    sys.path.insert(0, path)
    try:
        import overcomplete
        from overcomplete.sae import BatchTopKSAE, JumpSAE, TopKSAE, heaviside, train_sae
        from overcomplete.sae.losses import top_k_auxiliary_loss
    except ImportError as error:
        sys.exit(f"overcomplete is not importable from {path} ({error}); install it there with: "
                 f"{INSTALL.format(path=path)}")
    if overcomplete.__version__ != PEER_VERSION:
        print(f"warning: overcomplete {overcomplete.__version__} found, this bench was written for {PEER_VERSION}",
              file=sys.stderr)
    return SimpleNamespace(TopKSAE=TopKSAE, BatchTopKSAE=BatchTopKSAE, JumpSAE=JumpSAE, heaviside=heaviside,
                           train_sae=train_sae, top_k_auxiliary_loss=top_k_auxiliary_loss,
                           version=overcomplete.__version__)


@dataclass
class Standardizer:
    """x → (x − train mean) / scale, with one scale making the train split's mean pixel variance 1."""

    mean: torch.Tensor      # (D,)
    scale: float

    @classmethod
    def fit(cls, x: torch.Tensor) -> Standardizer:
        mean = x.mean(dim=0)
        return cls(mean, float((x - mean).pow(2).mean().sqrt()))

    def to_model(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.scale

    def to_pixels(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.mean


class BatchSizedTopK:
    """The batches of loader, setting a BatchTopKSAE's batch-wide top_k to k × each batch's size first."""

    def __init__(self, loader: DataLoader, model: Any, k: int):
        self.loader, self.model, self.k = loader, model, k

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Any]:
        for batch in self.loader:
            self.model.top_k = self.k * len(batch[0])
            yield batch


def l0_penalised(peer: SimpleNamespace, model: Any, lam: float) -> Callable[..., torch.Tensor]:
    """MSE + λ·(mean over images of the units above their threshold), counted by overcomplete's `heaviside`."""
    def criterion(x: torch.Tensor, x_hat: torch.Tensor, pre_codes: torch.Tensor, codes: torch.Tensor,
                  dictionary: torch.Tensor) -> torch.Tensor:
        above = peer.heaviside(torch.relu(pre_codes), torch.exp(model.thresholds), model.kernel_fn,
                               model.bandwidth)                        # (B, K), JumpSAE.encode's threshold
        return (x - x_hat).square().mean() + lam * above.sum(dim=-1).mean()
    return criterion


@dataclass(frozen=True)
class Run:
    """One model to train: TopK / BatchTopK with k codes per image, or JumpSAE with penalty λ and bandwidth ε."""

    method: str                 # "TopKSAE" | "BatchTopKSAE" | "JumpSAE"
    k: int = 0
    lam: float = 0.0
    bandwidth: float = JUMP_BANDWIDTH

    @property
    def setting(self) -> str:
        if self.method == "JumpSAE":
            return f"λ = {self.lam:g}, ε = {self.bandwidth:g}"
        return f"k = {self.k}" + (" per image" if self.method == "BatchTopKSAE" else "")


def build(peer: SimpleNamespace, run: Run, input_dim: int,
          loader: DataLoader) -> tuple[Any, Iterable[Any], Callable[..., torch.Tensor]]:
    """One run's model, the batches it trains on and its loss."""
    if run.method == "TopKSAE":
        return peer.TopKSAE(input_dim, CONCEPTS, top_k=run.k), loader, peer.top_k_auxiliary_loss
    if run.method == "BatchTopKSAE":
        model = peer.BatchTopKSAE(input_dim, CONCEPTS, top_k=run.k * loader.batch_size)
        return model, BatchSizedTopK(loader, model, run.k), peer.top_k_auxiliary_loss
    model = peer.JumpSAE(input_dim, CONCEPTS, bandwidth=run.bandwidth)
    return model, loader, l0_penalised(peer, model, run.lam)


def measure(model: Any, test_x: torch.Tensor, standardizer: Standardizer) -> dict[str, float]:
    """FVU in pixel space, mean L0 and dead fraction of the model's inference codes on test_x (N, D)."""
    model.eval()
    with torch.no_grad():
        _, codes = model.encode(standardizer.to_model(test_x))          # (N, K)
        x_hat = standardizer.to_pixels(model.decode(codes))             # (N, D)
    stats = code_statistics(codes, NONZERO)
    return {"fvu": fraction_of_variance_unexplained(test_x, x_hat), "mean_l0": stats.mean_l0,
            "dead_fraction": stats.dead_fraction}


def parse_jump(text: str) -> list[Run]:
    """'λ:ε,λ,…' → JumpSAE runs (ε defaults to overcomplete's 1e-3)."""
    runs = []
    for item in filter(None, (v.strip() for v in text.split(","))):
        lam, _, bandwidth = item.partition(":")
        runs.append(Run("JumpSAE", lam=float(lam), bandwidth=float(bandwidth or JUMP_BANDWIDTH)))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-path", default="/tmp/peer", help="folder overcomplete was installed into")
    parser.add_argument("--dataset", default="mnist-5k")
    parser.add_argument("--ks", default="5,10,20", help="k of TopK and BatchTopK (codes per image)")
    parser.add_argument("--jump", default=JUMP_RUNS, help="JumpSAE runs as λ:ε pairs (λ the L0 penalty, ε the "
                        "kernel bandwidth, default 1e-3)")
    parser.add_argument("--epochs", type=int, default=None, help="default: our step budget for this dataset")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        ks = [int(k) for k in args.ks.split(",") if k.strip()]
        runs = ([Run("TopKSAE", k) for k in ks] + [Run("BatchTopKSAE", k) for k in ks] + parse_jump(args.jump))
    except ValueError as error:
        sys.exit(f"--ks takes integers and --jump λ:ε pairs of numbers ({error})")
    if any(k < 1 for k in ks) or any(r.bandwidth <= 0 for r in runs):
        sys.exit("every k must be at least 1 and every bandwidth ε above 0")
    peer = import_peer(args.peer_path)
    torch.set_num_threads(1)                # other work shares the CPU cores
    try:
        data = load_dataset(args.dataset)
    except ValueError as error:
        sys.exit(str(error))
    ours = TrainSettings()
    epochs = args.epochs or default_epochs(len(data.train_x), ours.batch_size)
    standardizer = Standardizer.fit(data.train_x)
    train_x = standardizer.to_model(data.train_x)                       # (N_train, D)
    steps_per_epoch = -(-len(train_x) // ours.batch_size)
    print(f"Protocol: overcomplete {peer.version}, {args.dataset} ({len(data.train_x):,} train / "
          f"{len(data.test_x):,} test images, {data.input_dim} pixels), {CONCEPTS} concepts, {epochs} epochs × "
          f"{steps_per_epoch} steps = {epochs * steps_per_epoch:,} Adam steps, batch {ours.batch_size}, "
          f"lr {ours.lr:g}, seed {args.seed}; inputs centred by the train mean image and divided by "
          f"{standardizer.scale:.4f} (mean pixel variance 1); measured on the test split in pixel space.\n")
    print("| method | setting | mean L0 | FVU | dead | seconds |\n|---|---|---|---|---|---|")
    for run in runs:
        torch.manual_seed(args.seed)
        loader = DataLoader(TensorDataset(train_x), batch_size=ours.batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(args.seed))
        model, batches, criterion = build(peer, run, data.input_dim, loader)
        optimizer = torch.optim.Adam(model.parameters(), lr=ours.lr)
        start = time.perf_counter()
        peer.train_sae(model, batches, criterion, optimizer, nb_epochs=epochs, monitoring=0)
        seconds = time.perf_counter() - start
        m = measure(model, data.test_x, standardizer)
        print(f"| {run.method} | {run.setting} | {m['mean_l0']:.1f} | {m['fvu']:.3f} | {m['dead_fraction']:.0%} | "
              f"{seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
