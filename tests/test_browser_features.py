"""The dictionary in a real browser: a click on a numbered tile of "All filters" opens that unit's feature
page, a partner's button opens the partner's, and the two sheets sit side by side at 1400 px, one above the
other at a projector's 1024 px (never shrunk). Run alone with `pytest -m browser`."""
from __future__ import annotations

import pytest
from browser_support import browser_tests, served_browser, wait_until_rendered

from explorer import load_checkpoint
from explorer.activations import activation_report, unit_order
from explorer.app.catalog import CHECKPOINT_DIR

pytestmark = browser_tests()
SHEET_COLUMNS = 7          # the page's tiles per row
CELL_WIDTH, LABEL_BAND = 60, 14    # a 28-pixel image at 2 CSS pixels a pixel and its gap; the label above it


@pytest.fixture(scope="module")
def app():
    with served_browser() as served:
        yield served


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


def test_the_pointer_between_a_2d_codes_points_shows_what_the_decoder_draws_there(app):
    """vae-2d's raw map: over an empty place of the plane the image under the pointer is the decoder's picture
    of that place (its decoded grid, after the sample's images in the sheet)."""
    url, browser = app
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{url}/latent?model=vae-2d&map=raw", wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=180)
        # The plane's corner grid point (its trace is drawn first): no digit's code lies that far out.
        where = page.evaluate("""() => {
            const gd = document.querySelector('.st-key-lat_map_2 .js-plotly-plot');
            const t = gd._fullData[0], L = gd._fullLayout, box = gd.getBoundingClientRect();
            return {x: box.left + L._size.l + L.xaxis.d2p(t.x[0]), y: box.top + L._size.t + L.yaxis.d2p(t.y[0]),
                    offset: t.meta.plane_offset, name: t.name}; }""")
        assert where["name"] == "decoded plane" and where["offset"] == 2000
        page.mouse.move(where["x"] + 40, where["y"] - 40)
        page.mouse.move(where["x"], where["y"], steps=5)
        tip = page.locator(".hover-image")
        tip.wait_for(state="visible", timeout=60_000)
        size = tip.evaluate("e => e.style.backgroundSize")
        cols = int(float(size.split("px")[0]) / 84)                 # the sheet's columns: 84 px a tile
        row = where["offset"]                                       # the grid's first point, after the sample
        expected = f"-{row % cols * 84}px -{row // cols * 84}px"
        page.wait_for_function("""([tip, expected]) => [expected, expected.replaceAll('-0px', '0px')].includes(
            tip.style.backgroundPosition)""", arg=[tip.element_handle(), expected], timeout=60_000)
    finally:
        context.close()


def test_a_class_steps_through_training_batch_by_batch_and_rewinds(app):
    """Train sparse_kl, Pause, Step (exactly one batch more), the objective with its numbers and the units'
    ρ̂ⱼ against ρ on screen; Rewind starts the same run again, waiting after its first step."""
    import re

    url, browser = app
    paused = re.compile(r"paused after step (\d+) of epoch (\d+) \((\d+) in all\)")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{url}/train?variant=sparse_kl", wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=180)
        page.get_by_role("spinbutton", name="Epochs").fill("2000")
        page.get_by_role("spinbutton", name="Epochs").press("Enter")
        wait_until_rendered(page, timeout=120)
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text("reconstructions after epoch").first.wait_for(timeout=300_000)

        def where() -> int:
            page.get_by_text(paused).wait_for(timeout=120_000)
            return int(paused.search(page.get_by_text(paused).inner_text()).group(3))

        page.get_by_role("button", name="Pause").click()
        at = where()
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_function(f"""() => /\\({at + 1} in all\\)/.test(document.body.innerText)""", timeout=120_000)
        assert where() == at + 1                                          # one batch, exactly
        # the strip comes in the same redraw as the progress line, a moment after it on a busy machine
        page.get_by_text(f"reconstructions after step {at + 1}").wait_for(timeout=120_000)
        formulas = page.locator(".katex").all_inner_texts()
        assert any("β" in f and "0.01" in f for f in formulas), formulas    # the objective with its numbers
        units = page.get_by_text(re.compile("Each unit's mean activation ρ̂ⱼ on 256 test images"))
        units.first.wait_for(timeout=120_000)
        page.get_by_role("button", name="Rewind").click()
        page.get_by_text("(1 in all)").wait_for(timeout=120_000)          # the same run, waiting after step 1
        assert page.locator('[data-testid="stException"]').count() == 0
        page.get_by_role("button", name="Stop").click()
        page.get_by_text("Stopped early").wait_for(timeout=120_000)
    finally:
        context.close()
