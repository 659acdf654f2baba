"""Chokepoint in the browser: ``solara run app.py`` (or ``chokepoint play``).

Each browser session gets its own game (its own world): the page keeps the game in component
state, never in a module-level variable. The panels are in the ``ui`` package.
"""

import sys

from ui.assets import ensure_assets
from ui.page import Page

# As ``chokepoint play`` does: the page's scripts are put in place once (from the npm registry)
# so that this route too serves them from this machine and works without internet afterwards.
for _problem in ensure_assets(quiet=True):
    print(f"warning: {_problem}; the page will need the internet", file=sys.stderr)

__all__ = ["Page"]
