"""t-SNE time on 2,000 and 5,000 codes of the shipped `ae` checkpoint (mnist-5k, train + test).

    python bench/tsne_time.py

Target: the default map (2,000 points) in under 8 s on a 2-core CPU the first time (the app caches it)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer import load_checkpoint, load_dataset  # noqa: E402
from explorer.latent import TSNE_ITERATIONS, code_sample, project  # noqa: E402


def main() -> None:
    model = load_checkpoint(ROOT / "checkpoints" / "ae.pt")
    data = load_dataset("mnist-5k")
    for n in (2000, 5000):
        sample = code_sample(model, data, n, "all", seed=0)
        start = time.perf_counter()
        project(sample.codes, "pca")
        pca = time.perf_counter() - start
        start = time.perf_counter()
        project(sample.codes, "tsne", seed=0)
        print(f"{n:5d} codes ({sample.codes.shape[1]}-D): t-SNE {time.perf_counter() - start:5.2f} s "
              f"({TSNE_ITERATIONS} iterations, perplexity 30) · PCA {pca * 1000:.0f} ms")


if __name__ == "__main__":
    main()
