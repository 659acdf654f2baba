"""The guided first turn: five short steps over the page's own panels, skippable at any step.

Where the player stands in the guide is kept with the game (``GameSession.guide_step``, stored
with the saved game like any other input): a guide finished or skipped is not shown again for
that game, even after a reload, and a reload mid-guide comes back at the same step. The help
bar above the dashboard starts the guide again and opens the glossary (ui/glossary.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import solara

from play.session import OBSERVER, GameSession
from ui.glossary import GlossaryPanel


def _ordered(session: GameSession) -> bool:
    """Whether the seat has an order pending or taken (not refused) in this world."""
    table = session.world.orders()
    taken = (table["issuer"] == session.seat) & (table["status"] != "rejected")
    return bool(session.pending_orders()) or bool(taken.any())


def _played(session: GameSession) -> bool:
    return session.month > 0


@dataclass(frozen=True)
class Step:
    """One step of the guide.

    Attributes:
        title: what the step is about, in a few words.
        text: what to look at and do (Markdown); ``{seat}`` and ``{objectives}`` are filled in.
        done: whether the player has done what the step asks (None: nothing to do but read).
        players_only: left out for the observer, who has no seat to play.
    """

    title: str
    text: str
    done: Callable[[GameSession], bool] | None = None
    players_only: bool = False


STEPS = (
    Step(
        "your seat and its objectives",
        "You play **{seat}**. Your **score** (-1 to 1) weighs {objectives}. The **Briefing** "
        "panel on the right has your role and what success looks like: a score that ends above "
        "where it started, and above doing nothing.",
        players_only=True,
    ),
    Step(
        "read the prices and your readouts",
        "The **Prices** tab shows what a buyer in each region pays, in USD/kg, month by month "
        "(China thick and red). The other tabs show stocks, China's share of each stage, "
        "shortages, capacity, your spending and score, and trade. Hover over any control or "
        "chart for what it means, or open the **Glossary**.",
    ),
    Step(
        "place an order and preview it",
        "In **Orders**, pick an instrument (an import tariff on magnets from CN, say), then "
        "press **Preview**: a dry run shows the fiscal cost per month, the tonnes expected to "
        "be delivered and your prices over six months with and without the order. **Submit "
        "order** puts it in the *pending* list, where **Cancel** can still withdraw it.",
        done=_ordered,
        players_only=True,
    ),
    Step(
        "advance the clock",
        "**Step 1 month** plays one month; **End turn** plays to the end of the turn, where "
        "pending orders take effect and the AI states answer. Read the **News** below the "
        "chart for what everyone did.",
        done=_played,
    ),
    Step(
        "see why a price moved",
        "Open **Why?**, choose a commodity, a region and a month: the price is split into "
        "input costs, scarcity markup, policy wedge (duty, tariff or licence rent) and "
        "transport, with the events and orders behind it. That is the whole first turn: "
        "**Finish**, and play on.",
    ),
)


def steps_for(session: GameSession) -> tuple[Step, ...]:
    """The steps this game's player is shown (the observer has no seat to play)."""
    return tuple(s for s in STEPS if session.seat != OBSERVER or not s.players_only)


def step_text(step: Step, session: GameSession) -> str:
    """The step's text for this game's seat and objectives."""
    weights = session.weights()
    objectives = ", ".join(f"{name} x {w:g}" for name, w in weights.items() if w) or "nothing"
    return step.text.format(seat=session.seat, objectives=objectives)


@solara.component
def HelpBar(session: GameSession, version: int, on_change: Callable[[], None]):
    """The help buttons (start the guide again, the glossary) and the guide's current step
    (``version``: as in ui/components.py's panels)."""
    glossary_open = solara.use_reactive(False)
    steps = steps_for(session)
    at = session.guide_step
    # A step past the last (a game saved by another version of the guide) shows nothing.
    showing = at is not None and at < len(steps)

    def go(step: int | None) -> None:
        session.guide_at(step)
        on_change()

    with solara.Row(classes=["help-bar"], style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button(
            "Guided first turn",
            on_click=lambda: go(0),
            disabled=showing,
            text=True,
            classes=["guide-restart"],
        )
        solara.Button(
            "Glossary",
            on_click=lambda: glossary_open.set(not glossary_open.value),
            text=True,
            classes=["glossary-open"],
        )
    if showing:
        GuideStep(session, version, steps, at, go)
    if glossary_open.value:
        GlossaryPanel(on_close=lambda: glossary_open.set(False))


@solara.component
def GuideStep(
    session: GameSession,
    version: int,
    steps: tuple[Step, ...],
    at: int,
    go: Callable[[int | None], None],
):
    """Step ``at`` of ``steps``, with Back, Next (Finish on the last) and Skip (``version``:
    as in :func:`HelpBar`, so that a step's "done" follows the game)."""
    step = steps[at]
    last = at == len(steps) - 1
    with solara.Card(
        f"Guided first turn, step {at + 1} of {len(steps)}: {step.title}",
        classes=["guide-step"],
        style={"max-width": "900px"},
    ):
        solara.Markdown(step_text(step, session))
        if step.done is not None and step.done(session):
            solara.Success("Done: press Next.", dense=True, classes=["guide-done"])
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Button("Back", on_click=lambda: go(at - 1), disabled=at == 0, text=True)
            solara.Button(
                "Finish" if last else "Next",
                on_click=lambda: go(None if last else at + 1),
                color="primary",
                classes=["guide-next"],
            )
            solara.Button(
                "Skip the guide", on_click=lambda: go(None), text=True, classes=["guide-skip"]
            )
