"""Model versus history: the observed-series schema, the comparison and ``chokepoint history``.

These tests check the machinery, not the calibration: the observed series they compare are
taken from the model's own run (or made up), so they hold whatever the engine's numbers are.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from experiments.cli import main
from world import World, load_scenario
from world.calendar import add_months
from world.history import compare, failed_series, model_series, year_of
from world.observed import ObservedSeries, References
from world.scenario import ScenarioError

BASE = "quota-2010"


@pytest.fixture(scope="module")
def quota() -> World:
    return World(load_scenario(BASE), seed=0).run()


def _index(world: World, commodity: str | None = None, region: str | None = None):
    ci = world.commodity_index[commodity] if commodity else None
    ri = world.region_index[region] if region else None
    return ci, ri


def own_values(world: World) -> dict[str, float]:
    """Values of the run read straight from the recorder's arrays (not via world/history.py)."""
    price, prod = world.recorder.array("price"), world.recorder.array("production")
    exports = world.recorder.array("exports")
    light, cn = _index(world, "oxide_light", "CN")
    conc, jp = _index(world, "concentrate", "JP")
    magnet, _ = _index(world, "magnet")
    jp_light = price[:, light, jp]
    peak = int(jp_light.argmax())
    quota = [world.commodity_index[c] for c in ("oxide_light", "oxide_heavy", "metal")]
    return {
        "cn_light_2010": float(price[12:24, light, cn].mean()),
        "cn_mining_share_2014_pct": 100 * float(prod[60:72, conc, cn].sum())
        / float(prod[60:72, conc].sum()),
        "jp_magnet_2011_tpy": 12 * float(prod[24:36, magnet, jp].mean()),
        "cn_to_jp_light_2011": float(exports[24:36, light, cn, jp].mean()),
        "quota_use_2012": float(exports[36:48, quota, cn, :].sum() / (30996 * 0.2)),
        "jp_peak_month": peak,
        "jp_multiple": float(jp_light[peak] / jp_light[:12].mean()),
    }  # fmt: skip


def scenario_text(v: dict[str, float], shift: float = 1.0) -> str:
    """A scenario extending quota-2010 whose observed series are the run's own values; the
    first series is multiplied by ``shift``."""
    peak = add_months("2009-01", v["jp_peak_month"])
    use = v["quota_use_2012"]
    quota_point = f'date = "2012-01", months = 12, value = {use!r}'
    quota_band = f"low = {use - 1e-6!r}, high = {use + 1e-6!r}"
    spike = (
        f"min_multiple = {0.99 * v['jp_multiple']!r}, max_multiple = {1.01 * v['jp_multiple']!r}"
    )
    window = f'window = ["{add_months(peak, -1)}", "{add_months(peak, 1)}"]'
    return f'''
extends = "{BASE}"
name = "own-history"

[[references.series]]
id = "cn-light-price"
variable = "price"
commodity = "oxide_light"
region = "CN"
unit = "USD/kg"
source = "the model's own run"
points = [{{ date = "2010-01", months = 12, value = {v["cn_light_2010"] * shift!r} }}]
tolerance = {{ relative = 0.01 }}

[[references.series]]
id = "cn-mining-share"
variable = "share"
commodity = "concentrate"
region = "CN"
unit = "%"
source = "the model's own run"
points = [{{ date = "2014-01", months = 12, value = {v["cn_mining_share_2014_pct"]!r} }}]
tolerance = {{ absolute = 0.01 }}

[[references.series]]
id = "jp-magnet-output"
variable = "production"
commodity = "magnet"
region = "JP"
unit = "t/yr"
source = "the model's own run"
points = [{{ date = "2011-01", months = 12, value = {v["jp_magnet_2011_tpy"]!r} }}]
tolerance = {{ factor = 1.01 }}

[[references.series]]
id = "cn-to-jp-light"
variable = "exports"
commodity = "oxide_light"
region = "CN"
partner = "JP"
unit = "t/month"
source = "the model's own run"
points = [{{ date = "2011-01", months = 12, value = {v["cn_to_jp_light_2011"]!r} }}]
tolerance = {{ relative = 0.01 }}

[[references.series]]
id = "quota-use"
variable = "quota_use"
region = "CN"
unit = "share"
source = "the model's own run"
points = [{{ {quota_point}, {quota_band} }}]

[[references.series]]
id = "jp-light-spike"
variable = "price"
commodity = "oxide_light"
region = "JP"
unit = "USD/kg"
source = "the model's own run"
points = [{{ date = "{peak}", value = 1.0 }}]
peak = {{ base = ["2009-01", "2009-12"], {spike}, {window} }}
'''  # fmt: skip


@pytest.fixture(scope="module")
def values(quota) -> dict[str, float]:
    return own_values(quota)


def test_a_scenario_observed_as_its_own_run_passes_every_check(quota, values, tmp_path):
    path = tmp_path / "own.toml"
    path.write_text(scenario_text(values), encoding="utf-8")
    spec = load_scenario(path)
    table = compare(quota.results(), spec)
    assert set(table["series"]) == {s.id for s in spec.references.series}
    assert table["ok"].all(), table[["series", "check", "observed", "model", "low", "high"]]
    assert failed_series(table) == []
    # the peak check reports both its height (a multiple of the base) and its date
    spike = table[table["series"] == "jp-light-spike"].set_index("check")
    assert spike.loc["peak multiple", "model"] == pytest.approx(values["jp_multiple"])
    assert spike.loc["peak date", "model"] == pytest.approx(
        year_of(add_months("2009-01", values["jp_peak_month"]))
    )


def test_the_command_passes_on_its_own_run_and_writes_figure_and_csv(values, tmp_path, capsys):
    path = tmp_path / "own.toml"
    path.write_text(scenario_text(values), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["history", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "every series within its band" in printed
    assert "cn-mining-share" in printed and "quota-use" in printed
    assert (out / "own-history-history.png").stat().st_size > 10_000
    table = pd.read_csv(out / "history.csv")
    assert {"series", "check", "date", "observed", "model", "low", "high", "ok"} <= set(table)
    # 6 points (the spike's is not scored: it is judged by its peak) and the peak's 2 checks
    assert len(table) == 8 and table["ok"].isna().sum() == 1
    assert table["ok"].dropna().astype(bool).all()


def test_a_series_shifted_out_of_its_band_fails_the_command_by_name(values, tmp_path, capsys):
    path = tmp_path / "shifted.toml"
    path.write_text(scenario_text(values, shift=1.5), encoding="utf-8")
    assert main(["history", str(path), "--out", str(tmp_path / "out")]) == 1
    printed = capsys.readouterr().out
    failing = printed.splitlines()[-1]
    assert "1 series outside their bands" in failing and "own-history/cn-light-price" in failing
    assert "cn-light-price" in printed and "FAIL" in printed


# --------------------------------------------------------------------------- the comparison


def _synthetic(peak_month: int, months: int = 24) -> pd.DataFrame:
    """A results table whose China light-oxide price is 10 USD/kg but 50 at ``peak_month``."""
    value = np.full(months, 10.0)
    value[peak_month] = 50.0
    return pd.DataFrame(
        {
            "month": range(months),
            "date": [add_months("2009-01", m) for m in range(months)],
            "variable": "price",
            "commodity": "oxide_light",
            "region": "CN",
            "partner": "",
            "value": value,
        }
    )


def _with(series: list[dict]):
    spec = load_scenario(BASE)
    return spec.model_copy(update={"references": References.model_validate({"series": series})})


def _spike(window: list[str], min_multiple: float) -> dict:
    return {
        "id": "spike",
        "variable": "price",
        "commodity": "oxide_light",
        "region": "CN",
        "unit": "USD/kg",
        "source": "made up",
        "points": [{"date": "2010-04", "value": 50.0}],
        "peak": {"base": ["2009-01", "2009-12"], "min_multiple": min_multiple, "window": window},
    }


@pytest.mark.parametrize(
    ("window", "minimum", "date_ok", "multiple_ok"),
    [
        (["2010-03", "2010-05"], 4.0, True, True),  # the peak (2010-04) inside, 5x >= 4x
        (["2010-04", "2010-04"], 6.0, True, False),  # a one-month window; 5x < 6x
        (["2010-05", "2010-12"], 4.0, False, True),  # the peak comes a month early
        (["2009-06", "2010-03"], 4.0, False, True),  # ... or a month late
    ],
)
def test_peak_height_and_date_window(window, minimum, date_ok, multiple_ok):
    table = compare(_synthetic(peak_month=15), _with([_spike(window, minimum)]))
    checks = table.set_index("check")
    assert checks.loc["peak date", "model"] == pytest.approx(year_of("2010-04"))
    assert checks.loc["peak date", "low"] == pytest.approx(year_of(window[0]))
    assert bool(checks.loc["peak date", "ok"]) is date_ok
    assert checks.loc["peak multiple", "model"] == pytest.approx(5.0)
    assert bool(checks.loc["peak multiple", "ok"]) is multiple_ok
    assert failed_series(table) == ([] if date_ok and multiple_ok else [f"{BASE}/spike"])


def test_a_window_point_is_the_mean_of_its_months_and_bands_apply():
    series = {
        "id": "level",
        "variable": "price",
        "commodity": "oxide_light",
        "region": "CN",
        "unit": "USD/kg",
        "source": "made up",
        "points": [
            {"date": "2010-01", "months": 12, "value": 13.0},  # mean 10 + 40/12 = 13.33
            {"date": "2010-04", "value": 40.0, "high": 60.0},  # its own high wins: 50 is in
            {"date": "2009-01", "value": 10.0, "high": 9.0},  # 10 is above 9
        ],
        "tolerance": {"relative": 0.05},
    }
    table = compare(_synthetic(peak_month=15), _with([series]))
    assert table["model"].tolist() == pytest.approx([10 + 40 / 12, 50.0, 10.0])
    assert table["low"].tolist() == pytest.approx([13.0 * 0.95, 38.0, 9.5])
    assert table["high"].tolist() == pytest.approx([13.0 * 1.05, 60.0, 9.0])
    assert table["ok"].tolist() == [True, True, False]


def test_a_context_series_is_shown_but_never_fails():
    series = {
        "id": "context",
        "variable": "price",
        "commodity": "oxide_light",
        "region": "CN",
        "unit": "USD/kg",
        "source": "made up",
        "points": [{"date": "2009-06", "value": 1000.0}],
        "scored": False,
    }
    table = compare(_synthetic(peak_month=15), _with([series]))
    assert table["model"].tolist() == [10.0] and table["ok"].isna().all()
    assert failed_series(table) == []


def test_ex_china_price_is_the_mean_of_the_regions_with_buyers(quota):
    series = ObservedSeries.model_validate(
        {
            "id": "x",
            "variable": "price",
            "commodity": "oxide_light",
            "region": "exCN",
            "unit": "USD/kg",
            "source": "s",
            "points": [{"date": "2009-01", "value": 1.0}],
            "scored": False,
        }
    )
    model = model_series(quota.results(), quota.spec, series)
    ci = quota.commodity_index["oxide_light"]
    price = quota.recorder.array("price")[:, ci]
    wanted = quota.recorder.array("demand")[:, ci] + quota.recorder.array("use")[:, ci]
    buyers = [
        r for r, rid in enumerate(quota.region_ids) if rid != "CN" and wanted[:, r].max() > 1e-9
    ]
    assert buyers and len(buyers) < len(quota.region_ids) - 1  # some regions buy none
    np.testing.assert_allclose(model["value"], price[:, buyers].mean(axis=1))


# --------------------------------------------------------------------------- the schema


SERIES = """
extends = "quota-2010"
name = "bad"
[[references.series]]
id = "{id}"
variable = "{variable}"
commodity = "oxide_light"
region = "{region}"
unit = "{unit}"
source = "s"
points = [{{ date = "{date}", value = 1.0 }}]
{extra}
"""


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"unit": "kg"}, "series[0] (s1).unit: unknown unit 'kg' for price; allowed: USD/kg"),
        ({"variable": "prise"}, "references.series[0] (s1).variable: unknown variable 'prise'"),
        ({"region": "XX"}, "references.series[0] (s1).region: unknown region 'XX'; allowed:"),
        ({"date": "2030-01"}, "references.series[0] (s1).points[0].date: date 2030-01 is outside"),
        ({"extra": "tolerance = { relative = 0.1, factor = 2 }"}, "tolerance: give exactly one"),
        ({"extra": ""}, "references.series[0] (s1).scored: the series is never compared"),
        ({"extra": "scored = false\ntolerance = { factor = 2 }"}, ".scored: a series shown for"),
        ({"extra": "tolerance = { factor = 2 }\npeak = { window = ['2011-09', '2011-01'] }"},
         ".peak.window: first month 2011-09 is after last 2011-01"),
        ({"extra": "peak = { window = ['2011-01', '2011-09'], min_multiple = 8 }"},
         ".peak: min_multiple / max_multiple need base"),
    ],
)  # fmt: skip
def test_schema_errors_name_the_field(tmp_path, fields, expected):
    values = {"id": "s1", "variable": "price", "region": "CN", "unit": "USD/kg", "date": "2010-01"}
    values |= {"extra": "tolerance = { relative = 0.25 }"} | fields
    path = tmp_path / "bad.toml"
    path.write_text(SERIES.format(**values), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def test_every_bundled_historical_scenario_carries_sourced_series():
    for name in ("quota-2010", "baseline-2024", "april-2025-licensing"):
        series = load_scenario(name).references.series
        assert series, name
        for s in series:
            assert "facts §" in s.source or all("facts §" in p.source for p in s.points), s.id
    assert load_scenario("alliance-vs-tariffs-2025").references.series == []


def test_the_tolerance_bands_of_the_issue_are_in_the_data():
    series = {s.id: s for s in load_scenario("quota-2010").references.series}
    assert series["nd-oxide-ex-china"].peak.min_multiple == 8.0
    assert series["dy-oxide-ex-china"].peak.min_multiple == 15.0
    assert series["nd-oxide-ex-china"].peak.window == ["2011-04", "2011-12"]
    assert all(p.high == 0.70 for p in series["cn-quota-use"].points)
    assert series["ex-china-mining-share"].points[0].low == 0.20
    baseline = load_scenario("baseline-2024").references.series
    shares = [s for s in baseline if s.variable == "share"]
    assert len(shares) == 5 and all(s.tolerance.absolute == 3.0 for s in shares)
    scored_output = [s for s in baseline if s.variable == "production"]
    assert scored_output and all(s.tolerance.relative == 0.25 for s in scored_output)


# --------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["history", "no-such-scenario"], "no bundled scenario named 'no-such-scenario'"),
        (["history", "alliance-vs-tariffs-2025"], "has no observed series"),
        (["history", "quota-2010", "--seed", "-1"], "--seed"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(argv, expected, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors (a bad --seed) exit from inside
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    if "alliance" in argv[-1]:
        assert "quota-2010" in err  # it names the scenarios that have some


def test_an_unwritable_out_dir_exits_2(tmp_path, capsys, values):
    path = tmp_path / "own.toml"
    path.write_text(scenario_text(values), encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["history", str(path), "--out", str(blocker)]) == 2
    assert "--out" in capsys.readouterr().err


def test_year_of_is_the_months_start():
    assert year_of("2011-01") == 2011.0 and math.isclose(year_of("2011-07"), 2011.5)
