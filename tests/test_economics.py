"""Economic mechanisms that must not come from code artefacts (issue 11).

Each test fails when its mechanism breaks: results that depend on the order of the scenario
file, new plants that never run, thrift that removes stoichiometric inputs, Chinese mining
without the state's quota, and offtake contracts that ignore their volume.
"""

from __future__ import annotations

import copy
import itertools
import random

import numpy as np
import pandas as pd
import pytest

from tests.worlds import base_data, run
from world import World
from world.scenario import scenario_from_dict

KEYS = ["month", "variable", "commodity", "region", "partner"]


def _shuffled(seed: int) -> dict:
    """The baseline with its regions, firms and end users listed in a random order."""
    data = copy.deepcopy(base_data())
    rng = random.Random(seed)
    regions = list(data["regions"].items())
    rng.shuffle(regions)
    data["regions"] = dict(regions)
    for section in ("firms", "end_users"):
        rng.shuffle(data[section])
    return data


def _sorted_results(world: World) -> pd.DataFrame:
    return world.results().sort_values(KEYS).reset_index(drop=True)


@pytest.mark.parametrize("seed", [1, 2])
def test_results_do_not_depend_on_the_order_of_the_scenario_file(seed):
    months = 36
    base = World(scenario_from_dict(copy.deepcopy(base_data())), seed=3).run(months)
    shuffled_data = _shuffled(seed)
    assert list(shuffled_data["regions"]) != list(base_data()["regions"])
    shuffled = World(scenario_from_dict(shuffled_data), seed=3).run(months)
    a, b = _sorted_results(base), _sorted_results(shuffled)
    pd.testing.assert_frame_equal(a[KEYS], b[KEYS])
    np.testing.assert_allclose(b["value"], a["value"], rtol=1e-9, atol=1e-9)


def test_a_new_plant_with_positive_margins_ramps_up_within_its_ramp_time():
    # MP's Independence magnet plant comes online in 2025-01 in the baseline; at a processing
    # cost of 15 USD/kg it earns a margin at 2024 prices.
    data = copy.deepcopy(base_data())
    for firm in data["firms"]:
        if firm["id"] == "mp-independence":
            firm["unit_cost_usd_per_kg"] = 15.0
    world = World(scenario_from_dict(data), seed=0)
    firm = world.firms_by_id["mp-independence"]
    ramp = firm.ramp_months
    utilisation, margins = [], []
    while firm.online_month is None or world.month <= firm.online_month + ramp:
        assert world.month < world.spec.months, "the plant never came online"
        world.step()
        utilisation.append(firm.utilisation)
        margins.append(firm.margin_usd_per_kg)
    online = firm.online_month
    # It starts at its announced date plus the seed's drawn delay.
    delay = world.uncertainty.project_delay_share
    announced = world.month_of(firm.spec.online)
    lead = firm.lead_time
    assert announced + lead * delay.low - 1 <= online <= announced + lead * delay.high + 1
    assert max(utilisation[:online]) == 0.0  # nothing before it is built
    after = np.array(utilisation[online : online + ramp + 1])
    # It produces from its first months (a month short of inputs may stop the line).
    assert (after[1:] > 0).mean() >= 0.8, after.round(2)
    assert np.mean(margins[online:]) > 0, "the test needs a plant that earns a margin"
    assert after.max() >= 0.7, f"utilisation within {ramp} months of start: {after.round(2)}"
    # The ramp bounds it: no plant runs at full rate in its first month.
    assert after[0] < 0.7


def test_thrift_never_removes_stoichiometric_inputs():
    # Japan's metal makers lose Chinese oxide for four years: NdPr and Dy/Tb become dear there.
    data = copy.deepcopy(base_data())
    data["policies"].append(
        {
            "id": "cn-oxide-ban",
            "kind": "export_ban",
            "issuer": "CN",
            "commodities": ["oxide_light", "oxide_heavy", "metal", "magnet"],
            "start": "2024-03",
            "end": "2028-03",
        }
    )
    result = run(scenario_from_dict(data), months=60)
    world = result.world
    jp = world.region_index["JP"]
    light, heavy = world.commodity_index["oxide_light"], world.commodity_index["oxide_heavy"]
    assert world.expected_prices[heavy, jp] > 1.3 * world.reference_prices[heavy, jp] or (
        result.array("price")[:, heavy, jp].max() > 1.3 * world.reference_prices[heavy, jp]
    ), "the test needs dear heavy oxide in Japan"
    recipe = world.spec.stages["metal"].inputs
    metal, magnet = world.commodity_index["metal"], world.commodity_index["magnet"]
    use, prod = result.array("use"), result.array("production")
    for r in range(len(world.region_ids)):
        made = prod[:, metal, r] > 1e-6
        # NdPr content of the metal is the recipe's, every month, in every region.
        np.testing.assert_allclose(
            use[made, light, r] / prod[made, metal, r], recipe["oxide_light"], rtol=1e-9
        )
        made = prod[:, magnet, r] > 1e-6
        np.testing.assert_allclose(
            use[made, metal, r] / prod[made, magnet, r],
            world.spec.stages["magnet"].inputs["metal"],
            rtol=1e-9,
        )
    floor = world.params.content_thrift_floor
    for firm in world.firms:
        for c, value in firm.intensity.items():
            if c in firm.substitutable:
                assert floor - 1e-12 <= value <= 1.0
            else:
                assert value == 1.0, (firm.firm_id, c, value)
    dy_thrift = [
        f.intensity["oxide_heavy"] for f in world.firms if f.region == "JP" and f.stage == "metal"
    ]
    assert min(dy_thrift) < 1.0, "Dy/Tb per t of alloy can be thrifted"


def _quota_world(restraint: float = 0.0, months: int = 60, slump: bool = False) -> World:
    data = copy.deepcopy(base_data())
    if slump:  # magnet demand falls by 40% for two years: prices fall below their reference
        data["events"].extend(
            {
                "id": f"slump-{region}",
                "kind": "demand_shock",
                "date": data["start"],
                "months": 24,
                "region": region,
                "share": -0.4,
            }
            for region in ("CN", "US", "JP", "EU", "ROW")
        )
    data["orders"] = [o for o in data.get("orders", []) if o.get("kind") != "production_quota"]
    data["orders"].append(
        {
            "id": "cn-quota-test",
            "date": data["start"],
            "kind": "production_quota",
            "issuer": "CN",
            "stages": ["mine"],
            "tonnes_per_year": 300000,
            "growth_per_year": 0.02,
            "headroom": 0.1,
            "restraint": restraint,
        }
    )
    return World(scenario_from_dict(data), seed=0).run(months)


def _cn_mines(world: World) -> list:
    return [f for f in world.firms if f.region == "CN" and f.stage == "mine"]


def test_chinese_mining_stays_within_the_state_quota():
    months = 60
    free = World(scenario_from_dict(copy.deepcopy(base_data())), seed=0).run(months)
    quota = _quota_world(months=months)
    conc, cn = quota.commodity_index["concentrate"], quota.region_index["CN"]
    mined = quota.recorder.array("production")[:, conc, cn]
    limit = np.array([300000 * 1.02 ** (m / 12) / 12 for m in range(months)])
    assert (mined <= limit * (1 + 1e-9)).all(), (mined / limit).max()
    installed = sum(f.capacity_tpy + f.idle_tpy + f.pipeline_tpy() for f in _cn_mines(quota))
    ceiling = 300000 * 1.02 ** ((months - 1) / 12) * 1.1
    assert installed <= ceiling * (1 + 1e-9)
    free_installed = sum(f.capacity_tpy + f.pipeline_tpy() for f in _cn_mines(free))
    assert free_installed > installed, "without a quota China's mines would grow further"


def test_state_groups_restrain_output_when_prices_fall():
    loose, restrained = _quota_world(0.0, 36, slump=True), _quota_world(3.0, 36, slump=True)
    conc, cn = loose.commodity_index["concentrate"], loose.region_index["CN"]
    # The months in which the restrained world's price is below its reference (the slump).
    prices = restrained.recorder.array("price")[:, conc, cn]
    low = prices < restrained.reference_prices[conc, cn] * 0.98
    assert low.sum() >= 6, "the test needs months with prices below reference"
    mined_loose = loose.recorder.array("production")[:, conc, cn]
    mined_restrained = restrained.recorder.array("production")[:, conc, cn]
    assert mined_restrained[low].sum() < 0.97 * mined_loose[low].sum()
    # Restraint never lets output past the quota's headroom.
    limit = np.array([300000 * 1.02 ** (m / 12) / 12 * 1.1 for m in range(36)])
    assert (mined_restrained <= limit * (1 + 1e-9)).all()


def test_an_offtake_contract_delivers_at_most_its_volume():
    data = copy.deepcopy(base_data())
    data["orders"] = [o for o in data["orders"] if o["kind"] != "offtake_contract"]
    data["orders"].append(
        {
            "id": "jare-test",
            "date": data["start"],
            "kind": "offtake_contract",
            "issuer": "jp-metal",
            "supplier": "lynas-malaysia",
            "tonnes_per_year": 1200,
        }
    )
    world = World(scenario_from_dict(data), seed=0)
    light = world.commodity_index["oxide_light"]
    my, jp = world.region_index["MY"], world.region_index["JP"]
    contracted = []
    for _ in range(12):
        world.step()
        contracted.append(world.contract_flows[light, my, jp])
    assert max(contracted) > 50.0, "the contract should deliver"
    assert max(contracted) <= 1200 / 12 * (1 + 1e-9)


def _shipped_to_importer(prices: np.ndarray) -> np.ndarray:
    """What two exporters (same freight) ship to one importer that wants 200 t, t."""
    from world.market import clear

    n = 3
    transport = np.full((n, n), 1.0)
    np.fill_diagonal(transport, 0.0)
    bids = np.zeros((3, n))
    bids[1, 2] = 200.0
    none = np.zeros((n, n), dtype=bool)
    clearing = clear(
        np.array([300.0, 100.0, 0.0]),
        bids,
        prices,
        np.ones((n, n)),
        transport,
        none,
        np.full((n, n), np.inf),
        [],
        {},
        none,
    )
    return clearing.flows.sum(axis=0)[:2, 2]


def test_sellers_equal_for_both_sides_share_a_market_pro_rata():
    # Same price and freight: the importer's 200 t are shared 3:1, as the offers.
    np.testing.assert_allclose(_shipped_to_importer(np.array([50.0, 50.0, 60.0])), [150.0, 50.0])
    # A cheaper landed source goes first when sellers earn the same.
    np.testing.assert_allclose(_shipped_to_importer(np.array([50.0, 45.0, 60.0])), [100.0, 100.0])


def test_seeds_draw_real_distributions_from_the_scenario_uncertainty():
    def outcome(seed: int, data: dict) -> float:
        world = World(scenario_from_dict(copy.deepcopy(data)), seed=seed).run(36)
        magnet = world.commodity_index["magnet"]
        return float(world.recorder.array("demand")[-1, magnet].sum())

    data = copy.deepcopy(base_data())
    values = [outcome(seed, data) for seed in range(6)]
    assert len({round(v, 6) for v in values}) == 6, "each seed draws its own world"
    assert np.std(values) / np.mean(values) > 0.01, values
    # With every distribution shut, seeds no longer matter.
    still = copy.deepcopy(data)
    still["uncertainty"] = {
        "demand_growth_sd": 0.0,
        "project_delay_share": {"low": 0, "mode": 0, "high": 0},
        "capex_overrun": {"low": 1, "mode": 1, "high": 1},
        "mine_outages_per_year": 0.0,
    }
    assert outcome(1, still) == outcome(4, still)


def test_end_of_life_magnets_are_collected_and_recycled_into_oxides():
    data = copy.deepcopy(base_data())
    result = run(scenario_from_dict(data), months=36)
    world = result.world
    scrap = world.commodity_index["scrap"]
    light = world.commodity_index["oxide_light"]
    collected = result.array("production")[:, scrap].sum()
    assert collected > 1000.0, "retiring magnets are collected as scrap"
    recyclers = [f for f in world.firms if f.stage == "recycler"]
    used = result.array("use")[:, scrap].sum()
    assert used > 0.5 * collected, "recyclers buy the scrap"
    # Each recycler returns 0.30 t NdPr-type oxide per t of scrap (the recipe), nothing more.
    assert all(f.outputs["oxide_light"] == pytest.approx(0.30) for f in recyclers)
    assert result.array("production")[:, light].sum() > 0
    # No collection, no scrap and nothing for the recyclers to do.
    data["recycling"]["collection_share"] = 0.0
    idle = run(scenario_from_dict(data), months=36)
    assert idle.array("production")[:, scrap].sum() == 0.0
    assert idle.array("use")[:, scrap][6:].sum() == 0.0


def test_a_quota_on_heavy_ores_holds_apart_from_the_light_quota():
    """China sets its ion-clay quota apart: the clay mines keep to it while the light mines
    share the general quota, and a tight clay quota does not shrink the light mines' share."""
    data = copy.deepcopy(base_data())
    data["orders"] = [o for o in data.get("orders", []) if o.get("kind") != "production_quota"]
    general = {
        "date": data["start"],
        "kind": "production_quota",
        "issuer": "CN",
        "stages": ["mine"],
        "headroom": 0.1,
    }
    data["orders"].append({**general, "id": "cn-light", "tonnes_per_year": 300000})
    clay_tpy = 6000.0
    data["orders"].append(
        {**general, "id": "cn-clay", "tonnes_per_year": clay_tpy, "deposits": ["ionic_clay"]}
    )
    world = World(scenario_from_dict(data), seed=0)
    clay = [f for f in _cn_mines(world) if world.deposit_ids[f.deposit_index] == "ionic_clay"]
    light = [f for f in _cn_mines(world) if f not in clay]
    assert clay and light, "the test needs both kinds of Chinese mine"
    for _ in range(24):
        world.step()
        assert sum(f.throughput for f in clay) <= clay_tpy / 12 * (1 + 1e-9)
        assert sum(f.throughput for f in light) <= 300000 / 12 * (1 + 1e-9)
    # The clay mines are held to their own quota, well below their capacity; the light mines
    # are not held to the clay quota's share of the whole stage.
    assert sum(f.throughput for f in clay) > 0.5 * clay_tpy / 12
    assert sum(f.throughput for f in light) > 10 * clay_tpy / 12


def test_a_quota_naming_an_unknown_deposit_is_refused():
    world = World(scenario_from_dict(copy.deepcopy(base_data())), seed=0)
    result = world.desk.submit(
        {
            "kind": "production_quota",
            "issuer": "CN",
            "stages": ["mine"],
            "deposits": ["moon_rock"],
            "tonnes_per_year": 1000,
        }
    )
    assert result.status == "rejected"
    assert "deposits: unknown deposit 'moon_rock'" in result.message
    assert "ionic_clay" in result.message


def test_a_sudden_ban_triples_the_thin_spot_while_contract_volumes_move_slowly():
    """Contracts plus a thin spot: when China bans magnet exports overnight, ex-China buyers
    whose contracts cannot be served bid up the spot at once, while the contract book (volumes
    on every arc) changes by at most ``1 / contract_months`` of its gap a month."""
    data = copy.deepcopy(base_data())
    start = 24
    date = World(scenario_from_dict(copy.deepcopy(data)), seed=0).date_of(start)
    data["policies"].append(
        {
            "id": "sudden-ban",
            "kind": "export_ban",
            "issuer": "CN",
            "commodities": ["magnet"],
            "start": date,
        }
    )
    world = World(scenario_from_dict(data), seed=0)
    magnet, us, cn = (
        world.commodity_index["magnet"],
        world.region_index["US"],
        world.region_index["CN"],
    )
    world.run(start)
    before_spot = world.spot_prices[magnet, us]
    before_book = world.contracts[magnet].sum()
    before_arc = world.contracts[magnet, cn, us]
    # Calm before the ban: the spot is the posted price (everyone served).
    assert before_spot == pytest.approx(world.prices[magnet, us], rel=0.05)
    books = [before_book]
    spots = []
    for _ in range(2):
        world.step()
        spots.append(world.spot_prices[magnet, us])
        books.append(world.contracts[magnet].sum())
    assert max(spots) >= 2.0 * before_spot, (before_spot, spots)
    # The contract book moves slowly: under a tenth a month, however the spot jumps.
    for a, b in itertools.pairwise(books):
        assert abs(b - a) <= 0.1 * a, books
    # The banned arc's contract runs down over the contract term, it is not torn up at once.
    decay = (1 - 1 / world.params.contract_months) ** 2
    assert before_arc > 0
    assert world.contracts[magnet, cn, us] == pytest.approx(before_arc * decay, rel=1e-9)
    # The posted price, renegotiated monthly, moves far less than the spot.
    assert world.prices[magnet, us] < max(spots)


def _smooth_world() -> dict:
    """The baseline with demand growing smoothly and no shocks or policies: no demand-growth
    noise, no mine outages, no production quotas and no policies in force."""
    data = copy.deepcopy(base_data())
    data["uncertainty"]["demand_growth_sd"] = 0.0
    data["uncertainty"]["mine_outages_per_year"] = 0.0
    data["orders"] = [o for o in data.get("orders", []) if o["kind"] != "production_quota"]
    data["policies"] = []
    return data


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metal_and_magnet_prices_stay_within_30_percent_in_a_smooth_world(seed):
    """Without shocks or policies, what end users pay for metal and magnets stays within ±30%
    of its start for ten years in every region that buys them.

    It failed (2-4x within five years, with stocks and output steady) while a region whose
    plants only export priced at its own swinging cost basis times the markup its export
    parity implied, which importers and then China were pulled to. Oxides, concentrate and
    scrap do not meet this yet: see docs/model.md, "What the model cannot do yet".
    """
    world = World(scenario_from_dict(_smooth_world(), "smooth"), seed=seed)
    world.run(120)
    res = world.results()
    prices = res[(res.variable == "price") & res.commodity.isin(["metal", "magnet"])]
    demand = res[(res.variable == "demand") & (res.value > 0)]
    buyers = set(zip(demand.commodity, demand.region, strict=True))
    checked = 0
    for (commodity, region), path in prices.groupby(["commodity", "region"]):
        if commodity == "magnet" and (commodity, region) not in buyers:
            continue
        values = path.sort_values("month").value.to_numpy()
        ratio = values / values[0]
        low, high = ratio.min(), ratio.max()
        assert low >= 0.7 and high <= 1.3, (commodity, region, low, high)
        checked += 1
    assert checked >= 8


def test_a_commodity_with_its_own_choke_ratio_keeps_more_use_at_a_spike():
    # Dy/Tb is a few percent of a magnet's cost: its users give it up at a far higher multiple
    # of the reference price than the default, and its thin spot may rise that much further.
    data = copy.deepcopy(base_data())
    data["commodities"]["oxide_heavy"]["choke_ratio"] = 25.0
    world = World(scenario_from_dict(data), seed=0)
    default = World(scenario_from_dict(copy.deepcopy(base_data())), seed=0)
    heavy, light = world.commodity_index["oxide_heavy"], world.commodity_index["oxide_light"]
    cn = world.region_index["CN"]
    spiked = world.reference_prices * 10.0
    assert world.backstop(spiked, heavy, cn) > 0.9
    assert default.backstop(spiked, heavy, cn) < 0.1
    # Commodities without their own ratio keep the scenario's dynamics.choke_ratio.
    assert world.backstop(spiked, light, cn) == default.backstop(spiked, light, cn)
    assert world.choke_ratios[heavy] == 25.0
    assert world.choke_ratios[light] == world.params.choke_ratio


def _importer_price_after_a_cargo(cargo_t: float) -> float:
    """Region 1's price (USD/kg) after import parity, when it buys 3,000 t of its own output at
    20 USD/kg and ``cargo_t`` from region 0, whose goods land there at 40 USD/kg."""
    from world import market
    from world.scenario import DynamicsSpec

    prices = np.array([39.0, 20.0])
    flows = np.zeros((len(market.TIERS), 2, 2))
    flows[1, 1, 1] = 3000.0
    flows[1, 0, 1] = cargo_t
    bids = flows.sum(axis=1)  # (tier, destination): every buyer was served
    none = np.zeros((2, 2), dtype=bool)
    clearing = market.Clearing(flows=flows, capped=none.copy(), desired=flows.copy())
    dynamics = DynamicsSpec()
    return float(
        market.import_parity(
            prices,
            offers=flows.sum(axis=(0, 2)),
            bids=bids,
            clearing=clearing,
            wedge=np.ones((2, 2)),
            transport=np.full((2, 2), 1.0),
            banned=none,
            restricted=none,
            pull=dynamics.arbitrage_pull,
            min_share=dynamics.import_parity_share,
        )[1]
    )


def test_a_stray_cargo_does_not_set_the_importers_price_but_a_real_import_flow_does():
    # 25 t into a 3,000 t month (quota-2010's stranded ROW oxide into China, 2012) is not the
    # margin of China's market; 600 t is, and pulls the price toward its landed cost.
    assert _importer_price_after_a_cargo(0.0) == 20.0
    assert _importer_price_after_a_cargo(25.0) == 20.0
    assert _importer_price_after_a_cargo(600.0) > 25.0


def test_a_cost_basis_of_nothing_is_marked_up_on_a_tenth_of_the_reference_price(monkeypatch):
    """A separator whose co-products pay for everything has no cost of its main product. Its
    price is marked up on a tenth of the reference price from the start, as every month does,
    not on nothing (which made the starting markup infinite and every price NaN)."""
    real = World.cost_basis
    zero = "oxide_light"

    def cost_basis(self, prices, ci):
        basis = real(self, prices, ci)
        return np.where(np.isnan(basis), basis, 0.0) if self.commodity_ids[ci] == zero else basis

    monkeypatch.setattr(World, "cost_basis", cost_basis)
    w = World(scenario_from_dict(copy.deepcopy(base_data())), seed=0)
    ci = w.commodity_index[zero]
    made = ~np.isnan(real(w, w.prices, ci))
    assert made.any()
    expected = np.log(w.prices[ci] / (0.1 * w.reference_prices[ci]))
    np.testing.assert_allclose(w.normal_markup[ci][made], expected[made], rtol=1e-12)
    w.run(6)
    assert np.isfinite(w.prices).all()
