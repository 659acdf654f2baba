"""Scenario files: validation messages, inheritance (``extends``), units, loading and hashing.

The malformed files extend the bundled ``baseline-2024`` and break one thing each. Lists of
tables merge with the parent's by id, so a new id appends an entry (at the end of the merged
list) and a known id overrides the inherited entry. Indices and allowed values that depend on the
baseline's data are taken from the loaded baseline, so the tests survive recalibration.

No World is built here: these tests cover the scenario layer only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import TypeAdapter

from world.calendar import add_months
from world.instruments import POLICY_KINDS
from world.scenario import (
    SECTORS,
    Scenario,
    ScenarioError,
    bundled_scenarios,
    load_scenario,
    scenario_from_dict,
    scenario_hash,
)
from world.units import CapexUsdPerTpy, PriceUsdPerKg, RatePerYear, Tonnes

BASE = "baseline-2024"
RATE_UNITS = "t/yr, kt/yr, t/month, kt/month (a bare number is t/yr)"
COMMODITIES = "concentrate, magnet, metal, oxide_heavy, oxide_light, scrap"

# A complete firm that is valid on its own; cases append one broken line or override a field.
NEW_FIRM = """
[[firms]]
id = "test-plant"
name = "Test magnet plant"
stage = "magnet"
region = "US"
capacity_tpy = 1000
unit_cost_usd_per_kg = 30.0
"""

NEW_POLICY = """
[[policies]]
id = "test-policy"
issuer = "CN"
commodities = ["magnet"]
"""


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario(BASE)


def _fill(template: str, base: Scenario) -> str:
    """Replace the placeholders that depend on the baseline's data."""
    firm_index = {f.id: i for i, f in enumerate(base.firms)}
    return template.format(
        new_firm=f"firms[{len(base.firms)}] (test-plant)",
        new_policy=f"policies[{len(base.policies)}] (test-policy)",
        new_user=f"end_users[{len(base.end_users)}]",
        mp=f"firms[{firm_index['mp-mountain-pass']}] (mp-mountain-pass)",
        regions=", ".join(sorted(base.regions)),
        stages=", ".join(sorted(base.stages)),
        start=base.start,
        last=add_months(base.start, base.months - 1),
        end=add_months(base.start, base.months),
        firm_keys=", ".join(type(base.firms[0]).model_fields),
        top_keys=", ".join(Scenario.model_fields),
    )


def _write(tmp_path: Path, body: str, name: str = "case.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'extends = "{BASE}"\n{body}', encoding="utf-8")
    return path


def _problems(ref: str | Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(ref)
    return info.value.problems


# (id, TOML body after the extends line, the one expected problem)
MALFORMED = [
    (
        "unknown-top-level-key",
        'colour = "blue"\n',
        "colour: unknown key 'colour'; allowed keys: {top_keys}",
    ),
    (
        "unknown-key-in-firm",
        NEW_FIRM + "capacity = 5\n",
        "{new_firm}.capacity: unknown key 'capacity'; did you mean 'capacity_tpy'?; "
        "allowed keys: {firm_keys}",
    ),
    (
        "wrong-unit",
        '[[firms]]\nid = "mp-mountain-pass"\ncapacity_tpy = "45 kg/day"\n',
        "{mp}.capacity_tpy: unit 'kg/day' is not allowed here; allowed units: " + RATE_UNITS,
    ),
    (
        "not-a-quantity",
        NEW_FIRM.replace("capacity_tpy = 1000", 'capacity_tpy = "lots"'),
        "{new_firm}.capacity_tpy: 'lots' is not a quantity; allowed units: " + RATE_UNITS,
    ),
    (
        "negative-capacity",
        '[[firms]]\nid = "mp-mountain-pass"\ncapacity_tpy = -45000\n',
        "{mp}.capacity_tpy: must be >= 0 (got -45000.0)",
    ),
    (
        "negative-capacity-with-unit",
        NEW_FIRM.replace("capacity_tpy = 1000", 'capacity_tpy = "-2 kt/yr"'),
        "{new_firm}.capacity_tpy: must be >= 0 (got -2000.0)",
    ),
    (
        "share-above-one",
        NEW_FIRM + "utilisation = 1.5\n",
        "{new_firm}.utilisation: must be between 0 and 1 (got 1.5)",
    ),
    (
        "recipe-input-missing-commodity",
        "[stages.metal.inputs]\nunobtainium = 0.1\n",
        "stages.metal.inputs.unobtainium: unknown commodity 'unobtainium'; allowed: " + COMMODITIES,
    ),
    (
        "policy-starts-before-scenario",
        NEW_POLICY + 'kind = "export_ban"\nstart = "2023-06"\n',
        "{new_policy}.start: date 2023-06 is outside the scenario's horizon; "
        "allowed: {start} .. {last}",
    ),
    (
        "construction-online-after-end",
        NEW_FIRM + 'status = "construction"\nonline = "2099-01"\n',
        "{new_firm}.online: date 2099-01 is outside the scenario's horizon; "
        "allowed: {start} .. {end}",
    ),
    (
        "construction-without-online",
        NEW_FIRM + 'status = "construction"\n',
        "{new_firm}.online: a plant under construction needs a date (YYYY-MM) "
        "when it starts producing",
    ),
    (
        "firm-in-unknown-region",
        NEW_FIRM.replace('region = "US"', 'region = "ATLANTIS"'),
        "{new_firm}.region: unknown region 'ATLANTIS'; allowed: {regions}",
    ),
    (
        "unknown-sector",
        '[[end_users]]\nregion = "US"\nsector = "toys"\ndemand_tpy = 100\n',
        "{new_user} (US/toys/magnet).sector: unknown sector 'toys'; allowed: " + ", ".join(SECTORS),
    ),
    (
        "unknown-policy-kind",
        NEW_POLICY + 'kind = "embargo"\nstart = "2025-01"\n',
        "{new_policy}.kind: unknown policy kind 'embargo'; allowed: " + ", ".join(POLICY_KINDS),
    ),
    (
        "export-quota-without-quota",
        NEW_POLICY + 'kind = "export_quota"\nstart = "2025-01"\n',
        "{new_policy}.quota_t: required for a policy of kind 'export_quota'",
    ),
    (
        "policy-ends-before-it-starts",
        NEW_POLICY + 'kind = "export_ban"\nstart = "2025-06"\nend = "2025-01"\n',
        "{new_policy}.end: end 2025-01 must be after start 2025-06",
    ),
    (
        "bad-date-format",
        NEW_POLICY + 'kind = "export_ban"\nstart = "2024-13"\n',
        "{new_policy}.start: '2024-13' is not a date of the form YYYY-MM (e.g. 2024-01)",
    ),
    (
        "bad-scenario-start",  # and no spurious horizon problems follow from it
        'start = "2024-13"\n',
        "start: '2024-13' is not a date of the form YYYY-MM (e.g. 2024-01)",
    ),
    (
        "unquoted-toml-date",
        "start = 2024-01-01\n",
        'start: write dates as quoted "YYYY-MM" strings (got 2024-01-01)',
    ),
    (
        "firm-at-unknown-stage",
        NEW_FIRM.replace('stage = "magnet"', 'stage = "smelter"'),
        "{new_firm}.stage: unknown stage 'smelter'; allowed: {stages}",
    ),
    (
        "unknown-status",
        NEW_FIRM + 'status = "dreaming"\n',
        "{new_firm}.status: unknown status 'dreaming'; allowed: "
        "operating, construction, candidate, idle",
    ),
    (
        "deposit-yields-above-one",
        "[deposits.test_deposit]\nyields = { oxide_light = 0.9, oxide_heavy = 0.2 }\n",
        "deposits.test_deposit.yields: yields add up to 1.1 t oxide per t REO; allowed: at most 1",
    ),
    (
        "required-field-missing",
        NEW_FIRM.replace("unit_cost_usd_per_kg = 30.0\n", ""),
        "{new_firm}.unit_cost_usd_per_kg: required field is missing "
        "(processing cost per kg of throughput, excluding inputs)",
    ),
    (
        "wrong-type",
        'months = "many"\n',
        "months: must be a whole number (got 'many')",
    ),
    (
        "duplicate-firm-id-in-file",
        NEW_FIRM + NEW_FIRM,
        "firms[1] (test-plant).id: duplicate entry 'test-plant' in case.toml "
        "(first at firms[0]); each entry must appear once",
    ),
    (
        "drop-of-unknown-id",
        '[[firms]]\nid = "mp-mountian-pass"\ndrop = true\n',
        "firms[0] (mp-mountian-pass).drop: case.toml drops 'mp-mountian-pass' but nothing "
        "with this key is inherited; did you mean 'mp-mountain-pass'?",
    ),
    (
        "briefing-for-a-region-without-a-government",
        '[briefing.seats.MM]\nrole = "Rebels hold the mines."\nsuccess = "They sell."\n',
        "briefing.seats.MM: not a state of this scenario; allowed: AU, CN, EU, JP, US",
    ),
    (
        "briefing-seat-without-success",
        '[briefing.seats.US]\nrole = "Buyer."\nsuccess = 3\n',
        "briefing.seats.US.success: must be a string (in quotes) (got 3)",
    ),
    (
        "invalid-toml",
        "months = = 3\n",
        "not valid TOML: Invalid value (at line 2, column 10)",
    ),
    (
        "missing-parent",
        'extends = "baseline-2042"\n',
        "extends: no bundled scenario named 'baseline-2042' and no file of that name; "
        "bundled: {bundled}; did you mean 'baseline-2024'?",
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED]
)
def test_malformed_scenario_reports_one_exact_problem(tmp_path, base, body, expected):
    if body.startswith("extends ="):  # the case replaces the extends line itself
        path = tmp_path / "case.toml"
        path.write_text(body, encoding="utf-8")
    else:
        path = _write(tmp_path, body)
    bundled = ", ".join(bundled_scenarios())
    assert _problems(path) == [_fill(expected.replace("{bundled}", bundled), base)]


def test_malformed_table_is_broad():
    assert len(MALFORMED) >= 12
    assert len({c[0] for c in MALFORMED}) == len(MALFORMED)


def test_duplicate_firm_id_in_a_standalone_file(tmp_path, base):
    # Without extends nothing is merged: the schema check reports the duplicate.
    text = bundled_scenarios()[BASE].read_text(encoding="utf-8")
    text += NEW_FIRM.replace("test-plant", "mp-mountain-pass")
    path = tmp_path / "standalone.toml"
    path.write_text(text, encoding="utf-8")
    n = len(base.firms)
    assert _problems(path) == [
        f"firms[{n}] (mp-mountain-pass).id: duplicate firm id 'mp-mountain-pass'; "
        "ids must be unique"
    ]


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [f"no such file: {path}"]
    assert info.value.source == str(path)


def test_unknown_bundled_name_suggests_the_closest():
    assert _problems("baseline-2025") == [
        "no bundled scenario named 'baseline-2025' and no file of that name; "
        f"bundled: {', '.join(bundled_scenarios())}; did you mean 'baseline-2024'?"
    ]


def test_error_carries_every_problem(tmp_path, base):
    # Three mistakes of different kinds: a schema error (unknown key) stops pydantic before
    # the cross-reference checks, which must still report the unknown region and the bad date.
    body = (
        '[[firms]]\nid = "mp-mountain-pass"\ncolour = "red"\n'
        + NEW_FIRM.replace('region = "US"', 'region = "XX"')
        + NEW_POLICY
        + 'kind = "export_ban"\nstart = "2024-13"\n'
    )
    problems = _problems(_write(tmp_path, body))
    assert len(problems) == 3
    assert problems[0].startswith(_fill("{mp}.colour: unknown key 'colour'", base))
    assert problems[1:] == [
        _fill("{new_firm}.region: unknown region 'XX'; allowed: {regions}", base),
        _fill(
            "{new_policy}.start: '2024-13' is not a date of the form YYYY-MM (e.g. 2024-01)", base
        ),
    ]
    with pytest.raises(ScenarioError, match=r"has 3 problem\(s\)"):
        load_scenario(tmp_path / "case.toml")


def test_field_error_is_not_reported_twice(tmp_path, base):
    # A region of the wrong type is one problem, not also an "unknown region".
    body = NEW_FIRM.replace('region = "US"', "region = 5")
    assert _problems(_write(tmp_path, body)) == [
        _fill("{new_firm}.region: must be a string (in quotes) (got 5)", base)
    ]


def test_scenario_error_is_a_value_error_listing_problems(tmp_path):
    path = _write(tmp_path, 'colour = "blue"\nshade = "dark"\n')
    with pytest.raises(ValueError) as info:
        load_scenario(path)
    text = str(info.value)
    assert text.startswith(f"scenario {path} has 2 problem(s):\n  - colour: unknown key")
    assert "\n  - shade: unknown key 'shade'" in text


# --------------------------------------------------------------------------- extends


def test_extends_merges_by_id(tmp_path, base):
    body = (
        'name = "child"\ndescription = "a child scenario"\n'
        '[[firms]]\nid = "mp-mountain-pass"\ncapacity_tpy = "60 kt/yr"\n'
        '[[firms]]\nid = "row-mines"\ndrop = true\n'
        + NEW_FIRM
        + "[commodities.magnet]\ntransport_usd_per_kg = 2.5\n"
    )
    child = load_scenario(_write(tmp_path, body))
    base_firms = {f.id: f for f in base.firms}
    firms = {f.id: f for f in child.firms}

    assert child.name == "child"
    assert child.extends == BASE
    assert firms["mp-mountain-pass"].capacity_tpy == 60000.0
    # the override touches only the field it names
    assert (
        firms["mp-mountain-pass"].model_copy(
            update={"capacity_tpy": base_firms["mp-mountain-pass"].capacity_tpy}
        )
        == base_firms["mp-mountain-pass"]
    )
    assert "row-mines" not in firms
    assert child.firms[-1].id == "test-plant"
    assert firms["test-plant"].capacity_tpy == 1000.0
    # everything else is inherited unchanged and in the parent's order
    inherited = [f for f in child.firms if f.id not in {"mp-mountain-pass", "test-plant"}]
    assert inherited == [f for f in base.firms if f.id not in {"mp-mountain-pass", "row-mines"}]
    assert len(child.firms) == len(base.firms)
    # tables merge key by key
    assert child.commodities["magnet"].transport_usd_per_kg == 2.5
    assert (
        child.commodities["magnet"].price_usd_per_kg == base.commodities["magnet"].price_usd_per_kg
    )
    assert child.end_users == base.end_users
    assert child.policies == base.policies
    assert child.regions == base.regions


def test_extends_chain_by_relative_path(tmp_path, base):
    sub = tmp_path / "sub"
    sub.mkdir()
    _write(sub, '[[firms]]\nid = "mp-mountain-pass"\ncapacity_tpy = 50000\n', "middle.toml")
    (sub / "leaf.toml").write_text(
        'extends = "middle.toml"\n[[firms]]\nid = "lynas-mt-weld"\ncapacity_tpy = "1 kt/month"\n',
        encoding="utf-8",
    )
    leaf = load_scenario(sub / "leaf.toml")
    firms = {f.id: f for f in leaf.firms}
    assert firms["mp-mountain-pass"].capacity_tpy == 50000.0
    assert firms["lynas-mt-weld"].capacity_tpy == 12000.0
    assert leaf.extends == "middle.toml"
    assert len(leaf.firms) == len(base.firms)


def test_extends_cycle_is_reported(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n', encoding="utf-8")
    assert _problems(tmp_path / "a.toml") == [
        "extends: the scenarios extend each other in a cycle: a.toml -> b.toml -> a.toml"
    ]


def test_extends_itself_is_reported(tmp_path):
    (tmp_path / "self.toml").write_text('extends = "self.toml"\n', encoding="utf-8")
    assert _problems(tmp_path / "self.toml") == [
        "extends: the scenarios extend each other in a cycle: self.toml -> self.toml"
    ]


def test_extends_missing_file_names_the_folder(tmp_path):
    path = tmp_path / "orphan.toml"
    path.write_text('extends = "parent.toml"\n', encoding="utf-8")
    assert _problems(path) == [f"extends: no such file: parent.toml (looked in {tmp_path})"]


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        (RatePerYear, "45 kt/yr", 45000.0),
        (RatePerYear, "3750 t/month", 45000.0),
        (RatePerYear, "3.75 kt/month", 45000.0),
        (RatePerYear, "45,000 t/yr", 45000.0),
        (RatePerYear, "45_000", 45000.0),
        (RatePerYear, 45000, 45000.0),
        (PriceUsdPerKg, "58000 USD/t", 58.0),
        (PriceUsdPerKg, "58 kUSD/t", 58.0),
        (PriceUsdPerKg, "58 USD/kg", 58.0),
        (Tonnes, "1.5 kt", 1500.0),
        (CapexUsdPerTpy, "40 kUSD/tpy", 40000.0),
        (CapexUsdPerTpy, "40 MUSD/ktpy", 40000.0),
    ],
)
def test_unit_strings_convert(kind, text, value):
    assert TypeAdapter(kind).validate_python(text) == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("45 kg/day", "unit 'kg/day' is not allowed here; allowed units: " + RATE_UNITS),
        ("lots", "'lots' is not a quantity; allowed units: " + RATE_UNITS),
        (True, "expected a number or a quantity; allowed units: " + RATE_UNITS),
        (float("inf"), "must be a finite number (got inf)"),
    ],
)
def test_unit_errors_name_the_allowed_units(text, message):
    with pytest.raises(ValueError, match="1 validation error") as info:
        TypeAdapter(RatePerYear).validate_python(text)
    assert info.value.errors()[0]["msg"] == f"Value error, {message}"


def test_units_in_a_file_equal_the_canonical_number(tmp_path, base):
    path = _write(tmp_path, '[[firms]]\nid = "mp-mountain-pass"\ncapacity_tpy = "3750 t/month"\n')
    firms = {f.id: f for f in load_scenario(path).firms}
    assert firms["mp-mountain-pass"].capacity_tpy == 45000.0


# --------------------------------------------------------------------------- bundled and hash


@pytest.mark.parametrize("name", sorted(bundled_scenarios()))
def test_every_bundled_scenario_loads(name):
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.firms and scenario.end_users
    # a path to the file gives the same scenario as its name
    assert load_scenario(bundled_scenarios()[name]) == scenario


@pytest.mark.parametrize("name", sorted(bundled_scenarios()))
def test_every_bundled_scenario_briefs_every_state_and_asks_debrief_questions(name):
    scenario = load_scenario(name)
    brief = scenario.briefing
    assert brief is not None and len(brief.situation) > 200
    assert set(brief.seats) == {s.region for s in scenario.states}
    for seat in brief.seats.values():
        assert len(seat.role) > 100 and len(seat.success) > 60
    assert len(brief.debrief_questions) >= 4
    assert all(q.endswith("?") for q in brief.debrief_questions)
    # Written for this scenario, not inherited from the one it extends.
    if scenario.extends:
        parent = load_scenario(scenario.extends).briefing
        assert brief.situation != parent.situation
        assert not set(brief.debrief_questions) & set(parent.debrief_questions)


def test_scenario_from_dict_round_trips(base):
    assert scenario_from_dict(base.model_dump()) == base
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({**base.model_dump(), "months": 0}, "dict")
    assert info.value.problems == ["months: must be between 1 and 600 (got 0)"]
    assert info.value.source == "dict"


def test_scenario_hash_is_stable(tmp_path, base):
    digest = scenario_hash(base)
    assert len(digest) == 16
    assert int(digest, 16) >= 0
    assert scenario_hash(load_scenario(BASE)) == digest
    # the same content in another file hashes the same
    copy = tmp_path / "copy.toml"
    copy.write_text(bundled_scenarios()[BASE].read_text(encoding="utf-8"), encoding="utf-8")
    assert scenario_hash(load_scenario(copy)) == digest
    # a unit spelled differently gives the same content, so the same hash
    capacity = {f.id: f for f in base.firms}["mp-mountain-pass"].capacity_tpy
    bare = _write(tmp_path, f'[[firms]]\nid = "mp-mountain-pass"\ncapacity_tpy = {capacity}\n')
    kt = _write(
        tmp_path,
        f'[[firms]]\nid = "mp-mountain-pass"\ncapacity_tpy = "{capacity / 1000:g} kt/yr"\n',
        "kt.toml",
    )
    assert scenario_hash(load_scenario(kt)) == scenario_hash(load_scenario(bare))


def test_scenario_hash_changes_with_a_number(tmp_path, base):
    firms = {f.id: f for f in base.firms}
    changed = firms["mp-mountain-pass"].capacity_tpy + 1
    path = _write(tmp_path, f'[[firms]]\nid = "mp-mountain-pass"\ncapacity_tpy = {changed}\n')
    assert scenario_hash(load_scenario(path)) != scenario_hash(base)
    assert scenario_hash(base.model_copy(update={"months": base.months + 1})) != scenario_hash(base)
