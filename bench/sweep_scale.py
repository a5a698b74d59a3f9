"""Sweeps at full size: a 4-trial sweep on a 60,000-image MNIST, in-process against Ray on this machine
(wall time and CPU used), four trials sharing one GPU against one after another where a GPU exists,
and the full test split's statistics as the pages compute them.

    python bench/sweep_scale.py [--epochs 2] [--data-dir /tmp/ae-mnist60k]

The 60,000 / 10,000 IDX files are written from mnist-5k's real digits (each repeated, shifted by up
to two pixels so no two copies are equal) and read through torchvision's MNIST loader."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer import TrainSettings, load_checkpoint, load_dataset  # noqa: E402
from explorer.activations import activation_report  # noqa: E402
from explorer.idx import write_mnist_folder  # noqa: E402
from explorer.latent import code_sample  # noqa: E402
from explorer.sweep import LocalEngine, plan_sweep, run_sweep  # noqa: E402

GRID = {"k": ["5", "10", "20", "32"]}


def write_60k(folder: Path) -> None:
    if (folder / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").exists():
        return
    small = load_dataset("mnist-5k")
    x = np.concatenate([small.train_x.numpy(), small.test_x.numpy()]).reshape(-1, 28, 28)
    y = np.concatenate([small.train_y.numpy(), small.test_y.numpy()])
    rng = np.random.default_rng(0)

    def grow(n: int) -> tuple[np.ndarray, np.ndarray]:
        idx = rng.integers(0, len(x), n)
        shifts = rng.integers(-2, 3, (n, 2))
        images = np.stack([np.roll(x[i], tuple(s), axis=(0, 1)) for i, s in zip(idx, shifts, strict=True)])
        return (images * 255).round().astype(np.uint8), y[idx].astype(np.uint8)

    write_mnist_folder(folder / "MNIST" / "raw", *grow(60000), *grow(10000))


def cpu_seconds() -> float:
    """CPU time the whole machine spent busy (/proc/stat), so Ray's worker processes count too (they are
    not this process's children); on a shared machine it includes whatever else ran."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]                  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def timed_sweep(label: str, engine, data, out: Path, epochs: int) -> None:
    plan = plan_sweep(["topk"], GRID, data, TrainSettings(epochs=epochs, batch_size=128))
    wall, cpu = time.perf_counter(), cpu_seconds()
    manifest = run_sweep(plan, out, data, engine)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    fvu = ", ".join(f"{r.metrics['fvu']:.4f}" for r in manifest.records.values())
    print(f"{label:<36s} {wall:7.1f} s wall · {cpu:7.1f} s CPU busy (machine) · FVU {fvu}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "ae-mnist60k"))
    args = parser.parse_args()
    folder = Path(args.data_dir)
    started = time.perf_counter()
    write_60k(folder)
    data = load_dataset("mnist", data_dir=folder, download=False)
    print(f"mnist from IDX: {len(data.train_x):,} train / {len(data.test_x):,} test "
          f"(written and loaded in {time.perf_counter() - started:.1f} s)")
    print(f"4-trial sweep: topk over k = {', '.join(GRID['k'])}, {args.epochs} epochs of 60,000 each")
    with tempfile.TemporaryDirectory() as out:
        timed_sweep("in-process (one after another)", LocalEngine(), data, Path(out) / "local", args.epochs)
        try:
            from explorer.sweep_ray import RayEngine, RayOptions, import_ray

            import_ray()
        except RuntimeError as exc:
            print(f"Ray: skipped ({exc})")
        else:
            timed_sweep("Ray, local cluster, 1 CPU per trial", RayEngine(RayOptions(), str(folder)), data,
                        Path(out) / "ray", args.epochs)
            import torch

            if torch.cuda.is_available():
                gpu = load_dataset("mnist", device="cuda", data_dir=folder, download=False)
                timed_sweep("GPU, one after another", LocalEngine(), gpu, Path(out) / "gpu1", args.epochs)
                timed_sweep("GPU, Ray, 4 trials sharing it", RayEngine(RayOptions(gpus_per_trial=0.25),
                                                                       str(folder)), gpu, Path(out) / "gpu4",
                            args.epochs)
            else:
                print("GPU: none here (four trials sharing one GPU: --gpus-per-trial 0.25)")
    model = load_checkpoint(ROOT / "checkpoints" / "topk.pt")
    for attempt in ("cold", "warm"):
        t = time.perf_counter()
        report = activation_report(model, data)
        print(f"Activations statistics over the {len(data.test_x):,} test images ({attempt}): "
              f"{time.perf_counter() - t:.2f} s · mean L0 {report.l0.mean():.1f}")
    t = time.perf_counter()
    sample = code_sample(model, data, 2000, "all", seed=0)
    print(f"Latent: a 2,000-code sample of the 70,000 images in {time.perf_counter() - t:.2f} s "
          f"({sample.codes.shape})")


if __name__ == "__main__":
    main()
