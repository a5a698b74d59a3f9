"""Kill the training worker, then the server, in the middle of a training started from the Train page in
headless Chromium, and print what was kept.

    python bench/faults.py [--epochs 400]

Prints, for the killed worker: what the page said and the epoch its model was kept at; for the killed
server: the interrupted training a restarted server lists in the same browser's model list, and the
files in that browser's folder."""
from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser_support import launch_browser, streamlit_server, wait_until_rendered  # noqa: E402

EPOCH_SHOWN = re.compile(r"reconstructions after epoch (\d+)")


def children(pid: int) -> list[int]:
    """The processes whose parent is pid."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def training_worker(server_pid: int) -> int:
    """The worker that trains: of the server's worker processes, the one that has used the most CPU (the
    other is the idle spare)."""
    workers = [p for p in children(server_pid) if b"explorer.app.worker" in Path(f"/proc/{p}/cmdline").read_bytes()]
    return max(workers, key=cpu_ticks)


def start_training(page, url: str, epochs: int, at_least: int) -> int:
    page.goto(f"{url}/train?variant=ae", wait_until="domcontentloaded")
    wait_until_rendered(page, timeout=120)
    page.get_by_role("spinbutton", name="Epochs").fill(str(epochs))
    page.get_by_role("spinbutton", name="Epochs").press("Enter")
    wait_until_rendered(page, timeout=60)
    page.get_by_role("button", name="Train", exact=True).click()
    deadline = time.time() + 300
    while time.time() < deadline:
        text = page.inner_text("body")
        shown = EPOCH_SHOWN.search(text)
        if shown and int(shown.group(1)) >= at_least:
            return int(shown.group(1))
        time.sleep(0.2)
    raise TimeoutError("the training did not show its epochs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--shots", type=Path, default=None, help="folder for screenshots of what the page said")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    state = Path(tempfile.mkdtemp(prefix="ae-faults-"))
    env = {**os.environ, "AE_EXPLORER_STATE_DIR": str(state)}
    with sync_playwright() as pw:
        browser = launch_browser(pw)
        context = browser.new_context(viewport={"width": 1400, "height": 900})   # one browser: one cookie
        page = context.new_page()
        with streamlit_server(env, timeout=120) as (url, _, server):
            shown = start_training(page, url, args.epochs, at_least=5)
            worker = training_worker(server.pid)
            os.kill(worker, signal.SIGKILL)
            page.get_by_text("killed (SIGKILL)").wait_for(timeout=120_000)
            said = next(line for line in page.inner_text("body").splitlines() if "killed (SIGKILL)" in line)
            if args.shots:
                args.shots.mkdir(parents=True, exist_ok=True)
                wait_until_rendered(page, timeout=120)
                for width, height in ((1400, 900), (1024, 768)):
                    page.set_viewport_size({"width": width, "height": height})
                    page.screenshot(path=str(args.shots / f"train-worker-killed-{width}.png"), full_page=True)
            print(f"worker killed (SIGKILL) when the page showed epoch {shown} of {args.epochs}")
            print(f"  the page said: {said}")
            shown = start_training(page, url, args.epochs, at_least=5)
            server.kill()
            server.wait()
            print(f"server killed (SIGKILL) when the page showed epoch {shown} of {args.epochs}")
        deadline = time.time() + 120
        interrupted = list(state.glob("*/interrupted/*.pt"))
        while time.time() < deadline and not interrupted:     # the orphaned worker notices and writes its model
            time.sleep(0.2)
            interrupted = list(state.glob("*/interrupted/*.pt"))
        with streamlit_server(env, timeout=120) as (url, _, server):
            page.goto(url, wait_until="domcontentloaded")
            wait_until_rendered(page, timeout=120)
            page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
            page.keyboard.type("interrupted")                 # the list is long: filter it as a user would
            page.get_by_role("option").first.wait_for(timeout=30_000)
            listed = [t for t in page.get_by_role("option").all_inner_texts() if "interrupted" in t]
            print(f"  after a restart the model list shows: {listed or 'nothing interrupted'}")
        for path in sorted(state.glob("*/*/*.pt")):
            print(f"  on disk: {path.relative_to(state)} ({path.stat().st_size / 1024:.0f} KB)")
        browser.close()


if __name__ == "__main__":
    main()
