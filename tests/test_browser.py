"""The real app in a real browser: training live, the latent map's hovers, lasso and exports, drawing, views' buttons
(every page's render, headings and charts: test_browser_fit.py).

Run alone with `pytest -m browser`. Screenshots land in artifacts/screenshots/."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from browser_support import (
    ROOT,
    TSNE_WATCH,
    browser_tests,
    fresh_visit,
    full_screenshot,
    launch_browser,
    streamlit_server,
    wait_until_rendered,
)

pytestmark = browser_tests()

SHOTS = ROOT / "artifacts" / "screenshots"



@pytest.fixture(scope="module")
def server():
    (ROOT / "artifacts").mkdir(exist_ok=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as (url, _, _proc):
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        yield browser
        browser.close()


def test_training_live_in_the_browser(server, browser):
    """Train the default ae (20 epochs): live progress, curves and strip, then the result panel,
    with the shared sidebar intact. The wall time is written to artifacts/timings.txt."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{server}/train", wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=90)
        assert page.get_by_role("spinbutton", name="Epochs").input_value() == "20"
        started = time.perf_counter()
        page.get_by_role("button", name="Train").first.click()
        # Waits on what the page shows, with bounds a busy 2-core machine stays well within (about 8 s quiet).
        page.get_by_text("reconstructions after epoch").first.wait_for(timeout=300_000)
        page.screenshot(path=str(SHOTS / "train-live.png"), full_page=True)
        page.get_by_text("Finished after 20 epochs").wait_for(timeout=600_000)
        elapsed = time.perf_counter() - started
        wait_until_rendered(page, timeout=120)
        full_screenshot(page, str(SHOTS / "train-finished.png"))
        with open(ROOT / "artifacts" / "timings.txt", "a") as log:
            log.write(f"train page, ae on mnist-5k, 20 epochs, click to finished: {elapsed:.1f} s\n")
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator(".js-plotly-plot").count() >= 1
        assert page.get_by_text("reconstructions after epoch 20").count() == 1
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        assert "Active model" in sidebar and "Dataset" in sidebar   # the shared sidebar survived
        page.get_by_role("button", name="Make active").click()
        wait_until_rendered(page, timeout=120)
        active = page.get_by_role("combobox", name="Active model").input_value()
        assert active.startswith("ae · mnist-5k · trained")
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()


def test_uploads_bad_then_good_checkpoint(server, browser, tmp_path):
    """A text file named .pt gets a clear sidebar error and the app keeps working; a real checkpoint
    uploaded next becomes the active model."""
    bad = tmp_path / "lecture-notes.pt"
    bad.write_text("not a checkpoint at all")
    good = tmp_path / "my-vae.pt"
    good.write_bytes((ROOT / "checkpoints" / "vae.pt").read_bytes())
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(server, wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=90)
        page.get_by_text("Upload a checkpoint (.pt)").click()
        page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(bad))
        page.get_by_text("lecture-notes.pt: not a PyTorch checkpoint at all").wait_for(timeout=120_000)
        wait_until_rendered(page, timeout=120)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "Autoencoder Explorer" in page.locator("h1").first.inner_text()   # still usable
        page.screenshot(path=str(SHOTS / "upload-error.png"), full_page=True)
        page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(good))
        page.get_by_text("Loaded my-vae.pt: vae on mnist-5k, for this tab.").wait_for(timeout=120_000)
        wait_until_rendered(page, timeout=120)
        active = page.get_by_role("combobox", name="Active model").input_value()
        assert active == "my-vae.pt (vae) · mnist-5k · uploaded"
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()


def test_students_landing_on_a_page_of_a_fresh_server_all_get_the_app(browser):
    """Several sessions open a page's address at once on a server that has just started: each
    begins in Streamlit's legacy pages/ mode, and each must end in the real app (our sidebar and
    navigation, not the folder's list of file names) with no exception."""
    with streamlit_server() as (url, _, _proc):
        pages = [browser.new_page(viewport={"width": 1300, "height": 900}) for _ in range(4)]
        try:
            for page in pages:
                page.goto(f"{url}/reconstructions", wait_until="commit")
            for page in pages:
                wait_until_rendered(page, timeout=180)
                assert page.locator('[data-testid="stException"]').count() == 0
                assert page.locator("h1").first.inner_text() == "Reconstructions"
                assert page.get_by_role("combobox", name="Active model").count() == 1      # our sidebar
                nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
                assert "Activations & sparsity" in nav and "streamlit app" not in nav.lower(), nav
        finally:
            for page in pages:
                page.close()


def sidebar_choice(page, name: str) -> str:
    return page.get_by_role("combobox", name=name).input_value()


def model_options(page) -> list[str]:
    page.get_by_role("combobox", name="Active model").click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return options


def test_two_students_never_see_each_others_upload_or_settings(server, browser, tmp_path):
    """Student A uploads a model and changes the dataset; student B, open at the same time, keeps the
    defaults and never sees A's model; A keeps what A chose after B's visit."""
    mine = tmp_path / "alices-model.pt"
    mine.write_bytes((ROOT / "checkpoints" / "vae.pt").read_bytes())
    alice = browser.new_page(viewport={"width": 1400, "height": 1000})    # each page: its own context
    bob = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        alice.goto(server, wait_until="domcontentloaded")
        bob.goto(server, wait_until="domcontentloaded")
        wait_until_rendered(alice, timeout=90)
        default_model, default_dataset = sidebar_choice(alice, "Active model"), sidebar_choice(alice, "Dataset")
        alice.get_by_text("Upload a checkpoint (.pt)").click()
        alice.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(mine))
        alice.get_by_text("Loaded alices-model.pt: vae on mnist-5k, for this tab.").wait_for(timeout=120_000)
        wait_until_rendered(alice, timeout=120)
        alice.get_by_role("combobox", name="Dataset").click()
        alice.get_by_role("option", name="digits").click()
        wait_until_rendered(alice, timeout=180)
        assert sidebar_choice(alice, "Dataset") == "digits"

        bob.reload(wait_until="domcontentloaded")      # B's next run, after all of A's changes
        wait_until_rendered(bob, timeout=90)
        assert sidebar_choice(bob, "Active model") == default_model
        assert sidebar_choice(bob, "Dataset") == default_dataset
        assert not any("alices-model" in option for option in model_options(bob))
        assert bob.locator('[data-testid="stException"]').count() == 0

        # A's own session still has A's things
        assert sidebar_choice(alice, "Active model") == "alices-model.pt (vae) · mnist-5k · uploaded"
        assert sidebar_choice(alice, "Dataset") == "digits"
        assert any("alices-model" in option for option in model_options(alice))
    finally:
        alice.close()
        bob.close()


def lasso_square(page, plot_area: str, half: float) -> None:
    """Pick the chart's lasso tool (a drag on the latent map pans it, so that a click chooses a point), then
    drag a closed lasso around the middle of the Plotly plot area: a square of side 2·half pixels."""
    area = page.locator(plot_area).first
    area.hover()
    chart = area.locator("xpath=ancestor::*[contains(concat(' ', @class, ' '), ' js-plotly-plot ')][1]")
    chart.locator('.modebar-btn[data-title="Lasso Select"]').click()
    box = area.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx - half, cy - half)
    page.mouse.down()
    for x, y in ((cx + half, cy - half), (cx + half, cy + half), (cx - half, cy + half),
                 (cx - half - 1, cy - half + 1)):
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def test_lasso_selection_on_the_latent_map_shows_images(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        page.goto(f"{server}/latent", wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=90)
        lasso_square(page, ".js-plotly-plot .nsewdrag", 120)
        page.get_by_text("selected", exact=False).first.wait_for(timeout=120_000)
        wait_until_rendered(page, timeout=120)
        full_screenshot(page, str(SHOTS / "latent-selection.png"))
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_text("Nothing selected yet").count() == 0
    finally:
        page.close()


def test_compare_with_every_shipped_variant_plots_mse_where_it_says_mse(server, browser, mnist5k):
    """In the browser, the chart titled MSE holds MSEs for the seven classic shipped models (the VAEs included),
    each ending at the model's evaluated test MSE; the frontier marks its Pareto front."""
    from explorer import evaluate, load_checkpoint

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{server}/compare", wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=90)
        page.get_by_role("button", name="the classic variants").click()
        wait_until_rendered(page, timeout=120)
        page.locator("[data-testid=stButtonGroup] button", has_text="the L0–FVU frontier").click()
        wait_until_rendered(page, timeout=120)
        page.locator("[data-testid=stButtonGroup] button", has_text="loss curves").click()
        page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].some(el =>
            (el.layout?.title?.text || '').includes('reconstruction MSE') && (el.data || []).length === 7)""",
                               timeout=120_000)
        wait_until_rendered(page, timeout=120)
        full_screenshot(page, str(SHOTS / "compare-shipped-variants.png"))
        assert page.locator('[data-testid="stException"]').count() == 0
        charts = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].map(el => ({
            title: el.layout && el.layout.title && el.layout.title.text,
            traces: (el.data || []).map(t => ({name: t.name, y: Array.from(t.y || [])}))}))""")
        by_title = {re.sub("<[^>]+>", "", c["title"] or ""): c for c in charts}   # the theme wraps titles in <b>
        curves = by_title["test reconstruction MSE per epoch"]
        last = {t["name"]: t["y"][-1] for t in curves["traces"]}
        assert len(last) == 7 and all(0 < v < 0.07 for v in last.values()), last
        vae = evaluate(load_checkpoint(ROOT / "checkpoints" / "vae.pt"), mnist5k)
        assert last["vae latent=8"] == pytest.approx(vae.recon_mse, rel=1e-3)
        frontier = next(c for t, c in by_title.items() if t and t.startswith("The frontier"))
        assert "Pareto front" in [t["name"] for t in frontier["traces"]]
    finally:
        page.close()


def test_a_link_opens_that_view_in_a_fresh_browser_and_the_page_offers_its_own(server, browser):
    with fresh_visit(browser, f"{server}/activations?model=sparse_kl&unit=17") as page:    # no cookies, no history
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "0.05" in page.locator('[data-testid="stMetric"]', has_text="Target ρ").inner_text()
        assert page.get_by_text("Unit 17's activations (test split)").count() == 1    # the inspected unit
        assert "unit=17" in page.url and "model=sparse_kl" in page.url
        page.get_by_role("button", name="Copy link").click()
        link = page.locator('[data-testid="stCode"]').first.inner_text()
        assert link.startswith(server) and "/activations?" in link and "model=sparse_kl" in link and "unit=17" in link
        full_screenshot(page, str(SHOTS / "link-popover.png"))


def test_each_activations_view_opens_from_its_button(server, browser):
    """The Activations page draws one view at a time: each button brings its own chart or images."""
    views = {"units": ("Every unit's histogram", ".st-key-small_multiples .js-plotly-plot"),
             "kl": ("ρ̂ and KL per unit", ".st-key-per_unit .js-plotly-plot"),
             "firing": ("Firing rates and L0", ".st-key-distributions .js-plotly-plot"),
             "image": ("One image's code", ".st-key-one_code .js-plotly-plot"),
             "unit": ("One unit", ".st-key-unit_hist .js-plotly-plot"),
             "filters": ("All filters", ".st-key-act_filters_sheet .js-plotly-plot")}
    with fresh_visit(browser, f"{server}/activations?model=jumprelu") as page:
        assert page.locator(".js-plotly-plot").count() == 1                 # a first visit: one chart
        for view, (label, selector) in views.items():
            page.get_by_role("radio", name=label, exact=True).click()
            page.locator(selector).first.wait_for(timeout=180_000)
            wait_until_rendered(page, timeout=180)
            assert page.locator('[data-testid="stException"]').count() == 0, label
            assert page.locator(selector).count() >= 1, label
            assert f"view={view}" in page.url, label
            full_screenshot(page, str(SHOTS / f"activations-{view}.png"))


def draw_a_seven(page) -> None:
    """A '7' on the sketch canvas with the mouse: a bar across the top, then a stroke down to the left."""
    canvas = page.locator(".sketch canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 70, y + 60)
    page.mouse.down()
    for t in range(1, 11):
        page.mouse.move(x + 70 + 14 * t, y + 60)
    for t in range(1, 13):
        page.mouse.move(x + 210 - 9 * t, y + 60 + 15 * t)
    page.mouse.up()


def test_a_drawn_digit_goes_through_the_model_and_onto_the_map(server, browser):
    with fresh_visit(browser, f"{server}/latent?model=denoising") as page:
        page.get_by_text("Open the drawing pad").click()                  # the pad opens on request
        page.get_by_text("Draw a digit on the black square").wait_for(timeout=120_000)
        wait_until_rendered(page, timeout=180)
        draw_a_seven(page)
        page.get_by_text("Your digit is placed exactly, on the PCA axes").wait_for(timeout=120_000)
        wait_until_rendered(page, timeout=180)
        nearest = page.get_by_text("Its nearest training images in code space").inner_text()
        classes = nearest.split(":", 1)[1].split("(")[0].split(",")
        assert sum(c.strip() == "7" for c in classes) >= 5, nearest            # it reads as a seven
        assert page.get_by_text("Its code:").count() >= 1
        full_screenshot(page, str(SHOTS / "draw-latent.png"))
        page.locator('[data-testid="stSidebarNav"] a', has_text="Reconstructions").click()   # it follows along
        page.get_by_role("heading", name="Reconstructions").wait_for(timeout=180_000)
        wait_until_rendered(page, timeout=90)
        assert page.get_by_text("with the noise set above · reconstructed").count() == 1   # the denoiser's noise
        page.locator(".sketch button.clear").click()
        page.get_by_text("Draw a digit on the black square").wait_for(timeout=120_000)
        assert page.locator('[data-testid="stException"]').count() == 0


def test_the_latent_map_shows_the_image_under_the_cursor(server, browser):
    with fresh_visit(browser, f"{server}/latent") as page:
        # The screen position of one point of the map (the first point of the first class' trace).
        where = page.evaluate("""() => {
            const gd = document.querySelector('.st-key-lat_map_2 .js-plotly-plot');
            const t = gd._fullData[0], L = gd._fullLayout, box = gd.getBoundingClientRect();   // decoded arrays
            return {x: box.left + L._size.l + L.xaxis.d2p(t.x[0]), y: box.top + L._size.t + L.yaxis.d2p(t.y[0]),
                    row: t.customdata[0]}; }""")
        page.mouse.move(where["x"] - 40, where["y"] - 40)
        page.mouse.move(where["x"], where["y"], steps=5)
        tip = page.locator(".hover-image")
        tip.wait_for(state="visible", timeout=60_000)
        cols = 45                                                  # ceil(sqrt(2000)): the sheet's columns
        expected = f"-{where['row'] % cols * 84}px -{where['row'] // cols * 84}px"
        # The pointer passed other points on its way: wait for the hover on the point it stopped at.
        page.wait_for_function("""([tip, expected]) => [expected, expected.replaceAll('-0px', '0px')].includes(
            tip.style.backgroundPosition)""", arg=[tip.element_handle(), expected], timeout=60_000)
        style = tip.evaluate("e => ({image: e.style.backgroundImage, position: e.style.backgroundPosition,"
                             " width: e.style.width})")
        assert style["image"].startswith(f'url("{server}/media/') and style["width"] == "84px"
        # The sheet came over HTTP when the pointer entered the map, not with the page: 45 × 45 digits.
        sheet = page.evaluate("""url => new Promise(done => { const im = new Image();
            im.onload = () => done([im.naturalWidth, im.naturalHeight]); im.onerror = () => done(null);
            im.src = url; })""", style["image"][5:-2])
        assert sheet == [45 * 28, 45 * 28]
        page.screenshot(path=str(SHOTS / "latent-hover.png"))
        page.mouse.move(5, 5)
        tip.wait_for(state="hidden", timeout=60_000)


def test_the_latent_exports_are_written_when_clicked(server, browser):
    """The codes CSV and the projector's TSVs are made on the click (deferred), not sent with the page."""
    with fresh_visit(browser, f"{server}/latent") as page:
        sent = page.evaluate("performance.getEntriesByType('resource')"
                             ".filter(e => /[.](csv|tsv)$/.test(e.name)).length")
        assert sent == 0, "an export came with the page"
        files = {}
        for label in ("codes.csv", "vectors.tsv", "metadata.tsv"):
            wait_until_rendered(page, timeout=180)    # the last click's rerun has redrawn the buttons
            with page.expect_download(timeout=180_000) as download:
                page.get_by_role("button", name=label).click()
            files[label] = Path(download.value.path()).read_text().splitlines()
        assert files["codes.csv"][0].startswith("split,index,label,class,x,y,code_0,")
        assert len(files["codes.csv"]) == 2001 and len(files["metadata.tsv"]) == 2001
        assert len(files["vectors.tsv"]) == 2000 and len(files["vectors.tsv"][0].split("\t")) == 32
        assert page.locator('[data-testid="stException"]').count() == 0


def test_t_sne_on_the_latent_page_converges_on_screen_and_then_selects(server, browser):
    """Clicking t-SNE shows pictures of the map as it converges, with the iteration, then the
    interactive map in their place — the lasso on it shows the chosen images."""
    with fresh_visit(browser, f"{server}/latent") as page:
        page.evaluate(TSNE_WATCH)
        page.get_by_text("t-SNE", exact=True).first.click()
        page.wait_for_function("window.__tsne.final !== null", timeout=120_000, polling=50)
        wait_until_rendered(page, timeout=180)
        full_screenshot(page, str(SHOTS / "latent-tsne.png"))
        assert page.locator('[data-testid="stException"]').count() == 0
        steps = page.evaluate("window.__tsne.steps")
        assert steps and "iteration 0 of 750" in steps[0], steps                 # the PCA start first …
        assert any("early exaggeration" in s for s in steps[1:]), steps          # … then the optimisation
        assert page.locator('[data-testid="stProgress"]').count() == 0           # replaced by the final map
        assert page.get_by_text("t-SNE (openTSNE) after 750 iterations at perplexity 30").count() == 1
        lasso_square(page, ".st-key-lat_map_2 .nsewdrag", 150)
        page.get_by_text("selected", exact=False).first.wait_for(timeout=120_000)
        wait_until_rendered(page, timeout=120)
        assert page.get_by_text("Nothing selected yet").count() == 0
        assert page.locator('[data-testid="stException"]').count() == 0
