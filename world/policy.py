"""Trade and stockpile policies in force, and how they bind on the market.

Each policy is data with a start and an end month. Every month the book turns the policies in
force into what the market needs, per commodity and arc (origin -> destination):

- an **export ban** closes the arc: its flow is zero;
- an **export quota** caps the tonnes an exporter ships, summed over its commodities and
  destinations, per period (the unused allowance carries over inside the period);
- an **export licence** holds shipments for a review of ``review_months`` and approves only
  ``approval_share`` of what buyers applied for; approved tonnes may ship once the review ends;
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
from world.scenario import PolicySpec, Scenario


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
        self._active_key: tuple[str, ...] | None = None
        self.active: list[PolicySpec] = []
        self.quotas: dict[str, Quota] = {}
        n_c, n_r = len(commodities), len(regions)
        self.banned = np.zeros((n_c, n_r, n_r), dtype=bool)
        self.wedge = np.ones((n_c, n_r, n_r))
        self.licensed = np.zeros((n_c, n_r, n_r), dtype=bool)
        self.review = np.zeros((n_c, n_r, n_r), dtype=int)
        self.approval = np.ones((n_c, n_r, n_r))
        self.restricted = np.zeros((n_c, n_r, n_r), dtype=bool)
        self.approved: dict[int, np.ndarray] = {}
        self.seat_decided = np.zeros((n_c, n_r, n_r), dtype=bool)
        self.pending_applications = np.zeros((n_c, n_r, n_r))
        self.defense_priority = np.zeros(n_r, dtype=bool)
        self.unions: tuple[TariffUnion, ...] = ()
        self.duty_rates = np.zeros((n_c, n_r, n_r))
        self.tariff_rates = np.zeros((n_c, n_r, n_r))

    def _span(self, spec: PolicySpec) -> tuple[int, int]:
        start = months_between(self.spec.start, spec.start)
        end = months_between(self.spec.start, spec.end) if spec.end else 10**9
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
        self.review[:] = 0
        self.approval[:] = 1.0
        self.restricted[:] = False
        self.defense_priority[:] = False
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
                for ci in cis:
                    self.licensed[ci] |= arcs
                    self.review[ci][arcs] = spec.review_months
                    self.approval[ci][arcs] = spec.approval_share
                    self.seat_decided[ci][arcs] = spec.decided_by == "seat"
                    self.restricted[ci] |= arcs
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

    def decide_licences(self, month: int, ci: int, origin: int, dest: int, share: float) -> float:
        """Approve ``share`` of the applications pending on a seat-decided licence (the rest is
        refused); the approved tonnes may ship from ``month``. Returns them (t)."""
        n_c, n_r = len(self.commodities), len(self.regions)
        approved = self.pending_applications[ci, origin, dest] * share
        self.pending_applications[ci, origin, dest] = 0.0
        book = self.approved.setdefault(month, np.zeros((n_c, n_r, n_r)))
        book[ci, origin, dest] += approved
        return approved

    def add(self, spec: PolicySpec) -> None:
        """Put a new policy on the book (an order applied during the run)."""
        self.specs.append(spec)
        self._active_key = None

    def end(self, policy_id: str, month: int) -> bool:
        """End a policy from ``month`` on; False if no policy in force has that id."""
        from world.calendar import add_months

        for i, spec in enumerate(self.specs):
            if spec.id == policy_id and spec in self.active:
                self.specs[i] = spec.model_copy(update={"end": add_months(self.spec.start, month)})
                self._active_key = None
                return True
        return False

    def stockpile_targets(self, region: str) -> list[PolicySpec]:
        """Stockpile-target policies of ``region`` in force."""
        return [s for s in self.active if s.kind == "stockpile_target" and s.issuer == region]

    def quotas_on(self, ci: int) -> list[Quota]:
        """Quotas in force that count shipments of commodity index ``ci``."""
        return [q for q in self.quotas.values() if ci in q.commodities]

    def approved_now(self, month: int) -> np.ndarray:
        """Licensed tonnes (C, R, R) whose review ends this month and may ship."""
        return self.approved.pop(month, None) if month in self.approved else None

    def apply_for_licences(self, month: int, ci: int, applied: np.ndarray) -> None:
        """Record licence applications (R, R) for commodity ``ci``; approvals land later."""
        n_c, n_r = len(self.commodities), len(self.regions)
        mask = self.licensed[ci] & (applied > 0)
        if not mask.any():
            return
        for o, d in zip(*np.nonzero(mask), strict=True):
            if self.seat_decided[ci, o, d]:
                # The issuer decides: applications wait for its licence_decision order.
                self.pending_applications[ci, o, d] += applied[o, d]
                continue
            due = month + int(self.review[ci, o, d])
            book = self.approved.setdefault(due, np.zeros((n_c, n_r, n_r)))
            book[ci, o, d] += applied[o, d] * self.approval[ci, o, d]
