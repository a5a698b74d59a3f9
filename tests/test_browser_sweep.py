"""A sweep run from Compare in a real browser: trials land one by one on the comparison, and the sweep
is still there, finished, after a reload and after a server restart."""
from __future__ import annotations

import re

from browser_support import browser_tests, launch_browser, streamlit_server, wait_until_rendered

pytestmark = browser_tests()

TRADEOFF_POINTS = """() => {
    const plots = [...document.querySelectorAll('.js-plotly-plot')];
    const plot = plots.find(p => JSON.stringify(p.layout.title || '').includes('The trade-off'));
    return plot ? plot.data.filter(t => (t.name || '').includes('mine')).map(t => t.x.length)
                : plots.map(p => JSON.stringify(p.layout.title));
}"""


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def test_a_sweep_from_compare_lands_trial_by_trial_and_survives_reload_and_restart(tmp_path):
    from playwright.sync_api import sync_playwright

    env = {"AE_EXPLORER_STATE_DIR": str(tmp_path / "browsers"), "AE_EXPLORER_SAVE_DIR": str(tmp_path / "runs")}
    finished = re.compile(r"latent sweep of ae · mine, [^—]+ — 5 of 5 trials done · finished")
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        with streamlit_server(launcher=True, env=env) as (url, _, _proc):
            page.goto(f"{url}/compare?dataset=digits", wait_until="domcontentloaded")
            wait_until_rendered(page, timeout=90)
            page.get_by_text("Run a sweep").click()
            epochs = page.get_by_label("Epochs per trial", exact=True)
            epochs.fill("2")
            epochs.press("Enter")
            wait_until_rendered(page, timeout=120)
            page.get_by_role("button", name="Run the sweep").click()
            seen_done = set()
            for _ in range(600):                     # up to five minutes (a loaded machine), watching trials land
                page.wait_for_timeout(500)
                if m := re.search(r"— (\d) of 5 trials done", _main_text(page)):
                    seen_done.add(int(m.group(1)))
                if finished.search(_main_text(page)):
                    break
            assert finished.search(_main_text(page)), _main_text(page)[:800]
            assert len(seen_done) >= 3, seen_done            # it landed trial by trial, not all at the end
            wait_until_rendered(page, timeout=180)
            assert page.evaluate(TRADEOFF_POINTS) == [5]     # the sweep's five trials on the trade-off curve
            assert page.locator('[data-testid="stException"]').count() == 0
            page.reload(wait_until="domcontentloaded")
            wait_until_rendered(page, timeout=180)
            assert finished.search(_main_text(page))
        with streamlit_server(launcher=True, env=env) as (url, _, _proc):  # a new server process
            page.goto(f"{url}/compare?dataset=digits", wait_until="domcontentloaded")
            wait_until_rendered(page, timeout=90)
            assert finished.search(_main_text(page))
            page.get_by_role("button", name="Compare these").click()
            wait_until_rendered(page, timeout=180)
            assert page.evaluate(TRADEOFF_POINTS) == [5]
            assert page.locator('[data-testid="stException"]').count() == 0
        assert len(list((tmp_path / "browsers").glob("*/sweeps/*/*.pt"))) == 5
        browser.close()
