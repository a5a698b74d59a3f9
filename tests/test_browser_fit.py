"""Every page at a projector's size: opened at 1024×768 and 1280×720 in a real browser, no element's text is
wider than its box (no "C…" for Copy link, no formula cut at "…KL(ρ"), no table scrolls sideways, and no
exception box. Run alone with `pytest -m browser -k fit`."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from browser_support import CUT_TEXT_PROBE, browser_tests, served_browser, wait_until_rendered

from explorer.app.navigation import page_named
from explorer.lessons import shipped_lessons

pytestmark = browser_tests()

# Each page, and each view of a page that lays out other widgets (a denoiser's noise controls, each
# Activations view, a VAE's map and samples).
# Train: the default, and the variants with the widest objectives.
ACTIVATIONS_VIEWS = ("units", "kl", "firing", "image", "unit", "filters")
VIEWS = ["", "train", "train?variant=sparse_kl", "train?variant=vae", "train?variant=mp", "reconstructions",
         "reconstructions?model=denoising", *(f"activations?model=sparse_kl&view={view}" for view in ACTIVATIONS_VIEWS),
         "activations?model=topk&view=unit", "latent", "latent?model=vae-2d", "compare", "claims",
         "lessons?lesson=sparse&step=3", "lessons?lesson=contractive-variational&step=2"]
SIZES = [(1024, 768), (1280, 720)]


@pytest.fixture(scope="module")
def browser_at():
    with served_browser() as served:
        yield served


@pytest.mark.parametrize("view", VIEWS, ids=[v or "home" for v in VIEWS])
def test_no_text_is_cut_at_a_projectors_size(browser_at, view):
    url, browser = browser_at
    (width, height), *others = SIZES
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(f"{url}/{view}", wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=180)
        assert page.locator('[data-testid="stException"]').count() == 0
        cuts = {size: page.evaluate(CUT_TEXT_PROBE) for size in [(width, height)]}
        for other in others:          # the same page in another window: laid out again, nothing rerun
            page.set_viewport_size({"width": other[0], "height": other[1]})
            wait_until_rendered(page, timeout=180)
            cuts[other] = page.evaluate(CUT_TEXT_PROBE)
        found = {size: found for size, found in cuts.items() if found}
        assert not found, f"text cut on /{view}:\n" + "\n".join(
            f"{w}×{h}: " + json.dumps(c, ensure_ascii=False) for (w, h), found in found.items() for c in found)
    finally:
        context.close()


# Three lessons, a step of each on another page (Home, Compare, Latent): the AppTests open every step's view.
CLICKED = [("autoencoder", 1), ("sparse", 2), ("contractive-variational", 2)]


@pytest.mark.parametrize("lesson, number", CLICKED, ids=[name for name, _ in CLICKED])
def test_a_lessons_step_opens_its_view(browser_at, lesson, number):
    """"Open this view" on the Lessons page lands on the step's page with the step's values in its link."""
    url, browser = browser_at
    step = shipped_lessons()[lesson].steps[number - 1]
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        page = context.new_page()
        page.goto(f"{url}/lessons?lesson={lesson}&step={number}", wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=180)
        assert page.locator("h3").first.inner_text() == f"{number}. {step.title}"
        page.get_by_role("link", name=re.compile("Open this view")).click()
        page.wait_for_url(re.compile(f"/{step.page}" if step.page != "home" else r"/(\?|$)"), timeout=120_000)
        wait_until_rendered(page, timeout=180)
        assert page.locator('[data-testid="stException"]').count() == 0
        heading = "Autoencoder Explorer" if step.page == "home" else page_named(step.page).title
        assert page.locator("h1").first.inner_text() == heading
        landed = dict(parse_qsl(urlsplit(page.url).query))
        assert all(landed.get(name) == value for name, value in step.params.items()), (step.params, landed)
    finally:
        context.close()
