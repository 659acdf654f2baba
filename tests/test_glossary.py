"""Every control and chart of the game page has a glossary entry (ui/glossary.py), the entry
its tooltip is drawn from; and the glossary file is checked like any other input."""

from pathlib import Path

import ipyvuetify as v
import ipywidgets
import pytest
import solara

from play.session import GameSession
from ui import charts
from ui.components import Game
from ui.glossary import Glossary, glossary, glossary_html, load
from ui.page import Page
from world import load_scenario
from world.orders import STATE_ORDER_KINDS

SCENARIO = "alliance-vs-tariffs-2025"
#: The widgets a player works: buttons, fields, selects, checkboxes, sliders.
CONTROLS = (
    v.Btn,
    v.Select,
    v.Autocomplete,
    v.Combobox,
    v.TextField,
    v.Textarea,
    v.Checkbox,
    v.Switch,
    v.Slider,
    v.RangeSlider,
)


def _children(widget) -> list:
    kids = []
    for value in [getattr(widget, "children", None)] + [
        slot.get("children") for slot in (getattr(widget, "v_slots", None) or [])
    ]:
        items = value if isinstance(value, list | tuple) else [value]
        kids += [k for k in items if isinstance(k, ipywidgets.Widget)]
    return kids


def _walk(widget, above=()):
    """Every widget under ``widget``, each with the widgets above it (outermost first)."""
    yield widget, above
    for kid in _children(widget):
        yield from _walk(kid, (*above, widget))


def _text(widget) -> str:
    return " ".join(str(c) for c in getattr(widget, "children", []) if isinstance(c, str))


def _chart_caption(above) -> str:
    """What a chart is called, as ui/glossary.vue finds it: the tab on show on the dashboard
    it is drawn on, else the title of the card it sits in."""
    for widget in reversed(above):
        if "dashboard" in (getattr(widget, "class_", None) or "").split():
            toggle = next(w for w, _ in _walk(widget) if isinstance(w, v.BtnToggle))
            return _text(_children(toggle)[toggle.v_model])
        if isinstance(widget, v.Card):
            title = next((k for k in _children(widget) if isinstance(k, v.CardTitle)), None)
            return _text(title) if title is not None else ""
    return ""


def without_entry(root, terms: Glossary) -> list[str]:
    """The controls and charts under ``root`` that have no glossary entry, in words."""
    out = []
    for widget, above in _walk(root):
        if isinstance(widget, CONTROLS):
            caption = _text(widget) if isinstance(widget, v.Btn) else widget.label or ""
        elif isinstance(widget, ipywidgets.Image):
            caption = _chart_caption(above)
        else:
            continue
        if terms.entry(caption) is None:
            out.append(f"{type(widget).__name__} {caption!r}")
    return out


class Looked:
    """What a walk through the page's states found without an entry, and where."""

    def __init__(self, root):
        self.root = root
        self.missing: dict[str, str] = {}
        self.seen = 0

    def look(self, where: str) -> None:
        for item in without_entry(self.root, glossary()):
            self.missing.setdefault(item, where)
        self.seen += sum(isinstance(w, (*CONTROLS, ipywidgets.Image)) for w, _ in _walk(self.root))


def _dashboard_toggle(root) -> v.BtnToggle:
    """The dashboard's chart tabs."""
    board = next(w for w, _ in _walk(root) if "dashboard" in (getattr(w, "class_", None) or ""))
    return next(w for w, _ in _walk(board) if isinstance(w, v.BtnToggle))


def _show_panel(rc, name: str) -> None:
    """Open a side panel (a toggle's buttons change its value in the browser only)."""
    for toggle in rc.find(v.BtnToggle).widgets:
        names = [_text(b) for b in _children(toggle)]
        if name in names:
            toggle.v_model = names.index(name)
            return
    raise AssertionError(f"no side panel {name!r}")


def _click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def _select(rc, label: str, value) -> None:
    rc.find(v.Select, label=label).widget.v_model = value


def test_the_check_finds_a_control_and_a_chart_that_have_no_entry():
    @solara.component
    def Panel():
        with solara.Card("A card nobody described"):
            solara.Button("A button nobody described")
            solara.Select("Commodity", values=["magnet"], value="magnet")
            solara.Image(b"\x89PNG\r\n\x1a\n")

    box, _ = solara.render(Panel(), handle_error=False)
    assert without_entry(box, glossary()) == [
        "Btn 'A button nobody described'",
        "Image 'A card nobody described'",
    ]


def test_every_control_and_chart_of_the_page_has_a_glossary_entry():
    box, rc = solara.render(Page(), handle_error=False)
    page = Looked(box)
    page.look("start screen")
    _select(rc, "Your seat", "CN")
    page.look("start screen, seat CN")
    _select(rc, "Your seat", "US")
    _click(rc, "Start the game")
    page.look("game, guide step 1")
    while rc.find(v.Btn, children=["Next"]).widgets:
        _click(rc, "Next")
        page.look("the guide")
    _click(rc, "Finish")
    _click(rc, "Guided first turn")
    page.look("guide restarted")
    _click(rc, "Skip the guide")
    _click(rc, "Glossary")
    page.look("glossary open")
    for tab in charts.TABS:
        _dashboard_toggle(box).v_model = charts.TABS.index(tab)
        page.look(f"dashboard tab {tab}")
    for kind in STATE_ORDER_KINDS:
        _select(rc, "Order", kind)
        page.look(f"order form {kind}")
    _select(rc, "Order", "import_tariff")
    for rate in ("0.3", "0.4"):  # two pending orders: Cancel, and Cancel all
        rc.find(v.TextField, label="Rate (0.25 = 25%)").widget.v_model = rate
        _click(rc, "Submit order")
    rc.find(v.TextField, label="Rate (0.25 = 25%)").widget.v_model = "5"  # asks to confirm
    page.look("orders pending, an extreme one to confirm")
    _click(rc, "Step 1 month")
    _click(rc, "End turn")
    _click(rc, "End turn")
    page.look("month 6")
    _click(rc, "Reset")
    page.look("reset to confirm")
    _click(rc, "Keep playing")
    _click(rc, "Undo")
    _click(rc, "Yes, undo")
    page.look("after an undo (Redo)")
    for panel in ("Why?", "Negotiation", "Briefing", "Debrief", "Orders"):
        _show_panel(rc, panel)
        page.look(f"side panel {panel}")
    assert page.seen > 200, "the walk saw the page's controls"
    assert page.missing == {}, "no glossary entry for: " + "; ".join(
        f"{item} (on {where})" for item, where in page.missing.items()
    )


def test_the_results_screen_and_a_long_news_feed_have_entries():
    spec = load_scenario(SCENARIO).model_copy(update={"months": 12})
    game = GameSession(spec, seed=3, seat="US")
    while not game.finished:
        game.end_turn()
    box, rc = solara.render(Game(game), handle_error=False)
    page = Looked(box)
    page.look("results screen")
    _show_panel(rc, "Debrief")
    page.look("results screen, debrief")
    assert page.missing == {}, page.missing


def test_every_entry_says_something_and_units_are_shown_in_tooltips():
    terms = glossary()
    assert len(terms.entries) > 100
    assert all(e.text and e.section for e in terms.entries)
    assert terms.entry("  end   TURN ").term == "End turn"  # as the browser may show it
    assert terms.entry("Floor, USD/kg").tip().endswith("[USD/kg]")
    assert terms.entry("Import tariff").section == "Instruments"
    assert terms.entry("Policy wedge").unit == "USD/kg"
    assert terms.entry("CN").text.startswith("China")


def test_the_glossary_panel_lists_and_searches_the_entries():
    terms = glossary()
    found = terms.matching("scarcity MARKUP")
    assert {"Why?", "Scarcity markup"} <= {e.term for e in found}
    assert all("scarcity markup" in f"{e.term} {e.text}".lower() for e in found)
    html = glossary_html(found)
    assert "<h4>Panels</h4>" in html and "<dt><b>Scarcity markup</b></dt>" in html
    assert terms.matching("no such word at all") == []


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[sections.A]\n"X" = { text = "t", colour = "red" }', "A.X: unknown key 'colour'"),
        ('[sections.A]\n"X" = { unit = "t" }', "sections.A.X.text: a definition in words"),
        ('[sections.A]\n"X" = 3', "sections.A.X: a definition, or a table of text, unit, also"),
        ('[sections.A]\n"X" = "t"\n[sections.B]\n"x" = "u"', "'x' has two entries (A and B)"),
        ('[sections.A]\n"Import tariff" = "t"', "'Import tariff' has two entries (A and Instr"),
        ('[fields]\nno_such_field = "t"', "fields.no_such_field: no order has a field"),
        ('[terms]\n"X" = "t"', "unknown table 'terms'; allowed: sections, fields"),
        ('[sections.A\n"X" = "t"', "not TOML"),
    ],
)
def test_a_bad_glossary_file_is_refused_with_the_entry_named(tmp_path, toml, message):
    path = Path(tmp_path) / "glossary.toml"
    path.write_text(toml)
    with pytest.raises(ValueError) as caught:
        load(path)
    assert message in str(caught.value)
