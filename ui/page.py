"""The page solara serves: ``solara run ui.page`` (what ``chokepoint play`` runs) or
``solara run app.py``. ``CHOKEPOINT_SCENARIO`` picks the scenario the start screen proposes."""

import os

import solara
import solara.server.settings

from ui.components import GamePage
from ui.glossary import Tooltips

DEFAULT_SCENARIO = "alliance-vs-tariffs-2025"

# Solara's own credit is pinned to the foot of the first screen, where it covers whatever
# control the page puts there (at 390 px, the dashboard's tabs); the page draws it in the flow
# instead, after its last control.
solara.server.settings.theme.show_banner = False


@solara.component
def Page():
    GamePage(scenario=os.environ.get("CHOKEPOINT_SCENARIO", DEFAULT_SCENARIO))
    Tooltips()  # every control and chart takes its tooltip from the glossary
    solara.HTML(
        tag="div",
        unsafe_innerHTML='<b>This website runs on <a href="https://solara.dev">Solara</a></b>',
        style={"text-align": "right", "padding": "10px"},
    )
