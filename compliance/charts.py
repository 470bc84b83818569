"""Bar charts drawn on the server as SVG: no script, the same in the page and in the PDF.

They are drawn from the values after suppression, so a chart never shows a small count
that the table beside it hides: a suppressed bar is drawn as a short hatched stub.
"""

from __future__ import annotations

import zlib

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BAR_HEIGHT = 18
GAP = 6
LABEL_WIDTH = 230
BAR_AREA = 300
VALUE_WIDTH = 90
STUB = 8


def bar_chart(title: str, rows: list[list]) -> SafeString:
    """A horizontal bar chart of (label, value) rows; value an int or the suppression text."""
    # ids are unique per chart: several charts share one page
    hatch = f"hatch-{zlib.crc32(title.encode()):08x}"
    numbers = [row[1] for row in rows if isinstance(row[1], int)]
    largest = max(numbers, default=0) or 1
    height = len(rows) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="report-chart" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<defs><pattern id="{hatch}" width="4" height="4" patternUnits="userSpaceOnUse">'
        '<path d="M0,4 L4,0" stroke="#555" stroke-width="1"/></pattern></defs>',
    ]
    for index, (label, value, *_rest) in enumerate(rows):
        y = GAP + index * (BAR_HEIGHT + GAP)
        text_y = y + BAR_HEIGHT - 5
        if isinstance(value, int):
            bar = round(BAR_AREA * value / largest)
            fill = 'fill="#1f5f8b"'
        else:
            bar = STUB
            fill = f'fill="url(#{hatch})" stroke="#555"'
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{text_y}" text-anchor="end" font-size="11" '
            f'fill="#212529">{escape(str(label)[:40])}</text>'
        )
        if bar:
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{bar}" height="{BAR_HEIGHT}" {fill}/>'
            )
        parts.append(
            f'<text x="{LABEL_WIDTH + bar + 4}" y="{text_y}" font-size="11" '
            f'fill="#212529">{escape(str(value))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
