"""Make docs/figures/dashboard.png: the game page after two years played as the United States.

Starts the app's server on a free loopback port, plays eight turns in Debian's Chromium
(Playwright, headless, offline) and takes a screenshot of the page.

    uv run python docs/make_screenshot.py
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402

from benchmarks.app import ARGS, _offline, serve  # noqa: E402

OUT = REPO / "docs" / "figures" / "dashboard.png"


def main() -> int:
    proc, url = serve("alliance-vs-tariffs-2025")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=ARGS
            )
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.route("**/*", _offline)
            page.goto(url)
            page.get_by_role("button", name="Start the game").click()
            page.locator(".order-rate input").fill("0.25")
            page.locator(".submit-order").click()
            page.locator(".order-message").wait_for()
            for turn in range(1, 9):
                page.locator(".end-turn").click()
                page.get_by_text(f"month {3 * turn}/").wait_for(timeout=60_000)
            page.wait_for_timeout(500)
            OUT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUT))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
