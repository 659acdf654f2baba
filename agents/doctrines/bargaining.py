"""Deals an AI seat proposes, from the menu of what real deals held: restrictions suspended or
eased for a term, tariffs cut, purchase commitments, and technology export bans suspended.

One mechanism for every doctrine that proposes (the dealmakers by default; any seat with
``params.diplomacy.propose = true``). At a turn boundary, for each other state in the
scenario's order, the offer is built from the measures in force:

- each export restriction (ban, quota, licence) either side has on the other, and each import
  ban: **suspended** for ``deal_months`` (``lift`` with ``suspend = true``: it comes back when
  the deal ends); the proposer may instead **ease** its own licences (a general licence for
  the term in place of the suspended one);
- each side's tariff on the other's goods above the doctrine's asked rate: **cut** to that rate
  (a lift and a new tariff; a cut stays when the deal ends);
- a technology export ban either side has in force: **suspended** for the term (China's
  December 2023 and October 2025 controls on separation and magnet technology; the Busan truce
  suspended the latter for a year);
- a **purchase commitment** (``purchase_commitment``): one side commits its buyers to buy up
  to :data:`COMMIT_SHARE` of their use of a chain product (NdPr oxide, Dy/Tb oxide, magnets)
  from the other side's producers each month for the term, where that is more than they buy
  from it now (Phase One, January 2020, and the November 2025 truce held purchase
  commitments). The proposer may offer one (its buyers buy the partner's goods) or ask one
  (the partner's buyers buy its goods). Its tonnes move only over an arc no ban, quota or
  licence stands on (as an offtake contract's), so it goes with suspensions, never with
  licences eased.

It is proposed (a plain ``propose_deal`` order) when both sides give something and the
proposer's own estimate of the deal (world/deals.py ``heuristic_parts``) is a gain; it also
tries the offer with one of its own concessions at a time, and with its licences eased rather
than suspended, and takes the best. The newer terms (technology suspensions and purchase
commitments) come with a bargain over trade measures, never on their own: one offered alone
against the partner's suspensions and cuts, or one asked on top of them or of the proposer's
own. They are candidates by the same gain, but only where the proposer's estimate of the
partner's gain (the same heuristic, from the partner's side) is positive: a proposer does not
put on the table a term it expects to sink the deal. At most one proposal is open or one deal
holds per pair, and after a proposal is refused, lapses or fails the proposer waits before
proposing to that partner again, longer after each refusal in a row: negotiators do not
re-table a refused offer every few months. The wait after the first refusal is
``deal_cooldown_months`` (default :data:`COOLDOWN_MONTHS`); each further refusal in a row
multiplies it by ``deal_cooldown_growth`` (default :data:`COOLDOWN_GROWTH`: 6, 12, 24 months),
up to ``deal_cooldown_max_months`` (default :data:`COOLDOWN_MAX_MONTHS`); a deal the two
agree (whoever proposed it) starts the count again. All three are seat parameters
(``params.diplomacy``); ``deal_cooldown_growth = 1`` gives a fixed wait. Inside a look-ahead
copy nobody proposes (the copies only weigh a deal).

Investment terms in the partner's favour (an equity stake, a capex subsidy) are not on the
menu: those orders act only on the issuer's own producers (world/orders.py), and a state
paying for plants abroad is the alliance fund's term (``alliance``), not a two-party deal's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agents.doctrines.base import covers, in_force, liftable, programmes, tariff_rate
from world.instruments import VOLUME_KINDS

if TYPE_CHECKING:
    from agents.doctrines.base import Doctrine
    from world.model import World

#: Months a proposed deal holds, unless the seat says otherwise (the November 2025 US-China
#: truce suspended China's October controls for a year).
DEAL_MONTHS = 12
#: Months a proposer waits after a refusal before proposing to the same partner again.
COOLDOWN_MONTHS = 6
#: Factor on that wait for each further refusal in a row by the same partner (doubling: 6, 12,
#: 24 months) [EST: a refused offer is re-tabled after a change of terms or of government,
#: rather than every other quarter].
COOLDOWN_GROWTH = 2.0
#: Longest wait after refusals in a row, months (two years) [EST].
COOLDOWN_MAX_MONTHS = 24
#: Deal statuses that count as the proposer's offer refused.
REFUSED = ("rejected", "lapsed", "failed", "countered")
#: Tariff a proposer asks a partner to cut to when its doctrine names none (0.10: the
#: November 2025 truce cut the US tariff on Chinese goods by 10 points) [EST].
ASKED_TARIFF = 0.10
#: Score a month the proposer must expect to gain (it proposes what it expects to gain on; the
#: recipient weighs the deal with its own threshold and trust).
MIN_GAIN = 1e-6
#: What a deal may suspend: the measures that limit tonnes, on exports and imports.
SUSPENDABLE = VOLUME_KINDS
#: Share of a buyer region's use of a chain product (t/month, smoothed) that a purchase
#: commitment on the menu covers: about half, what the Phase One commitments asked over the
#: 2017 level rather than all trade [EST].
COMMIT_SHARE = 0.5
#: Chain products a purchase commitment may be for (world/objectives.py ``CHAIN``).
COMMITTED_GOODS = ("oxide_light", "oxide_heavy", "magnet")
#: Smallest purchase commitment worth proposing, t/month (tonnes are rounded to this).
COMMIT_STEP_T = 10.0


def _suspensions(world: World, issuer: str, partner: str) -> list[dict]:
    seen: list[tuple[str, tuple[str, ...]]] = []
    out = []
    for spec in in_force(world, issuer, SUSPENDABLE):
        key = (spec.kind, tuple(spec.commodities))
        if not covers(spec, partner) or not liftable(world, spec) or key in seen:
            continue
        seen.append(key)
        out.append(
            {
                "kind": "lift",
                "issuer": issuer,
                "measure": spec.kind,
                "commodities": list(spec.commodities),
                "partners": [partner],
                "suspend": True,
            }
        )
    return out


def _defence_share(world: World, lift: dict) -> float:
    """The lowest share of defence end users' applications the licences a ``lift`` suspends
    approve (1.0 if none refuses them)."""
    shares = [
        spec.end_use.get("defense", spec.approval_share)
        for spec in in_force(world, lift["issuer"], "export_licence")
        if any(covers(spec, p) for p in lift["partners"])
        and set(spec.commodities) & set(lift["commodities"])
    ]
    return min(shares, default=1.0)


def _eased(world: World, commitments: list[dict], months: int) -> list[dict]:
    """The commitments with each licence suspension turned into licence easing: the licence is
    suspended and a general licence (every civilian application approved after a one-month
    review) runs for the deal's term in its place, so the measure stays on the book (and the
    leverage it gives) while the goods flow. Defence end users stay at the suspended
    licences' share: China's licensing denies military end users in principle (MOFCOM,
    9 Oct 2025, facts §4d), and the Busan truce's general licences are read as not lifting
    that [EST]."""
    out = []
    for c in commitments:
        out.append(c)
        if c["kind"] == "lift" and c.get("measure") == "export_licence":
            eased = {
                "kind": "export_licence",
                "issuer": c["issuer"],
                "commodities": list(c["commodities"]),
                "partners": list(c["partners"]),
                "review_months": 1,
                "approval_share": 1.0,
                "duration_months": months,
            }
            defence = _defence_share(world, c)
            if defence < 1.0:
                eased["end_use"] = {"defense": defence}
            out.append(eased)
    return out


def _tariff_cut(world: World, importer: str, origin: str, rate: float) -> list[dict]:
    goods = [
        c
        for c in world.commodity_ids
        if tariff_rate(world, importer, origin, c, discriminatory=True) > 1e-9
        and tariff_rate(world, importer, origin, c) > rate + 1e-9
        and all(
            liftable(world, s)
            for s in in_force(world, importer, "import_tariff", c)
            if covers(s, origin)
        )
    ]
    if not goods:
        return []
    cut = [
        {
            "kind": "lift",
            "issuer": importer,
            "measure": "import_tariff",
            "commodities": goods,
            "partners": [origin],
        }
    ]
    if rate > 1e-9:
        cut.append(
            {
                "kind": "import_tariff",
                "issuer": importer,
                "commodities": goods,
                "partners": [origin],
                "rate": round(rate, 6),
            }
        )
    return cut


def _tech_suspension(world: World, issuer: str) -> list[dict]:
    """The issuer's technology export bans suspended for the deal (one ``lift``; none if it
    has no ban running)."""
    if not programmes(world, issuer, "tech_export_ban"):
        return []
    return [{"kind": "lift", "issuer": issuer, "measure": "tech_export_ban", "suspend": True}]


def _purchases(world: World, buyer: str, seller: str, months: int) -> list[dict]:
    """Purchase commitments ``buyer`` could make for ``seller``'s chain products, one per
    product: :data:`COMMIT_SHARE` of the buyer region's use of it (smoothed, t/month; at most
    what the seller's producers made last month), where that adds to what it imports from the
    seller (world/instruments/trade.py ``commitment_added_t``)."""
    from world.instruments.trade import commitment_added_t

    b, s = world.region_index[buyer], world.region_index[seller]
    out = []
    for c in COMMITTED_GOODS:
        ci = world.commodity_index.get(c)
        if ci is None:
            continue
        wanted = min(
            COMMIT_SHARE * float(world.use_ema[ci, b]), float(world.production_buffer[ci, s])
        )
        tonnes = round(wanted / COMMIT_STEP_T) * COMMIT_STEP_T
        commitment = {
            "kind": "purchase_commitment",
            "issuer": buyer,
            "commodity": c,
            "partner": seller,
            "t_per_month": tonnes,
            "duration_months": months,
        }
        if tonnes >= COMMIT_STEP_T and commitment_added_t(world, commitment) > 1e-9:
            out.append(commitment)
    return out


def newer_terms(
    world: World, me: str, partner: str, months: int
) -> tuple[list[list[dict]], list[list[dict]]]:
    """The newer terms of the menu: (what the proposer may give, each item alone: its
    technology bans suspended, a purchase commitment for the partner's goods; what it may ask
    on top of the rest, each item alone: the partner's technology bans suspended, a purchase
    commitment for the proposer's goods)."""
    give = [[t] for t in _tech_suspension(world, me)]
    give += [[p] for p in _purchases(world, me, partner, months)]
    ask = [[t] for t in _tech_suspension(world, partner)]
    ask += [[p] for p in _purchases(world, partner, me, months)]
    return give, ask


def offer(doctrine: Doctrine, world: World, partner: str) -> tuple[list[dict], list[dict]]:
    """What the proposer would give and what it asks of ``partner``: (its own commitments
    grouped one concession per list item, the partner's commitments)."""
    me = doctrine.region
    rate = doctrine.asked_tariff(world, partner)
    give = [[s] for s in _suspensions(world, me, partner)]
    mine = _tariff_cut(world, me, partner, rate)
    if mine:
        give.append(mine)
    ask = _suspensions(world, partner, me) + _tariff_cut(world, partner, me, rate)
    return give, ask


def deal_holds(world: World, me: str, partner: str) -> bool:
    """Whether a deal between the two holds this month."""
    from world.deals import deals_of

    return any(
        {me, partner} <= set(d.parties) and d.holds(world.month)
        for d in deals_of(world).deals.values()
    )


@dataclass(frozen=True)
class Cooldown:
    """How long a proposer waits after refusals by the same partner, months: ``first`` after
    one, times ``growth`` for each further one in a row, at most ``longest``."""

    first: int = COOLDOWN_MONTHS
    growth: float = COOLDOWN_GROWTH
    longest: int = COOLDOWN_MAX_MONTHS

    @classmethod
    def of(cls, diplomacy: dict | None) -> Cooldown:
        """The seat's cooldown from its ``params.diplomacy``.

        Raises:
            ValueError: a value that is not a number in range, naming the parameter.
        """
        diplomacy = diplomacy or {}
        where = "params.diplomacy"
        values = {}
        for key, field, low in (
            ("deal_cooldown_months", "first", 0),
            ("deal_cooldown_growth", "growth", 1),
            ("deal_cooldown_max_months", "longest", 0),
        ):
            value = diplomacy.get(key, getattr(cls, field))
            if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
                raise ValueError(
                    f"{where}.{key}: {value!r} is not allowed; allowed: a number >= {low}"
                )
            values[field] = value
        if values["longest"] < values["first"]:
            raise ValueError(
                f"{where}.deal_cooldown_max_months: {values['longest']!r} is shorter than "
                f"deal_cooldown_months ({values['first']!r}); allowed: a number >= it"
            )
        return cls(int(values["first"]), float(values["growth"]), int(values["longest"]))

    def months(self, refusals: int) -> int:
        """The wait after ``refusals`` refusals in a row, months (0 if none)."""
        if refusals <= 0:
            return 0
        return int(min(self.first * self.growth ** (refusals - 1), self.longest))


def refusals_in_a_row(world: World, me: str, partner: str) -> tuple[int, int | None]:
    """How many of ``me``'s proposals to ``partner`` were refused (rejected, countered,
    lapsed or failed) since the last deal the two agreed, and the month the last of them was
    proposed (None if none)."""
    from world.deals import deals_of

    count, last = 0, None
    for deal in deals_of(world).deals.values():
        if not {me, partner} <= set(deal.parties):
            continue
        if deal.start is not None:
            count, last = 0, None
        elif deal.proposer == me and deal.status in REFUSED:
            count, last = count + 1, deal.proposed
    return count, last


def _busy(world: World, me: str, partner: str, cooldown: Cooldown) -> bool:
    """Whether a proposal between the pair is open or a deal holds, or ``me`` is still waiting
    after ``partner``'s refusals in a row (:class:`Cooldown`)."""
    from world.deals import deals_of

    for deal in deals_of(world).deals.values():
        pair = {me, partner} <= set(deal.parties)
        if pair and (deal.status == "proposed" or deal.holds(world.month)):
            return True
    count, last = refusals_in_a_row(world, me, partner)
    return last is not None and world.month - last < cooldown.months(count)


def proposals(doctrine: Doctrine, world: World) -> list[dict]:
    """``propose_deal`` orders this turn (see the module docstring)."""
    from world.deals import deals_of, heuristic_parts

    diplomacy = deals_of(world)
    if diplomacy.lookahead:
        return []
    params = doctrine.params.get("diplomacy") or {}
    months = int(params.get("deal_months", DEAL_MONTHS))
    cooldown = Cooldown.of(params)
    me = doctrine.region
    orders = []
    for partner in doctrine.others(world):
        if _busy(world, me, partner, cooldown):
            continue
        give, ask = offer(doctrine, world, partner)
        new_give, new_ask = newer_terms(world, me, partner, months)
        # (own commitments, partner's, whether a newer term is in it)
        candidates: list[tuple[list[dict], list[dict], bool]] = []
        if give and ask:
            own = [[c for item in give for c in item]]
            if len(give) > 1:
                own += give
            own.append([c for item in give for c in _eased(world, item, months)])
            candidates += [(o, ask, False) for o in own]
        # The newer terms come with a bargain over trade measures, never on their own: a
        # purchase or a technology term offered against the partner's suspensions or cuts, or
        # asked on top of them or against the proposer's own.
        if ask:
            candidates += [(g, ask, True) for g in new_give]
        for extra in new_ask:
            if give:
                candidates.append(([c for item in give for c in item], ask + extra, True))
            if ask:
                candidates += [(g, ask + extra, True) for g in new_give]
        best, best_gain = None, MIN_GAIN
        for own, asked, newer in candidates:
            gain = sum(heuristic_parts(world, own + asked, me).values())
            if gain <= best_gain + 1e-12:
                continue
            if newer and sum(heuristic_parts(world, own + asked, partner).values()) <= 0:
                continue  # a newer term the proposer expects the partner to refuse
            best, best_gain = own + asked, gain
        if best is None:
            continue
        orders.append(
            doctrine.order(
                "propose_deal",
                recipients=[partner],
                commitments=best,
                duration_months=months,
            )
        )
    return orders
