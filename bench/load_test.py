"""Load test: N isolated browser sessions open the app at once on a freshly started server.

    python bench/load_test.py --sessions 30 [--pages "" reconstructions activations latent compare]

Each session (its own browser context, so its own Streamlit session) opens the pages in turn, waits
until each has rendered, and records the time and any exception boxes. Prints p50 / max time per
page, the exceptions seen (with their first line), and the server's peak memory (the Streamlit
process and its children). Loopback only; bounded in time (--timeout per page)."""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser_support import CHROMIUM, CHROMIUM_ARGS, browser_available, streamlit_server  # noqa: E402

DEFAULT_PAGES = ["", "reconstructions", "activations", "latent", "compare", "train"]


def rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants, MiB (from /proc)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))
            with open(f"/proc/{p}/task/{p}/children") as handle:
                stack.extend(int(c) for c in handle.read().split())
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


async def rendered(page, timeout: float, quiet: float = 1.0) -> None:
    deadline = time.perf_counter() + timeout
    await page.wait_for_selector('[data-testid="stMain"] h1', state="attached", timeout=timeout * 1000)
    last, stable_since = None, None
    while time.perf_counter() < deadline:
        busy = await page.locator('[data-testid="stStatusWidget"], [data-testid="stSkeleton"], '
                                  '[data-testid="stSpinner"]').count()
        html = await page.content()
        if not busy and html == last:
            stable_since = stable_since or time.perf_counter()
            if time.perf_counter() - stable_since >= quiet:
                return
        else:
            stable_since = None
        last = html
        await asyncio.sleep(0.25)
    raise TimeoutError("page did not settle")


async def one_session(browser, url: str, pages: list[str], timeout: float) -> list[dict]:
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    results = []
    try:
        for path in pages:
            start = time.perf_counter()
            error = None
            try:
                await page.goto(f"{url}/{path}", wait_until="domcontentloaded", timeout=timeout * 1000)
                await rendered(page, timeout)
            except Exception as exc:  # noqa: BLE001 — a timeout is a result to report
                error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
            boxes = page.locator('[data-testid="stException"]')
            texts = [(await boxes.nth(i).inner_text()).splitlines()[0][:160] for i in range(await boxes.count())]
            results.append({"page": path or "home", "seconds": time.perf_counter() - start - 1.0,
                            "exceptions": texts, "error": error})
    finally:
        await context.close()
    return results


async def run(url: str, sessions: int, pages: list[str], timeout: float) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        outcomes = await asyncio.gather(*(one_session(browser, url, pages, timeout) for _ in range(sessions)))
        await browser.close()
    return [r for session in outcomes for r in session]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--pages", nargs="*", default=DEFAULT_PAGES)
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds allowed per page load")
    args = parser.parse_args()
    if reason := browser_available():
        sys.exit(f"cannot run: {reason}")
    with streamlit_server() as (url, healthy, proc):
        peak = [rss_mib(proc.pid)]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.5):
                peak[0] = max(peak[0], rss_mib(proc.pid))

        threading.Thread(target=sample, daemon=True).start()
        started = time.perf_counter()
        results = asyncio.run(run(url, args.sessions, args.pages, args.timeout))
        stop.set()
        wall = time.perf_counter() - started
    print(f"{args.sessions} sessions × {len(args.pages)} pages on a fresh server (healthy after {healthy:.1f} s); "
          f"{wall:.0f} s in all; server peak memory {peak[0]:.0f} MiB (with its worker processes)")
    exceptions = [r for r in results if r["exceptions"]]
    errors = [r for r in results if r["error"]]
    for name in dict.fromkeys(r["page"] for r in results):
        times = [r["seconds"] for r in results if r["page"] == name and not r["error"]]
        if times:
            print(f"  {name:16s} p50 {statistics.median(times):6.1f} s   max {max(times):6.1f} s   "
                  f"({len(times)} rendered)")
    print(f"exception boxes: {sum(len(r['exceptions']) for r in exceptions)} in {len(exceptions)} page views; "
          f"timeouts/errors: {len(errors)}")
    for r in (exceptions + errors)[:10]:
        print(f"  {r['page']}: {r['exceptions'] or r['error']}")


if __name__ == "__main__":
    main()
