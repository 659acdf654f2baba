"""Chokepoint in the browser: ``solara run app.py`` (or ``chokepoint play``).

Each browser session gets its own game (its own world): the page keeps the game in component
state, never in a module-level variable. The panels are in the ``ui`` package.
"""

from ui.page import Page

__all__ = ["Page"]
