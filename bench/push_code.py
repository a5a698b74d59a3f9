"""Push the code: what a slider's move costs the server — the Activations panel's work for one redraw (the
units to offer, the pushed code, two decodes, the PNG of three images) for every shipped model, and a 2-D
code's decoded plane (24 × 24 decodes) for vae-2d.

    python bench/push_code.py [--repeats 50]

Prints the median and the slowest of `repeats` redraws per model, in milliseconds (target: under 200 ms)."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer import load_checkpoint, load_dataset  # noqa: E402
from explorer.activations import activation_report  # noqa: E402
from explorer.app.catalog import shipped_checkpoint_paths  # noqa: E402
from explorer.code_push import decode, decoded_plane, pushed_code, units_to_push  # noqa: E402
from explorer.figures import tiles_png  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    data = load_dataset("mnist-5k")
    original = data.test_x[0].numpy()
    for path in [p for p in shipped_checkpoint_paths() if p.parent.name == "checkpoints"]:
        model = load_checkpoint(path)
        codes = activation_report(model, data).codes              # (N, K), as the page has them cached
        times = []
        for repeat in range(args.repeats):
            started = time.perf_counter()
            first = units_to_push(codes, codes[0])[0]
            pushed = pushed_code(codes[0], {first.unit: first.low + (repeat % 7) / 7 * (first.high - first.low)})
            images = [original, decode(model, codes[0]), decode(model, pushed)]
            tiles_png(np.stack(images), data.image_shape, ncols=3, scale=5)
            times.append(time.perf_counter() - started)
        line = (f"{path.stem:12s} one redraw: median {statistics.median(times) * 1000:6.2f} ms, "
                f"slowest {max(times) * 1000:6.2f} ms")
        if model.config.latent_dim == 2:
            started = time.perf_counter()
            decoded_plane(model, codes[:2000])
            line += f" · its decoded plane (576 codes): {(time.perf_counter() - started) * 1000:.1f} ms"
        print(line, flush=True)


if __name__ == "__main__":
    main()
