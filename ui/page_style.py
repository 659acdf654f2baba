"""The page's stylesheet: a layout that fits a 1024×768 projector, a tablet and a 390 px phone.

The game's two columns (dashboard and news; orders and the other side panels) sit side by side
when both fit at their minimum widths and stack otherwise; button groups and control rows wrap
instead of running past the right edge; charts scale to their column. Solara's "runs on Solara"
credit is kept, but drawn by the page after its last control (ui/page.py) rather than pinned
to the foot of the first screen, where it covered controls. A chart's values on demand (ui/charts.py
:func:`hover_layer`) show on hover or a tap in CSS alone, and the seat's readouts (ui/readouts.py)
wrap into a row of boxes with large figures.
"""

#: Minimum widths (px) of the two game columns: together they fit a 1024 px screen.
MAIN_MIN_PX = 540
SIDE_MIN_PX = 330
#: Text of a chart's values on demand and of the seat's readouts, px: read across a room.
TIP_PX = 15
READOUT_PX = 22

CSS = f"""
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
.chart-frame .hover-layer {{ position: absolute; inset: 0; line-height: 1.35; }}
.hover-axes {{ position: absolute; pointer-events: none; }}
.hover-cell {{ position: absolute; top: 0; height: 100%; pointer-events: auto; }}
.hover-cell:hover {{ background: rgba(0, 0, 0, 0.07); }}
.hover-tip {{
    display: none; position: absolute; top: 0; left: 100%; z-index: 5; white-space: pre;
    background: #ffffff; border: 1px solid #888888; border-radius: 3px; padding: 4px 8px;
    font-size: {TIP_PX}px; color: #111111; pointer-events: none;
    box-shadow: 0 1px 4px rgba(0, 0, 0, 0.25);
}}
.hover-cell.tip-left .hover-tip {{ left: auto; right: 100%; }}
.hover-cell:hover .hover-tip {{ display: block; }}
.readouts {{ display: flex; flex-wrap: wrap; gap: 8px; margin: 4px 0 8px 0; }}
.readout {{
    flex: 1 1 170px; min-width: 0; border: 1px solid #d0d0d0; border-radius: 4px;
    padding: 4px 10px; background: #fafafa;
}}
.readout-label, .readout-detail {{ font-size: 13px; color: #555555; }}
.readout-value {{ font-size: {READOUT_PX}px; font-weight: 600; line-height: 1.25; }}
.game-page .v-data-table, .game-page .solara-data-table {{ max-width: 100%; overflow-x: auto; }}
.game-page pre, .game-page code {{ white-space: pre-wrap; word-break: break-word; }}
.news-feed, .why-panel, .order-panel, .deals-panel, .debrief {{ max-width: 100%; }}
@media (max-width: 600px) {{
    .v-btn-toggle > .v-btn.v-btn {{ padding: 0 8px; font-size: 12px; }}
    .game-page {{ padding: 4px !important; }}
}}
"""
