"""Progress of a batch: a tqdm bar on a terminal, else a plain line every few seconds.

Batches run under ``nohup``, in CI and on cluster schedulers, whose logs are not terminals: a bar
there is either invisible or thousands of carriage returns, so the same figures are printed as
one line per interval instead.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts finished runs and shows them.

    Args:
        name: the experiment's name, at the start of each line.
        total: runs to do.
        bar: a tqdm bar (True), plain lines (False) or, by default, a bar only on a terminal.
        every_s: seconds between plain lines.
        stream: where to write (default: stderr).
    """

    def __init__(
        self,
        name: str,
        total: int,
        bar: bool | None = None,
        every_s: float = 5.0,
        stream: TextIO | None = None,
    ):
        self.name, self.total, self.every_s = name, total, every_s
        self.stream = stream or sys.stderr
        self.done = self.failed = 0
        self.started = self.last = time.monotonic()
        show_bar = self.stream.isatty() if bar is None else bar
        self.bar = None
        if show_bar and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=name, unit="run", file=self.stream)

    def update(self, ok: bool) -> None:
        """Count one finished run."""
        self.done += 1
        self.failed += 0 if ok else 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(failed=self.failed)
            return
        now = time.monotonic()
        if now - self.last >= self.every_s:
            self.last = now
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def line(self) -> str:
        """One line: runs done of total, failures, rate and time left."""
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta = f"{left:.0f} s left" if left == left else "time left unknown"
        return (
            f"{self.name}: {self.done}/{self.total} runs ({self.failed} failed), "
            f"{60 * rate:.1f} runs/min, {elapsed:.0f} s elapsed, {eta}"
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
