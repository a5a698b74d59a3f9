"""Starting the real Streamlit server and driving Debian's Chromium through Playwright (tests, benches)."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("AE_EXPLORER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def browser_available() -> str | None:
    """None when a browser test can run, else the reason it cannot."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def free_port() -> int:
    """A free loopback port: the first free one of AE_EXPLORER_PORTS ("8620-8629") where set, so that
    people sharing a machine can each keep to their own range; else any the system hands out."""
    low, _, high = os.environ.get("AE_EXPLORER_PORTS", "").partition("-")
    for port in range(int(low), int(high or low) + 1) if low else [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError(f"no free port in AE_EXPLORER_PORTS={os.environ['AE_EXPLORER_PORTS']}")


@contextlib.contextmanager
def streamlit_server(env: dict | None = None, timeout: float = 180.0, root: Path = ROOT, launcher: bool = False):
    """`streamlit run streamlit_app.py` in `root` on a free loopback port — or, with launcher, the app's
    own launcher (explorer.app.launch, what scripts/app.sh runs) — offline unless env says otherwise;
    yields (base URL, seconds to healthy, the process)."""
    port = free_port()
    log = (open(root / "artifacts" / f"streamlit-{port}.log", "w") if (root / "artifacts").is_dir()
           else subprocess.DEVNULL)
    started = time.perf_counter()
    command = ["-m", "explorer.app.launch"] if launcher else ["-m", "streamlit", "run", "streamlit_app.py"]
    proc = subprocess.Popen(
        [sys.executable, *command, "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=root, env={**os.environ, "AE_EXPLORER_OFFLINE": "1", **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {proc.returncode}")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise TimeoutError("streamlit did not become healthy in time")
            time.sleep(0.2)
        yield url, time.perf_counter() - started, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def served_browser(**server_args):
    """A real server (streamlit_server's arguments) and Chromium: yields (its URL, the browser)."""
    from playwright.sync_api import sync_playwright

    with streamlit_server(**server_args) as (url, _, _proc), sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            yield url, browser
        finally:
            browser.close()


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                                      headless=True, args=CHROMIUM_ARGS)


# Evaluated in the page: installs (once per document) a MutationObserver that notes the time of the
# last DOM change, and says whether Streamlit is still busy. Cheap enough to poll from 30 sessions.
SETTLE_PROBE = """() => {
  if (!window.__aeSettle) {
    window.__aeSettle = {last: performance.now()};
    new MutationObserver(() => { window.__aeSettle.last = performance.now(); }).observe(
      document.documentElement, {subtree: true, childList: true, attributes: true, characterData: true});
  }
  const waiting = ['stStatusWidget', 'stSkeleton', 'stSpinner'].filter(
    id => document.querySelector(`[data-testid="${id}"]`));
  if (!document.querySelector('[data-testid="stMain"] h1')) waiting.push('no heading yet');
  // Set by the frontend the moment a click asks for a rerun (before the server has started it: on a busy
  // machine that gap outlasts any quiet period), then 'running', then 'notRunning'.
  const script = document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state');
  if (script && script !== 'notRunning') waiting.push(`script ${script}`);
  return {busy: waiting.length > 0, waiting: waiting.join(', '), last: window.__aeSettle.last, now: performance.now()};
}"""


# Evaluated in a rendered page: every element of the main area or the sidebar whose text is cut — its box
# hides (ellipsis, hidden or scrolled overflow) a content wider than itself, a select's value included
# (an <input>) — plus a table that scrolls sideways and a page wider than the window. Screen-reader-only
# copies (KaTeX's MathML) are clipped on purpose and skipped.
CUT_TEXT_PROBE = """() => {
  const cuts = [];
  const roots = ['stMain', 'stSidebar'].map(id => document.querySelector(`[data-testid="${id}"]`)).filter(Boolean);
  for (const root of roots) {
    for (const el of root.querySelectorAll('*')) {
      if (!el.getClientRects().length || el.closest('.katex-mathml')) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden') continue;
      const text = (el.tagName === 'INPUT' ? el.value : el.innerText || '').trim();
      if (!text) continue;
      const hides = style.overflowX !== 'visible' || style.textOverflow === 'ellipsis' || el.tagName === 'INPUT';
      // KaTeX's boxes clip an italic glyph's overhang by a pixel or two: a real cut is wider than that.
      const slack = el.closest('.katex, .katex-display') ? 3 : 1;
      if (hides && el.scrollWidth > el.clientWidth + slack) {
        cuts.push({text: text.replace(/\\s+/g, ' ').slice(0, 80),
                   where: el.closest('[data-testid]')?.getAttribute('data-testid'), needs: el.scrollWidth,
                   has: el.clientWidth});
      }
    }
    for (const grid of root.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller')) {
      if (grid.scrollWidth > grid.clientWidth + 1) {
        cuts.push({text: 'a table scrolls sideways', where: 'stDataFrame', needs: grid.scrollWidth,
                   has: grid.clientWidth});
      }
    }
  }
  const main = document.querySelector('[data-testid="stMain"]');
  if (main && main.scrollWidth > main.clientWidth + 1) {
    cuts.push({text: 'the page is wider than the window', where: 'stMain', needs: main.scrollWidth,
               has: main.clientWidth});
  }
  const seen = new Set();
  return cuts.filter(c => { const k = c.where + c.text; if (seen.has(k)) return false; seen.add(k); return true; });
}"""


def settled(probe: dict, quiet: float) -> bool:
    """The page shows its own heading, Streamlit is idle, and nothing changed for `quiet` seconds."""
    return not probe["busy"] and probe["now"] - probe["last"] >= quiet * 1000


def wait_until_rendered(page, timeout: float = 120.0, quiet: float = 1.5) -> float:
    """Wait until Streamlit's running indicator is gone and the page stops changing.

    Before the script's first run the frame is empty (or shows the pages/ folder's default
    navigation), so the page's own heading must be there too. Returns seconds waited; raises
    TimeoutError when the page never settles."""
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        try:
            probe = page.evaluate(SETTLE_PROBE)
        except Exception:  # noqa: BLE001 — the document is being replaced (navigation): ask again
            probe = None
        if probe and settled(probe, quiet):
            return time.perf_counter() - started
        time.sleep(0.2)
    raise TimeoutError("the page kept changing or running")


def full_screenshot(page, path: str, max_height: int = 6000) -> None:
    """Streamlit scrolls inside its main container, so a 'full page' screenshot is one screen:
    grow the viewport to the content's height first, then shoot."""
    height = page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        return main ? main.scrollHeight : document.body.scrollHeight; }""")
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(max_height, max(800, int(height) + 40))})
    page.wait_for_timeout(800)
    page.screenshot(path=path)


# Records, from the first byte of the page, whether the pages/ folder's own navigation ever showed
# (it lists file names: "streamlit app", "activations", …) and when our heading first showed.
FIRST_VISIT_WATCH = """
window.__seen = {legacy: false, heading: null, metric: null};
new MutationObserver(() => {
  const nav = document.querySelector('[data-testid="stSidebarNav"]');
  if (nav && /streamlit app/i.test(nav.innerText)) window.__seen.legacy = true;
  const h1 = document.querySelector('h1');
  const now = performance.now();
  if (!window.__seen.heading && h1 && h1.innerText.includes('Autoencoder Explorer')) window.__seen.heading = now;
  if (!window.__seen.metric && document.querySelector('[data-testid="stMetric"]')) window.__seen.metric = now;
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


# Evaluated in the Latent page just before the click on t-SNE: notes, on a clock the click starts,
# when a picture of the map first shows in the map's place (`first`), when one past iteration 0 does
# (`moved`), and when the final, interactive t-SNE chart has been drawn (`final`); and every progress
# line shown on the way (`steps`).
TSNE_WATCH = """() => {
  window.__tsne = {click: performance.now(), first: null, moved: null, final: null, steps: []};
  const look = () => {
    const s = window.__tsne, now = performance.now();
    const progress = document.querySelector('[data-testid="stProgress"]');
    const text = progress ? progress.innerText : '';
    if (text && s.steps[s.steps.length - 1] !== text) s.steps.push(text);
    const block = progress && progress.closest('[data-testid="stVerticalBlock"]');
    const picture = block && block.querySelector('[data-testid="stImage"] img');
    if (picture && picture.complete && picture.naturalWidth) {
      if (s.first === null) s.first = now;
      if (s.moved === null && !/iteration 0 of/.test(text)) s.moved = now;
    }
    const chart = document.querySelector('.st-key-lat_map_2 .js-plotly-plot');
    const title = chart && chart._fullLayout && chart.layout.title && chart.layout.title.text;
    if (title && title.includes('t-SNE') && chart.querySelector('canvas')) {
      s.final = now;
      if (s.first === null) s.first = now;
      if (s.moved === null) s.moved = now;
      return;
    }
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}"""


def browser_tests() -> list:
    """The marks of a browser test module: `pytestmark = browser_tests()`."""
    import pytest

    return [pytest.mark.browser, pytest.mark.skipif(browser_available() is not None, reason=str(browser_available()))]


@contextlib.contextmanager
def fresh_visit(browser, url: str, timeout: float = 90, size: tuple[int, int] = (1400, 1000), **context_args):
    """A page of a new browser context (no cookies, no history; `size` its window) opened at url and rendered."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, **context_args)
    page = context.new_page()
    try:
        page.goto(url, wait_until="domcontentloaded")
        wait_until_rendered(page, timeout=timeout)
        yield page
    finally:
        context.close()


# Each page's url path → (its heading, CSS selectors that must be present: its charts, images, tables)
PAGE_PARTS = {
    "": ("Autoencoder Explorer", ['[data-testid="stMetric"]', '[data-testid="stImage"]',
                                  '[data-testid="stDataFrame"]']),
    "train": ("Train", ['[data-testid="stButton"]', '[data-testid="stSelectbox"]']),
    "reconstructions": ("Reconstructions", ['[data-testid="stImage"]', '.js-plotly-plot',
                                            '[data-testid="stDownloadButton"]']),
    "activations": ("Activations & sparsity", ['[data-testid="stMetric"]', '.js-plotly-plot',
                                               '[data-testid="stExpander"]', '[data-testid="stButtonGroup"]']),
    "latent": ("Latent space", ['.js-plotly-plot', '[data-testid="stImage"]', '[data-testid="stDownloadButton"]']),
    "compare": ("Compare", ['[data-testid="stDataFrame"]', '.js-plotly-plot', '[data-testid="stImage"]']),
    "claims": ("Claims", ['[data-testid="stTable"]', '.js-plotly-plot', '[data-testid="stDownloadButton"]']),
}
