"""A real browser for the web interface's tests: Playwright driving Debian's Chromium (never a
downloaded one), axe-core injected into pages, screenshots for docs/."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# KIMHUB_WEB_SCREENSHOTS=docs/web writes the main pages' screenshots there (scripts/web_screenshots.sh)
SCREENSHOTS = os.environ.get("KIMHUB_WEB_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/testenv/prepare.sh does)")
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci`")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def assert_accessible(page) -> None:
    """axe-core on the page as it is now: no serious or critical WCAG 2.1 A/AA violation."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, f"{page.url}: {bad}"


def screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        target = ROOT / SCREENSHOTS
        target.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target / f"{name}.png"), full_page=True)


def sign_in(page, base_url: str, user: str) -> None:
    page.goto(f"{base_url}/")
    page.get_by_label(f"{user}:").check()
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state()


def sign_out(page) -> None:
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url("**/ui/anmelden?abgemeldet=1")
