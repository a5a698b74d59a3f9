"""Every page at a projector's size: opened at 1024×768 and 1280×720 in a real browser, no element's text is
wider than its box (no "C…" for Copy link, no formula cut at "…KL(ρ"), no table scrolls sideways, and no
exception box; every page also in Chinese, with no English left but names and formulas. Run alone with
`pytest -m browser -k fit` (AE_EXPLORER_SHOTS=<folder> keeps the Chinese pages' screenshots)."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from browser_support import (
    CUT_TEXT_PROBE,
    PAGE_PARTS,
    ROOT,
    browser_tests,
    fresh_visit,
    full_screenshot,
    served_browser,
    wait_until_rendered,
)
from english_left import english_words

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
# The views that are each page as a link opens it: their heading and parts (charts, images, tables) are checked,
# and a screenshot kept in artifacts/screenshots/.
PAGE_VIEWS = {"": "", "train": "train", "reconstructions": "reconstructions",
              "activations?model=sparse_kl&view=units": "activations", "latent": "latent", "compare": "compare",
              "claims": "claims"}
SHOTS = ROOT / "artifacts" / "screenshots"


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
        wait_until_rendered(page, timeout=600 if view == "claims" else 180)   # a fresh server measures first
        exceptions = page.locator('[data-testid="stException"]')
        assert exceptions.count() == 0, exceptions.first.inner_text()
        if view in PAGE_VIEWS:
            heading, parts = PAGE_PARTS[PAGE_VIEWS[view]]
            assert heading in page.locator("h1").first.inner_text()
            assert not (missing := [p for p in parts if page.locator(p).count() == 0]), f"{missing} missing on /{view}"
        cuts = {size: page.evaluate(CUT_TEXT_PROBE) for size in [(width, height)]}
        for other in others:          # the same page in another window: laid out again, nothing rerun
            page.set_viewport_size({"width": other[0], "height": other[1]})
            wait_until_rendered(page, timeout=180)
            cuts[other] = page.evaluate(CUT_TEXT_PROBE)
        found = {size: found for size, found in cuts.items() if found}
        assert not found, f"text cut on /{view}:\n" + "\n".join(
            f"{w}×{h}: " + json.dumps(c, ensure_ascii=False) for (w, h), found in found.items() for c in found)
        if view in PAGE_VIEWS:
            SHOTS.mkdir(parents=True, exist_ok=True)
            full_screenshot(page, str(SHOTS / f"{PAGE_VIEWS[view] or 'home'}.png"))
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


# Every page in Chinese (a link's lang=zh), at the projector's size: no exception box, no text cut, and
# no English left in what the page shows — its text, its charts' SVG text — but names and formulas.
VISIBLE_TEXT_PROBE = """() => {
  const roots = ['stMain', 'stSidebar'].map(id => document.querySelector(`[data-testid="${id}"]`)).filter(Boolean);
  const texts = [];
  for (const root of roots) {
    for (const el of root.querySelectorAll('.katex, .katex-display, code, pre')) el.setAttribute('data-ae-skip', '');
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      // Skipped: formulas and code, icons (a Material icon is its name in a ligature font), hidden text
      // (Streamlit's own English under a translation drawn by CSS, app/language.chrome_css).
      const skip = '[data-ae-skip], script, style, [aria-hidden="true"], [data-testid="stIconMaterial"], ' +
                   '[translate="no"]';
      if (!el || el.closest(skip)) {
        continue;
      }
      if (!el.getClientRects().length && !el.closest('svg')) continue;
      if (parseFloat(getComputedStyle(el).fontSize) === 0) continue;
      const text = node.textContent.trim();
      if (text) texts.push(text);
    }
    for (const input of root.querySelectorAll('input, textarea')) {
      if (input.value && input.type !== 'file' && input.getClientRects().length) texts.push(input.value);
      if (input.placeholder && !input.value && input.getClientRects().length) texts.push(input.placeholder);
    }
  }
  return texts;
}"""
CHINESE_VIEWS = ["", "train", "train?variant=sparse_kl", "reconstructions?model=denoising",
                 "activations?model=sparse_kl", "activations?model=topk&view=unit", "latent", "latent?model=vae-2d",
                 "compare", "claims", "lessons?lesson=sparse&step=3"]


@pytest.mark.parametrize("view", CHINESE_VIEWS, ids=[v or "home" for v in CHINESE_VIEWS])
def test_every_page_in_chinese(browser_at, view):
    url, browser = browser_at
    with fresh_visit(browser, f"{url}/{view}{'&' if '?' in view else '?'}lang=zh", timeout=240, size=(1024, 768),
                     locale="zh-CN") as page:
        assert page.locator('[data-testid="stException"]').count() == 0
        heading = page.locator("h1").first.inner_text()     # Home's is the product's name
        assert view == "" or re.search(r"[\u4e00-\u9fff]", heading), f"the title is not in Chinese: {heading}"
        left = {text: words for text in page.evaluate(VISIBLE_TEXT_PROBE) if (words := english_words(text))}
        assert not left, f"English left on /{view} in Chinese:\n" + "\n".join(
            f"{text[:100]!r} ← {words}" for text, words in left.items())
        cuts = page.evaluate(CUT_TEXT_PROBE)
        assert not cuts, f"text cut on /{view} in Chinese:\n" + "\n".join(json.dumps(c, ensure_ascii=False)
                                                                          for c in cuts)
        if shots := os.environ.get("AE_EXPLORER_SHOTS"):      # for looking at: a folder to put screenshots in
            name = (view or "home").replace("?", "_").replace("&", "_").replace("=", "-")
            full_screenshot(page, str(Path(shots) / f"zh-1024-{name}.png"))


def test_switching_languages_keeps_every_choice(browser_at):
    """The sidebar's switch says the page in the other language with the same model, menus and link: a menu's
    choice survives although the browser holds it as its shown label (explorer.app.language.keep_choices)."""
    url, browser = browser_at
    with fresh_visit(browser, f"{url}/reconstructions?model=denoising&noise=masking", timeout=240,
                     size=(1024, 768)) as page:
        expected = {"model": "denoising", "noise": "masking"}
        for language, heading, lang in (("中文", "重构", "zh"), ("English", "Reconstructions", None),
                                        ("中文", "重构", "zh")):
            page.get_by_text(language, exact=True).click()
            page.wait_for_function(f"() => document.querySelector('h1')?.innerText === {json.dumps(heading)}",
                                   timeout=120_000)
            wait_until_rendered(page, timeout=240)
            landed = dict(parse_qsl(urlsplit(page.url).query))
            assert {k: landed.get(k) for k in expected} == expected and landed.get("lang") == lang, landed
            assert page.locator('[data-testid="stException"]').count() == 0
