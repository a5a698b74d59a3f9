"""Serve a copy of the app and visit every page; meant to run where there is no network at all.

    python tests/offline_tour.py COPY_DIR     → one JSON line: each page's heading, exception boxes and
                                                active model, and what the app says about a download dataset
Run by tests/test_offline_start.py inside a network namespace that has only a loopback interface."""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_support import launch_browser, streamlit_server, wait_until_rendered  # noqa: E402

PAGES = ["", "train", "reconstructions", "activations", "latent", "compare", "claims"]
SLOW = {"claims": 600}     # a fresh server measures the default sweep's models first


def tour(copy: Path) -> dict:
    from playwright.sync_api import sync_playwright

    findings: dict = {"pages": {}}
    # AE_EXPLORER_OFFLINE=0: nothing tells the app it is offline; it must find out and cope.
    with streamlit_server({"AE_EXPLORER_OFFLINE": "0"}, timeout=120, root=copy) as (url, healthy, _):
        findings["healthy_after_s"] = round(healthy, 1)
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for path in PAGES:
                page.goto(f"{url}/{path}", wait_until="domcontentloaded")
                wait_until_rendered(page, timeout=SLOW.get(path, 180))
                findings["pages"][path or "home"] = {
                    "heading": page.locator("h1").first.inner_text(),
                    "exceptions": page.locator('[data-testid="stException"]').all_inner_texts(),
                    "model": page.get_by_role("combobox", name="Active model").input_value(),
                    "charts_and_images": page.locator('.js-plotly-plot, [data-testid="stImage"]').count()}
            page.goto(url, wait_until="domcontentloaded")
            wait_until_rendered(page, timeout=120)
            page.get_by_role("combobox", name="Dataset").click()
            page.get_by_role("option", name="mnist", exact=True).click()
            wait_until_rendered(page, timeout=180)
            findings["download_dataset"] = {
                "main": page.locator('[data-testid="stMain"]').inner_text(),
                "exceptions": page.locator('[data-testid="stException"]').all_inner_texts()}
            browser.close()
    return findings


if __name__ == "__main__":
    print(json.dumps(tour(Path(sys.argv[1]))))
