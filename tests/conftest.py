"""Fixtures shared across test modules."""

from workshop_setup import facilitator, game, workshops  # noqa: F401
