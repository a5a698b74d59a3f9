"""Load test: N isolated browser sessions open the app at once on a freshly started server.

    python bench/load_test.py                       # 30 sessions: Home, then every page in turn
    python bench/load_test.py --sessions 5 15 30    # one fresh server per N: how it grows
    python bench/load_test.py --pages latent        # all of them land on one page's address first

Each session (its own browser context, so its own Streamlit session) opens the pages in turn and waits
until each has rendered (its heading is there, Streamlit is idle, the DOM has not changed for a
second). Prints, per page, the p50 / max time to render measured in the browser (navigation to the
page's last change) and the time the server spent running that page for the session (the app logs
each script run when AE_EXPLORER_RUN_LOG is set); exception boxes (first line); the server's memory
(PSS of the Streamlit process and its worker processes: idle, peak, at the end) and its CPU seconds.
The server is pinned to half the CPUs and the browsers to the other half (--no-split: shared), so
thirty Chromiums drawing charts cannot starve it: in a class each browser runs on a student's own
machine. Loopback only; bounded by --timeout per page."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser_support import CHROMIUM, CHROMIUM_ARGS, SETTLE_PROBE, browser_available, settled, streamlit_server  # noqa: E402

DEFAULT_PAGES = ["home", "reconstructions", "activations", "latent", "compare", "train"]
PAGE_CHOICES = [*DEFAULT_PAGES, "claims"]       # `--pages claims`: a class opening the Claims page at once
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    tree, stack = [], [pid]
    while stack:
        p = stack.pop()
        tree.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as handle:
                stack.extend(int(c) for c in handle.read().split())
        except OSError:
            continue
    return tree


def memory_mib(pid: int, field: str = "Pss") -> float:
    """Memory of a process and all its descendants, MiB, from /proc/<pid>/smaps_rollup. "Pss" counts a
    page shared by k processes (torch's libraries, mapped by the server and its training worker) as
    1/k in each, so the sum is what the tree really takes; "Rss" counts it once per process."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith(field + ":"))
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live descendants (from /proc/<pid>/stat)."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / CLOCK_TICKS


async def time_to_render(page, timeout: float, quiet: float = 1.0) -> float:
    """Seconds from navigation to the page's last change, once it has settled."""
    deadline, probe = time.perf_counter() + timeout, None
    while time.perf_counter() < deadline:
        try:
            probe = await page.evaluate(SETTLE_PROBE)
        except Exception:  # noqa: BLE001 — navigation replaced the document: ask again
            probe = None
        if probe and settled(probe, quiet):
            return probe["last"] / 1000          # performance.now() counts from navigation start
        await asyncio.sleep(0.5)
    state = (f"waiting for: {probe['waiting']}" if probe and probe["busy"] else
             f"last change {(probe['now'] - probe['last']) / 1000:.1f} s before" if probe else "no document")
    raise TimeoutError(f"page did not settle in {timeout:.0f} s ({state})")


async def one_session(browser, url: str, pages: list[str], timeout: float) -> list[dict]:
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    results = []
    try:
        for name in pages:
            seconds, error = None, None
            try:
                await page.goto(f"{url}/{'' if name == 'home' else name}", wait_until="commit",
                                timeout=timeout * 1000)
                seconds = await time_to_render(page, timeout)
            except Exception as exc:  # noqa: BLE001 — a timeout is a result to report
                error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
            boxes = page.locator('[data-testid="stException"]')
            texts = [(await boxes.nth(i).inner_text()).splitlines()[0][:160] for i in range(await boxes.count())]
            results.append({"page": name, "seconds": seconds, "exceptions": texts, "error": error})
    finally:
        await context.close()
    return results


async def all_sessions(url: str, sessions: int, pages: list[str], timeout: float) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        outcomes = await asyncio.gather(*(one_session(browser, url, pages, timeout) for _ in range(sessions)))
        await browser.close()
    return [r for session in outcomes for r in session]


def split_cpus() -> tuple[set[int], set[int]]:
    """(server's, browsers') CPUs: half each, so thirty Chromiums drawing charts cannot starve the
    server (in a class each student's browser runs on the student's own machine)."""
    cpus = sorted(os.sched_getaffinity(0))
    half = max(1, len(cpus) // 2)
    return set(cpus[:half]), set(cpus[half:]) or set(cpus)     # one CPU: both share it


def pin(pid: int, cpus: set[int]) -> None:
    """Pin every thread of a process (threads and processes it starts later inherit it)."""
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(task), cpus)


def server_times(log: Path) -> list[dict]:
    """Server-side seconds per (session, page): the sum of that page's script runs for the session
    (a run cut short by a rerun counts too: the student waited through it)."""
    runs: dict[tuple, float] = {}
    for line in log.read_text().splitlines() if log.exists() else []:
        record = json.loads(line)
        key = (record["session"], record["page"])
        runs[key] = runs.get(key, 0.0) + record["seconds"]
    return [{"page": page, "seconds": seconds} for (_, page), seconds in runs.items()]


def load_test(sessions: int, pages: list[str], timeout: float, split: bool = True, launcher: bool = False) -> dict:
    """One fresh server, `sessions` browser sessions at once; the figures for one row of the report."""
    server_cpus, browser_cpus = split_cpus() if split else (os.sched_getaffinity(0),) * 2
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "runs.jsonl"
        with streamlit_server({"AE_EXPLORER_RUN_LOG": str(log)}, launcher=launcher) as (url, healthy, proc):
            pin(proc.pid, server_cpus)
            time.sleep(1.0)
            idle = memory_mib(proc.pid)
            peak = [idle]
            stop = threading.Event()

            def sample() -> None:
                while not stop.wait(0.5):
                    peak[0] = max(peak[0], memory_mib(proc.pid))

            threading.Thread(target=sample, daemon=True).start()
            cpu_before, started = cpu_seconds(proc.pid), time.perf_counter()
            own_cpus = os.sched_getaffinity(0)
            os.sched_setaffinity(0, browser_cpus)        # Chromium inherits this
            try:
                results = asyncio.run(all_sessions(url, sessions, pages, timeout))
            finally:
                os.sched_setaffinity(0, own_cpus)
            wall, cpu = time.perf_counter() - started, cpu_seconds(proc.pid) - cpu_before
            stop.set()
            end, end_rss = memory_mib(proc.pid), memory_mib(proc.pid, "Rss")
        server = server_times(log)
    return {"sessions": sessions, "healthy": healthy, "idle": idle, "peak": max(peak[0], end), "end": end,
            "end_rss": end_rss, "wall": wall, "cpu": cpu, "results": results, "server": server,
            "cpus": (sorted(server_cpus), sorted(browser_cpus))}


def p50_max(rows: list[dict], page: str) -> tuple[float, float, int] | None:
    times = [r["seconds"] for r in rows if r["page"] == page and r["seconds"] is not None]
    return (statistics.median(times), max(times), len(times)) if times else None


def report(run: dict, pages: list[str]) -> None:
    results = run["results"]
    views = len(results)
    print(f"\n{run['sessions']} sessions × {len(pages)} pages on a fresh server "
          f"(healthy after {run['healthy']:.1f} s): "
          f"{run['wall']:.0f} s in all; server on CPUs {run['cpus'][0]}, browsers on {run['cpus'][1]}")
    print(f"  server memory (PSS, with its workers): {run['idle']:.0f} MiB idle → peak {run['peak']:.0f} MiB, "
          f"{run['end']:.0f} MiB at the end (RSS summed over processes: {run['end_rss']:.0f} MiB)")
    print(f"  server CPU {run['cpu']:.0f} s = {run['cpu'] / views:.2f} s per page view")
    print(f"  {'':16s} {'in the browser (to rendered)':>30s}   {'on the server (script runs)':>30s}")
    for name in pages:
        browser, server = p50_max(results, name), p50_max(run["server"], name)
        cells = [f"p50 {b[0]:6.1f} s  max {b[1]:6.1f} s ({b[2]:2d})" if b else f"{'—':>30s}" for b in (browser, server)]
        print(f"  {name:16s} {cells[0]:>30s}   {cells[1]:>30s}")
    boxes = [r for r in results if r["exceptions"]]
    errors = [r for r in results if r["error"]]
    print(f"  exception boxes: {sum(len(r['exceptions']) for r in boxes)} in {len(boxes)} of {views} page views; "
          f"timeouts/errors: {len(errors)}")
    for r in (boxes + errors)[:10]:
        print(f"    {r['page']}: {r['exceptions'] or r['error']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[30],
                        help="one run per number, each on a fresh server")
    parser.add_argument("--pages", nargs="+", default=DEFAULT_PAGES, choices=PAGE_CHOICES,
                        help="visited in this order; all sessions open the first one at once")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per page load")
    parser.add_argument("--launcher", action="store_true",
                        help="start the server with the app's launcher (scripts/app.sh), not `streamlit run`")
    parser.add_argument("--no-split", dest="split", action="store_false",
                        help="let the server and the browsers share every CPU (default: half each)")
    args = parser.parse_args()
    if reason := browser_available():
        sys.exit(f"cannot run: {reason}")
    runs = []
    for n in args.sessions:
        runs.append(load_test(n, args.pages, args.timeout, args.split, args.launcher))
        report(runs[-1], args.pages)
    if len(runs) > 1:
        print("\ngrowth with N  peak MiB  end MiB  server CPU s   p50 in the browser / on the server per page")
        print(f"{'':41s}" + "".join(f"{name[:15]:>17s}" for name in args.pages))
        for run in runs:
            cells = []
            for name in args.pages:
                browser, server = p50_max(run["results"], name), p50_max(run["server"], name)
                cells.append(f"{browser[0] if browser else float('nan'):7.1f} "
                             f"/{server[0] if server else float('nan'):5.2f} s")
            print(f"  N = {run['sessions']:<6d} {run['peak']:8.0f} {run['end']:8.0f} {run['cpu']:13.0f}   " + "".join(
                f"{c:>17s}" for c in cells))
    if any(r["exceptions"] or r["error"] for run in runs for r in run["results"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
