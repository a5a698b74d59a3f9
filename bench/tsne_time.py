"""t-SNE on 2,000 and 5,000 codes of the shipped `ae` checkpoint (mnist-5k, train + test, seed 0).

    python bench/tsne_time.py             # the library: first map, final map, 10-NN accuracy, disk-cache hit
    python bench/tsne_time.py --browser   # also the app: click t-SNE on Latent space → first map, final map

Prints, per size: seconds to the first intermediate map (openTSNE's PCA start) and to the first map
the optimisation moved (iteration 50), to the final map (and the CPU seconds it took: the steadier
figure on a busy machine), the map's 10-NN class accuracy over the code's own on the same points,
and the time to read the kept map back in a cold lookup (memory cleared, the folder kept, as after a
restart). With --browser: a server started by the launcher (as scripts/app.sh does)
with an empty map folder, a fresh Chromium on /latent, then seconds from the click on t-SNE to the
first map drawn, the first map after iteration 0, and the final interactive map — then the same after
a restart of the server (the map kept on disk).
Targets on the 2-core CPU: a map on screen ≤ 2 s after the click, the final ≤ 6 s (2,000 codes)."""
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
MAP_DIR = Path(tempfile.mkdtemp(prefix="tsne-bench-maps-"))
os.environ["AE_EXPLORER_MAP_DIR"] = str(MAP_DIR)         # before explorer.app.maps reads it

from explorer import load_checkpoint, load_dataset  # noqa: E402
from explorer.latent import TSNE_ITERATIONS, code_sample, knn_accuracy, project  # noqa: E402


def library(sizes: list[int]) -> None:
    from explorer.app import maps

    model = load_checkpoint(ROOT / "checkpoints" / "ae.pt")
    data = load_dataset("mnist-5k")
    import openTSNE  # noqa: F401  — as the app's warm-up does: not counted

    for n in sizes:
        sample = code_sample(model, data, n, "all", seed=0)
        request = maps.request("file:bench", data.name, "cpu", n, "all", 0, "tsne", 2, 0, 30.0, TSNE_ITERATIONS,
                               sample.codes)
        maps.clear()
        start, cpu = time.perf_counter(), time.process_time()
        first = moved = None
        for projection in maps.converging(request, sample.codes):
            first = first if first is not None else time.perf_counter() - start
            if moved is None and projection.iteration:
                moved = time.perf_counter() - start
        final, cpu = time.perf_counter() - start, time.process_time() - cpu
        while maps._jobs:                                  # the disk copy is written just after
            time.sleep(0.01)
        maps.clear()                                       # a restart: memory empty, the folder kept
        start = time.perf_counter()
        kept = next(maps.converging(request, sample.codes))
        hit = time.perf_counter() - start
        in_code = knn_accuracy(sample.codes, sample.labels)
        in_map = knn_accuracy(projection.coords, sample.labels)
        assert kept.final and (kept.coords == projection.coords).all()
        start = time.perf_counter()
        project(sample.codes, "pca")
        pca = time.perf_counter() - start
        print(f"{n:5d} codes ({sample.codes.shape[1]}-D), {TSNE_ITERATIONS} iterations, perplexity 30: first map "
              f"{first:.2f} s, first moved map (iteration 50) {moved:.2f} s, final {final:.2f} s ({cpu:.2f} s of "
              f"CPU); 10-NN accuracy {in_map:.3f} in the map / {in_code:.3f} in the code = {in_map / in_code:.3f}; "
              f"kept map read back in {hit * 1000:.0f} ms · PCA {pca * 1000:.0f} ms", flush=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, timeout: float = 90.0) -> None:
    """Until the server has used under 0.05 s of CPU in a second: its warm-up (model, data, openTSNE)
    and the page's first run are over, as they are long before a teacher clicks."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now - before < 0.05:
            return
        before = now


def browser() -> None:
    from browser_support import TSNE_WATCH, browser_available, fresh_visit, launch_browser, streamlit_server
    from playwright.sync_api import sync_playwright

    if reason := browser_available():
        sys.exit(f"cannot run the browser measurement: {reason}")
    folder = Path(tempfile.mkdtemp(prefix="tsne-bench-browser-maps-"))
    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        for attempt in ("a fresh server, empty map folder", "after a restart, the map kept on disk"):
            with streamlit_server(env={"AE_EXPLORER_MAP_DIR": str(folder)}, launcher=True) as (url, _, server):
                with fresh_visit(chromium, f"{url}/latent") as page:
                    wait_idle(server.pid)
                    page.evaluate(TSNE_WATCH)
                    cpu = cpu_seconds(server.pid)
                    page.get_by_text("t-SNE", exact=True).first.click()
                    page.wait_for_function("window.__tsne.final !== null", timeout=120_000, polling=50)
                    cpu = cpu_seconds(server.pid) - cpu
                    seen = page.evaluate("window.__tsne")
                    errors = page.locator('[data-testid="stException"]').count()
            first, moved, final = ((seen[k] - seen["click"]) / 1000 for k in ("first", "moved", "final"))
            print(f"browser, {attempt}: click → first map {first:.2f} s, first moved map {moved:.2f} s, final "
                  f"interactive map {final:.2f} s (server CPU meanwhile {cpu:.2f} s; {len(seen['steps'])} maps on "
                  f"the way; exception boxes: {errors}; 2,000 codes)", flush=True)
        chromium.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser", action="store_true", help="also measure the click in the app")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000])
    args = parser.parse_args()
    library(args.sizes)
    if args.browser:
        browser()


if __name__ == "__main__":
    main()
