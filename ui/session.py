"""One player's game: a world, its seat, the controls and the news, with no UI code.

The Solara page keeps one :class:`GameSession` per browser session; tests drive it directly.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import pandas as pd

from world import Scenario, World, load_scenario
from world.deals import NEGOTIATION_KINDS, deals_of
from world.objectives import weights as objective_weights

OBSERVER = "observer"


def seats_of(spec: Scenario) -> list[str]:
    """The seats a player can take: every state with a government, then the observer."""
    return [s.region for s in spec.states] + [OBSERVER]


def briefing(spec: Scenario, seat: str) -> str:
    """The briefing for a seat: the scenario's ``references.briefing`` table if it has one
    (``general`` and one entry per seat), else its description."""
    table = spec.references.get("briefing", {}) if isinstance(spec.references, dict) else {}
    parts = [str(table.get("general", spec.description))] if table else [spec.description]
    if isinstance(table, dict) and seat in table:
        parts.append(str(table[seat]))
    return "\n\n".join(parts)


@dataclass
class GameSession:
    """A game in progress.

    Args:
        scenario: the scenario (a bundled name, a path or a Scenario).
        seed: the world's seed.
        seat: the region the player plays, or ``observer``.
        turn_months: months per turn; None keeps the scenario's.
    """

    scenario: str | Scenario
    seed: int = 0
    seat: str = OBSERVER
    turn_months: int | None = None
    spec: Scenario = field(init=False)
    world: World = field(init=False)
    version: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        spec = (
            self.scenario if isinstance(self.scenario, Scenario) else load_scenario(self.scenario)
        )
        if self.turn_months:
            spec = spec.model_copy(update={"turn_months": int(self.turn_months)})
        self.spec = spec
        self.world = self._new_world()

    # ------------------------------------------------------------------ the world

    @property
    def human_seats(self) -> frozenset[str]:
        return frozenset() if self.seat == OBSERVER else frozenset({self.seat})

    def _new_world(self) -> World:
        return World(self.spec, seed=self.seed, human_seats=self.human_seats)

    @property
    def month(self) -> int:
        return self.world.month

    @property
    def turn_months_now(self) -> int:
        return self.spec.turn_months

    @property
    def turn(self) -> int:
        """The turn the next month belongs to (0-based)."""
        return self.world.month // self.spec.turn_months

    @property
    def finished(self) -> bool:
        return self.world.month >= self.spec.months

    def date(self) -> str:
        return self.world.date_of(self.world.month)

    def _touch(self) -> None:
        self.version += 1

    def step(self) -> None:
        """One month."""
        if not self.finished:
            self.world.step()
        self._touch()

    def end_turn(self) -> None:
        """Run to the next turn boundary (pending orders apply there)."""
        t = self.spec.turn_months
        target = min(self.spec.months, (self.world.month // t + 1) * t)
        while self.world.month < target:
            self.world.step()
        self._touch()

    def reset(self) -> None:
        """Start again from month 0 with the same settings."""
        self.world = self._new_world()
        self._touch()

    def undo_to_turn(self, turn: int) -> None:
        """Go back to the start of an earlier turn: replay every order applied before it.

        The AI seats' decisions come from the log (as in :meth:`World.replay`), so the world
        is the one the player saw; after the rewind the AIs decide again.
        """
        month = max(0, int(turn)) * self.spec.turn_months
        if month >= self.world.month:
            return
        table = self.world.orders()
        before = table[table["month"] < month]
        world = World.replay(self.spec, self.seed, before)
        world.run(month)
        # The replay silences every doctrine; from here on the AI seats decide again.
        world.human_seats = self.human_seats
        world.doctrines = self._new_world().doctrines
        self.world = world
        self._touch()

    # ------------------------------------------------------------------ orders

    def submit(self, order: dict):
        """Submit an order for the seat; returns the world's OrderResult."""
        order = {**order, "issuer": order.get("issuer") or self.seat}
        seat = None if self.seat == OBSERVER else self.seat
        result = self.world.submit(order, seat=seat)
        self._touch()
        return result

    def pending(self) -> list[str]:
        """The seat's orders waiting for the turn boundary, in words."""
        lines = []
        for order, _seat, _source, order_id in self.world.desk.pending:
            params = {k: v for k, v in order.parameters().items() if v not in ("", [], None, False)}
            lines.append(f"{order_id}: {order.kind} by {order.issuer} {_short(params)}")
        return lines

    def cancel_pending(self) -> None:
        self.world.desk.pending.clear()
        self._touch()

    def in_force(self, region: str | None = None) -> list[str]:
        """Policies and programmes in force now (of ``region``, or everyone's), in words."""
        return in_force(self.world, region)

    # ------------------------------------------------------------------ news and deals

    def news(self) -> pd.DataFrame:
        """Everything that happened, newest first (see :func:`news`)."""
        return news(self.world)

    def deals(self):
        return deals_of(self.world)

    def inbox(self) -> list:
        """Proposals waiting for the seat's answer."""
        return [] if self.seat == OBSERVER else inbox(self.world, self.seat)

    def trust_table(self) -> pd.DataFrame:
        return trust_table(self.world)

    def weights(self) -> dict[str, float]:
        if self.seat == OBSERVER:
            return {}
        return objective_weights(self.world, self.seat)

    # ------------------------------------------------------------------ exports

    def results_csv(self) -> bytes:
        return self.world.results().to_csv(index=False).encode()

    def results_parquet(self) -> bytes:
        buffer = io.BytesIO()
        self.world.results().to_parquet(buffer, index=False)
        return buffer.getvalue()

    def orders_csv(self) -> bytes:
        return self.world.orders().to_csv(index=False).encode()


def _short(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items() if v not in ("", [], None, False))


def news(world: World, seat: str | None = None) -> pd.DataFrame:
    """Orders, events, firm decisions and deals, newest first: columns month, date, who, kind,
    text. With ``seat``, what is not that seat's business is left out: other seats' rejected
    orders (what a state tried and failed to do), and talks on deals it is not party to until
    they are agreed (proposals, answers, counters, lapses; an agreement is public)."""
    diplomacy = deals_of(world)
    rows = [
        {
            "month": e["month"],
            "date": e["date"],
            "who": e.get("actor", ""),
            "kind": e.get("kind", ""),
            "text": e["text"],
        }
        for e in world.log
        if seat is None or seat in e.get("private_to", (seat,))
    ]
    for o in world.orders().itertuples(index=False):
        if seat is not None and o.issuer != seat:
            if o.status == "rejected":
                continue
            if o.kind in NEGOTIATION_KINDS:
                parties = diplomacy.order_parties(o.kind, json.loads(o.parameters))
                if parties is not None and seat not in parties:
                    continue
        verb = "" if o.status in ("applied", "committed") else f" [{o.status}] "
        text = o.message or f"{o.issuer} {o.kind.replace('_', ' ')}"
        rows.append(
            {
                "month": o.month,
                "date": o.date,
                "who": o.issuer,
                "kind": "order",
                "text": f"{verb}{text}".strip(),
            }
        )
    frame = pd.DataFrame(rows, columns=["month", "date", "who", "kind", "text"])
    return frame.iloc[::-1].sort_values("month", ascending=False, kind="stable")


def inbox(world: World, seat: str) -> list:
    """Deal proposals waiting for ``seat``'s answer."""
    return [
        d
        for d in deals_of(world).deals.values()
        if d.status == "proposed" and seat in d.recipients and seat not in d.responses
    ]


def trust_table(world: World) -> pd.DataFrame:
    """How far each state (row) trusts each other (column), 0-1."""
    regions = [s.region for s in world.spec.states]
    dip = deals_of(world)
    return pd.DataFrame(
        [[dip.trust_in(a, b) for b in regions] for a in regions], index=regions, columns=regions
    )


def in_force(world: World, region: str | None = None) -> list[str]:
    """Policies and programmes in force now (of ``region``, or everyone's), in words."""
    w = world
    date = w.date_of(w.month)
    lines = []
    for p in w.policies.specs:
        if region and p.issuer != region:
            continue
        if p.start <= date and (p.end is None or date < p.end):
            what = f"{p.issuer} {p.kind.replace('_', ' ')} on {', '.join(p.commodities)}"
            if p.partners:
                what += f" ({', '.join(p.partners)})"
            if p.rate is not None:
                what += f" at {p.rate:.0%}"
            if p.quota_t is not None:
                what += f", quota {p.quota_t:,.0f} t"
            if p.kind == "export_licence":
                what += f", {p.approval_share:.0%} approved"
            lines.append(f"{p.id}: {what}")
    for prog in w.desk.programmes:
        if region and prog.issuer != region:
            continue
        if prog.active(w.month):
            lines.append(
                f"{prog.id}: {prog.issuer} {prog.kind.replace('_', ' ')} {_short(prog.params)}"
            )
    return lines
