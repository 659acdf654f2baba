"""The glossary: every control, chart and term of the game page in plain words, with units.

The entries are data (ui/glossary.toml), joined with what other modules already define: each
instrument's description (its order class's docstring, as the order form shows it), the parts
of a price (the "Why did this move?" panel's) and the regions of the bundled scenarios.

A control or chart finds its entry by the caption it shows: a button's text, a field's label,
or for a chart the dashboard tab it is drawn on (else the title of the card it sits in).
:func:`Tooltips` puts each entry on its control in the browser as a tooltip (whatever panel
draws the control, so a new control needs only its glossary entry), and :func:`GlossaryPanel`
lists them all. tests/test_glossary.py fails if a control or chart of the page has none.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from html import escape
from pathlib import Path

import ipyvuetify as v
import solara
import traitlets

from ui.order_form import field_label, instrument_help, instrument_name
from ui.why import PART_LABELS
from world import bundled_scenarios, load_scenario
from world.orders import ORDER_CLASSES, STATE_ORDER_KINDS

GLOSSARY_FILE = Path(__file__).with_name("glossary.toml")
#: The keys an entry written as a table may have.
ENTRY_KEYS = ("text", "unit", "also")


@dataclass(frozen=True)
class Entry:
    """One term: the caption a player reads, what it means and its unit ("" if none)."""

    term: str
    text: str
    section: str
    unit: str = ""

    def tip(self) -> str:
        """The entry as a tooltip: the definition, then the unit in brackets."""
        return f"{self.text} [{self.unit}]" if self.unit else self.text


def caption_key(caption: str) -> str:
    """How captions are matched: spaces collapsed, case ignored (the browser shows some
    buttons in capitals). ui/glossary.vue matches the same way."""
    return " ".join(str(caption).split()).lower()


@dataclass(frozen=True)
class Glossary:
    """Every entry, in the order the panel lists them, and each caption's entry."""

    entries: tuple[Entry, ...]
    captions: dict[str, Entry]

    def entry(self, caption: str) -> Entry | None:
        """The entry a control or chart showing ``caption`` takes its tooltip from."""
        return self.captions.get(caption_key(caption))

    def tips(self) -> dict[str, str]:
        """Caption key -> tooltip, for every caption (what the browser is sent)."""
        return {key: entry.tip() for key, entry in self.captions.items()}

    def matching(self, query: str) -> list[Entry]:
        """The entries whose term, definition or unit hold every word of ``query``."""
        words = caption_key(query).split()
        return [
            e
            for e in self.entries
            if all(w in caption_key(f"{e.term} {e.text} {e.unit}") for w in words)
        ]


def _entry(where: str, term: str, value: object, section: str) -> tuple[Entry, list[str]]:
    """An entry of the file and the other captions it covers (``also``).

    Raises:
        ValueError: naming the entry and what it may hold.
    """
    if isinstance(value, str):
        value = {"text": value}
    if not isinstance(value, dict):
        raise ValueError(f"{where}: a definition, or a table of {', '.join(ENTRY_KEYS)}")
    unknown = sorted(set(value) - set(ENTRY_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(ENTRY_KEYS)}")
    text, unit, also = value.get("text"), value.get("unit", ""), value.get("also", [])
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}.text: a definition in words (got {text!r})")
    if not isinstance(unit, str):
        raise ValueError(f'{where}.unit: the unit as text, e.g. "USD/kg" (got {unit!r})')
    if not isinstance(also, list) or not all(isinstance(a, str) and a.strip() for a in also):
        raise ValueError(f"{where}.also: a list of other captions (got {also!r})")
    return Entry(term=term, text=text.strip(), section=section, unit=unit), also


def _from_code() -> list[tuple[Entry, list[str]]]:
    """The entries other modules define: instruments, the parts of a price, regions."""
    out = [
        (Entry(instrument_name(k), instrument_help(k), "Instruments"), [])
        for k in STATE_ORDER_KINDS
    ]
    out += [
        (Entry(label, text, "Why did this move?", "USD/kg"), [])
        for label, text in PART_LABELS.values()
    ]
    regions: dict[str, str] = {}
    for name in sorted(bundled_scenarios()):
        for region_id, region in load_scenario(name).regions.items():
            regions.setdefault(region_id, region.name)
    out += [
        (
            Entry(
                region_id,
                f"{name}. On the start screen: the doctrine its AI seat plays.",
                "Regions",
            ),
            [],
        )
        for region_id, name in regions.items()
    ]
    return out


def load(path: Path = GLOSSARY_FILE) -> Glossary:
    """The glossary of ``path`` (default ui/glossary.toml) with the entries code defines.

    Raises:
        ValueError: the file is not TOML, holds something other than sections of entries and
            order fields, names a field no order has, or gives one caption two entries (the
            message names the entry).
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path.name}: not TOML ({exc})") from None
    unknown = sorted(set(data) - {"sections", "fields"})
    if unknown:
        raise ValueError(f"{path.name}: unknown table {unknown[0]!r}; allowed: sections, fields")
    for table in ("sections", "fields"):
        if not isinstance(data.get(table, {}), dict):
            raise ValueError(f"{path.name}: {table}: a table")
    made: list[tuple[Entry, list[str]]] = []
    for section, terms in data.get("sections", {}).items():
        if not isinstance(terms, dict):
            raise ValueError(f"{path.name}: sections.{section}: a table of terms")
        made += [
            _entry(f"{path.name}: sections.{section}.{term}", term, value, section)
            for term, value in terms.items()
        ]
    known = {name for cls in ORDER_CLASSES.values() for name in cls.model_fields}
    for name, value in data.get("fields", {}).items():
        if name not in known:
            raise ValueError(f"{path.name}: fields.{name}: no order has a field of that name")
        made.append(_entry(f"{path.name}: fields.{name}", field_label(name), value, "Order form"))
    made += _from_code()
    captions: dict[str, Entry] = {}
    for entry, also in made:
        for caption in (entry.term, *also):
            key = caption_key(caption)
            if key in captions:
                raise ValueError(
                    f"{path.name}: {caption!r} has two entries ({captions[key].section} and "
                    f"{entry.section}); keep one"
                )
            captions[key] = entry
    return Glossary(entries=tuple(e for e, _ in made), captions=captions)


@functools.cache
def glossary() -> Glossary:
    """The game's glossary, read once per process."""
    return load()


def glossary_html(entries: list[Entry]) -> str:
    """Entries as HTML definition lists, one per section, in the glossary's order."""
    sections: dict[str, list[Entry]] = {}
    for e in entries:
        sections.setdefault(e.section, []).append(e)
    return "".join(
        f"<h4>{escape(section)}</h4><dl>"
        + "".join(
            f"<dt><b>{escape(e.term)}</b></dt><dd>{escape(e.text)}"
            + (f' <span class="glossary-unit">[{escape(e.unit)}]</span>' if e.unit else "")
            + "</dd>"
            for e in items
        )
        + "</dl>"
        for section, items in sections.items()
    )


@solara.component
def GlossaryPanel(on_close):
    """The glossary, searchable; ``on_close`` hides it."""
    query = solara.use_reactive("")
    found = glossary().matching(query.value)
    with solara.Card("Glossary", classes=["glossary-panel"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.InputText(
                "Search the glossary",
                value=query,
                continuous_update=True,
                style={"max-width": "320px"},
            )
            solara.Button("Close the glossary", on_click=on_close, text=True)
        if not found:
            solara.Text("No entry holds those words.")
        solara.HTML(
            tag="div",
            unsafe_innerHTML=glossary_html(found),
            classes=["glossary-terms"],
            style="max-height: 360px; overflow-y: auto",
        )


class TooltipsWidget(v.VuetifyTemplate):
    """Puts each caption's glossary entry on the page's controls and charts as their title
    (a tooltip), and again whenever the page changes (ui/glossary.vue)."""

    template_file = (__file__, "glossary.vue")
    tips = traitlets.Dict().tag(sync=True)


@solara.component
def Tooltips():
    """Mount once per page: the glossary becomes the tooltips of every control and chart."""
    return TooltipsWidget.element(tips=glossary().tips())
