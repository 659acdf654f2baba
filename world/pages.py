"""Self-contained HTML pages of tables and figures, for reports read outside the app.

Both the experiments' batch report (experiments/report.py) and the workshop's after-action
report (ui/workshop/report.py) are such pages; they share these helpers here, below both
layers, so that neither imports the other.
"""

from __future__ import annotations

import html
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PAGE_STYLE", "html_page", "html_table", "png_bytes"]


def png_bytes(fig, dpi: int = 110) -> bytes:
    """A figure (pyplot's or a bare ``matplotlib.figure.Figure``) as PNG bytes, trimmed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def html_table(frame: pd.DataFrame) -> str:
    """A frame as a plain HTML table (values HTML-escaped, floats to 3 significant digits)."""
    return frame.to_html(index=False, float_format=lambda v: f"{v:.3g}", na_rep="n/a", border=0)


#: The inline style of a self-contained report page.
PAGE_STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;}"
    "table{border-collapse:collapse;font-size:12px;}td,th{padding:2px 8px;"
    "border-bottom:1px solid #ddd;}img{max-width:100%;}"
)


def html_page(title: str, body: str, style: str = "") -> str:
    """One self-contained HTML page: ``title`` (escaped here), :data:`PAGE_STYLE` plus ``style``
    inline, and ``body`` (HTML, escaped by the caller)."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{PAGE_STYLE}{style}</style></head><body>{body}</body></html>"
    )
