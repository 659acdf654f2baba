"""Start the game's web server: what ``chokepoint play`` does."""

from __future__ import annotations

import os
import subprocess
import sys

from ui.assets import ensure_assets


def command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line for the page."""
    return [
        sys.executable, "-m", "solara", "run", "ui.page",
        "--host", host, "--port", str(port), "--production", "--no-open",
    ]  # fmt: skip


def environment(scenario: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if scenario:
        env["CHOKEPOINT_SCENARIO"] = scenario
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")
    return env


def play(scenario: str | None, host: str, port: int) -> int:
    """Serve the game until interrupted; returns the server's exit code."""
    for problem in ensure_assets():
        print(f"warning: {problem}; the page will need the internet", file=sys.stderr)
    print(f"Chokepoint is at http://{host}:{port}/ (Ctrl-C stops it)", flush=True)
    return subprocess.call(command(host, port), env=environment(scenario))
