"""Live training a class can watch: the Train page in headless Chromium against the command line, same model
and settings, and how soon the page shows reconstructions — and recognisable ones.

    python bench/live_training.py [--variants ae,sparse_kl] [--epochs N] [--runs 1]

For each variant, at the Train page's default settings (or --epochs): the command line's `train` images/s,
then the page's (as its "Finished after …" line reports them, from the same training loop), their ratio, the
seconds from the click on Train to the first reconstruction strip on screen, and to the first strip whose
digits are recognisable: at least RECOGNISED of its 10 reconstructions named as their own digit by a 5-NN
classifier fitted on the training images (it names REAL_ACCURACY of the real test images right).
Run it on a quiet machine: both sides share the CPU with nothing else."""
from __future__ import annotations

import argparse
import base64
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from browser_support import launch_browser, streamlit_server, wait_until_rendered  # noqa: E402

from explorer import load_dataset  # noqa: E402
from explorer.registry import get_variant  # noqa: E402
from explorer.training import default_epochs  # noqa: E402
from explorer.views import pick_indices  # noqa: E402

RECOGNISED = 8            # of the strip's 10 reconstructions
PREVIEW_COUNT, SCALE, PAD, SIDE = 10, 4, 2, 28     # the Train page's strip: rows_png(…, scale=4), 28×28 images
SPEED = re.compile(r"Finished after (\d+) epochs in ([\d.]+) s \(([\d,]+) images/s\)")
CLI_SPEED = re.compile(r"([\d,]+) samples/s")

# Installed in the page before the click: every new reconstruction strip (its caption names the epoch) is
# fetched at once, with the time it appeared on a clock the click starts.
STRIP_WATCH = """() => {
  window.__strips = {click: performance.now(), frames: [], seen: new Set()};
  const look = () => {
    for (const figure of document.querySelectorAll('[data-testid="stImage"]')) {
      const caption = figure.innerText || '';
      const match = caption.match(/reconstructions after epoch (\\d+)/);
      const img = figure.querySelector('img');
      if (!match || !img || !img.complete || !img.naturalWidth || window.__strips.seen.has(img.src)) continue;
      window.__strips.seen.add(img.src);
      const at = performance.now() - window.__strips.click, epoch = Number(match[1]);
      fetch(img.src).then(r => r.arrayBuffer()).then(buffer => {
        let text = ''; for (const b of new Uint8Array(buffer)) text += String.fromCharCode(b);
        window.__strips.frames.push({at, epoch, png: btoa(text)});
      });
    }
    if (!window.__strips.done) requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}"""


def reconstructions(png: bytes) -> np.ndarray:
    """The strip's bottom row, as (10, 784) images in [0, 1] (rows_png's layout, undone)."""
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float32)[::SCALE, ::SCALE] / 255.0
    top = SIDE + PAD
    return np.stack([pixels[top:top + SIDE, c * (SIDE + PAD): c * (SIDE + PAD) + SIDE].reshape(-1)
                     for c in range(PREVIEW_COUNT)])


def cli_speed(variant: str, epochs: int, batch_size: int, out: Path) -> float:
    done = subprocess.run([sys.executable, "-m", "explorer", "train", "--variant", variant, "--dataset", "mnist-5k",
                           "--epochs", str(epochs), "--batch-size", str(batch_size), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "AE_EXPLORER_OFFLINE": "1"})
    return float(CLI_SPEED.search(done.stdout + done.stderr).group(1).replace(",", ""))


def page_run(browser, url: str, variant: str, epochs: int | None) -> tuple[float, list[dict]]:
    """(the page's images/s, the strips it showed) for one click on Train."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(f"{url}/train?variant={variant}", wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=180)
        if epochs is not None:
            page.get_by_role("spinbutton", name="Epochs").fill(str(epochs))
            page.get_by_role("spinbutton", name="Epochs").press("Enter")
            wait_until_rendered(page, timeout=120)
        page.evaluate(STRIP_WATCH)
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text(re.compile("Finished after")).wait_for(timeout=900_000)
        page.wait_for_timeout(500)
        page.evaluate("() => { window.__strips.done = true; }")
        speed = SPEED.search(page.get_by_text(re.compile("Finished after")).inner_text())
        return float(speed.group(3).replace(",", "")), page.evaluate("() => window.__strips.frames")
    finally:
        page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="ae,sparse_kl")
    parser.add_argument("--epochs", type=int, default=None, help="default: the Train page's own default")
    parser.add_argument("--runs", type=int, default=1,
                        help="clicks on Train per variant (a warm worker after the first)")
    args = parser.parse_args()

    from sklearn.neighbors import KNeighborsClassifier

    data = load_dataset("mnist-5k")
    knn = KNeighborsClassifier(5).fit(data.train_x.numpy(), data.train_y.numpy())
    real = float((knn.predict(data.test_x.numpy()) == data.test_y.numpy()).mean())
    labels = data.test_y[pick_indices(data.test_y, PREVIEW_COUNT, seed=0)].numpy()
    print(f"the 5-NN judge names {real:.1%} of the real test images right; 'recognisable': ≥ {RECOGNISED} of "
          f"the strip's {PREVIEW_COUNT}", flush=True)
    env = {"AE_EXPLORER_STATE_DIR": tempfile.mkdtemp(), "AE_EXPLORER_SAVE_DIR": tempfile.mkdtemp()}
    from playwright.sync_api import sync_playwright

    with streamlit_server(env, timeout=180, launcher=True) as (url, _, _proc), sync_playwright() as playwright:
        browser = launch_browser(playwright)
        for variant in args.variants.split(","):
            cls = get_variant(variant)
            batch = cls.default_batch_size
            budget = default_epochs(len(data.train_x), batch)
            epochs = args.epochs or (budget if cls.demo_needs_full_budget else min(20, budget))
            with tempfile.TemporaryDirectory() as tmp:
                cli = cli_speed(variant, epochs, batch, Path(tmp) / "m.pt")
            for run in range(args.runs):
                started = time.perf_counter()
                speed, frames = page_run(browser, url, variant, args.epochs)
                frames.sort(key=lambda f: f["at"])
                named = [int((knn.predict(reconstructions(base64.b64decode(f["png"]))) == labels).sum())
                         for f in frames]
                first_ok = next((f for f, n in zip(frames, named, strict=True) if n >= RECOGNISED), None)
                first = frames[0] if frames else None
                print(f"{variant} ({epochs} epochs, batch {batch}), run {run + 1}: command line {cli:,.0f} images/s · "
                      f"Train page {speed:,.0f} images/s ({speed / cli:.0%}) · first reconstructions "
                      + (f"{first['at'] / 1000:.1f} s after the click (epoch {first['epoch']})" if first else "never")
                      + " · recognisable "
                      + (f"{first_ok['at'] / 1000:.1f} s after the click (epoch {first_ok['epoch']}, "
                         f"{named[frames.index(first_ok)]}/10)" if first_ok
                         else f"never (best {max(named, default=0)}/10)")
                      + f" · {len(frames)} strips drawn · {time.perf_counter() - started:.0f} s in all", flush=True)


if __name__ == "__main__":
    main()
