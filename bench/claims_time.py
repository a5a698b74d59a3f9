"""The claims on every shipped sweep and on the shipped variants (mnist-5k): seconds of computing the first time,
and after a restart; then what they say.

    python bench/claims_time.py            # as the app measures (explorer.app.measured), in an empty folder
    python bench/claims_time.py --browser  # also the Claims page: each preset clicked on a fresh server, then
                                           # the same after a restart (the measures kept on disk)

Prints the dataset's shared part (stroke measures of the test images, the pixel probe), each set's models
measured (wall and CPU seconds), the total; then the same lookups after a restart (memory cleared, the
folder kept); then each set's verdicts in one line each — the figures README quotes.
Target on the 2-core CPU: ≤ 60 s of computing for every shipped sweep the first time, at once after a restart."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
MEASURE_DIR = Path(tempfile.mkdtemp(prefix="claims-bench-"))
os.environ["AE_EXPLORER_MEASURE_DIR"] = str(MEASURE_DIR)      # before explorer.app.measured reads it

from explorer import load_checkpoint, load_dataset  # noqa: E402
from explorer.app.catalog import file_digest, group_sweeps, shipped_checkpoint_paths  # noqa: E402
from explorer.claims import judge_claims  # noqa: E402
from explorer.compare import describe_settings  # noqa: E402

SHIPPED = ROOT / "checkpoints"


def shipped_sets() -> dict[str, list[Path]]:
    """Each shipped sweep's checkpoints, then the one-per-variant checkpoints, as the Claims page's presets."""
    from explorer.app.catalog import FileEntry, sweep_of

    entries = {}
    for path in shipped_checkpoint_paths(SHIPPED):
        entries["file:" + file_digest(path)] = FileEntry(key="file:" + file_digest(path), label=path.stem,
                                                         variant=load_checkpoint(path).name, dataset="mnist-5k",
                                                         path=str(path), origin="shipped",
                                                         sweep=sweep_of(path, SHIPPED))
    sets = {title: [Path(entries[k].path) for k in keys] for title, keys in group_sweeps(entries).items()}
    sets["the shipped variants"] = sorted(SHIPPED.glob("*.pt"))
    return sets


def measure_sets(sets: dict[str, list[Path]], data) -> tuple[float, float]:
    """Every model of the sets measured (or read back) as the app does; (wall, CPU) seconds."""
    from explorer.app import measured

    wall, cpu = time.perf_counter(), time.process_time()
    for paths in sets.values():
        for path in paths:
            measured.measures("file:" + file_digest(path), load_checkpoint(path), data, "cpu")
    return time.perf_counter() - wall, time.process_time() - cpu


def library() -> None:
    from explorer.app import measured

    data = load_dataset("mnist-5k")
    sets = shipped_sets()
    sweeps = {t: p for t, p in sets.items() if t != "the shipped variants"}
    import skimage.morphology  # noqa: F401  — imports are not computing
    import sklearn.linear_model  # noqa: F401

    wall, cpu = time.perf_counter(), time.process_time()
    measured.reference(data, "cpu")
    ref_wall, ref_cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"mnist-5k's shared part (strokes of {len(data.test_y):,} test images, the pixel probe): {ref_wall:.1f} s "
          f"({ref_cpu:.1f} s of CPU)", flush=True)
    wall, cpu = measure_sets(sweeps, data)
    n = sum(len(p) for p in sweeps.values())
    print(f"every shipped sweep's {n} models: {wall:.1f} s ({cpu:.1f} s of CPU); with the shared part "
          f"{ref_wall + wall:.1f} s of computing the first time", flush=True)
    wall, _ = measure_sets({"variants": sets["the shipped variants"]}, data)
    print(f"the {len(sets['the shipped variants'])} shipped variants: {wall:.1f} s more", flush=True)
    measured.clear()                                   # a restart: memory empty, the folder kept
    wall, _ = measure_sets(sets, data)
    print(f"after a restart, every model read back from {MEASURE_DIR}: {wall:.2f} s", flush=True)
    for title, paths in sets.items():
        found = [(load_checkpoint(p), p) for p in paths]
        measured_ = [(m, p, measured.measures("file:" + file_digest(p), m, data, "cpu")) for m, p in found]
        kept = [(setting, m, p) for setting, (_, p, m) in zip(describe_settings([m for m, _ in found]), measured_,
                                                               strict=True) if not isinstance(m, str)]
        results = judge_claims([m for _, m, _ in kept], labels=[s for s, _, _ in kept],
                               groups=[m.variant if title == "the shipped variants" else title for _, m, _ in kept])
        print(f"\n{title} ({len(kept)} of {len(paths)} models measured; the rest have no live unit):")
        for r in results:
            print(f"  {r.verdict:12s} {r.claim.title}: {r.summary}")


def browser() -> None:
    from browser_support import browser_available, launch_browser, streamlit_server, wait_until_rendered
    from playwright.sync_api import sync_playwright

    if reason := browser_available():
        sys.exit(f"cannot run the browser measurement: {reason}")
    folder = Path(tempfile.mkdtemp(prefix="claims-bench-browser-"))
    presets = [*shipped_sets()]
    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        for attempt in ("a fresh server, empty measures folder", "after a restart, the measures kept on disk"):
            with streamlit_server(env={"AE_EXPLORER_MEASURE_DIR": str(folder)}, launcher=True) as (url, _, _proc):
                page = chromium.new_page(viewport={"width": 1400, "height": 1000})
                start = time.perf_counter()
                page.goto(f"{url}/claims", wait_until="domcontentloaded")
                wait_until_rendered(page, timeout=600, quiet=0.5)
                times = [f"default view {time.perf_counter() - start:.1f} s"]
                for preset in presets:
                    start = time.perf_counter()
                    page.get_by_role("button", name=preset, exact=True).click()
                    page.wait_for_timeout(300)
                    wait_until_rendered(page, timeout=600, quiet=0.5)
                    times.append(f"{preset} {time.perf_counter() - start:.1f} s")
                errors = page.locator('[data-testid="stException"]').count()
                page.close()
            print(f"browser, {attempt}: " + " · ".join(times) + f" (exception boxes: {errors}; each figure to a "
                  "settled page, 0.5 s of quiet included)", flush=True)
        chromium.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser", action="store_true", help="also time the Claims page in a browser")
    args = parser.parse_args()
    library()
    if args.browser:
        browser()


if __name__ == "__main__":
    main()
