"""The page's stylesheet: a layout that fits a 1024×768 projector, a tablet and a 390 px phone.

The game's two columns (dashboard and news; orders and the other side panels) sit side by side
when both fit at their minimum widths and stack otherwise; button groups and control rows wrap
instead of running past the right edge; charts scale to their column. Solara's "runs on Solara"
credit is kept, but at the foot of the page (below the last control) rather than at the foot of
the first screen, where it covered a form field.
"""

#: Minimum widths (px) of the two game columns: together they fit a 1024 px screen.
MAIN_MIN_PX = 540
SIDE_MIN_PX = 330
#: Space kept free at the foot of the page for solara's credit, px.
CREDIT_PX = 48

CSS = f"""
.v-application--wrap {{ position: relative; padding-bottom: {CREDIT_PX}px; }}
.game-page {{ max-width: 100%; box-sizing: border-box; }}
.game-columns {{ display: flex; flex-wrap: wrap; gap: 12px; width: 100%; margin: 0 !important; }}
.game-main {{ flex: 3 1 {MAIN_MIN_PX}px; min-width: 0; max-width: 100%; }}
.game-side {{ flex: 2 1 {SIDE_MIN_PX}px; min-width: 0; max-width: 100%; }}
.game-columns > * {{ padding: 0 !important; }}
.v-btn-toggle {{ flex-wrap: wrap; max-width: 100%; }}
.v-btn-toggle > .v-btn.v-btn {{ height: 36px; }}
.game-page .row {{ margin-left: 0; margin-right: 0; }}
.game-page .v-select, .game-page .v-text-field {{ min-width: 0; }}
.chart-frame {{ position: relative; width: 100%; line-height: 0; }}
.chart-frame img, .dashboard img, .results-screen img {{
    max-width: 100%; height: auto; display: block;
}}
.chart-frame img {{ width: 100%; }}
.game-page .v-data-table, .game-page .solara-data-table {{ max-width: 100%; overflow-x: auto; }}
.game-page pre, .game-page code {{ white-space: pre-wrap; word-break: break-word; }}
.news-feed, .why-panel, .order-panel, .deals-panel, .debrief {{ max-width: 100%; }}
@media (max-width: 600px) {{
    .v-btn-toggle > .v-btn.v-btn {{ padding: 0 8px; font-size: 12px; }}
    .game-page {{ padding: 4px !important; }}
}}
"""
