"""Calibration targets of the bundled scenarios: fail if the model drifts away from the facts.

Targets come from issue #2 and ../shared/reference/rare-earth-facts.md: China's shares by stage,
US import reliance, 2024 price levels and a steady baseline; and the stylized facts of the
2010-2014 quota episode.
"""

from __future__ import annotations

import numpy as np
import pytest

from world import World, load_scenario

QUOTA_COMMODITIES = ("oxide_light", "oxide_heavy", "metal")


@pytest.fixture(scope="module")
def baseline() -> World:
    world = World(load_scenario("baseline-2024"), seed=7)
    world.run(months=24)
    return world


def _share(world: World, variable: str, commodity: str, months: slice) -> float:
    data = world.recorder.array(variable)[months, world.commodity_index[commodity]]
    total = data.sum()
    return float(data[:, world.region_index["CN"]].sum() / total)


@pytest.mark.parametrize(
    ("commodity", "low", "high"),
    [
        # USGS 69.2% leaves out undocumented output, which the model mines: 73% like for like.
        ("concentrate", 0.70, 0.76),
        ("oxide_light", 0.85, 1.0),
        ("oxide_heavy", 0.97, 1.0),
        ("magnet", 0.85, 1.0),
    ],
)
def test_baseline_china_share_of_production(baseline, commodity, low, high):
    share = _share(baseline, "production", commodity, slice(0, 12))
    assert low <= share <= high + 1e-9, f"China's share of {commodity} is {share:.3f}"


def test_baseline_us_magnet_import_reliance(baseline):
    w = baseline
    mi, us = w.commodity_index["magnet"], w.region_index["US"]
    exports = w.recorder.array("exports")[:12, mi]
    imports = exports[:, :, us].sum()
    out = exports[:, us, :].sum()
    production = w.recorder.array("production")[:12, mi, us].sum()
    apparent = production + imports - out
    reliance = (imports - out) / apparent
    assert reliance >= 0.7, f"US net import reliance for magnets is {reliance:.2f}"


# 2024 references: NdPr-type oxide ~56-63 USD/kg in China (USGS 2024 average 56, NdPr 63 in July);
# Dy/Tb-type oxide 0.8 x 260 + 0.2 x 810 = 370 (USGS 2024 averages, a 4:1 Dy:Tb mix); sintered
# magnets 49.2 (China's 2024 export unit value); each within 25%.
@pytest.mark.parametrize(
    ("commodity", "reference"),
    [("oxide_light", 59.5), ("oxide_heavy", 370.0), ("magnet", 49.2)],
)
def test_baseline_prices_near_2024_references(baseline, commodity, reference):
    prices = baseline.recorder.array("price")[
        :12, baseline.commodity_index[commodity], baseline.region_index["CN"]
    ]
    assert np.all(np.abs(prices / reference - 1.0) <= 0.25), prices.round(1)


@pytest.mark.parametrize("commodity", ["oxide_light", "oxide_heavy", "metal", "magnet"])
def test_baseline_is_steady_for_24_months(baseline, commodity):
    # Every region's quarterly average price stays within 20% of its starting price (quarters,
    # so a month of settling from the scenario's initial stocks is not read as a spike).
    prices = baseline.recorder.array("price")[:24, baseline.commodity_index[commodity]]
    quarters = prices.reshape(8, 3, -1).mean(axis=1)
    drift = np.abs(quarters / prices[0] - 1.0).max()
    assert drift < 0.20, f"{commodity} prices drift by {drift:.0%} in 24 months"


# --------------------------------------------------------------------------- the 2010 episode


@pytest.fixture(scope="module", params=[0, 3])
def quota(request) -> World:
    world = World(load_scenario("quota-2010"), seed=request.param)
    world.run()
    return world


def _light(world: World, region: str) -> np.ndarray:
    return world.recorder.array("price")[
        :, world.commodity_index["oxide_light"], world.region_index[region]
    ]


def test_quota_world_of_2009(quota):
    share = _share(quota, "production", "concentrate", slice(0, 12))
    assert share >= 0.93, f"China mined {share:.0%} in 2009 (facts: ~95-97%)"


def test_quota_ex_china_prices_spike_several_fold_after_the_cut(quota):
    ex_china = _light(quota, "JP")
    base = ex_china[:12].mean()
    peak_month = int(ex_china.argmax())
    cut_month = quota.month_of("2010-07")
    assert ex_china.max() >= 3.0 * base
    assert 9 <= peak_month - cut_month <= 18, quota.date_of(peak_month)


def test_quota_two_tier_prices(quota):
    # NdPr-type oxide's two tiers (facts §3b, §3c): in Sept 2011 Nd oxide was ~260 USD/kg FOB
    # against ~178 inside China (1.46x: the 25% export duty plus licence premiums), after a
    # rise of ~13.6x outside and ~10.7x inside (the mining crackdown raised China's own price
    # too). The 6-7x gap of stylized fact 3 is lanthanum's and samarium's, which the model's
    # commodities do not carry.
    ex_china, china = _light(quota, "JP"), _light(quota, "CN")
    peak = int(ex_china.argmax())
    assert ex_china[peak] / china[peak] >= 1.2, "the export price lost the duty's wedge"
    window = slice(0, peak + 1)
    china_rise = china[window].max() / china[:12].mean()
    export_rise = ex_china[window].max() / ex_china[:12].mean()
    assert 3.0 <= china_rise < export_rise, (china_rise, export_rise)


def test_quota_stops_binding_during_the_spike(quota):
    ex_china = _light(quota, "JP")
    base = ex_china[:12].mean()
    exports = quota.recorder.array("exports")
    cn = quota.region_index["CN"]
    cis = [quota.commodity_index[c] for c in QUOTA_COMMODITIES]
    shipped = exports[:, cis, cn, :].sum(axis=(1, 2))
    quotas = {
        p.start[:4]: p.quota_t * p.scale
        for p in quota.spec.policies
        if p.kind == "export_quota" and p.period_months == 12
    }
    slack_years = []
    for year, allowance in quotas.items():
        months = slice(quota.month_of(f"{year}-01"), quota.month_of(f"{year}-01") + 12)
        if shipped[months].sum() < 0.95 * allowance and ex_china[months].mean() > 1.5 * base:
            slack_years.append(year)
    assert slack_years, "the quota never stopped binding while ex-China prices were high"


def test_quota_prices_halve_within_two_years_of_the_peak(quota):
    ex_china = _light(quota, "JP")
    peak = int(ex_china.argmax())
    assert ex_china[peak : peak + 25].min() <= 0.5 * ex_china[peak]


def test_quota_boom_entrant_later_idles_or_exits(quota):
    outside = {f.firm_id for f in quota.firms if f.region != "CN"}
    by_firm: dict[str, list[tuple[int, str]]] = {}
    for entry in quota.log:
        if entry["actor"] in outside:
            by_firm.setdefault(entry["actor"], []).append((entry["month"], entry["text"]))
    entered_then_left = [
        firm
        for firm, events in by_firm.items()
        if any("commits to build" in t for _, t in events)
        and any(("idles" in t or "retires" in t) for _, t in events)
    ]
    assert entered_then_left, by_firm
