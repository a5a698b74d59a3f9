"""The L0–FVU frontier table for README: each shipped sweep and each classical baseline, FVU at L0 ≈ 5 / 10 / 20.

    python bench/frontier.py                       # every sweep under checkpoints/sweeps/, markdown on stdout
    python bench/frontier.py --at 5,10,20 --atoms 64 --sweeps checkpoints/sweeps

For each sweep (its sweep.json, read by explorer.sweep.read_manifest) and each variant in it, the FVU at each L0 is
interpolated linearly in L0 along the sweep's finished trials (as Compare's frontier_at does; '—' outside the
sweep's span), and the dead fraction is that of the trial nearest that L0. The baselines (explorer.baselines: PCA,
NMF, OMP dictionary learning) are fitted on each sweep dataset's train split with the sweeps' code size as the
dictionary's atoms, and read the same way; then, computed, where OMP beats each sweep at the same L0."""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer import load_dataset  # noqa: E402
from explorer.baselines import (  # noqa: E402
    DEFAULT_ATOMS,
    BaselinePoint,
    against_baseline,
    baseline_points,
    interpolate_along,
    matchup_summary,
)
from explorer.checkpoint import read_checkpoint  # noqa: E402
from explorer.compare import Point  # noqa: E402
from explorer.registry import get_variant  # noqa: E402
from explorer.sweep import read_manifest  # noqa: E402


class Line:
    """One line of the table: (L0, FVU, dead fraction) points, sorted by L0."""

    def __init__(self, name: str, kind: str, points: list[tuple[float, float, float | None]]):
        self.name, self.kind, self.points = name, kind, sorted(points)

    def at(self, l0: float) -> tuple[float | None, float | None]:
        """(FVU interpolated at l0 or None outside the span, dead fraction of the point nearest l0)."""
        if not self.points:
            return None, None
        fvu = interpolate_along([(x, y) for x, y, _ in self.points], l0)
        nearest = min(self.points, key=lambda p: abs(p[0] - l0))
        return fvu, nearest[2]


def sweep_lines(folder: Path) -> tuple[str, list[Line], list[Point], list[int]]:
    """A sweep's dataset, its lines (one per variant), its points for the matchups and its models' code sizes."""
    manifest = read_manifest(folder)
    lines, pts, sizes = [], [], []
    for variant in manifest["variants"]:
        trials = [t for t in manifest["trials"] if t["variant"] == variant and t["status"] == "done"
                  and not t["metrics"].get("learned_nothing")]
        exact_zeros = get_variant(variant).code.exact_zeros
        name = folder.name if len(manifest["variants"]) == 1 else f"{folder.name}: {variant}"
        kind = "model" if exact_zeros else "model, dense code: its L0 compares within the line only"
        lines.append(Line(name, kind, [(t["metrics"]["mean_l0"], t["metrics"]["fvu"], t["metrics"]["dead_fraction"])
                                       for t in trials]))
        pts += [Point(name, t["name"], t["metrics"]["mean_l0"], t["metrics"]["fvu"], False, not exact_zeros)
                for t in trials]
        if trials and exact_zeros:
            sizes.append(int(read_checkpoint(folder / trials[0]["checkpoint"])["config"]["latent_dim"]))
    return manifest["dataset"], lines, pts, sizes


def fit_summary(found: list[BaselinePoint], atoms: int) -> str:
    def total(method: str, what: str) -> float:
        return sum(getattr(b, what) for b in found if b.method == method)

    dictionary = next((b.fit_seconds for b in found if b.method == "omp"), 0.0)     # one fit shared by every k
    return (f"PCA {total('pca', 'fit_seconds'):.1f} s, NMF {total('nmf', 'fit_seconds'):.1f} s, the {atoms}-atom "
            f"dictionary once {dictionary:.1f} s, OMP codes {total('omp', 'code_seconds'):.1f} s")


def cell(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", default=str(ROOT / "checkpoints" / "sweeps"), help="folder of sweep folders")
    parser.add_argument("--at", default="5,10,20", help="the L0s of the table's columns")
    parser.add_argument("--atoms", type=int, default=None, help="the baselines' dictionary size (default: the "
                        "sweeps' most common code size)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    at = [float(v) for v in args.at.split(",")]
    by_dataset: dict[str, tuple[list[Line], list[Point], list[int]]] = {}
    for folder in sorted(p.parent for p in Path(args.sweeps).glob("*/sweep.json")):
        if list(read_manifest(folder)["grid"]) == ["seed"]:
            continue                         # one setting from several seeds: a cloud, not a line
        dataset, lines, pts, sizes = sweep_lines(folder)
        held = by_dataset.setdefault(dataset, ([], [], []))
        held[0].extend(lines)
        held[1].extend(pts)
        held[2].extend(sizes)
    if not by_dataset:
        print(f"no sweeps (sweep.json) under {args.sweeps}", file=sys.stderr)
        return 1
    for dataset, (lines, pts, sizes) in by_dataset.items():
        atoms = args.atoms or (Counter(sizes).most_common(1)[0][0] if sizes else DEFAULT_ATOMS)
        data = load_dataset(dataset)
        started = time.perf_counter()
        found = baseline_points(data, [int(x) for x in at if x.is_integer() and x <= atoms], atoms, args.seed)
        seconds = time.perf_counter() - started
        for method in dict.fromkeys(b.method for b in found):
            members: list[BaselinePoint] = [b for b in found if b.method == method]
            name = members[0].title + (f" ({atoms} atoms)" if method == "omp" else " (k components)")
            lines.append(Line(name, "baseline (scikit-learn)", [(b.mean_l0, b.fvu, b.dead_fraction) for b in members]))
        print(f"\n### The frontier on {dataset} (test split, {len(data.test_x):,} images)\n")
        print("FVU = Σ‖x − x̂‖² / Σ‖x − x̄‖² (x̄ the mean test image), interpolated linearly in L0 along each line; "
              "dead = the dead fraction of the line's point nearest that L0 (— where there is none, or PCA).\n")
        print("| line | kind | " + " | ".join(f"FVU at L0 ≈ {x:g} | dead" for x in at) + " |")
        print("|---|---|" + "---:|---:|" * len(at))
        for line in lines:
            cells = []
            for x in at:
                fvu, dead = line.at(x)
                cells += [cell(fvu, ".3f"), "—" if fvu is None else cell(dead, ".0%")]
            print(f"| {line.name} | {line.kind} | " + " | ".join(cells) + " |")
        print(f"\nBaselines fitted in {seconds:.1f} s in all ({fit_summary(found, atoms)}).")
        matchups = against_baseline(pts, found, at=at)
        if matchups:
            print(f"\n{matchup_summary(matchups)}\n")
            for m in matchups:
                print(f"- {m.sentence()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
