"""How heavy each page is for a fresh browser on a warm server: time to settle, bytes sent, Plotly charts.

    python bench/page_weight.py [--repeat 3] [--model sparse_kl] [--pages activations train]

Starts the app once with its launcher (as scripts/app.sh does), visits every page once so the server's
caches are warm, then opens each page `--repeat` times, each time in a new browser context (no cache,
no cookies: a student's first visit). Prints per page: the median seconds from navigation to the page's
last change once settled (its heading shown, Streamlit idle, nothing changing for a second), the bytes
the browser received (HTTP response bodies, mostly Streamlit's own frontend, and websocket frames, the
page's content), the seconds the server spent running the page's script for that visit, the CPU seconds
of the page's main thread in the browser (scripts, layout, paint: its weight, steadier than the wall
clock on a shared machine), the number of Plotly charts and images on it, and its time over the Train
page's in the same run (the target: at most 1.6). First it prints how long the server takes per request on
one keep-alive connection (a page's 60–90 frontend modules come over six of them)."""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from browser_support import (  # noqa: E402
    SETTLE_PROBE,
    browser_available,
    launch_browser,
    streamlit_server,
    wait_until_rendered,
)

from explorer.app.navigation import PAGES  # noqa: E402

QUIET = 1.0            # seconds without a DOM change that count as settled
COUNT = """() => ({charts: document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot').length,
                   images: document.querySelectorAll('[data-testid="stMain"] [data-testid="stImage"] img').length,
                   exceptions: document.querySelectorAll('[data-testid="stException"]').length})"""


@dataclass
class Visit:
    seconds: float
    http_bytes: int
    ws_bytes: int
    server_seconds: float
    browser_seconds: float
    charts: int
    images: int
    exceptions: int


@dataclass
class PageResult:
    name: str
    visits: list[Visit] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(v, attr) for v in self.visits)


def visit(browser, url: str, run_log: Path) -> Visit:
    """One fresh browser context opening url: settle time, what it received, the server's script time."""
    logged = run_log.stat().st_size if run_log.exists() else 0
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    responses, frames = [], []
    page.on("response", lambda response: responses.append(response))
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(len(payload))))
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    try:
        page.goto(url, wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=120, quiet=QUIET)
        # performance.now() counts from the navigation's start: the last DOM change is when it settled
        settled_at = page.evaluate(SETTLE_PROBE)["last"] / 1000
        counts = page.evaluate(COUNT)
        # the page's main-thread CPU time (scripts, layout, painting): its weight, less sensitive than the
        # wall clock to what else the machine is doing
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        http = 0
        for response in responses:
            try:
                http += len(response.body())
            except Exception:  # noqa: BLE001 — redirects and aborted requests have no body
                continue
        with open(run_log) as log:       # the app appends one line per script run (explorer.app.timing)
            log.seek(logged)
            server = sum(json.loads(line)["seconds"] for line in log if line.strip())
        return Visit(settled_at, http, sum(frames), server, metrics["TaskDuration"], counts["charts"], counts["images"],
                     counts["exceptions"])
    finally:
        context.close()


def keep_alive_ms(url: str, requests: int = 20) -> float:
    """Median milliseconds per request for Streamlit's frontend modules fetched one after another over
    one keep-alive connection, as a browser does (44 ms each with Nagle's algorithm on, see app/launch)."""
    import http.client
    from urllib.parse import urlsplit

    import streamlit

    modules = sorted((Path(streamlit.__file__).parent / "static" / "static" / "js").glob("*.js"))[:requests]
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    times = []
    for module in modules:
        start = time.perf_counter()
        connection.request("GET", f"{parts.path.rstrip('/')}/static/js/{module.name}")
        connection.getresponse().read()
        times.append((time.perf_counter() - start) * 1000)
    connection.close()
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh visits per page (the median is printed)")
    parser.add_argument("--model", help="a shipped model's name for every page (?model=…), e.g. sparse_kl")
    parser.add_argument("--pages", nargs="*", default=[p.name for p in PAGES],
                        help="page names (default: all; train is always measured, as the reference)")
    args = parser.parse_args()
    if reason := browser_available():
        sys.exit(f"cannot run: {reason}")
    names = list(dict.fromkeys([*args.pages, "train"]))
    paths = {p.name: p.url_path for p in PAGES}
    query = f"?model={args.model}" if args.model else ""
    from playwright.sync_api import sync_playwright

    results = {name: PageResult(name) for name in names}
    run_log = Path(tempfile.mkdtemp()) / "runs.jsonl"
    with (sync_playwright() as playwright,
          streamlit_server(launcher=True, timeout=120, env={"AE_EXPLORER_RUN_LOG": str(run_log)}) as (url, _, _p)):
        print(f"one keep-alive connection: {keep_alive_ms(url):.1f} ms per frontend module (median)")
        browser = launch_browser(playwright)
        warm = time.perf_counter()
        for name in paths:                                # the server's caches, not the browser's
            visit(browser, f"{url}/{paths[name]}{query}", run_log)
        print(f"warmed every page in {time.perf_counter() - warm:.1f} s; {args.repeat} fresh visits per page"
              + (f", model {args.model}" if args.model else ", the default model"))
        for _ in range(args.repeat):                      # interleaved, so a slow spell hits every page alike
            for name in names:
                results[name].visits.append(visit(browser, f"{url}/{paths[name]}{query}", run_log))
        browser.close()
    train = results["train"].median("seconds")
    columns = [("page", 16), ("settled (s)", 12), ("min–max", 12), ("HTTP KiB", 10), ("WS KiB", 9),
               ("server s", 10), ("browser CPU s", 15), ("charts", 8), ("images", 8), ("× Train", 9)]
    print("".join(f"{title:<{width}}" if n == 0 else f"{title:>{width}}" for n, (title, width) in enumerate(columns)))
    for name in names:
        r = results[name]
        cells = [name, f"{r.median('seconds'):.2f}",
                 f"{min(v.seconds for v in r.visits):.2f}–{max(v.seconds for v in r.visits):.2f}",
                 f"{r.median('http_bytes') / 1024:.0f}", f"{r.median('ws_bytes') / 1024:.0f}",
                 f"{r.median('server_seconds'):.2f}", f"{r.median('browser_seconds'):.2f}",
                 f"{r.median('charts'):.0f}", f"{r.median('images'):.0f}",
                 f"{r.median('seconds') / train:.2f}"]
        broken = max(v.exceptions for v in r.visits)
        print("".join(f"{cell:<{width}}" if n == 0 else f"{cell:>{width}}"
                      for n, (cell, (_, width)) in enumerate(zip(cells, columns, strict=True)))
              + (f"  ({broken} exception boxes!)" if broken else ""))


if __name__ == "__main__":
    main()
