"""Re-make the shipped checkpoints with the project's own CLI and write checkpoints/README.md.

    python scripts/make_checkpoints.py            # every variant, seed defaults, the seeds' step budget
"""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "checkpoints"
sys.path.insert(0, str(ROOT))

from explorer.baselines import DEFAULT_ATOMS, DEFAULT_KS, baseline_points  # noqa: E402
from explorer.checkpoint import load_checkpoint  # noqa: E402
from explorer.compare import Point, frontier_at, pareto_front  # noqa: E402
from explorer.datasets import load_dataset  # noqa: E402
from explorer.measure_store import MeasureStore  # noqa: E402
from explorer.registry import get_variant  # noqa: E402
from explorer.stability import SHARED_COSINE, seed_stability  # noqa: E402
from explorer.sweep import read_manifest  # noqa: E402

# name → extra CLI flags; each trains on mnist-5k with the seed's defaults and step budget.
SHIPPED = {
    "ae": [],
    "sparse_l1": [],
    "sparse_kl": [],
    "denoising": [],
    "contractive": [],
    "vae": [],
    "vae-2d": ["--variant", "vae", "--param", "latent_dim=2"],   # the classic 2-D map and manifold
    "topk": [],
    "batch_topk": [],
    "jumprelu": [],
    "matryoshka": [],
    "mp": [],
    # An SAE with an additive dictionary, as the field's (and the one SAELens can read: `export`).
    "topk-linear": ["--variant", "topk", "--param", "decoder=linear"],
}


# Sweeps shipped for the Compare page: (folder under checkpoints/sweeps, variant, NAME=values).
SWEEPS = [
    ("sparse_l1-lam", "sparse_l1", "lam=0,1e-4,3e-4,1e-3,3e-3"),
    ("sparse_kl-beta", "sparse_kl", "beta=1e-3,1e-2,1e-1,1"),
    ("topk-k", "topk", "k=2,5,10,20,32"),
    ("batch_topk-k", "batch_topk", "k=2,5,10,20,32"),
    ("jumprelu-lam", "jumprelu", "lam=1e-4,3e-4,6e-4,1e-3,3e-3,1e-2"),
    ("matryoshka-k", "matryoshka", "k=2,5,10,20,32"),
    ("mp-k", "mp", "k=2,5,10,20,32"),
]
# Seed sweeps: one setting (each variant's defaults: k = 10, JumpReLU's λ = 1e-3) from three seeds, for the
# stability of the dictionary across seeds (explorer.stability).
SEED_SWEEPS = [(f"{variant}-seed", variant, "seed=0,1,2")
               for variant in ("topk", "batch_topk", "jumprelu", "matryoshka", "mp")]
FRONTIER_AT = (5.0, 10.0)   # the L0s at which checkpoints/README.md says which sweep is best


def run(argv: list[str]) -> str:
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed: {shlex.join(argv)}\n{proc.stderr}")
    return proc.stdout


def main() -> None:
    OUT.mkdir(exist_ok=True)
    # A sweep reuses what it finds: start clean.
    for old in [*OUT.glob("*.pt"), *(OUT / "sweeps").glob("*/*"), *(OUT / "measures").glob("*.json")]:
        old.unlink()
    rows = []
    for name, extra in SHIPPED.items():
        variant = extra[extra.index("--variant") + 1] if "--variant" in extra else name
        flags = [f for f in extra if f not in ("--variant", variant)]
        argv = ["python", "-m", "explorer", "train", "--variant", variant, "--dataset", "mnist-5k",
                "--device", "cpu", *flags, "--out", f"checkpoints/{name}.pt"]
        print("$", shlex.join(argv), flush=True)
        tail = run([sys.executable, *argv[1:]]).strip().splitlines()[-2]
        metrics = json.loads(run([sys.executable, "-m", "explorer", "evaluate", "--checkpoint",
                                  f"checkpoints/{name}.pt", "--json", "--device", "cpu"]))
        rows.append((name, shlex.join(argv), metrics, tail))
        print("  ", tail, flush=True)
    sweeps = []
    for folder, variant, values in SWEEPS + SEED_SWEEPS:
        argv = ["python", "-m", "explorer", "sweep", "--variant", variant, "--param", values, "--dataset", "mnist-5k",
                "--device", "cpu", "--out", f"checkpoints/sweeps/{folder}"]
        print("$", shlex.join(argv), flush=True)
        run([sys.executable, *argv[1:]])
        sweeps.append((folder, shlex.join(argv), read_manifest(OUT / "sweeps" / folder)))
    # The classical baselines beside the shipped sweeps (Compare's frontier), kept where the app reads them first.
    baseline_points(load_dataset("mnist-5k"), DEFAULT_KS, DEFAULT_ATOMS, store=MeasureStore(OUT / "measures"))
    write_readme(rows, [s for s in sweeps if s[0] not in {f for f, _, _ in SEED_SWEEPS}],
                 [s for s in sweeps if s[0] in {f for f, _, _ in SEED_SWEEPS}])


def extras(m: dict) -> str:
    """The variant's own numbers (its extra metrics; per-unit ones as a range) and the KL view."""
    parts = []
    if m.get("kl_sum") is not None:       # ρ̂ as the KL view reads it: mean activation or firing rate
        basis = m["unit_mean_activation"] if m["kl_on"] == "mean_activation" else m["unit_firing_rate"]
        parts.append(f"ρ = {m['rho']:.3g}, mean ρ̂ ({m['kl_on'].replace('_', ' ')}) = {sum(basis) / len(basis):.3f}, "
                     f"Σ KL = {m['kl_sum']:.3f}")
    for metric in get_variant(m["variant"]).extra_metrics:
        value = m[metric.name]
        parts.append(f"{metric.name} {min(value):.2f}–{max(value):.2f}" if metric.per_unit
                     else f"{metric.name} {value:.4f}")
    return "; ".join(parts)


def flag(m: dict) -> str:
    return "**learned nothing**" if m.get("learned_nothing") else ""


def write_readme(rows, sweeps, seed_sweeps) -> None:
    lines = [
        "# Shipped checkpoints",
        "",
        "One pretrained model per variant on `mnist-5k` (4,000 train / 1,000 test), made by this",
        "project's CLI with each variant's defaults and about the seeds' optimizer-step budget (10 epochs",
        "of 60,000 images = 147 epochs of mnist-5k). Re-make them all with",
        "`python scripts/make_checkpoints.py`. Test-split metrics from `python -m explorer evaluate --json`",
        "(FVU = Σ‖x − x̂‖² / Σ‖x − x̄‖²; L0 = active units per image, 'active' in each code's own terms;",
        "dense = active on more than 10 % of images; L2 ratio = mean ‖x̂‖/‖x‖):",
        "",
        "| file | recon MSE | FVU | mean L0 | active when | dead | dense | L2 ratio | its own numbers | |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, _, m, _ in rows:
        lines.append(f"| `{name}.pt` | {m['recon_mse']:.4f} | {m['fvu']:.3f} | {m['mean_l0']:.1f} | "
                     f"{m['active_when'].replace('|', chr(92) + '|')} | {m['dead_fraction']:.0%} | "
                     f"{m['dense_fraction']:.0%} | {m['l2_ratio']:.3f} | {extras(m)} | {flag(m)} |")
    lines += ["", "Commands (run from the repository root):", ""]
    lines += [f"    {cmd}" for _, cmd, _, _ in rows]
    lines += ["", "Training output (last line of each):", ""]
    lines += [f"- `{name}`: {tail}" for name, _, _, tail in rows]
    lines += ["", "## Sweeps (for the Compare page)", ""]
    pts = []
    for folder, cmd, summary in sweeps:
        variant, (param,) = summary["variants"][0], summary["grid"]
        lines += [f"`sweeps/{folder}/`: `{variant}` over `{param}`, "
                  f"{summary['trials'][0]['settings']['epochs']} epochs each, made by", "", f"    {cmd}", "",
                  f"| {param} | recon MSE | FVU | mean L0 | mean ‖z‖₁ | dead units | Σ KL | |",
                  "|---|---|---|---|---|---|---|---|"]
        for trial in summary["trials"]:
            r, value = trial["metrics"], trial["params"][param]
            kl = f"{r['kl_sum']:.3f}" if r.get("kl_sum") is not None else "—"
            lines.append(f"| {value} | {r['recon_mse']:.4f} | {r['fvu']:.3f} | {r['mean_l0']:.1f} | "
                         f"{r['mean_l1']:.2f} | {r['dead_fraction']:.0%} | {kl} | {flag(r)} |")
            pts.append(Point(folder, f"{variant} {param}={value}", r["mean_l0"], r["fvu"],
                             bool(r.get("learned_nothing")), not get_variant(variant).code.exact_zeros))
        lines.append("")
    lines += ["## The L0–FVU frontier", "",
              "Which sweep reconstructs best (lowest FVU, linear interpolation along each sweep) at a given",
              "number of active units per image, over the sweeps above. Left out: models that learned nothing,",
              "and dense codes (`sparse_kl`'s sigmoid units below 0.5 still pass values to the decoder, so its",
              "L0 — units more on than off — ranks β settings against each other, not against codes with exact",
              "zeros). The networks differ as each variant's defaults do: `sparse_l1` is the seed's 784-128-32",
              "encoder and decoder, the sparse autoencoders one linear layer of 64 units and its mirror.", ""]
    for l0 in FRONTIER_AT:
        holder = frontier_at(pts, l0)
        if holder is None:
            continue
        others = sorted((g, y) for g in dict.fromkeys(p.group for p in pts)
                        if g != holder[0] and (y := _at(pts, g, l0)) is not None)
        lines.append(f"- **L0 ≈ {l0:g}: `{holder[0]}`**, FVU {holder[1]:.3f}"
                     + (" (then " + ", ".join(f"`{g}` {y:.3f}" for g, y in sorted(others, key=lambda o: o[1])) + ")"
                        if others else ""))
    front = pareto_front(pts)
    lines += ["", "Pareto front (no other shipped sweep point is both sparser and more faithful): "
              + ", ".join(f"{pts[i].setting} (L0 {pts[i].x:.1f}, FVU {pts[i].y:.3f})" for i in front) + "."]
    lines += stability_lines(seed_sweeps)
    (OUT / "README.md").write_text("\n".join(lines) + "\n")


def stability_lines(seed_sweeps) -> list[str]:
    """The seed sweeps and how much of each dictionary recurs across its seeds (explorer.stability)."""
    lines = ["", "## Stability across seeds", "",
             "Each variant's defaults trained from three seeds. Matched cosine: the mean cosine of decoder atoms",
             "paired one to one across two seeds (Hungarian matching), averaged over the pairs of seeds, with a 95 %",
             f"bootstrap interval over atoms; shared: atoms matched above a cosine of {SHARED_COSINE:g} (Paulo",
             "& Belrose 2025); untrained: the same score between the seeds' initial dictionaries.", "",
             "| sweep | made by | matched cosine | shared | untrained |", "|---|---|---|---|---|"]
    for folder, cmd, summary in seed_sweeps:
        models = [load_checkpoint(OUT / "sweeps" / folder / t["checkpoint"]) for t in summary["trials"]]
        s = seed_stability(models, [t["name"] for t in summary["trials"]])
        lines.append(f"| `sweeps/{folder}/` | `{cmd}` | {s.mean.value:.3f} [{s.mean.low:.3f}, {s.mean.high:.3f}] | "
                     f"{s.shared.value:.0%} | {s.untrained:.3f} |")
    return lines


def _at(pts: list[Point], group: str, l0: float) -> float | None:
    holder = frontier_at([p for p in pts if p.group == group], l0)
    return None if holder is None else holder[1]


if __name__ == "__main__":
    main()
