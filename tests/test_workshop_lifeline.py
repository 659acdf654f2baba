"""The branching pool's helpers end with the server (issue 15, finding 7): after a kill -9 of
the process that ran futures on its pool, no forkserver, worker or resource tracker is left."""

import os
import signal
import subprocess
import sys
import time

from test_app_browser import ROOT

#: A stand-in for ``chokepoint serve``: it names itself as the server (as serve() does), runs
#: futures on the pool, then waits to be killed.
SERVER = """
import os
from play import branching
from play.lifeline import SERVER_PID_ENV
from world import World, load_scenario

os.environ[SERVER_PID_ENV] = str(os.getpid())
world = World(load_scenario("alliance-vs-tariffs-2025"), seed=1)
branching.futures(world, 2, 1, workers=2)
print("ready", flush=True)
import time
time.sleep(600)
"""


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_no_helper_outlives_a_killed_server():
    proc = subprocess.Popen([sys.executable, "-c", SERVER], cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"ready"
        helpers = _descendants(proc.pid)
        assert len(helpers) >= 3  # the forkserver, its workers, the resource tracker
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while any(_running(p) for p in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in helpers if _running(p)]
    for pid in left:  # never leave them behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert left == [], f"{len(left)} of {len(helpers)} helpers outlived the server"
