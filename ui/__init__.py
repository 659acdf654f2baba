"""The Chokepoint browser front end: the pages, charts and Solara components of a game.

``app.py`` at the top of the repository is the page (``solara run app.py``); the game being
played is :mod:`play.session` (one player's game: a world, its controls and its news, no UI),
re-exported here for the pages. This package holds the parts that draw: :mod:`ui.charts`
(matplotlib figures in one style, with values on demand), :mod:`ui.readouts` (the seat's live
key numbers), :mod:`ui.components` (the panels), :mod:`ui.guide` (the guided first turn) and
:mod:`ui.glossary` (the glossary, and the tooltips drawn from it).
"""

from play.session import GameSession, seats_of

__all__ = ["GameSession", "seats_of"]
