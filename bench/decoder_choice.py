"""Sigmoid or linear decoder: each sparse autoencoder's defaults trained both ways, FVU, L0 and dead units.

    python bench/decoder_choice.py                       # mnist-5k, the seeds' step budget, seed 0
    python bench/decoder_choice.py --variants topk --epochs 20

The default stays `sigmoid` for a variant where it reconstructs better (a lower FVU at about the same L0);
the table says which, computed."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer import load_dataset  # noqa: E402
from explorer.metrics import evaluate  # noqa: E402
from explorer.registry import build_model, get_variant  # noqa: E402
from explorer.training import TrainSettings, default_epochs, train  # noqa: E402

SAES = ("topk", "batch_topk", "jumprelu", "matryoshka")     # mp is linear by construction


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(SAES))
    parser.add_argument("--dataset", default="mnist-5k")
    parser.add_argument("--epochs", type=int, default=None, help="default: the seeds' step budget")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = load_dataset(args.dataset)
    print("| variant | decoder | FVU | mean L0 | dead | better |\n|---|---|---|---|---|---|")
    for variant in args.variants.split(","):
        batch = get_variant(variant).default_batch_size
        settings = TrainSettings(epochs=args.epochs or default_epochs(len(data.train_x), batch), batch_size=batch,
                                 seed=args.seed)
        rows = {}
        for decoder in ("sigmoid", "linear"):
            model = build_model(variant, {"decoder": decoder}, input_dim=data.input_dim, seed=args.seed)
            rows[decoder] = evaluate(train(model, data, settings).model, data).to_dict()
        best = min(rows, key=lambda d: rows[d]["fvu"])
        for decoder, m in rows.items():
            print(f"| {variant} | {decoder} | {m['fvu']:.3f} | {m['mean_l0']:.1f} | {m['dead_fraction']:.0%} | "
                  f"{'✓' if decoder == best else ''} |", flush=True)


if __name__ == "__main__":
    main()
