"""Trade and stockpile policies in force, and how they bind on the market.

Each policy is data with a start and an end month. Every month the book turns the policies in
force into what the market needs, per commodity and arc (origin -> destination):

- an **export ban** closes the arc: its flow is zero;
- an **export quota** caps the tonnes an exporter ships, summed over its commodities and
  destinations, per period (the unused allowance carries over inside the period);
- an **export licence** holds each month's applications on an arc for a review drawn from a
  triangular distribution around ``review_months`` (about 45 working days at 2) and approves
  ``approval_share`` of them, or the share its ``end_use`` sets for defence users, other users
  and strategic stockpiles (the market's tiers); approved tonnes may ship once the review ends.
  Only ``covered_share`` of each arc's tonnage needs the licence (the controlled grades: NdFeB
  containing Dy/Tb, not Dy/Tb-free NdFeB); the rest ships as if unlicensed (world/market.py).
  A region holding a general licence faces no licence; a firm holding one ships at once;
- an **extraterritorial control** closes the arcs from other regions to its destinations for
  products whose sellers' stocks carry at least ``content_threshold`` of the issuer's origin;
- an **export duty** and an **import tariff** are ad valorem wedges: the buyer's price is the
  seller's price times (1 + duty) (1 + tariff), plus transport. Rates on one arc add up.

Alliances (world/deals.py) change the tariffs: members' imports from non-members pay at least
the alliance's **common external tariff** on its commodities, and one member's tariffs on
another member's goods are capped at the **internal tariff** (0: preferential zero tariffs).
Bans, quotas, licences and export duties are not affected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from world.calendar import months_between
from world.scenario import END_USES, PolicySpec, Scenario


@dataclass(frozen=True)
class TariffUnion:
    """An alliance's tariff terms, as the policy book applies them.

    Attributes:
        name: the alliance's name.
        members: region ids of its members.
        internal_tariff: the most a member's import tariff may be on another member's goods;
            None leaves members' tariffs on each other as they are.
        external: commodity -> ad valorem rate members charge at least on non-members' goods.
    """

    name: str
    members: tuple[str, ...]
    internal_tariff: float | None = 0.0
    external: tuple[tuple[str, float], ...] = ()


@dataclass
class Quota:
    """A quota in force: the issuer's exports of ``commodities`` to ``destinations``."""

    spec: PolicySpec
    origin: int
    commodities: list[int]
    destinations: np.ndarray  # bool mask over regions
    start: int
    allowance_t: float
    used_t: float = 0.0
    period_start: int = 0
    history: list[tuple[int, float]] = field(default_factory=list)  # (period start, used)

    def roll(self, month: int) -> None:
        """Start a new period when one has ended."""
        period = self.spec.period_months
        start = self.start + ((month - self.start) // period) * period
        if start != self.period_start:
            self.history.append((self.period_start, self.used_t))
            self.period_start = start
            self.used_t = 0.0

    def room(self, month: int) -> float:
        """Tonnes that may still ship this month: an even spread of what is left."""
        period = self.spec.period_months
        months_left = self.period_start + period - month
        remaining = max(self.allowance_t - self.used_t, 0.0)
        return remaining / max(months_left, 1)


class PolicyBook:
    """The scenario's policies, and their effect month by month.

    Args:
        scenario: the validated scenario.
        regions: region ids in the model's order.
        commodities: commodity ids in the model's order.
    """

    def __init__(self, scenario: Scenario, regions: list[str], commodities: list[str]):
        self.spec = scenario
        self.regions = regions
        self.commodities = commodities
        self.r = {rid: i for i, rid in enumerate(regions)}
        self.c = {cid: i for i, cid in enumerate(commodities)}
        self.specs: list[PolicySpec] = list(scenario.policies)
        #: Each spec's (start, end) months by ``id(spec)``, with the spec itself so that a
        #: reused id never matches: a spec is frozen, so its span never changes, and the months
        #: of every spec were re-parsed from their dates several thousand times a month.
        self._spans: dict[int, tuple[PolicySpec, int, int]] = {}
        #: Bumped whenever :attr:`specs` changes (add, amend, end), so that :meth:`in_force`
        #: can keep one month's answer: the doctrines ask it thousands of times a month.
        self._version = 0
        self._in_force: tuple[int, int, list[PolicySpec]] = (-1, -1, [])
        self._active_key: tuple[str, ...] | None = None
        self.active: list[PolicySpec] = []
        self.quotas: dict[str, Quota] = {}
        n_c, n_r = len(commodities), len(regions)
        self.banned = np.zeros((n_c, n_r, n_r), dtype=bool)
        self.wedge = np.ones((n_c, n_r, n_r))
        self.licensed = np.zeros((n_c, n_r, n_r), dtype=bool)
        n_t = len(END_USES)
        #: Review delay per licensed arc, months: lowest, most likely and highest.
        self.review_low = np.zeros((n_c, n_r, n_r))
        self.review = np.zeros((n_c, n_r, n_r))
        self.review_high = np.zeros((n_c, n_r, n_r))
        #: Share approved per commodity, end use (tier), origin and destination (C, T, R, R).
        self.approval = np.ones((n_c, n_t, n_r, n_r))
        #: Share of each licensed arc's tonnage that needs the licence (C, R, R), 0-1.
        self.covered = np.ones((n_c, n_r, n_r))
        #: Firms holding a general licence, per (commodity, licensing origin).
        self.general_firms: dict[tuple[int, int], frozenset[str]] = {}
        self.restricted = np.zeros((n_c, n_r, n_r), dtype=bool)
        #: Approved t per month they may ship, (C, T, R, R).
        self.approved: dict[int, np.ndarray] = {}
        self.seat_decided = np.zeros((n_c, n_r, n_r), dtype=bool)
        self.pending = np.zeros((n_c, n_t, n_r, n_r))
        self.defense_priority = np.zeros(n_r, dtype=bool)
        #: Extraterritorial controls in force: (commodity indices, issuer, destination mask,
        #: content threshold).
        self.extraterritorial: list[tuple[list[int], int, np.ndarray, float]] = []
        self.unions: tuple[TariffUnion, ...] = ()
        self.duty_rates = np.zeros((n_c, n_r, n_r))
        self.tariff_rates = np.zeros((n_c, n_r, n_r))

    def held_specs(self) -> list[PolicySpec]:
        """Every policy spec the book holds (on the book, in force, cached, under quota), some
        more than once: frozen models a copy of the world can share (see ``World.fork``)."""
        spans = [spec for spec, _, _ in self._spans.values()]
        return [*self.specs, *self.active, *spans, *(q.spec for q in self.quotas.values())]

    def _span(self, spec: PolicySpec) -> tuple[int, int]:
        """The months (start, end) a policy is in force over: start <= month < end."""
        cached = self._spans.get(id(spec))
        if cached is not None and cached[0] is spec:
            return cached[1], cached[2]
        start = months_between(self.spec.start, spec.start)
        end = months_between(self.spec.start, spec.end) if spec.end else 10**9
        self._spans[id(spec)] = (spec, start, end)
        return start, end

    def _arcs(self, spec: PolicySpec, exporter_side: bool) -> np.ndarray:
        """Bool (R, R) mask of arcs (origin, destination) the policy applies to."""
        n = len(self.regions)
        mask = np.zeros((n, n), dtype=bool)
        me = self.r[spec.issuer]
        partners = [self.r[p] for p in spec.partners] or [i for i in range(n) if i != me]
        for p in partners:
            if exporter_side:
                mask[me, p] = True
            else:
                mask[p, me] = True
        return mask

    def update(self, month: int) -> None:
        """Bring the policies in force at ``month`` into effect."""
        active = []
        for spec in self.specs:
            start, end = self._span(spec)
            if start <= month < end:
                active.append(spec)
        key = tuple(s.id for s in active)
        if key != self._active_key or self._active_key is None:
            self._active_key = key
            self.active = active
            self._compile(month)
        for quota in self.quotas.values():
            quota.roll(month)

    def _compile(self, month: int) -> None:
        self.banned[:] = False
        self.wedge[:] = 1.0
        self.licensed[:] = False
        self.seat_decided[:] = False
        self.review_low[:] = 0.0
        self.review[:] = 0.0
        self.review_high[:] = 0.0
        self.approval[:] = 1.0
        self.covered[:] = 1.0
        self.general_firms = {}
        self.restricted[:] = False
        self.defense_priority[:] = False
        self.extraterritorial = []
        rates = np.zeros_like(self.wedge)
        duty_rates = np.zeros_like(self.wedge)
        live_quotas: dict[str, Quota] = {}
        for spec in self.active:
            cis = [self.c[c] for c in spec.commodities]
            if spec.kind == "export_ban":
                arcs = self._arcs(spec, True)
                for ci in cis:
                    self.banned[ci] |= arcs
                    self.restricted[ci] |= arcs
            elif spec.kind == "import_ban":
                arcs = self._arcs(spec, False)
                for ci in cis:
                    self.banned[ci] |= arcs
                    self.restricted[ci] |= arcs
            elif spec.kind == "export_duty":
                arcs = self._arcs(spec, True)
                for ci in cis:
                    duty_rates[ci][arcs] += spec.rate or 0.0
            elif spec.kind == "import_tariff":
                arcs = self._arcs(spec, False)
                for ci in cis:
                    rates[ci][arcs] += spec.rate or 0.0
            elif spec.kind == "export_licence":
                arcs = self._arcs(spec, True)
                me = self.r[spec.issuer]
                holders = [g for g in spec.general_licences if g not in self.r]
                for g in spec.general_licences:
                    if g in self.r:
                        arcs[me, self.r[g]] = False
                review = spec.review()
                shares = [spec.end_use.get(use, spec.approval_share) for use in END_USES]
                for ci in cis:
                    self.licensed[ci] |= arcs
                    self.review_low[ci][arcs] = review.low
                    self.review[ci][arcs] = review.mode
                    self.review_high[ci][arcs] = review.high
                    for tier, share in enumerate(shares):
                        self.approval[ci, tier][arcs] = share
                    self.covered[ci][arcs] = spec.covered_share
                    self.seat_decided[ci][arcs] = spec.decided_by == "seat"
                    self.restricted[ci] |= arcs
                    if holders:
                        known = self.general_firms.get((ci, me), frozenset())
                        self.general_firms[ci, me] = known | frozenset(holders)
            elif spec.kind == "export_quota":
                arcs = self._arcs(spec, True)
                start, _ = self._span(spec)
                quota = self.quotas.get(spec.id) or Quota(
                    spec=spec,
                    origin=self.r[spec.issuer],
                    commodities=cis,
                    destinations=arcs[self.r[spec.issuer]].copy(),
                    start=start,
                    allowance_t=(spec.quota_t or 0.0) * spec.scale,
                    period_start=start,
                )
                live_quotas[spec.id] = quota
                for ci in cis:
                    self.restricted[ci] |= arcs
            elif spec.kind == "defense_priority":
                self.defense_priority[self.r[spec.issuer]] = True
            elif spec.kind == "extraterritorial_control":
                me = self.r[spec.issuer]
                destinations = self._arcs(spec, True)[me]
                self.extraterritorial.append((cis, me, destinations, spec.content_threshold))
        self.quotas = live_quotas
        self._apply_unions(rates)
        self.wedge = (1.0 + duty_rates) * (1.0 + rates)
        self.duty_rates = duty_rates
        self.tariff_rates = rates

    def _apply_unions(self, rates: np.ndarray) -> None:
        """Common external tariffs first, then internal preferences (which win on an arc two
        alliances both price)."""
        n = len(self.regions)
        for union in self.unions:
            inside = np.zeros(n, dtype=bool)
            for rid in union.members:
                if rid in self.r:
                    inside[self.r[rid]] = True
            outside_to_inside = np.outer(~inside, inside)
            for commodity, rate in union.external:
                ci = self.c.get(commodity)
                if ci is not None:
                    rates[ci] = np.where(outside_to_inside, np.maximum(rates[ci], rate), rates[ci])
        for union in self.unions:
            if union.internal_tariff is None:
                continue
            inside = np.zeros(n, dtype=bool)
            for rid in union.members:
                if rid in self.r:
                    inside[self.r[rid]] = True
            among = np.outer(inside, inside)
            np.fill_diagonal(among, False)
            rates[:, among] = np.minimum(rates[:, among], union.internal_tariff)

    def set_unions(self, unions: list[TariffUnion] | tuple[TariffUnion, ...]) -> None:
        """Put alliances' tariff terms in force (from the next :meth:`update`)."""
        unions = tuple(unions)
        if unions != self.unions:
            self.unions = unions
            self._active_key = None

    @property
    def pending_applications(self) -> np.ndarray:
        """Applications (C, R, R) waiting for the issuer's licence_decision orders, t."""
        return self.pending.sum(axis=1)

    def _due(self, month: int) -> np.ndarray:
        """The approvals (C, T, R, R) that may ship in ``month``."""
        return self.approved.setdefault(month, np.zeros_like(self.approval))

    def decide_licences(self, month: int, ci: int, origin: int, dest: int, share: float) -> float:
        """Approve ``share`` of the applications pending on a seat-decided licence, for every
        end use (the rest is refused); the approved tonnes may ship from ``month``. Returns
        them (t)."""
        approved = self.pending[ci, :, origin, dest] * share
        self.pending[ci, :, origin, dest] = 0.0
        self._due(month)[ci, :, origin, dest] += approved
        return float(approved.sum())

    def in_force(self, month: int) -> list[PolicySpec]:
        """Policies in force at ``month``, including those put on the book this month."""
        cached_month, version, specs = self._in_force
        if cached_month != month or version != self._version:
            specs = [s for s in self.specs if (span := self._span(s))[0] <= month < span[1]]
            self._in_force = (month, self._version, specs)
        return list(specs)

    def amend(self, policy_id: str, month: int, changes: dict) -> PolicySpec:
        """Change the terms of a policy in force at ``month`` from then on (a licence eased or
        tightened); approvals already granted stand.

        Raises:
            KeyError: if no policy with that id is in force.
            pydantic.ValidationError: if the changed terms are not valid.
        """
        live = self.in_force(month)
        for i, spec in enumerate(self.specs):
            if spec.id == policy_id and spec in live:
                new = PolicySpec(**{**spec.model_dump(), **changes})
                self.specs[i] = new
                self._version += 1
                self._active_key = None
                return new
        raise KeyError(policy_id)

    def add(self, spec: PolicySpec) -> None:
        """Put a new policy on the book (an order applied during the run)."""
        self.specs.append(spec)
        self._version += 1
        self._active_key = None

    def end(self, policy_id: str, month: int) -> bool:
        """End a policy from ``month`` on; False if no policy in force has that id."""
        from world.calendar import add_months

        for i, spec in enumerate(self.specs):
            if spec.id == policy_id and spec in self.active:
                self.specs[i] = spec.model_copy(update={"end": add_months(self.spec.start, month)})
                self._version += 1
                self._active_key = None
                return True
        return False

    def stockpile_targets(self, region: str) -> list[PolicySpec]:
        """Stockpile-target policies of ``region`` in force."""
        return [s for s in self.active if s.kind == "stockpile_target" and s.issuer == region]

    def quotas_on(self, ci: int) -> list[Quota]:
        """Quotas in force that count shipments of commodity index ``ci``."""
        return [q for q in self.quotas.values() if ci in q.commodities]

    def general_origins(self, ci: int, dest: int) -> list[int]:
        """Origins whose licence on commodity ``ci`` to ``dest`` has firms holding general
        licences (firms' general licences are per commodity and licensing origin)."""
        return [o for (c, o) in self.general_firms if c == ci and self.licensed[ci, o, dest]]

    def approved_now(self, month: int) -> np.ndarray | None:
        """Licensed tonnes (C, T, R, R) whose review ends this month and may ship."""
        return self.approved.pop(month, None)

    def review_delay(self, ci: int, origin: int, dest: int, rng: np.random.Generator) -> int:
        """One application's review on an arc, whole months (at least one): a draw from the
        licence's triangular distribution, rounded."""
        low, mode, high = (
            float(a[ci, origin, dest]) for a in (self.review_low, self.review, self.review_high)
        )
        months = float(rng.triangular(low, mode, high)) if low < high else mode
        return max(1, round(months))

    def apply_for_licences(
        self, month: int, ci: int, applied: np.ndarray, rng: np.random.Generator
    ) -> None:
        """Record this month's licence applications (T, R, R) for commodity ``ci``, t: each
        arc's applications are reviewed together, for a delay drawn from ``rng``; approvals
        land when it ends."""
        mask = self.licensed[ci] & (applied.sum(axis=0) > 0)
        for o, d in zip(*np.nonzero(mask), strict=True):
            if self.seat_decided[ci, o, d]:
                # The issuer decides: applications wait for its licence_decision order.
                self.pending[ci, :, o, d] += applied[:, o, d]
                continue
            due = month + self.review_delay(ci, o, d, rng)
            self._due(due)[ci, :, o, d] += applied[:, o, d] * self.approval[ci, :, o, d]
