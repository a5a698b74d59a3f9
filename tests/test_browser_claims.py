"""The Claims page in a real browser: every shipped sweep's preset, and the shipped variants' two sets, judged with no
exception box — each claim's verdict, chart and numbers on screen."""
from __future__ import annotations

import pytest
from browser_support import ROOT, browser_tests, full_screenshot, launch_browser, streamlit_server, wait_until_rendered

pytestmark = browser_tests()

SHOTS = ROOT / "artifacts" / "screenshots"
PRESETS = ["λ sweep of sparse_l1", "β sweep of sparse_kl", "k sweep of topk", "k sweep of batch_topk",
           "λ sweep of jumprelu", "the classic variants", "the sparse autoencoders"]
CLAIMS = 6


@pytest.fixture(scope="module")
def claims_page():
    from playwright.sync_api import sync_playwright

    (ROOT / "artifacts").mkdir(exist_ok=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as (url, _, _proc), sync_playwright() as playwright:
        browser = launch_browser(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/claims", wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=600)       # a fresh server measures the default sweep first
        page.get_by_text("Every claim at once").click()        # every section, every chart, for each preset
        page.wait_for_timeout(300)
        wait_until_rendered(page, timeout=120)
        yield page
        browser.close()


@pytest.mark.parametrize("preset", PRESETS)
def test_every_shipped_preset_is_judged_without_an_exception(claims_page, preset):
    page = claims_page
    page.get_by_role("button", name=preset, exact=True).click()
    page.wait_for_timeout(500)                       # the click's rerun starts
    wait_until_rendered(page, timeout=600)           # models not measured yet are measured now, with progress
    slug = preset.replace(" ", "-")
    full_screenshot(page, str(SHOTS / f"claims-{slug}.png"), max_height=9000)
    page.set_viewport_size({"width": 1400, "height": 1000})
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()
    main = page.locator('[data-testid="stMain"]')
    text = main.inner_text()
    assert "Verdicts" in text and "Every number" in text
    badges = sum(text.count(v) for v in ("check_circle", "cancel", "help"))      # the verdict badges' icons
    assert badges >= 2 * CLAIMS, text[:2000]                          # each claim: in the summary and its section
    assert page.locator(".js-plotly-plot").count() >= 3
    assert page.locator('[data-testid="stTable"]').count() == 1
