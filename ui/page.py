"""The page solara serves: ``solara run ui.page`` (what ``chokepoint play`` runs) or
``solara run app.py``. ``CHOKEPOINT_SCENARIO`` picks the scenario the start screen proposes."""

import os

import solara

from ui.components import GamePage
from ui.glossary import Tooltips

DEFAULT_SCENARIO = "alliance-vs-tariffs-2025"


@solara.component
def Page():
    GamePage(scenario=os.environ.get("CHOKEPOINT_SCENARIO", DEFAULT_SCENARIO))
    Tooltips()  # every control and chart takes its tooltip from the glossary
