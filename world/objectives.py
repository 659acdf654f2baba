"""Objectives and scores: what each state wants, measured every month from the world's public state.

Every state is scored each month on four objectives (issue #3), each built from parts that are
reported too. Units are in :data:`OBJECTIVES`; "chain products" are :data:`CHAIN` (magnets and
separated oxides).

- **welfare** (USD/month) = ``consumer_surplus`` + ``producer_surplus``:

  - ``consumer_surplus``: minus the extra its region's end users pay for chain products compared
    with the scenario's start, ``-sum_c (P[c, r] - P_ref[c, r]) * consumed[c, r]``, where ``P`` is
    the buyer price in the region, ``P_ref`` the price at the start (``world.reference_prices``)
    and ``consumed`` what the region's end users consumed this month. Positive when material is
    cheaper than at the start.
  - ``producer_surplus``: its region's producers' margins times throughput this month,
    ``sum_firms margin_usd_per_kg * throughput`` (margins net of production subsidies and price
    floors, which are transfers that ``fiscal_cost`` counts on the other side).

- **security** (share, 0-1) = the mean of:

  - ``defense_fill_rate``: the share of its defence end users' magnet demand met this month
    (1 where the region has no defence demand);
  - ``magnet_fill_rate``: the share of all its end users' magnet demand met this month
    (1 where it has none); a cut-off shows here first, since defence is usually served first;
  - ``1 - adversary_share``. ``adversary_share`` is the share of the magnets and oxides its buyers
    received this month (tonnes) that passed through an adversary at any stage: bought from an
    adversary, or made from inputs that were. Content is traced stage by stage, upstream first:
    a region's output of a product carries the adversary share of the inputs its buyers received
    (value-weighted by the recipe at start prices), or 1 if the region is itself an adversary.

- **leverage** (share, 0-1) = ``dependence * willingness``. ``dependence``: the share of other
  regions' imports of chain products that comes from this state (12-month average flows,
  ``world.import_ema``). ``willingness``: the share of those exports that are under the state's
  own export bans, quotas or licences now. Meant for China; defined the same way for everyone.

- **fiscal_cost** (USD/month): the state's spending on its policies this month
  (``State.fiscal_month_usd``: subsidies, floors, stockpile purchases less stockpile sales).

- **score** (-1 to 1): the weighted mean of the normalised objectives with the seat's weights
  (``SeatSpec.weights``; defaults :data:`DEFAULT_WEIGHTS`, and :data:`CHINA_WEIGHTS` for CN).
  Welfare and fiscal cost are divided by the size of the region's chain at start prices
  (:func:`economy_scale`) and clipped to [-1, 1]; fiscal cost counts negatively; security and
  leverage are already shares.

**Adversaries.** By default the adversaries of China are the United States and its allies
(:data:`US_ALLIES`, those present in the scenario), and the adversary of every other state is China.
A seat may override this with ``params.adversaries = ["...", ...]`` in the scenario's ``[seats]``.

Use::

    recorder = ObjectiveRecorder(world)       # attaches itself as world.objective_recorder
    for _ in range(24):
        world.step()
        recorder.record(world)
    objectives_table(world)                   # month, date, region, objective, value
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from world.instruments import RESTRICTIVE
from world.recorder import copy_sharing_history

if TYPE_CHECKING:
    from world.model import World
    from world.scenario import Scenario

#: Chain products whose supply, consumption and trade the objectives count.
CHAIN = ("oxide_light", "oxide_heavy", "magnet")

#: The United States and the allies that coordinate with it: China's default adversaries.
US_ALLIES = ("US", "JP", "EU", "AU", "KR", "CA", "GB", "UK", "IN", "TW")

#: objective -> (unit, meaning). Reported every month for every state.
OBJECTIVES: dict[str, tuple[str, str]] = {
    "welfare": ("USD/month", "consumer_surplus + producer_surplus"),
    "consumer_surplus": ("USD/month", "-(price - start price) x end-use consumption, chain"),
    "producer_surplus": ("USD/month", "home producers' margin x throughput"),
    "security": ("share 0-1", "mean of defense_fill_rate, magnet_fill_rate, 1 - adversary_share"),
    "defense_fill_rate": ("share 0-1", "defence magnet demand met"),
    "magnet_fill_rate": ("share 0-1", "all end users' magnet demand met"),
    "adversary_share": ("share 0-1", "magnet and oxide supply that passed through an adversary"),
    "leverage": ("share 0-1", "dependence x willingness"),
    "dependence": ("share 0-1", "others' chain imports that come from this state"),
    "willingness": ("share 0-1", "of those exports, the share under its export restrictions"),
    "fiscal_cost": ("USD/month", "policy spending this month (stockpile sales count negative)"),
    "score": ("-1 to 1", "weighted mean of the normalised objectives"),
}

#: The weighted objectives and their default weights (a seat's ``weights`` override them).
DEFAULT_WEIGHTS: dict[str, float] = {
    "welfare": 1.0,
    "security": 1.0,
    "leverage": 0.0,
    "fiscal": 0.5,
}
#: China's defaults: leverage counts, security less (it is the supplier).
CHINA_WEIGHTS: dict[str, float] = {
    "welfare": 1.0,
    "security": 0.5,
    "leverage": 1.0,
    "fiscal": 0.5,
}

_MIN_SCALE_USD = 1e6


# --------------------------------------------------------------------------- adversaries


def adversaries(world: World, region: str) -> tuple[str, ...]:
    """The regions a state treats as adversaries (see the module docstring).

    Raises:
        ValueError: if the seat's ``params.adversaries`` names an unknown region.
    """
    seat = world.spec.seats.get(region)
    if seat is not None and "adversaries" in seat.params:
        given = seat.params["adversaries"]
        if isinstance(given, str):
            given = [given]
        unknown = [r for r in given if r not in world.region_index]
        if unknown:
            raise ValueError(
                f"seats.{region}.params.adversaries: unknown region(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(world.region_ids)}"
            )
        return tuple(r for r in world.region_ids if r in given and r != region)
    if region == "CN":
        return tuple(r for r in world.region_ids if r in US_ALLIES)
    return ("CN",) if "CN" in world.region_index else ()


def weights(world: World, region: str) -> dict[str, float]:
    """The objective weights of a state: the defaults overridden by its seat's ``weights``.

    Raises:
        ValueError: if a weight names an unknown objective.
    """
    return seat_weights(world.spec, region)


def seat_weights(spec: Scenario, region: str) -> dict[str, float]:
    """:func:`weights` from the scenario alone (before any world is built)."""
    base = dict(CHINA_WEIGHTS if region == "CN" else DEFAULT_WEIGHTS)
    seat = spec.seats.get(region)
    if seat is not None:
        unknown = sorted(set(seat.weights) - set(base))
        if unknown:
            raise ValueError(
                f"seats.{region}.weights: unknown objective(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(base)}"
            )
        base.update(seat.weights)
    return base


# --------------------------------------------------------------------------- parts


def _recipes(world: World) -> dict[str, dict[str, float]]:
    """Inputs (t per t throughput) of the stage that makes each commodity."""
    recipes: dict[str, dict[str, float]] = {}
    for stage in world.spec.stages.values():
        outputs = world.joint_products if stage.joint_outputs_by_deposit else list(stage.outputs)
        for c in outputs:
            recipes.setdefault(c, dict(stage.inputs))
    return recipes


def _upstream_order(world: World, recipes: dict[str, dict[str, float]]) -> list[str]:
    """Commodities ordered so that every input comes before what is made from it."""
    done: list[str] = []
    left = list(world.commodity_ids)
    while left:
        ready = [c for c in left if all(i in done for i in recipes.get(c, {}))]
        if not ready:  # a cycle in the recipes: take the rest as they come
            ready = left[:1]
        for c in ready:
            done.append(c)
            left.remove(c)
    return done


def adversary_content(world: World, hostile: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Tonnes received (C, R) this month and the share of them (C, R) that passed through
    ``hostile`` regions at any stage (see the module docstring)."""
    n_c, n_r = len(world.commodity_ids), len(world.region_ids)
    is_hostile = np.array([r in hostile for r in world.region_ids], dtype=float)
    recipes = _recipes(world)
    received = world.flows.sum(axis=1)  # (C, destination)
    share = np.zeros((n_c, n_r))
    for c in _upstream_order(world, recipes):
        ci = world.commodity_index[c]
        inputs = recipes.get(c, {})
        made = np.zeros(n_r)  # adversary content of what each region makes
        if inputs:
            value = np.zeros(n_r)
            for i, q in inputs.items():
                ii = world.commodity_index[i]
                w = q * world.reference_prices[ii]
                made += w * share[ii]
                value += w
            made = np.divide(made, value, out=np.zeros(n_r), where=value > 0)
        made = np.maximum(made, is_hostile)
        got = received[ci]
        adverse = (world.flows[ci] * made[:, None]).sum(axis=0)
        share[ci] = np.where(got > 1e-9, adverse / np.maximum(got, 1e-12), made)
    return received, np.clip(share, 0.0, 1.0)


def _export_restricted(world: World, issuer: str) -> np.ndarray:
    """Bool (C, R, R) arcs under the issuer's own export bans, quotas or licences in force."""
    n_c, n_r = len(world.commodity_ids), len(world.region_ids)
    mask = np.zeros((n_c, n_r, n_r), dtype=bool)
    me = world.region_index[issuer]
    for spec in world.measures.in_force(issuer, RESTRICTIVE):
        partners = spec.partners or [r for r in world.region_ids if r != issuer]
        for c in spec.commodities:
            for p in partners:
                mask[world.commodity_index[c], me, world.region_index[p]] = True
    return mask


def economy_scale(world: World, region: str) -> float:
    """The size of a region's chain, USD/month: the value at start prices of its recent use of
    every commodity plus its producers' output at capacity (at least 1 M USD/month). Welfare and
    fiscal cost are divided by it to normalise them."""
    r = world.region_index[region]
    value = float((world.reference_prices[:, r] * world.use_ema[:, r]).sum())
    for firm in world.firms:
        if firm.region != region:
            continue
        for c, y in firm.nominal_yields().items():
            ci = world.commodity_index[c]
            value += firm.capacity_tpy / 12.0 * y * float(world.reference_prices[ci, r])
    return max(value * 1000.0, _MIN_SCALE_USD)


def _fill_rates(world: World, r: int) -> tuple[float, float]:
    """(defence, all sectors) magnet fill rates of region index ``r`` this month."""
    magnet = world.commodity_index.get("magnet")
    want = got = d_want = d_got = 0.0
    for user in world.end_users:
        if user.r != r or user.c != magnet:
            continue
        want += user.wanted
        got += user.consumed
        if user.sector == "defense":
            d_want += user.wanted
            d_got += user.consumed
    defense = min(d_got / d_want, 1.0) if d_want > 1e-12 else 1.0
    overall = min(got / want, 1.0) if want > 1e-12 else 1.0
    return defense, overall


# --------------------------------------------------------------------------- scores


def state_scores(world: World, region: str, memo: dict | None = None) -> dict[str, float]:
    """Every objective of one state now, in the units of :data:`OBJECTIVES`.

    ``memo``: a dict shared by the states scored at one moment (:func:`scores`), so that the
    adversary content of one set of adversaries is traced once.
    """
    w = world
    r = w.region_index[region]
    chain = [w.commodity_index[c] for c in CHAIN if c in w.commodity_index]

    price_gap = w.prices[chain, r] - w.reference_prices[chain, r]
    consumer = -float((price_gap * w.final_consumed[chain, r]).sum()) * 1000.0
    producer = sum(
        f.margin_usd_per_kg * f.throughput * 1000.0
        for f in w.firms
        if f.region == region and f.throughput > 0
    )

    defense, overall = _fill_rates(w, r)
    hostile = adversaries(w, region)
    if memo is None:
        received, share = adversary_content(w, hostile)
    else:
        if hostile not in memo:
            memo[hostile] = adversary_content(w, hostile)
        received, share = memo[hostile]
    total = float(received[chain, r].sum())
    adverse = float((received[chain, r] * share[chain, r]).sum())
    adversary_share = adverse / total if total > 1e-9 else 0.0
    security = (defense + overall + (1.0 - adversary_share)) / 3.0

    imports = w.import_ema[chain]  # (C, origin, destination), diagonal already zero
    others = np.ones(len(w.region_ids), dtype=bool)
    others[r] = False
    from_me = imports[:, r, others]
    all_imports = float(imports[:, :, others].sum())
    dependence = float(from_me.sum()) / all_imports if all_imports > 1e-9 else 0.0
    restricted = _export_restricted(w, region)[chain][:, r, others]
    mine = float(from_me.sum())
    willingness = float((from_me * restricted).sum()) / mine if mine > 1e-9 else 0.0
    leverage = dependence * willingness

    state = w.states_by_region.get(region)
    fiscal = float(state.fiscal_month_usd) if state is not None else 0.0

    values = {
        "welfare": consumer + producer,
        "consumer_surplus": consumer,
        "producer_surplus": float(producer),
        "security": security,
        "defense_fill_rate": defense,
        "magnet_fill_rate": overall,
        "adversary_share": adversary_share,
        "leverage": leverage,
        "dependence": dependence,
        "willingness": willingness,
        "fiscal_cost": fiscal,
    }
    values["score"] = weighted_score(values, weights(w, region), economy_scale(w, region))
    return values


def normalised(values: dict[str, float], scale_usd: float) -> dict[str, float]:
    """The four weighted objectives on comparable scales: welfare and minus fiscal cost over the
    economy's scale (clipped to [-1, 1]); security and leverage as they are (0-1)."""
    clip = lambda x: max(-1.0, min(1.0, x))  # noqa: E731
    return {
        "welfare": clip(values["welfare"] / scale_usd),
        "security": values["security"],
        "leverage": values["leverage"],
        "fiscal": clip(-values["fiscal_cost"] / scale_usd),
    }


def weighted_score(values: dict[str, float], weight: dict[str, float], scale_usd: float) -> float:
    """The weighted mean of the normalised objectives, -1 to 1 (0 if every weight is 0)."""
    norm = normalised(values, scale_usd)
    total = sum(abs(weight.get(k, 0.0)) for k in norm)
    if total <= 0:
        return 0.0
    score = sum(weight.get(k, 0.0) * v for k, v in norm.items()) / total
    return score if math.isfinite(score) else 0.0


def scores(world: World) -> dict[str, dict[str, float]]:
    """Every state's objectives now: ``{region: {objective: value}}`` (units: OBJECTIVES).

    Read after a month has run (after ``world.step()``): it uses that month's flows, prices,
    consumption and spending.
    """
    memo: dict = {}
    return {state.region: state_scores(world, state.region, memo) for state in world.states}


# --------------------------------------------------------------------------- recording


class ObjectiveRecorder:
    """Keeps every state's objectives month by month.

    Call :meth:`record` after each ``world.step()``. Creating it with a world attaches it as
    ``world.objective_recorder``, where :func:`objectives_table` finds it.

    Attributes:
        months: the month index of each record (0 = the scenario's first month).
        values: per record, ``{region: {objective: value}}``.
    """

    def __init__(self, world: World | None = None):
        self.months: list[int] = []
        self.values: list[dict[str, dict[str, float]]] = []
        if world is not None:
            self.attach(world)

    def __deepcopy__(self, memo: dict) -> ObjectiveRecorder:
        return copy_sharing_history(self, memo, ("months", "values"))

    def attach(self, world: World) -> ObjectiveRecorder:
        """Hang this recorder on the world (``world.objective_recorder``)."""
        world.objective_recorder = self
        return self

    def record(self, world: World, month: int | None = None) -> None:
        """Store the objectives of the month that just ran.

        Args:
            world: the world, read after the month's phases have run.
            month: the month's index; default ``world.month - 1`` (right for a caller after
                ``world.step()``; inside ``step()`` before ``self.month += 1``, pass
                ``self.month``). Recording the same month twice keeps the later values.
        """
        month = world.month - 1 if month is None else month
        values = scores(world)
        if self.months and self.months[-1] == month:
            self.values[-1] = values
            return
        self.months.append(month)
        self.values.append(values)

    def frame(self, world: World) -> pd.DataFrame:
        """The tidy objectives table: month, date, region, objective, value."""
        rows = [
            (month, world.date_of(month), region, name, value)
            for month, record in zip(self.months, self.values, strict=True)
            for region, objectives in record.items()
            for name, value in objectives.items()
        ]
        frame = pd.DataFrame(rows, columns=["month", "date", "region", "objective", "value"])
        frame["month"] = frame["month"].astype(int)
        frame["value"] = frame["value"].astype(float)
        return frame

    def results_rows(self, world: World) -> pd.DataFrame:
        """The same values in the layout of ``World.results()``: variable ``objective``,
        region = the state, partner = the objective's name, commodity empty."""
        frame = self.frame(world)
        out = pd.DataFrame(
            {
                "month": frame["month"],
                "date": frame["date"],
                "variable": "objective",
                "commodity": "",
                "region": frame["region"],
                "partner": frame["objective"],
                "value": frame["value"],
            }
        )
        return out


def objectives_table(world: World) -> pd.DataFrame:
    """The tidy objectives table (month, date, region, objective, value) of the recorder
    attached to ``world``; empty if none is attached."""
    recorder = getattr(world, "objective_recorder", None)
    if recorder is None:
        return pd.DataFrame(columns=["month", "date", "region", "objective", "value"])
    return recorder.frame(world)


__all__ = [
    "CHAIN",
    "CHINA_WEIGHTS",
    "DEFAULT_WEIGHTS",
    "OBJECTIVES",
    "US_ALLIES",
    "ObjectiveRecorder",
    "adversaries",
    "adversary_content",
    "economy_scale",
    "objectives_table",
    "scores",
    "seat_weights",
    "state_scores",
    "weighted_score",
    "weights",
]
