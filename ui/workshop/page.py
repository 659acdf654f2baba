"""The workshop's Solara page (``SOLARA_APP=ui.workshop.page``, served by ``chokepoint serve``):
a team's seat view or the facilitator's console, chosen by the session cookie that the login
form at ``/join`` set (ui/workshop/server.py). Without a valid session: a link to ``/join``."""

import solara
import solara.lab

from play.room import workshops
from ui.workshop.security import CSRF_COOKIE
from ui.workshop.server import COOKIE, logout_form
from ui.workshop.views import Refusing, SignedIn, SignedOut


@solara.component
def Page():
    cookies = solara.lab.cookies.value or {}
    server = workshops()
    cred = server.credential(cookies.get(COOKIE))
    solara.Title("Chokepoint workshop")
    if cred is None:
        SignedOut("You are not signed in to this workshop.")
        return
    with Refusing():  # a crafted widget message gets a refusal, never a traceback
        SignedIn(server, cred, logout_form(cookies.get(CSRF_COOKIE, "")))
