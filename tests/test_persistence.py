"""Nothing a student makes is lost: a model trained in one browser is listed there after a reload and
after a server restart, and never in another browser (a real server, real Chromium, real cookies)."""
from __future__ import annotations

from browser_support import browser_tests, launch_browser, streamlit_server, wait_until_rendered

pytestmark = browser_tests()


def listed_models(page, text: str = "trained") -> list[str]:
    """The labels in the sidebar's model list that contain text (typed into it as a filter: the list
    is long, and only what is in view is in the page)."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    box.click()
    page.keyboard.type(text)
    page.wait_for_timeout(300)
    labels = [label for label in page.get_by_role("option").all_inner_texts() if text in label]
    page.keyboard.press("Escape")
    return labels


def test_a_trained_model_survives_reload_and_restart_and_stays_in_its_browser(tmp_path):
    from playwright.sync_api import sync_playwright

    env = {"AE_EXPLORER_STATE_DIR": str(tmp_path / "browsers"), "AE_EXPLORER_SAVE_DIR": str(tmp_path / "runs")}
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        student, other = (browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2))
        page = student.new_page()
        with streamlit_server(launcher=True, env=env) as (url, _, _proc):
            page.goto(f"{url}/train", wait_until="domcontentloaded")
            wait_until_rendered(page, timeout=90)
            page.get_by_role("spinbutton", name="Epochs").fill("2")
            page.get_by_role("spinbutton", name="Epochs").press("Enter")
            wait_until_rendered(page, timeout=120)
            page.get_by_role("button", name="Train").first.click()
            page.get_by_text("Finished after 2 epochs").wait_for(timeout=120_000)
            wait_until_rendered(page, timeout=180)
            mine = [label for label in listed_models(page) if "· trained" in label]
            assert len(mine) == 1 and mine[0].startswith("ae · mnist-5k · trained") and "(2 epochs)" in mine[0]
            page.reload(wait_until="domcontentloaded")
            wait_until_rendered(page, timeout=180)
            assert mine[0] in listed_models(page)                         # after a reload
        with streamlit_server(launcher=True, env=env) as (url, _, _proc):  # a new server process
            page.goto(url, wait_until="domcontentloaded")
            wait_until_rendered(page, timeout=90)
            assert mine[0] in listed_models(page)                         # after a restart
            page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
            page.keyboard.type("trained")
            page.get_by_role("option", name=mine[0]).click()             # and it is usable
            wait_until_rendered(page, timeout=180)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert "ae" in page.locator('[data-testid="stMetric"]').first.inner_text()
            stranger = other.new_page()
            stranger.goto(url, wait_until="domcontentloaded")
            wait_until_rendered(page, timeout=90)
            wait_until_rendered(stranger, timeout=90)
            assert not any("· trained" in label for label in listed_models(stranger))   # never another browser's
        assert len(list((tmp_path / "browsers").glob("*/trained/*.pt"))) == 1
        browser.close()
