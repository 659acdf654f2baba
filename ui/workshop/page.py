"""The workshop's Solara page (``SOLARA_APP=ui.workshop.page``): a team's seat view or the
facilitator's console, chosen by the session cookie the login form set (ui/workshop/server.py)."""

import solara
import solara.lab

from ui.workshop.room import workshops

COOKIE = "chokepoint_session"


@solara.component
def Page():
    token = solara.lab.cookies.value.get(COOKIE) if solara.lab.cookies.value else None
    cred = workshops().credential(token)
    solara.Title("Chokepoint workshop")
    if cred is None:
        solara.HTML(tag="div", unsafe_innerHTML='<a href="/join">Join the workshop</a>')
    else:
        solara.Text(f"Signed in as {cred.seat or cred.role}", classes=["signed-in"])
