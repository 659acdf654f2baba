"""App benchmark: how long a player waits for one month's step plus redraw, early in a game
and late in it, and for a 12-month play at full speed, with the default dashboard (the price
tab).

Starts the solara server on a free loopback port, drives the page in Debian's Chromium
(Playwright, headless, every non-loopback request blocked) and times clicks until the page
shows the result: the clock's new month and a new chart image, loaded (checked every frame).

A step is timed in the page, from the click event to the first frame that shows the result
(``performance.now()``): what the player waits for. Playwright's own time around the same click
is printed too; it adds ~50-60 ms of harness (the click's actionability checks wait for the
button to be stable over two frames, then a round trip to the browser) that no player waits for.

    uv run python benchmarks/app.py [--steps 10] [--late 60] [--scenario NAME]

Targets: step + redraw under 150 ms median (issue 14; 250 in issue 4), early and late (from
month ``--late``); a 12-month play under 4 s.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402

from ui.assets import ensure_assets  # noqa: E402
from ui.serve import command, environment  # noqa: E402

#: Median step + redraw the app must stay under, ms (issue 14).
STEP_TARGET_MS = 150
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(scenario: str) -> tuple[subprocess.Popen, str]:
    """Start the server; return it and its URL once it answers."""
    problems = ensure_assets(quiet=True)
    if problems:
        raise SystemExit("\n".join(problems))
    port = _free_port()
    proc = subprocess.Popen(
        command("127.0.0.1", port),
        env=environment(scenario),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start")


def _offline(route) -> None:
    if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort()


def _src(page) -> str:
    return page.locator(".dashboard img").first.get_attribute("src") or ""


#: Notes the page's time of every click (capture phase: before any handler of the page).
CLICK_CLOCK = """() => {
    if (!window.__clicked) {
        document.addEventListener('click', () => { window.__clicked = performance.now(); },
                                  {capture: true});
    }
    window.__clicked = 0;
}"""

#: True once the page shows month ``month`` in its clock and a chart image other than
#: ``before``, loaded; notes the page's time then. Checked at every animation frame
#: (``polling="raf"``): a locator's ``wait_for`` retries on Playwright's back-off (after 0, 20,
#: 50, 100 and 100 ms, then every 500), which added up to ~100 ms to a step that had already
#: shown.
SHOWN = """([month, before]) => {
    const clock = document.querySelector('.game-clock');
    const img = document.querySelector('.dashboard img');
    const shown = !!clock && clock.innerText.includes(`month ${month}/`) && !!img
        && img.getAttribute('src') !== before && img.complete && img.naturalWidth > 0;
    if (shown) { window.__shown = performance.now(); }
    return shown;
}"""


def _month(page) -> int:
    return int(page.locator(".game-clock").inner_text().split("month ")[1].split("/")[0])


def _steps(page, steps: int) -> tuple[list[float], list[float]]:
    """Step ``steps`` months one click at a time; the waits in the page and in Playwright, ms."""
    in_page, harness = [], []
    for _ in range(steps):
        month = _month(page) + 1
        before = _src(page)
        page.evaluate(CLICK_CLOCK)
        t = time.perf_counter()
        page.get_by_role("button", name="Step 1 month").click()
        page.wait_for_function(SHOWN, arg=[month, before], polling="raf")
        harness.append(1000 * (time.perf_counter() - t))
        in_page.append(page.evaluate("() => window.__shown - window.__clicked"))
    return in_page, harness


def _play_until(page, month: int, timeout_ms: float = 120_000) -> float:
    """Play at the current speed until the clock shows ``month``; pause; the time taken, s."""
    t = time.perf_counter()
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        "(m) => parseInt(document.querySelector('.game-clock').innerText.split('month ')[1]) >= m",
        arg=month,
        timeout=timeout_ms,
    )
    elapsed = time.perf_counter() - t
    page.get_by_role("button", name="Pause").click()
    page.wait_for_timeout(500)  # let a turn under way finish before the next click
    return elapsed


def measure(url: str, steps: int, late: int) -> dict[str, float]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.route("**/*", _offline)
        started = time.perf_counter()
        page.goto(url)
        page.get_by_role("button", name="Start the game").click()
        page.locator(".dashboard img").wait_for(timeout=60_000)
        load_s = time.perf_counter() - started
        early, early_harness = _steps(page, steps)
        page.get_by_role("button", name="Reset").click()
        page.get_by_role("button", name="Yes, reset").click()  # Reset asks to be confirmed
        page.get_by_text("month 0/").wait_for()
        # Full speed: choose the fastest setting, then time Play until month 12 shows.
        page.locator(".v-select").filter(has_text="Speed").click()
        page.get_by_role("option", name="fast (a turn per redraw)").click()
        play_s = _play_until(page, 12)
        # Late in a game: the charts and the news hold years of months.
        _play_until(page, late)
        late_steps, late_harness = _steps(page, steps)
        browser.close()
    return {
        "load_s": load_s,
        "step_median_ms": statistics.median(early),
        "step_max_ms": max(early),
        "harness_median_ms": statistics.median(early_harness),
        "late_median_ms": statistics.median(late_steps),
        "late_max_ms": max(late_steps),
        "late_harness_median_ms": statistics.median(late_harness),
        "late_month": late,
        "play12_s": play_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--late", type=int, default=60, help="month to time late steps from")
    parser.add_argument("--scenario", default="alliance-vs-tariffs-2025")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    proc, url = serve(args.scenario)
    try:
        r = measure(url, args.steps, args.late)
    finally:
        proc.terminate()
        proc.wait(10)
    # The figures scale with what else the machine runs: say how busy it was.
    print(f"load average (1 min):     {load:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"page load + start:        {r['load_s']:.2f} s")
    print(
        f"step + redraw (median):   {r['step_median_ms']:.0f} ms  (max {r['step_max_ms']:.0f};"
        f" target < {STEP_TARGET_MS}); with Playwright's harness {r['harness_median_ms']:.0f}"
    )
    print(
        f"  late, from month {r['late_month']}:    {r['late_median_ms']:.0f} ms  (max "
        f"{r['late_max_ms']:.0f}); with Playwright's harness {r['late_harness_median_ms']:.0f}"
    )
    print(f"12-month play, full speed: {r['play12_s']:.2f} s  (target < 4)")
    ok = max(r["step_median_ms"], r["late_median_ms"]) < STEP_TARGET_MS and r["play12_s"] < 4
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
