"""The Chokepoint browser front end: a game session, its charts and its Solara components.

``app.py`` at the top of the repository is the page (``solara run app.py``); this package holds
the parts: :mod:`ui.session` (one player's game: a world, its controls and its news, no UI),
:mod:`ui.charts` (matplotlib figures in one style, with values on demand), :mod:`ui.readouts`
(the seat's live key numbers), :mod:`ui.components` (the panels), :mod:`ui.guide` (the guided
first turn) and :mod:`ui.glossary` (the glossary, and the tooltips drawn from it).
"""

from ui.session import GameSession, seats_of

__all__ = ["GameSession", "seats_of"]
