"""App start and page times, measured in headless Chromium against a freshly started server.

    python bench/app_pages.py [--repeat 2]

Prints: seconds from `streamlit run` to Home rendered with the default model loaded (target < 10 s,
offline); each page's first visit and revisits in the browser (page load and websocket included);
and each page's script time on the server, first run and rerun with cached results (target < 1 s),
measured in-process with Streamlit's AppTest."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser_support import (  # noqa: E402
    FIRST_VISIT_WATCH,
    browser_available,
    launch_browser,
    streamlit_server,
    wait_until_rendered,
)

PAGES = ["", "train", "reconstructions"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="revisits per page")
    parser.add_argument("--plain", action="store_true", help="start with `streamlit run streamlit_app.py` instead "
                        "of the launcher, to compare")
    args = parser.parse_args()
    if reason := browser_available():
        sys.exit(f"cannot run: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_browser(playwright)         # open first: a visitor's browser is already running
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(FIRST_VISIT_WATCH)
        launched = time.perf_counter()
        with streamlit_server(launcher=not args.plain) as (url, healthy_after, _):
            navigated = time.perf_counter() - launched
            page.goto(url, wait_until="domcontentloaded")
            wait_until_rendered(page, quiet=0.5)
            home_ready = time.perf_counter() - launched - 0.5          # the last change, not the quiet after it
            seen = page.evaluate("window.__seen")
            how = "streamlit run streamlit_app.py" if args.plain else "the launcher (scripts/app.sh)"
            heading, metric = (navigated + seen[k] / 1000 for k in ("heading", "metric"))
            print(f"{how}: healthy after {healthy_after:.1f} s; Home's heading at {heading:.1f} s, its model's "
                  f"metrics at {metric:.1f} s, settled at {home_ready:.1f} s after launch (file-name navigation "
                  f"seen: {'yes' if seen['legacy'] else 'no'})")
            visit_pages(page, url, args.repeat)
        browser.close()
    server_side_times()


def visit_pages(page, url: str, repeat: int) -> None:
    """Each page's first visit and revisits in the browser (page load and websocket included)."""
    for path in PAGES:
        times = []
        for _ in range(repeat + 1):
            start = time.perf_counter()
            page.goto(f"{url}/{path}", wait_until="domcontentloaded")
            wait_until_rendered(page, quiet=0.5)
            times.append(time.perf_counter() - start - 0.5)
        first, rest = times[0], times[1:]
        print(f"/{path or '(home)'}: first visit {first:.2f} s, revisit median {statistics.median(rest):.2f} s "
              f"(browser-side, page load included)")


def server_side_times() -> None:
    from apptest_support import server_like_pages
    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[1]
    with server_like_pages():
        at = AppTest.from_file(str(root / "streamlit_app.py"), default_timeout=120)
        start = time.perf_counter()
        at.run()
        print(f"server-side, first script run in a fresh process (imports, data, model): "
              f"{time.perf_counter() - start:.2f} s")
        for page in ("pages/home.py", "pages/train.py", "pages/reconstructions.py"):
            at.switch_page(page)
            runs = []
            for _ in range(3):
                start = time.perf_counter()
                at.run()
                runs.append(time.perf_counter() - start)
            print(f"server-side {page}: first {runs[0]:.3f} s, cached rerun median {statistics.median(runs[1:]):.3f} s")


if __name__ == "__main__":
    main()
