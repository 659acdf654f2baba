"""The workshop's Solara page (``SOLARA_APP=ui.workshop.page``, served by ``chokepoint serve``):
a team's seat view or the facilitator's console, chosen by the session cookie that the login
form at ``/join`` set (ui/workshop/server.py). Without a valid session: a link to ``/join``."""

import solara
import solara.lab

from ui.workshop.room import workshops
from ui.workshop.server import COOKIE
from ui.workshop.views import Workshop


@solara.component
def Page():
    cookies = solara.lab.cookies.value or {}
    server = workshops()
    cred = server.credential(cookies.get(COOKIE))
    solara.Title("Chokepoint workshop")
    if cred is None:
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                "<p>You are not signed in to this workshop.</p>"
                '<p><a class="join-link" href="/join">Enter your join code</a></p>'
            ),
        )
        return
    with solara.Row(style={"justify-content": "flex-end"}):
        solara.Text(f"Signed in as {cred.seat or cred.role}", classes=["signed-in"])
        solara.HTML(
            tag="form",
            unsafe_innerHTML='<button type="submit" class="logout">Sign out</button>',
            attributes={"method": "post", "action": "/logout"},
        )
    Workshop(server, cred)
