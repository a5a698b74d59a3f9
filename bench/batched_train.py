"""Many models at once: a sweep of 8 same-shape trials trained as one computation against one after
another, and ten simultaneous default trainings in the app's training pool, batched against alone.

    python bench/batched_train.py [--epochs 10] [--class-size 10] [--device auto]

(a) For each of three sweeps on mnist-5k (the seed's 784-128-32 shape with 8 λ values, TopK with 8
k values, the seed's sparse_kl with 8 β values), both ways in the same run: images per second over
all trials (train and per-epoch test terms, as `sweep` does) and the ratio. (b) `--class-size`
TrainingJobs of the Train page's default (ae, 20 epochs, batch 128) started at once, as a class
pressing Train together: seconds from the clicks until the last one finished and the first epoch
shown, with the pool batching same-shape jobs and with AE_EXPLORER_BATCH_TRAININGS=0's one by one, and
with the clicks half a second apart (the first then trains alone, the rest queue and train together)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer import TrainSettings, build_model, load_dataset, resolve_device, train  # noqa: E402
from explorer.batched import train_batched  # noqa: E402

SWEEPS = [("sparse_l1", "lam", "0,1e-5,3e-5,1e-4,3e-4,1e-3,3e-3,1e-2", {"hidden": "128", "latent_dim": "32"}),
          ("topk", "k", "2,3,5,8,10,16,20,32", {}),
          ("sparse_kl", "beta", "1e-3,3e-3,1e-2,3e-2,0.1,0.3,1,3", {})]


def sweep_throughput(data, variant: str, param: str, values: list[str], base: dict, epochs: int) -> None:
    batch_size = build_model(variant, base, input_dim=data.input_dim).default_batch_size
    settings = TrainSettings(epochs=epochs, batch_size=batch_size)
    models = lambda: [build_model(variant, {**base, param: v}, input_dim=data.input_dim) for v in values]  # noqa: E731
    train_batched(models()[:2], data, [TrainSettings(epochs=1, batch_size=batch_size)] * 2)   # imports, warm-up
    start = time.perf_counter()
    for model in models():
        train(model, data, settings)
    alone = time.perf_counter() - start
    start = time.perf_counter()
    train_batched(models(), data, [settings] * len(values))
    together = time.perf_counter() - start
    images = len(values) * epochs * len(data.train_x)
    print(f"  {variant} over {param} ({len(values)} trials × {epochs} epochs, batch {batch_size}): one after another "
          f"{images / alone:9,.0f} images/s ({alone:5.1f} s) · as one computation {images / together:9,.0f} "
          f"images/s ({together:5.1f} s) · {alone / together:.2f}×", flush=True)


def class_pressing_train(data, size: int, batched: bool, spread: float = 0.0) -> None:
    from explorer.app import jobs

    jobs.BATCH_TRAININGS = batched
    jobs.prepare_once()
    time.sleep(3)                                   # the spare worker has imported torch, as on a warm server
    settings = TrainSettings(epochs=20, batch_size=128)
    start = time.perf_counter()
    group = []
    for _ in range(size):                           # the clicks, `spread` seconds apart
        group.append(jobs.TrainingJob("ae", {}, data, settings, list(range(8))).start())
        time.sleep(spread)
    first_epoch: list[float] = []
    while any(job.running for job in group):
        if not first_epoch and all(job.epochs_done >= 1 for job in group):
            first_epoch.append(time.perf_counter() - start)
        time.sleep(0.02)
    last = time.perf_counter() - start
    statuses = sorted({job.status for job in group})
    clicks = "at once" if not spread else f"clicked {spread:g} s apart"
    print(f"  {size} default trainings {clicks}, {'batched' if batched else 'one by one'} (slots: "
          f"{jobs.MAX_CONCURRENT}): all finished after {last:5.1f} s; every one had shown an epoch after "
          f"{first_epoch[0] if first_epoch else float('nan'):5.1f} s; statuses {statuses}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--class-size", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    data = load_dataset("mnist-5k", device=resolve_device(args.device))
    print(f"device {data.device}; mnist-5k, {len(data.train_x)} training images")
    print("(a) sweeps of 8 same-shape trials")
    for variant, param, values, base in SWEEPS:
        sweep_throughput(data, variant, param, values.split(","), base, args.epochs)
    print("(b) a class pressing Train at once (the app's training pool, worker processes)")
    cpu = load_dataset("mnist-5k")
    class_pressing_train(cpu, args.class_size, batched=False)
    class_pressing_train(cpu, args.class_size, batched=True)
    class_pressing_train(cpu, args.class_size, batched=True, spread=0.5)     # a real class: the first trains alone


if __name__ == "__main__":
    main()
