"""Live training a class can watch: the Train page in headless Chromium against the command line, same model
and settings, and how soon the page shows reconstructions — and recognisable ones.

    python bench/live_training.py [--variants ae,sparse_kl] [--epochs N] [--runs 1]

For each variant, at the Train page's default settings (or --epochs): the command line's `train` images/s,
then the page's (as its "Finished after …" line reports them, from the same training loop), their ratio, the
seconds from the click on Train to the first reconstruction strip on screen, and to the first strip of an
epoch whose reconstructions are recognisable: a 5-NN classifier fitted on the training images names at least
RECOGNISED of JUDGED test reconstructions as their own digit (it names 93.6 % of the real test images right).
Which epoch that is comes from training the same model with the same seed here, judging every epoch.
The click comes once the page's spare training process is warm, as after a teacher has chosen the settings.
Run it on a quiet machine: both sides share the CPU with nothing else."""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from browser_support import launch_browser, streamlit_server, wait_until_rendered  # noqa: E402

from explorer import load_dataset  # noqa: E402
from explorer.registry import get_variant  # noqa: E402
from explorer.training import default_epochs  # noqa: E402

RECOGNISED, JUDGED = 0.8, 300       # the fraction of the first JUDGED test images' reconstructions named right
SPEED = re.compile(r"Finished after (\d+) epochs in ([\d.]+) s \(([\d,]+) images/s\)")
CLI_SPEED = re.compile(r"([\d,]+) samples/s")

# Installed in the page before the click: the time each new reconstruction strip (its caption names the
# epoch) is on screen, on a clock the click starts.
STRIP_WATCH = """() => {
  window.__strips = {click: performance.now(), frames: [], seen: new Set()};
  const look = () => {
    for (const figure of document.querySelectorAll('[data-testid="stImage"]')) {
      const match = (figure.innerText || '').match(/reconstructions after epoch (\\d+)/);
      const img = figure.querySelector('img');
      if (!match || !img || !img.complete || !img.naturalWidth || window.__strips.seen.has(img.src)) continue;
      window.__strips.seen.add(img.src);
      window.__strips.frames.push({at: performance.now() - window.__strips.click, epoch: Number(match[1])});
    }
    if (!window.__strips.done) requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}"""


def recognisable_epoch(variant: str, epochs: int, batch_size: int, data) -> tuple[int | None, float]:
    """(the first epoch whose reconstructions the judge names right at RECOGNISED or better, the best fraction),
    training the page's model (same variant, defaults, seed 0) here."""
    import torch
    from sklearn.neighbors import KNeighborsClassifier

    from explorer import TrainSettings, build_model, train

    judge = KNeighborsClassifier(5).fit(data.train_x.numpy(), data.train_y.numpy())
    x, y = data.test_x[:JUDGED], data.test_y[:JUDGED].numpy()
    named: list[float] = []

    def judge_epoch(event) -> bool:
        if event.kind == "epoch":
            model = event.model
            was = model.training
            model.eval()
            with torch.no_grad():
                named.append(float((judge.predict(model(x).numpy()) == y).mean()))
            model.train(was)
            return named[-1] >= RECOGNISED        # stop there
        return False

    model = build_model(variant, {}, input_dim=data.input_dim, seed=0)
    train(model, data, TrainSettings(epochs=epochs, batch_size=batch_size, lr=1e-3, seed=0), callback=judge_epoch)
    first = next((i + 1 for i, n in enumerate(named) if n >= RECOGNISED), None)
    return first, max(named, default=0.0)


def wait_for_warm_worker(server_pid: int, timeout: float = 120.0) -> None:
    """Until the server's spare training process has finished starting (its CPU time stops growing)."""
    from faults import children, cpu_ticks

    deadline, last = time.time() + timeout, -1
    while time.time() < deadline:
        workers = [p for p in children(server_pid) if b"explorer.app.worker" in Path(f"/proc/{p}/cmdline").read_bytes()]
        ticks = sum(cpu_ticks(p) for p in workers)
        if workers and ticks == last:
            return
        last = ticks
        time.sleep(1.0)


def cli_speed(variant: str, epochs: int, batch_size: int, out: Path) -> float:
    done = subprocess.run([sys.executable, "-m", "explorer", "train", "--variant", variant, "--dataset", "mnist-5k",
                           "--epochs", str(epochs), "--batch-size", str(batch_size), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "AE_EXPLORER_OFFLINE": "1"})
    return float(CLI_SPEED.search(done.stdout + done.stderr).group(1).replace(",", ""))


def page_run(browser, url: str, server_pid: int, variant: str, epochs: int | None) -> tuple[float, list[dict]]:
    """(the page's images/s, the strips it showed) for one click on Train."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(f"{url}/train?variant={variant}", wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=180)
        if epochs is not None:
            page.get_by_role("spinbutton", name="Epochs").fill(str(epochs))
            page.get_by_role("spinbutton", name="Epochs").press("Enter")
            wait_until_rendered(page, timeout=120)
        wait_for_warm_worker(server_pid)
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

    data = load_dataset("mnist-5k")
    env = {"AE_EXPLORER_STATE_DIR": tempfile.mkdtemp(), "AE_EXPLORER_SAVE_DIR": tempfile.mkdtemp()}
    from playwright.sync_api import sync_playwright

    with streamlit_server(env, timeout=180, launcher=True) as (url, _, proc), sync_playwright() as playwright:
        browser = launch_browser(playwright)
        for variant in args.variants.split(","):
            cls = get_variant(variant)
            batch = cls.default_batch_size
            budget = default_epochs(len(data.train_x), batch)
            epochs = args.epochs or (budget if cls.demo_needs_full_budget else min(20, budget))
            with tempfile.TemporaryDirectory() as tmp:
                cli = cli_speed(variant, epochs, batch, Path(tmp) / "m.pt")
            good, best = recognisable_epoch(variant, epochs, batch, data)
            for run in range(args.runs):
                started = time.perf_counter()
                speed, frames = page_run(browser, url, proc.pid, variant, args.epochs)
                frames.sort(key=lambda f: f["at"])
                first = frames[0] if frames else None
                shown = next((f for f in frames if good is not None and f["epoch"] >= good), None)
                print(f"{variant} ({epochs} epochs, batch {batch}), run {run + 1}: command line {cli:,.0f} images/s · "
                      f"Train page {speed:,.0f} images/s ({speed / cli:.0%}) · first reconstructions "
                      + (f"{first['at'] / 1000:.1f} s after the click (epoch {first['epoch']})" if first else "never")
                      + f" · recognisable from epoch {good} ({RECOGNISED:.0%} of {JUDGED} named right), on screen "
                      + (f"{shown['at'] / 1000:.1f} s after the click (epoch {shown['epoch']})" if shown
                         else f"never (best {best:.0%})")
                      + f" · {len(frames)} strips drawn · {time.perf_counter() - started:.0f} s in all", flush=True)


if __name__ == "__main__":
    main()
