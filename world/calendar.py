"""Month and turn arithmetic: the model counts whole months from the scenario start.

Dates in scenario files and results are ``YYYY-MM`` strings; month 0 is the scenario's start.
A turn is ``turn_months`` months; turns count from 1, as a player reads them: turn 1 is months
0 to ``turn_months - 1``, and a turn boundary is a month that starts a turn (orders queued for
the turn apply there). A single-player game, a workshop room, their reports and the order
preview all count turns and find boundaries with these functions.
"""

from __future__ import annotations

import functools
import re

_DATE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> tuple[int, int]:
    """Parse ``YYYY-MM`` into (year, month).

    Raises:
        ValueError: if the text is not a ``YYYY-MM`` date.
    """
    return _parse_month(str(text))


# A game parses the same few dates thousands of times a month (programme and project dates).
@functools.cache
def _parse_month(text: str) -> tuple[int, int]:
    match = _DATE.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a date of the form YYYY-MM (e.g. 2024-01)")
    return int(match.group(1)), int(match.group(2))


def months_between(start: str, date: str) -> int:
    """Whole months from ``start`` to ``date`` (negative when ``date`` is earlier)."""
    y0, m0 = parse_month(start)
    y1, m1 = parse_month(date)
    return (y1 - y0) * 12 + (m1 - m0)


def add_months(start: str, months: int) -> str:
    """The ``YYYY-MM`` date ``months`` after ``start``."""
    y, m = parse_month(start)
    total = y * 12 + (m - 1) + months
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


#: The number of the first turn (month 0 is in it).
FIRST_TURN = 1


def turn_of(month, turn_months: int):
    """The turn (from 1) that ``month`` belongs to; a month number or an array/Series of them."""
    return month // turn_months + FIRST_TURN


def turn_start(turn: int, turn_months: int) -> int:
    """The month turn ``turn`` (from 1) starts at: its boundary."""
    return (turn - FIRST_TURN) * turn_months


def is_boundary(month: int, turn_months: int) -> bool:
    """Whether ``month`` starts a turn (where the turn's queued orders apply and AI seats
    decide)."""
    return month % turn_months == 0


def next_boundary(month: int, turn_months: int) -> int:
    """The first turn boundary at or after ``month``: where an order queued now applies
    (``month`` itself if a turn starts there). The end of the turn being played is
    ``next_boundary(month + 1, ...)``."""
    return -(-month // turn_months) * turn_months
