"""The dictionary in a real browser: a click on a numbered tile of "All filters" opens that unit's feature
page, a partner's button opens the partner's, and the two sheets sit side by side at 1400 px, one above the
other at a projector's 1024 px (never shrunk). Run alone with `pytest -m browser`."""
from __future__ import annotations

import pytest
from browser_support import browser_tests, launch_browser, streamlit_server, wait_until_rendered

from explorer import load_checkpoint
from explorer.activations import activation_report, unit_order
from explorer.app.catalog import CHECKPOINT_DIR

pytestmark = browser_tests()
SHEET_COLUMNS = 7          # the page's tiles per row
CELL_WIDTH, LABEL_BAND = 60, 14    # a 28-pixel image at 2 CSS pixels a pixel and its gap; the label above it


@pytest.fixture(scope="module")
def app():
    from playwright.sync_api import sync_playwright

    with streamlit_server() as (url, _, _proc), sync_playwright() as playwright:
        browser = launch_browser(playwright)
        yield url, browser
        browser.close()


def test_a_clicked_tile_opens_its_feature_page_and_a_partner_opens_its_own(app, mnist5k):
    url, browser = app
    order = [int(u) for u in unit_order(activation_report(load_checkpoint(CHECKPOINT_DIR / "topk.pt"), mnist5k),
                                        "firing")]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{url}/activations?model=topk&view=filters", wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=120)
        filters = page.locator(".st-key-act_filters_sheet .js-plotly-plot").bounding_box()
        atoms = page.locator(".st-key-act_atoms_sheet .js-plotly-plot").bounding_box()
        assert filters and atoms and atoms["y"] == pytest.approx(filters["y"], abs=2)      # side by side
        assert filters["width"] == SHEET_COLUMNS * CELL_WIDTH                                # at its own size
        # the atoms' second row, third tile
        page.mouse.click(atoms["x"] + 2.5 * CELL_WIDTH - 2, atoms["y"] + (LABEL_BAND + 4 + 56) + LABEL_BAND + 28)
        clicked = order[SHEET_COLUMNS + 2]
        page.wait_for_url(f"**view=unit&unit={clicked}", timeout=120_000)
        wait_until_rendered(page, timeout=180)
        assert page.locator("h3").first.inner_text() == "One unit's feature page"
        assert page.get_by_text(f"Unit {clicked}'s activations (test split)").count() == 1
        partner = page.locator('[class*="st-key-act_partner_"] button').first
        partner_unit = int(partner.inner_text().split()[-1])
        partner.click()
        page.wait_for_url(f"**unit={partner_unit}", timeout=120_000)
        wait_until_rendered(page, timeout=180)
        assert page.get_by_text(f"Unit {partner_unit}'s activations (test split)").count() == 1     # its histogram

        page.set_viewport_size({"width": 1024, "height": 768})          # a projector: one sheet under the other
        page.goto(f"{url}/activations?model=topk&view=filters", wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=120)
        filters = page.locator(".st-key-act_filters_sheet .js-plotly-plot").bounding_box()
        atoms = page.locator(".st-key-act_atoms_sheet .js-plotly-plot").bounding_box()
        assert filters and atoms and atoms["y"] > filters["y"] + filters["height"]
        assert atoms["width"] == SHEET_COLUMNS * CELL_WIDTH
    finally:
        context.close()
