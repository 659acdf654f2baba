"""Helper processes that end with the workshop server, even when it is killed with ``kill -9``.

A pool worker (play/branching.py) is a child of multiprocessing's forkserver, not of the
server, and holds both ends of its job queue's pipe, so it would never see the server go: it
would wait on the queue for ever, and keep the resource tracker alive with it. Each worker
therefore watches the server's process (:func:`follow`, a pool initializer) and exits the moment
it ends. The forkserver does the same (:func:`follow` at import, from its preload list).

The server names itself in :data:`SERVER_PID_ENV`; a process started otherwise (a test, a
script) is followed through the pool's ``initargs`` instead.
"""

from __future__ import annotations

import os
import select
import threading

#: The environment variable holding the pid of the process helpers must not outlive.
SERVER_PID_ENV = "CHOKEPOINT_SERVER_PID"


def _wait_then_exit(fd: int) -> None:
    select.select([fd], [], [])  # a pidfd turns readable when its process has ended
    os._exit(0)


def follow(pid: int | None = None) -> None:
    """End this process as soon as process ``pid`` (default: :data:`SERVER_PID_ENV`) ends.

    Uses a pidfd (Linux 5.3+), so it needs no polling and cannot be fooled by a reused pid; on
    other systems it does nothing.
    """
    if pid is None:
        pid = int(os.environ.get(SERVER_PID_ENV) or 0)
    if not pid or pid == os.getpid() or not hasattr(os, "pidfd_open"):
        return
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(0)  # already gone
    except OSError:
        return  # no pidfd support (an old kernel): nothing to watch with
    threading.Thread(target=_wait_then_exit, args=(fd,), daemon=True, name="lifeline").start()
