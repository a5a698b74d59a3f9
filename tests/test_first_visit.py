"""The first visitor of a freshly launched server (the launcher scripts/app.sh runs) gets Home with
the default model at once: never Streamlit's file-name navigation, never a page without our heading
for long. Times are written to artifacts/timings.txt (targets live in bench/, not in assertions)."""
from __future__ import annotations

import time

from browser_support import (
    FIRST_VISIT_WATCH,
    ROOT,
    browser_tests,
    launch_browser,
    streamlit_server,
    wait_until_rendered,
)

pytestmark = browser_tests()



def test_the_first_visitor_of_a_launched_server_gets_home_with_a_model_and_no_file_name_navigation():
    from playwright.sync_api import sync_playwright

    launched = time.perf_counter()
    with streamlit_server(launcher=True) as (url, healthy, _), sync_playwright() as playwright:
        browser = launch_browser(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(FIRST_VISIT_WATCH)
        page.goto(url, wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=60, quiet=0.5)
        ready = time.perf_counter() - launched
        seen = page.evaluate("window.__seen")
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
        browser.close()
    assert not seen["legacy"], "the pages/ folder's file-name navigation showed"
    assert "Activations & sparsity" in nav and "Latent space" in nav
    assert any("Active model" in m and "ae" in m for m in metrics)
    (ROOT / "artifacts").mkdir(exist_ok=True)
    with open(ROOT / "artifacts" / "timings.txt", "a") as log:
        log.write(f"launcher: healthy {healthy:.1f} s; Home with a model rendered {ready:.1f} s after launch "
                  f"(heading at {seen['heading'] / 1000:.1f} s, first metric at {seen['metric'] / 1000:.1f} s "
                  f"after navigation)\n")


def test_the_launched_app_runs_every_page_from_its_own_main_script():
    """Under the launcher Streamlit's main script is explorer/app/entry.py: every page and the links
    between them must resolve from there too."""
    from playwright.sync_api import sync_playwright

    with streamlit_server(launcher=True) as (url, _, _proc), sync_playwright() as playwright:
        browser = launch_browser(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for path in ("", "train", "reconstructions", "activations", "latent", "compare", "claims"):
            page.goto(f"{url}/{path}", wait_until="domcontentloaded")
            wait_until_rendered(page, timeout=600 if path == "claims" else 90)   # claims: measures on a fresh server
            assert page.locator('[data-testid="stException"]').count() == 0, path
        page.goto(url, wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=180)
        page.get_by_role("link", name="Map the latent space").click()        # a page link from Home
        page.get_by_role("heading", name="Latent space").wait_for(timeout=180_000)
        browser.close()
