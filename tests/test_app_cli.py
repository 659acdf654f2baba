"""``chokepoint play``: the subcommand that serves the game."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from experiments.cli import EXIT_USAGE, build_parser, main
from ui.serve import command

ROOT = Path(__file__).resolve().parents[1]


def test_play_is_a_subcommand_with_its_options():
    args = build_parser().parse_args(["play", "--scenario", "quota-2010", "--port", "9001"])
    assert (args.scenario, args.port, args.host) == ("quota-2010", 9001, "127.0.0.1")


def test_unknown_scenario_is_a_usage_error(capsys):
    assert main(["play", "--scenario", "no-such-scenario"]) == EXIT_USAGE
    assert "no-such-scenario" in capsys.readouterr().err


def test_server_command_runs_the_page_module():
    cmd = command("127.0.0.1", 8765)
    assert cmd[1:4] == ["-m", "solara", "run"] and "ui.page" in cmd
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"


def test_play_prints_the_url_and_serves_the_page():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "experiments.cli", "play", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        deadline = time.time() + 60
        while True:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, "server did not start"
                time.sleep(0.3)
        assert b"solara" in page.lower()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
