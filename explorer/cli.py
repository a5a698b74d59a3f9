"""The command line: `ae-explorer` (or `python -m explorer`) `app | variants | datasets | train | evaluate |
sweep | project | claims | stability | export | import | baselines`."""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from .checkpoint import CheckpointError, load_checkpoint
from .datasets import (
    DATASETS,
    DEFAULT_DATA_DIR,
    DEFAULT_DATASET,
    Dataset,
    DatasetUnavailableError,
    is_available,
    load_dataset,
)
from .device import DEVICE_CHOICES, resolve_device
from .files import check_can_write
from .latent import METHODS, code_sample, codes_csv, project, projector_tsv
from .metrics import Evaluation, evaluate
from .registry import get_variant, variant_names
from .runs import checkpoint_size_estimate, train_and_evaluate
from .sweep import Engine, LocalEngine, TrialRecord, parse_values, plan_sweep, run_sweep
from .sweep_ray import RayUnavailableError
from .training import NonFiniteLossError, TrainEvent, TrainSettings, default_epochs
from .variants.base import Autoencoder

USER_ERRORS = (ValueError, CheckpointError, DatasetUnavailableError, NonFiniteLossError, RayUnavailableError)
PROJECT_SAMPLE = 2000      # `project`'s default sample of images


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag or value gives one line naming the problem, not a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def non_negative_int(text: str) -> int:
    return 0 if text.strip() == "0" else positive_int(text)


def name_list(text: str) -> list[str]:
    try:
        return parse_values(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def key_value(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def whole_number_list(text: str) -> list[int]:
    """'5,10,20' → [5, 10, 20], each at least 1."""
    return [positive_int(part.strip()) for part in text.split(",")]


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="ae-explorer",
                           description="Train, evaluate and inspect autoencoder variants.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    sub.add_parser("app", help="start the Streamlit app (further arguments go to `streamlit run`)",
                   description="Start the app as scripts/app.sh does (`streamlit run` with a warm start, see "
                   "explorer/app/launch.py), with any further arguments passed on to it, e.g. "
                   "`ae-explorer app --server.port 8600`.")

    sub.add_parser("variants", help="list the autoencoder variants and their parameters")
    p = sub.add_parser("datasets", help="list the datasets and whether they load offline right now")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)

    p = sub.add_parser("train", help="train a variant and write a checkpoint",
                       description="Train one variant on one dataset and write a checkpoint (.pt). "
                       "Epochs default to about the seeds' optimizer-step budget (10 epochs of "
                       "60,000 images) expressed in epochs of the chosen dataset.")
    p.add_argument("--variant", required=True, choices=variant_names())
    p.add_argument("--dataset", default=DEFAULT_DATASET, choices=list(DATASETS))
    p.add_argument("--epochs", type=positive_int, default=None)
    p.add_argument("--batch-size", type=positive_int, default=None,
                   help="default: the seed's batch size for the variant (128; 256 for sparse_kl)")
    p.add_argument("--lr", type=positive_float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--param", type=key_value, nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                   help="variant hyperparameter, e.g. --param lam=1e-3 latent_dim=16 hidden=256,128 "
                   "(see `python -m explorer variants`)")
    p.add_argument("--out", required=True, help="checkpoint path to write (.pt)")

    p = sub.add_parser("evaluate", help="test-split metrics of a checkpoint")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--dataset", default=None, choices=list(DATASETS),
                   help="default: the dataset the checkpoint was trained on")
    p.add_argument("--split", default="test", choices=["test", "train"])
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--json", action="store_true", help="print every number as JSON")

    p = sub.add_parser("sweep", help="train a grid of settings (variants × parameter values), one checkpoint each",
                       description="Train one checkpoint per combination of the --param values (same seed, same "
                       "data; --param seed=0,1,2 trains the same settings from different seeds, for `stability`) "
                       "for each --variant into --out, reusing checkpoints already there with the same "
                       "settings, and keep sweep.json up to date as trials finish. --engine ray runs the trials "
                       "as Ray tasks: on a local cluster bound to 127.0.0.1, or on --address.")
    p.add_argument("--variant", required=True, type=name_list, metavar="NAME[,NAME...]",
                   help="one variant, or several that all have the swept parameters, e.g. topk,batch_topk")
    p.add_argument("--param", required=True, action="append", metavar="NAME=V1,V2,...", type=key_value,
                   help="a parameter and its values, e.g. beta=1e-3,1e-2,1e-1; repeat for a grid "
                        "(--param lam=0,1e-4 --param latent_dim=32,64)")
    p.add_argument("--set", type=key_value, nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                   help="other hyperparameters held fixed, e.g. --set latent_dim=16")
    p.add_argument("--dataset", default=DEFAULT_DATASET, choices=list(DATASETS))
    p.add_argument("--epochs", type=positive_int, default=None)
    p.add_argument("--batch-size", type=positive_int, default=None)
    p.add_argument("--lr", type=positive_float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES,
                   help="for --engine local (Ray trials use a GPU when --gpus-per-trial is above 0)")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--out", required=True, help="folder for the checkpoints and sweep.json")
    p.add_argument("--engine", default="local", choices=["local", "ray"],
                   help="local: in this process, one shape at a time (default); ray: Ray tasks")
    p.add_argument("--no-batch", action="store_true", help="train every trial alone (by default trials of one "
                   "variant and shape train together as one computation: the same results, sooner)")
    p.add_argument("--address", default=None, help="Ray only: join this cluster (e.g. auto, or HEAD_IP:6379) "
                   "instead of starting a local one bound to 127.0.0.1")
    p.add_argument("--cpus-per-trial", type=positive_float, default=1.0, help="Ray only (default 1)")
    p.add_argument("--gpus-per-trial", type=non_negative_float, default=0.0,
                   help="Ray only: a GPU share per trial; 0.25 packs four trials on one GPU (default 0)")
    p.add_argument("--retries", type=non_negative_int, default=3,
                   help="Ray only: re-runs of a trial whose worker process died (default 3)")

    p = sub.add_parser("claims", help="judge the seed notes' claims (sparsity disentangles, is robust, is "
                       "efficient; denoising gives robust features) across two or more checkpoints",
                       description="Measure each checkpoint on its test split — class selectivity, MIG against the "
                       "class and four stroke measures, sparse (k = 1, 5) and dense probes beside a pixel probe, "
                       "noise curves, FVU and L0, each with a 95 %% bootstrap interval, selectivity and MIG with "
                       "their permuted-label nulls — and judge each claim across them: holds, contradicted or "
                       "inconclusive, with the numbers that decided it.")
    p.add_argument("--checkpoint", required=True, nargs="+", metavar="CHECKPOINT",
                   help="two or more checkpoints trained on one dataset, e.g. a sweep's: "
                        "checkpoints/sweeps/topk-k/*.pt")
    p.add_argument("--dataset", default=None, choices=list(DATASETS),
                   help="default: the dataset the checkpoints were trained on")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--json", action="store_true", help="print every measure and verdict as JSON")

    p = sub.add_parser("stability", help="how alike one setting's models trained from different seeds are: "
                       "the mean cosine of Hungarian-matched decoder atoms",
                       description="Match every pair of the checkpoints' decoder atoms one to one (the Hungarian "
                       "algorithm on their cosine similarity, as Paulo & Belrose 2025) and give each pair's mean "
                       "matched cosine, their mean with a 95 % bootstrap interval over atoms, and the fraction of "
                       "units matched above a cosine of 0.7 (shared). The checkpoints must be one variant and "
                       "config trained from different seeds, e.g. a sweep made with --param seed=0,1,2.")
    p.add_argument("--checkpoint", required=True, nargs="+", metavar="CHECKPOINT",
                   help="two or more checkpoints of one setting trained from different seeds, e.g. "
                        "DIR/topk-seed=*.pt from `sweep --param seed=0,1,2 --out DIR`")
    p.add_argument("--json", action="store_true", help="print the pairs, the mean, its interval and the "
                   "shared fraction as JSON")

    p = sub.add_parser("project", help="map a checkpoint's latent codes to 2-D/3-D and write them as CSV",
                       description="Encode a seeded sample of images, project the codes with PCA, t-SNE, "
                       "UMAP (if installed) or raw, and write split, index, label, class, the map's "
                       "coordinates and the codes as CSV; optionally the Embedding Projector's TSV pair.")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--method", default="pca", choices=list(METHODS))
    p.add_argument("--n", type=positive_int, default=None,
                   help=f"images in the seeded sample (default {PROJECT_SAMPLE}, or all there are when fewer)")
    p.add_argument("--source", default="all", choices=["all", "test"], help="train + test, or the test split only")
    p.add_argument("--dims", type=int, default=2, choices=[2, 3])
    p.add_argument("--perplexity", type=positive_float, default=30.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dataset", default=None, choices=list(DATASETS),
                   help="default: the dataset the checkpoint was trained on")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--projector", default=None, metavar="DIR",
                   help="also write DIR/vectors.tsv and DIR/metadata.tsv for TensorFlow's Embedding Projector")
    p.add_argument("--out", required=True, help="CSV file to write")

    p = sub.add_parser("baselines", help="PCA, NMF and OMP dictionary learning on the L0–FVU frontier",
                       description="Fit scikit-learn's PCA and NMF with k components, and a dictionary of --atoms "
                       "atoms (MiniBatchDictionaryLearning, fitted once) with OMP codes of k non-zeros, on the "
                       "dataset's train split; measure each on the test split as `evaluate --json` does: FVU "
                       "against the mean test image, per-pixel recon MSE, mean L0 = non-zero code entries per "
                       "image, dead fraction = atoms never used on the test split.")
    p.add_argument("--dataset", default=DEFAULT_DATASET, choices=list(DATASETS))
    p.add_argument("--k", type=whole_number_list, default=[5, 10, 20], metavar="K[,K...]",
                   help="components (PCA, NMF) and non-zeros per image (OMP), e.g. 5,10,20 (the default)")
    p.add_argument("--atoms", type=positive_int, default=64, help="the OMP dictionary's size (default 64, the "
                   "shipped SAEs' code size)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--json", action="store_true", help="print every point as JSON")

    p = sub.add_parser("export", help="write a checkpoint's SAE as a SAELens folder (cfg.json + weights)",
                       description="Write a one-layer, linear-decoder SAE (sparse_l1 as SAELens's standard, topk, "
                       "jumprelu, and the BatchTopK family as jumprelu, as SAELens saves BatchTopK) in the folder "
                       "layout SAELens's SAE.load_from_disk reads: cfg.json + sae_weights.safetensors. The folder "
                       "is created whole; an existing non-empty one is refused.")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--format", default="saelens", choices=["saelens"])
    p.add_argument("--out", required=True, metavar="DIR", help="folder to create")

    p = sub.add_parser("import", help="read a SAELens SAE folder as a checkpoint, evaluated on a dataset",
                       description="Read a SAELens SAE folder (standard, topk or jumprelu; cfg.json + "
                       "sae_weights.safetensors) as a model that computes the same codes, evaluate it on the "
                       "test split, and write it as a checkpoint. An existing --out is never overwritten.")
    p.add_argument("folder", metavar="DIR")
    p.add_argument("--format", default="saelens", choices=["saelens"])
    p.add_argument("--dataset", default=None, choices=list(DATASETS),
                   help=f"default: the dataset its cfg.json names (metadata.dataset_path) if it is one of these, "
                   f"else {DEFAULT_DATASET}")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--out", required=True, help="checkpoint path to write (.pt)")
    return parser


def cmd_variants(args: argparse.Namespace) -> int:
    for name in variant_names():
        cls = get_variant(name)
        print(f"{name:12s} {cls.summary}")
        print(f"{'':12s} objective: {(cls.__doc__ or '').split(chr(10))[0].removeprefix('Objective: ')}")
        print(f"{'':12s} code: {cls.code.name}, active when {cls.code.describe()}"
              + (f"; paper: {cls.paper}" if cls.paper else ""))
        for key, spec in cls.config_class.field_specs().items():
            default = ",".join(map(str, spec["default"])) if isinstance(spec["default"], tuple) else spec["default"]
            print(f"{'':12s}   {key}={default}  [{spec['range']}]  {spec['help']}")
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    print(f"{'name':14s} {'train':>7s} {'test':>7s} {'image':>6s}  offline now  description")
    for name, spec in DATASETS.items():
        ready = "yes" if is_available(name, args.data_dir) else f"no (needs {Path(args.data_dir) / spec.folder})"
        shape = f"{spec.image_shape[0]}x{spec.image_shape[1]}"
        print(f"{name:14s} {spec.n_train:7d} {spec.n_test:7d} {shape:>6s}  {ready:11s}  {spec.description}")
    return 0


class ProgressPrinter:
    """A progress bar on a terminal (stderr) and one line of loss terms per epoch (stdout)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.last_draw = 0.0

    def __call__(self, event: TrainEvent) -> None:
        if event.kind == "step" and self.live and time.perf_counter() - self.last_draw > 0.1:
            self.last_draw = time.perf_counter()
            width = 30
            filled = int(width * event.fraction_done)
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] epoch {event.epoch}/{event.epochs} "
                              f"step {event.step}/{event.steps_per_epoch} loss {event.terms['total']:.4g}")
            self.stream.flush()
        elif event.kind == "epoch":
            if self.live:
                self.stream.write("\r" + " " * 78 + "\r")
            h = event.history
            train_terms = " ".join(f"{k} {v[-1]:.4g}" for k, v in h["train"].items())
            test_terms = " ".join(f"{k} {v[-1]:.4g}" for k, v in h["test"].items())
            print(f"epoch {event.epoch:4d}/{event.epochs}  train: {train_terms}  |  test: {test_terms}  "
                  f"({h['seconds'][-1]:.2f} s)", flush=True)


def train_settings(args: argparse.Namespace, cls: type[Autoencoder], data: Dataset) -> TrainSettings:
    """--epochs/--batch-size/--lr/--seed, defaulting to the variant's seed batch size and the seeds'
    step budget expressed in epochs of this dataset."""
    batch_size = args.batch_size or cls.default_batch_size
    return TrainSettings(epochs=args.epochs or default_epochs(len(data.train_x), batch_size),
                         batch_size=batch_size, lr=args.lr, seed=args.seed)


def cmd_train(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    cls = get_variant(args.variant)
    params = dict(args.param)
    cls.config_class.from_dict(params)  # validate hyperparameters before loading any data
    data = load_dataset(args.dataset, device=device, data_dir=args.data_dir)
    config = cls.config_class.from_dict({**params, "input_dim": data.input_dim})
    settings = train_settings(args, cls, data)
    epochs, batch_size = settings.epochs, settings.batch_size
    out = file_to_write(args.out, "--out", f"{args.variant}.pt")
    check_can_write(out, checkpoint_size_estimate(args.variant, params, data.input_dim))   # before training, not after
    print(f"training {args.variant} on {data.name} ({len(data.train_x)} train / {len(data.test_x)} test) "
          f"on {device}: {epochs} epochs × batch {batch_size}, lr {args.lr:g}, seed {args.seed}; "
          f"config {config.to_dict()}", flush=True)
    run = train_and_evaluate(args.variant, params, data, settings, callback=ProgressPrinter())
    path = run.save(out, data.name)
    result, metrics = run.result, run.metrics
    print(f"done in {result.seconds:.1f} s — {result.samples_per_second:,.0f} samples/s; "
          f"test recon MSE {metrics.recon_mse:.4f}, FVU {metrics.fvu:.3f}, mean L0 {metrics.code.mean_l0:.1f}, "
          f"dead units {metrics.code.dead_fraction:.0%}")
    print(f"checkpoint written: {path}")
    warn_if_learned_nothing(metrics)
    return 0


def warn_if_learned_nothing(metrics: Evaluation) -> None:
    if metrics.learned_nothing_reason:
        print(f"warning: {metrics.learned_nothing_reason}", file=sys.stderr)


def cmd_evaluate(args: argparse.Namespace) -> int:
    model, data = _checkpoint_and_data(args)
    metrics = evaluate(model, data, split=args.split, lr=model.meta.lr if model.meta else None)
    if args.json:
        print(json.dumps(metrics.to_dict(), indent=2))
        return 0
    code = metrics.code
    print(f"{args.checkpoint}: {model.name} on {data.name} ({args.split}, {metrics.n_test} images)")
    rows = [("recon_mse", metrics.recon_mse, ".4f"), ("fvu", metrics.fvu, ".4f"),
            ("explained_var", metrics.explained_variance, ".1%"), ("l2_ratio", metrics.l2_ratio, ".3f"),
            ("mean_l0", code.mean_l0, ".2f"), ("mean_l1", code.mean_l1, ".3f"),
            ("dead_fraction", code.dead_fraction, ".1%"), ("dense_fraction", code.dense_fraction, ".1%"),
            ("kl_sum", code.kl_sum, ".4f"),
            *((m.name, metrics.extras[m.name], ".4f") for m in model.extra_metrics if not m.per_unit)]
    for key, value, fmt in rows:
        if value is not None:
            print(f"  {key:14s} {value:{fmt}}")
    print(f"  {'':14s} (a unit is active when {code.active_when})")
    worst = max(metrics.per_class_mse.items(), key=lambda kv: kv[1])
    print(f"  worst class    {worst[0]} (MSE {worst[1]:.4f})")
    warn_if_learned_nothing(metrics)
    return 0


def _checkpoint_and_data(args: argparse.Namespace) -> tuple[Autoencoder, Dataset]:
    device = resolve_device(args.device)
    model = load_checkpoint(args.checkpoint, device=device)
    trained_on = model.meta.dataset if model.meta else DEFAULT_DATASET
    if not args.dataset and trained_on not in DATASETS:     # the file names it, not the user: say so
        raise ValueError(f"{args.checkpoint}: trained on dataset {trained_on[:40]!r}, which this version does not "
                         f"know; give --dataset ({', '.join(DATASETS)})")
    data = load_dataset(args.dataset or trained_on, device=device, data_dir=args.data_dir)
    model.check_fits(data.name, data.input_dim, data.image_shape)
    return model, data


def cmd_sweep(args: argparse.Namespace) -> int:
    out = folder_to_write(args.out, "--out")
    grid: dict[str, list[str]] = {}
    for name, text in args.param:
        if name in grid:
            raise ValueError(f"--param {name} is given twice; list all its values once: {name}=V1,V2,...")
        grid[name] = parse_values(text, name)
    if "seed" in grid and args.seed != 0:
        raise ValueError(f"--seed {args.seed} and --param seed=… both give the seed; give the seeds once, "
                         f"as --param seed={','.join(grid['seed'])}")
    for variant in args.variant:
        get_variant(variant)
    ray_flags = [flag for flag, value, default in (("--address", args.address, None), ("--cpus-per-trial",
                 args.cpus_per_trial, 1.0), ("--gpus-per-trial", args.gpus_per_trial, 0.0),
                 ("--retries", args.retries, 3)) if value != default]
    if args.engine == "local" and ray_flags:
        raise ValueError(f"{', '.join(ray_flags)} only apply to --engine ray")
    engine: Engine = LocalEngine(batch=not args.no_batch)
    if args.engine == "ray":
        from .sweep_ray import RayEngine, RayOptions, import_ray

        import_ray(local=args.address is None)        # a missing Ray is said before any data loads
        engine = RayEngine(RayOptions(args.address, args.cpus_per_trial, args.gpus_per_trial, args.retries),
                           args.data_dir, batch=not args.no_batch)
    device = resolve_device(args.device) if args.engine == "local" else "cpu"
    data = load_dataset(args.dataset, device=device, data_dir=args.data_dir)
    plan = plan_sweep(args.variant, grid, data, lambda v: train_settings(args, get_variant(v), data), dict(args.set))
    first = plan.trials[0].settings
    print(f"sweep: {len(plan.trials)} trials ({plan.title}) on {data.name} with the {engine.name} engine: "
          f"{first.epochs} epochs × batch {first.batch_size} each, "
          + (f"seeds {', '.join(grid['seed'])}" if "seed" in grid else f"seed {first.seed}"), flush=True)

    def on_event(i: int, total: int, record: TrialRecord) -> None:
        said = {"running": engine.started_means,
                "done": "reusing the finished checkpoint" if record.reused else
                f"done in {record.seconds or 0:.1f} s (FVU {record.metrics.get('fvu', float('nan')):.3f})",
                "failed": f"failed: {record.message}"}.get(record.status)
        if said:
            print(f"[{i + 1}/{total}] {record.name}: {said}", flush=True)

    def stop_on_terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt       # a terminated sweep (kill, a scheduler's stop) ends as Ctrl-C does

    signal.signal(signal.SIGTERM, stop_on_terminate)
    try:
        manifest = run_sweep(plan, out, data, engine, on_event)
    except KeyboardInterrupt:
        print(f"interrupted: the finished trials are kept in {out}; run the same command again to train the "
              f"rest", file=sys.stderr)
        return 130
    print(f"{'trial':>28s} {'recon MSE':>10s} {'FVU':>7s} {'mean L0':>8s} {'mean |z|':>9s} {'dead':>6s}")
    for record in manifest.records.values():
        m = record.metrics
        if record.status != "done":
            print(f"{record.name:>28s} {record.status}: {record.message}")
            continue
        flag = "  learned nothing" if m.get("learned_nothing") else ""
        print(f"{record.name:>28s} {m['recon_mse']:10.4f} {m['fvu']:7.3f} {m['mean_l0']:8.1f} "
              f"{m['mean_l1']:9.2f} {m['dead_fraction']:6.0%}{flag}")
    print(f"summary written: {manifest.path}")
    failed = manifest.counts()["failed"]
    if failed:
        print(f"error: {failed} of {len(plan.trials)} trials failed (their messages are above and in "
              f"{manifest.path})", file=sys.stderr)
    return 1 if failed else 0


def _first_file(paths: Iterable[Path]) -> Path | None:
    """The first of paths that exists and is not a folder: where nothing can be written inside."""
    return next((p for p in paths if p.exists() and not p.is_dir()), None)


def file_to_write(path: str, flag: str, example: str) -> Path:
    """path as a file this command may write: not a folder, not inside a file, not empty."""
    out = Path(path)
    if path.strip() == "" or out.is_dir():
        raise ValueError(f"{flag} {path or repr(path)} is a folder; give a file path such as {out / example}")
    blocking = _first_file(out.parents)
    if blocking is not None:
        raise ValueError(f"{flag} {path}: {blocking} is a file, so nothing can be written inside it")
    return out


def folder_to_write(path: str, flag: str) -> Path:
    folder = Path(path)
    blocking = _first_file((folder, *folder.parents))
    if blocking is not None:
        raise ValueError(f"{flag} {path}: {blocking} is a file; give a folder (it is created if missing)")
    return folder


def project_sample_size(asked: int | None, source: str, data: Dataset) -> int:
    """--n checked against the images there are to sample (the default takes all there are when fewer)."""
    there = len(data.test_x) + (len(data.train_x) if source == "all" else 0)
    if asked is None:
        return min(PROJECT_SAMPLE, there)
    if asked > there:
        split = "train and test splits" if source == "all" else "test split"
        wider = f", or --source all for up to {there + len(data.train_x):,}" if source == "test" else ""
        raise ValueError(f"--n {asked:,} is more than the {there:,} images in {data.name}'s {split}: give at "
                         f"most --n {there}{wider}")
    return asked


def cmd_project(args: argparse.Namespace) -> int:
    out = file_to_write(args.out, "--out", "map.csv")
    folder = folder_to_write(args.projector, "--projector") if args.projector else None
    model, data = _checkpoint_and_data(args)
    started = time.perf_counter()
    sample = code_sample(model, data, project_sample_size(args.n, args.source, data), args.source, args.seed)
    projection = project(sample.codes, args.method, args.dims, args.seed, args.perplexity)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(codes_csv(sample, data.class_names, projection.coords))
    print(f"{args.method} map of {len(sample)} codes ({sample.codes.shape[1]}-D) in "
          f"{time.perf_counter() - started:.1f} s → {out}")
    if projection.explained_variance is not None:
        print("variance explained: " + ", ".join(f"PC{i + 1} {v:.1%}" for i, v in
                                                 enumerate(projection.explained_variance[:args.dims])))
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        vectors, metadata = projector_tsv(sample, data.class_names)
        (folder / "vectors.tsv").write_text(vectors)
        (folder / "metadata.tsv").write_text(metadata)
        print(f"Embedding Projector files: {folder / 'vectors.tsv'}, {folder / 'metadata.tsv'}")
    return 0


def cmd_claims(args: argparse.Namespace) -> int:
    from .claims import ClaimsInputError, claims_report, judge_claims
    from .measures import NothingToMeasureError, dataset_reference, measure_model

    if len(args.checkpoint) < 2:
        raise ClaimsInputError(f"claims compare models: give at least two checkpoints (got {len(args.checkpoint)})")
    device = resolve_device(args.device)
    loaded = [(path, load_checkpoint(path, device=device)) for path in args.checkpoint]   # every file read first
    trained_on = {path: (model.meta.dataset if model.meta else DEFAULT_DATASET) for path, model in loaded}
    if args.dataset is None and len(set(trained_on.values())) > 1:
        where = ", ".join(f"{path} on {name}" for path, name in trained_on.items())
        raise ClaimsInputError(f"the checkpoints were trained on different datasets ({where}); claims compare "
                               f"models on one dataset: pick checkpoints of one, or name it with --dataset")
    data = load_dataset(args.dataset or next(iter(trained_on.values())), device=device, data_dir=args.data_dir)
    for _, model in loaded:
        model.check_fits(data.name, data.input_dim, data.image_shape)
    print(f"measuring the {data.name} test split: stroke measures and the pixel probe…", file=sys.stderr, flush=True)
    reference = dataset_reference(data)
    measured = []
    for i, (path, model) in enumerate(loaded):
        print(f"[{i + 1}/{len(loaded)}] measuring {path}…", file=sys.stderr, flush=True)
        try:
            measured.append(measure_model(model, data, reference, checkpoint=path))
        except NothingToMeasureError as exc:
            print(f"warning: {path} left out: {exc}", file=sys.stderr)
    if len(measured) < 2:
        raise ClaimsInputError(f"{len(measured)} of the checkpoints can be measured; claims need at least two")
    stems = [Path(m.checkpoint).stem for m in measured]
    results = judge_claims(measured, labels=stems if len(set(stems)) == len(stems) else None)
    if args.json:
        print(json.dumps(claims_report(measured, results), indent=2))
        return 0
    print(f"{'checkpoint':>40s} {'L0':>6s} {'FVU':>6s} {'select.':>7s} {'null':>6s} {'MIG':>6s} {'null':>6s} "
          f"{'k=1':>6s} {'k=5':>6s} {'dense':>6s} {'pixels':>6s}")
    for m in measured:
        print(f"{m.checkpoint[-40:]:>40s} {m.mean_l0.value:6.1f} {m.fvu.value:6.3f} {m.selectivity.value:7.3f} "
              f"{m.null_selectivity:6.3f} {m.mig.value:6.3f} {m.null_mig:6.3f} {m.probe_k1.value:6.3f} "
              f"{m.probe_k5.value:6.3f} {m.probe_dense.value:6.3f} {m.probe_pixels.value:6.3f}")
    for result in results:
        print(f"\n{result.claim.title} — {result.verdict.upper()}\n  {result.line}")
        for note in result.notes:
            print(f"  note: {note}")
    return 0


def cmd_baselines(args: argparse.Namespace) -> int:
    from .baselines import baseline_points, check_settings

    height, width = DATASETS[args.dataset].image_shape
    ks = check_settings(args.k, args.atoms, height * width)     # a bad --k or --atoms is said before any data loads
    data = load_dataset(args.dataset, device="cpu", data_dir=args.data_dir)
    print(f"fitting PCA, NMF and OMP dictionary learning ({args.atoms} atoms) on {data.name}'s train split "
          f"({len(data.train_x)} images) at k = {', '.join(map(str, ks))}…", file=sys.stderr, flush=True)
    found = baseline_points(data, ks, args.atoms, args.seed)
    if args.json:
        print(json.dumps([p.to_dict() for p in found], indent=2))
        return 0
    print(f"{data.name} test split ({found[0].n_test} images); FVU = Σ‖x − x̂‖² / Σ‖x − x̄‖², x̄ the mean test image")
    print(f"{'method':24s} {'k':>4s} {'atoms':>5s} {'mean L0':>8s} {'FVU':>7s} {'expl. var':>9s} {'recon MSE':>10s} "
          f"{'dead':>6s} {'fit s':>6s}")
    for p in found:
        dead = "—" if p.dead_fraction is None else f"{p.dead_fraction:.0%}"
        print(f"{p.title:24s} {p.k:4d} {p.atoms:5d} {p.mean_l0:8.2f} {p.fvu:7.4f} {p.explained_variance:9.1%} "
              f"{p.recon_mse:10.5f} {dead:>6s} {p.fit_seconds:6.1f}")
    print("(the dictionary is fitted once for every k: its fit seconds repeat; dead = atoms never used on the test "
          "split, none for PCA)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .saelens import CFG_FILENAME, WEIGHTS_FILENAME, export_saelens

    model = load_checkpoint(args.checkpoint)
    out = export_saelens(model, folder_to_write(args.out, "--out"))
    print(f"{args.checkpoint}: {model.name} exported as a SAELens {model.saelens_architecture} SAE "
          f"(d_in {model.config.input_dim}, d_sae {model.config.latent_dim}) → {out / CFG_FILENAME}, "
          f"{out / WEIGHTS_FILENAME}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .checkpoint import checkpoint_dict, write_atomically
    from .saelens import model_from_saelens, read_saelens, suggested_dataset

    out = file_to_write(args.out, "--out", "imported.pt")
    if out.exists():
        raise ValueError(f"--out {out} exists; give a new file (an import never overwrites)")
    sae = read_saelens(args.folder)
    device = resolve_device(args.device)
    data = load_dataset(args.dataset or suggested_dataset(sae) or DEFAULT_DATASET, device=device,
                        data_dir=args.data_dir)
    model = model_from_saelens(sae, data).to(device)
    metrics = evaluate(model, data)
    record = model.meta.train if model.meta else {}
    try:
        write_atomically(out, checkpoint_dict(model, data.name, metrics.to_dict(), {}, record), exclusive=True)
    except FileExistsError:
        raise ValueError(f"--out {out} appeared meanwhile; nothing was overwritten") from None
    print(f"{args.folder}: a SAELens {sae.describe()} imported as {model.name} "
          f"({'b_dec folded into b_enc' if sae.apply_b_dec_to_input else 'nothing folded'}); {data.name} test: "
          f"recon MSE {metrics.recon_mse:.4f}, FVU {metrics.fvu:.3f}, mean L0 {metrics.code.mean_l0:.1f}, "
          f"dead units {metrics.code.dead_fraction:.0%}")
    print(f"checkpoint written: {out}")
    warn_if_learned_nothing(metrics)
    return 0


def cmd_stability(args: argparse.Namespace) -> int:
    from .stability import seed_stability

    models = [load_checkpoint(path) for path in args.checkpoint]          # every file read first
    stems = [Path(path).stem for path in args.checkpoint]
    labels = stems if len(set(stems)) == len(stems) else list(args.checkpoint)
    result = seed_stability(models, labels)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(f"{len(models)} {models[0].name} models of one setting ({result.atoms} units each), seeds "
          f"{', '.join(map(str, result.seeds))}: decoder atoms matched one to one (Hungarian, cosine)")
    width = max(len(f"{a} – {b}") for a in labels for b in labels)
    print(f"  {'pair':<{width}s}  {'mean cosine':>11s}  {f'shared (> {result.threshold:g})':>14s}  "
          f"{'encoder':>7s}")
    for pair in result.pairs:
        name = f"{labels[pair.first]} – {labels[pair.second]}"
        print(f"  {name:<{width}s}  {pair.score:11.3f}  {pair.shared_fraction:14.1%}  {pair.encoder_score:7.3f}")
    mean, shared = result.mean, result.shared
    print(f"mean matched decoder cosine {mean.shown()} (95 % bootstrap over atoms; 1 = the same dictionary "
          f"up to the order of its units); the untrained dictionaries of these seeds score {result.untrained:.3f}")
    print(f"shared units (matched cosine > {result.threshold:g}): {shared.value:.1%} "
          f"[{shared.low:.1%}, {shared.high:.1%}]")
    return 0


COMMANDS = {"variants": cmd_variants, "datasets": cmd_datasets, "train": cmd_train, "evaluate": cmd_evaluate,
            "sweep": cmd_sweep, "project": cmd_project, "claims": cmd_claims, "export": cmd_export,
            "import": cmd_import, "stability": cmd_stability, "baselines": cmd_baselines}


APP_SCRIPT = Path(__file__).resolve().parents[1] / "streamlit_app.py"


def cmd_app(streamlit_args: list[str]) -> int:
    """Start the app with its launcher (explorer.app.launch: `streamlit run` with a warm start), run
    from the repository, as scripts/app.sh does."""
    if not APP_SCRIPT.exists():
        raise ValueError(f"the app runs from a checkout of the repository ({APP_SCRIPT} is missing): install "
                         f"with `pip install -e .` in the repository, or run `bash scripts/app.sh` there")
    os.chdir(APP_SCRIPT.parent)
    os.execv(sys.executable, [sys.executable, "-m", "explorer.app.launch", *streamlit_args])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "app":      # only `app` passes arguments on (to streamlit run)
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        if args.command == "app":
            return cmd_app(rest)
        return COMMANDS[args.command](args)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:       # the disk said no (permissions, full, read-only): say what and where
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
