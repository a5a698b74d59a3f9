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

# name → extra CLI flags; each trains on mnist-5k with the seed's defaults and step budget.
SHIPPED = {
    "ae": [],
    "sparse_l1": [],
    "sparse_kl": [],
    "denoising": [],
    "contractive": [],
    "vae": [],
    "vae-2d": ["--variant", "vae", "--param", "latent_dim=2"],   # the classic 2-D map and manifold
}


# Sweeps shipped for the Compare page: (folder under checkpoints/sweeps, variant, NAME=values).
SWEEPS = [
    ("sparse_l1-lam", "sparse_l1", "lam=0,1e-4,3e-4,1e-3,3e-3"),
    ("sparse_kl-beta", "sparse_kl", "beta=1e-3,1e-2,1e-1,1"),
]


def run(argv: list[str]) -> str:
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed: {shlex.join(argv)}\n{proc.stderr}")
    return proc.stdout


def main() -> None:
    OUT.mkdir(exist_ok=True)
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
    for folder, variant, values in SWEEPS:
        argv = ["python", "-m", "explorer", "sweep", "--variant", variant, "--param", values, "--dataset", "mnist-5k",
                "--device", "cpu", "--out", f"checkpoints/sweeps/{folder}"]
        print("$", shlex.join(argv), flush=True)
        run([sys.executable, *argv[1:]])
        sweeps.append((folder, shlex.join(argv), json.loads((OUT / "sweeps" / folder / "sweep.json").read_text())))
    write_readme(rows, sweeps)


def write_readme(rows, sweeps) -> None:
    lines = [
        "# Shipped checkpoints",
        "",
        "One pretrained model per variant on `mnist-5k` (4,000 train / 1,000 test), made by this",
        "project's CLI with the seeds' defaults and about the seeds' optimizer-step budget (10 epochs",
        "of 60,000 images = 147 epochs of mnist-5k). Re-make them all with",
        "`python scripts/make_checkpoints.py`. Test-split metrics from `python -m explorer evaluate`:",
        "",
        "| file | recon MSE | mean L0 | dead units | mean ‖z‖₁ | extra |",
        "|---|---|---|---|---|---|",
    ]
    for name, _, m, _ in rows:
        extra = ""
        if "kl_sum" in m:
            rho_hat = sum(m["unit_mean_activation"]) / len(m["unit_mean_activation"])
            extra = f"ρ = {m['rho']}, mean ρ̂ = {rho_hat:.3f}, Σ KL = {m['kl_sum']:.3f}"
        elif "denoise_mse" in m:
            extra = f"denoised MSE {m['denoise_mse']:.4f} (noisy input {m['noisy_input_mse']:.4f})"
        elif "kl_per_dim" in m:
            extra = f"KL per dim {', '.join(f'{k:.2f}' for k in m['kl_per_dim'])}"
        elif "contractive" in m["loss_terms"]:
            extra = f"mean ‖∂z/∂x‖²_F = {m['loss_terms']['contractive']:.2f}"
        lines.append(f"| `{name}.pt` | {m['recon_mse']:.4f} | {m['mean_l0']:.1f} | "
                     f"{m['dead_fraction']:.0%} | {m['mean_l1']:.1f} | {extra} |")
    lines += ["", "Commands (run from the repository root):", ""]
    lines += [f"    {cmd}" for _, cmd, _, _ in rows]
    lines += ["", "Training output (last line of each):", ""]
    lines += [f"- `{name}`: {tail}" for name, _, _, tail in rows]
    lines += ["", "## Sweeps (for the Compare page)", ""]
    for folder, cmd, summary in sweeps:
        lines += [f"`sweeps/{folder}/`: `{summary['variant']}` over `{summary['param']}`, "
                  f"{summary['settings']['epochs']} epochs each, made by", "", f"    {cmd}", "",
                  f"| {summary['param']} | recon MSE | mean L0 | mean ‖z‖₁ | dead units | Σ KL |", "|---|---|---|---|---|---|"]
        for r in summary["runs"]:
            kl = f"{r['kl_sum']:.3f}" if r.get("kl_sum") is not None else "—"
            lines.append(f"| {r['value']} | {r['recon_mse']:.4f} | {r['mean_l0']:.1f} | {r['mean_l1']:.2f} | "
                         f"{r['dead_fraction']:.0%} | {kl} |")
        lines.append("")
    (OUT / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
