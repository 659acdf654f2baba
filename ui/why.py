"""The "Why did this move?" panel: one price in one month, broken into its parts.

Pick a commodity, a region and a month; the panel shows that price as input costs, scarcity
markup, policy wedge (duty, tariff or the rent of a quota or licence) and transport
(:mod:`world.price_breakdown`), how the price was formed, the policies behind it and that
month's news about the commodity or the regions involved. Plain HTML: no figure to draw.
"""

from __future__ import annotations

from html import escape

import solara

from play.session import GameSession
from world.price_breakdown import PARTS, explain

#: How each part is named to a player, and what it means (the panel's tooltips and legend).
PART_LABELS = {
    "inputs": (
        "Input costs",
        "Producers' full unit cost: processing plus inputs at this month's prices.",
    ),
    "scarcity": (
        "Scarcity markup",
        "The markup over cost, moved by excess demand (negative in a glut).",
    ),
    "policy": (
        "Policy wedge",
        "Duty and tariff on the arc used, or the rent of a quota or licence that caps imports.",
    ),
    "transport": ("Transport", "Freight on the arc used (negative for an exporter's netback)."),
}
PART_COLOURS = {
    "inputs": "#4e79a7",
    "scarcity": "#f28e2b",
    "policy": "#e15759",
    "transport": "#76b7b2",
}


def breakdown_html(explanation) -> str:
    """The parts as a bar (widths in proportion to their size) and a table, in HTML."""
    total = sum(abs(v) for v in explanation.parts.values()) or 1.0
    bar = "".join(
        f'<span class="why-seg why-{name}" title="{escape(PART_LABELS[name][0])}: '
        f'{value:,.2f} USD/kg" style="width:{100 * abs(value) / total:.1f}%;'
        f'background:{PART_COLOURS[name]};{"opacity:0.45;" if value < 0 else ""}"></span>'
        for name, value in explanation.parts.items()
    )
    rows = "".join(
        f'<tr class="why-row" data-part="{name}"><td><span class="why-key" '
        f'style="background:{PART_COLOURS[name]}"></span>'
        f'<abbr title="{escape(PART_LABELS[name][1])}">{escape(PART_LABELS[name][0])}</abbr></td>'
        f'<td class="why-value">{explanation.parts[name]:,.2f}</td>'
        f"<td>{explanation.change[name]:+,.2f}</td></tr>"
        for name in PARTS
    )
    return (
        f'<div class="why-bar">{bar}</div>'
        '<table class="why-table"><tr><th>part</th><th>USD/kg</th><th>change on month</th></tr>'
        f"{rows}"
        f'<tr class="why-total"><td><b>Price</b></td>'
        f'<td class="why-price"><b>{explanation.price:,.2f}</b></td><td></td></tr></table>'
    )


@solara.component
def WhyPanel(session: GameSession, version: int):
    """``version``: as in :func:`ui.components.Controls`, so the panel follows the world."""
    w = session.world
    commodity = solara.use_reactive("magnet" if "magnet" in w.commodity_ids else w.commodity_ids[0])
    region = solara.use_reactive(session.seat if session.seat in w.region_ids else w.region_ids[0])
    chosen = solara.use_reactive(None)  # a month the player picked; None: the latest run
    run = len(w.price_breakdown.history)
    with solara.Card("Why did this price move?", classes=["why-panel"]):
        if run == 0:
            solara.Text("Step the world once: each month's prices are then broken down here.")
            return
        month = run - 1 if chosen.value is None else min(chosen.value, run - 1)
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Select(
                "Commodity", values=w.commodity_ids, value=commodity, style={"max-width": "160px"}
            )
            solara.Select("Region", values=w.region_ids, value=region, style={"max-width": "110px"})
            solara.Select(
                "Month",
                values=[f"{m} ({w.date_of(m)})" for m in range(run)],
                value=f"{month} ({w.date_of(month)})",
                on_value=lambda text: chosen.set(int(text.split(" ")[0])),
                style={"max-width": "160px"},
            )
        e = explain(w, commodity.value, region.value, month)
        solara.Markdown(
            f"**{e.commodity}** in **{e.region}**, {e.date}: **{e.price:,.2f} USD/kg**, {e.how}."
        )
        solara.HTML(tag="div", unsafe_innerHTML=breakdown_html(e), classes=["why-breakdown"])
        if e.policies:
            solara.Markdown(
                "**Policies in force on it:**\n\n" + "\n".join(f"- {p}" for p in e.policies)
            )
        short = [
            f"- {escape(s.text)}"
            for s in w.shortfalls.values()
            if s.issuer == session.seat and s.month == month and e.commodity in s.commodities
        ]
        if short:
            with solara.Div(classes=["why-shortfalls"]):
                solara.Markdown(
                    "**Your orders on it that did less than ordered this month, and why:**\n\n"
                    + "\n".join(short)
                )
        news = session.news()
        involved = {e.region, e.other} - {""}
        near = news[(news.month <= month) & (news.month >= month - 2)]
        related = [
            row
            for row in near.itertuples(index=False)
            if e.commodity in row.text or row.who in involved or row.kind == "event"
        ][:10]
        if related:
            solara.Markdown(
                "**Events and orders behind it** (this month and the two before):\n\n"
                + "\n".join(
                    f"- {row.date} {escape(str(row.who))}: {escape(row.text)}" for row in related
                )
            )
