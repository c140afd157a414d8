"""Bar charts as inline SVG: no plotting library, no script, no external file; they scale to a phone's width.

Every bar is a <rect class="bar"> (a zero is a bar of no length), so a test can count them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

WIDTH = 400
MAX_DAILY_BARS = 120


def _svg(label: str, height: int, body: list[str]) -> str:
    """The chart's frame, titled for screen readers."""
    return (
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>{"".join(body)}</svg>'
    )


def horizontal(label: str, bars: list[tuple[str, int, str]]) -> str:
    """One bar per choice: its label above, the bar, and the figure (e.g. '12 (40%)') after it."""
    longest = max((count for _, count, _ in bars), default=0) or 1
    body, row = [], 46
    for index, (name, count, figure) in enumerate(bars):
        top = index * row
        width = round(280 * count / longest, 1)
        body.append(
            f'<text x="0" y="{top + 15}">{escape(name)}</text>'
            f'<rect class="bar" x="0" y="{top + 21}" width="{width}" height="18" rx="3">'
            f"<title>{escape(name)}: {escape(figure)}</title></rect>"
            f'<text class="figure" x="{width + 6}" y="{top + 35}">{escape(figure)}</text>'
        )
    return _svg(label, max(len(bars) * row, row), body)


def vertical(label: str, bars: list[tuple[str, int]], first: str, last: str) -> str:
    """One bar per period, with the first and last period named under the axis and the peak beside it."""
    top, bottom, left = 18, 150, 34
    peak = max((count for _, count in bars), default=0)
    step = (WIDTH - left) / max(len(bars), 1)
    body = [
        f'<line class="axis" x1="{left}" y1="{bottom}" x2="{WIDTH}" y2="{bottom}"/>',
        f'<text class="figure" x="0" y="{top + 4}">{peak:,}</text>',
        f'<text class="figure" x="0" y="{bottom}">0</text>',
    ]
    for index, (name, count) in enumerate(bars):
        height = round((bottom - top) * count / peak, 1) if peak else 0
        x = round(left + index * step + step * 0.1, 2)
        body.append(
            f'<rect class="bar" x="{x}" y="{round(bottom - height, 1)}" width="{round(step * 0.8, 2)}" '
            f'height="{height}"><title>{escape(name)}: {count:,}</title></rect>'
        )
    body.append(f'<text class="figure" x="{left}" y="{bottom + 18}">{escape(first)}</text>')
    body.append(f'<text class="figure" x="{WIDTH}" y="{bottom + 18}" text-anchor="end">{escape(last)}</text>')
    return _svg(label, bottom + 24, body)


def per_day(hours: dict[str, int], zone: ZoneInfo, opens_at: datetime, until: datetime) -> list[tuple[date, int]]:
    """UTC hourly counts as local days (BST/GMT handled by the zone), from the opening to `until`, gaps as 0."""
    days: dict[date, int] = {}
    for hour, count in hours.items():
        moment = datetime.fromisoformat(f"{hour}:00:00+00:00").astimezone(zone).date()
        days[moment] = days.get(moment, 0) + count
    first = min([opens_at.astimezone(zone).date(), *days])
    last = max([first, until.astimezone(zone).date(), *days])
    span = (last - first).days + 1
    size = 1 if span <= MAX_DAILY_BARS else 7  # a long consultation is shown by week
    bins: list[tuple[date, int]] = []
    for start in range(0, span, size):
        day = first + timedelta(days=start)
        total = sum(days.get(day + timedelta(days=offset), 0) for offset in range(size))
        bins.append((day, total))
    return bins
