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


def horizontal(label: str, bars: list[tuple[str, int, str]], whole: int | None = None) -> str:
    """One bar per choice: its label above, the bar, and the figure (e.g. '12 (40%)') after it. The longest bar
    fills the width, or, given `whole`, a bar of `whole` does (a multi's options, each a share of everyone)."""
    longest = (whole if whole is not None else max((count for _, count, _ in bars), default=0)) or 1
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


POSITIVE, NEGATIVE, MIDDLE = ((29, 111, 165), (166, 206, 232)), ((178, 73, 15), (245, 190, 150)), "#bdbdbd"


def _blend(ends: tuple[tuple[int, int, int], tuple[int, int, int]], step: int, steps: int) -> str:
    """A shade between the strong end (step 0) and the pale end (the last step), as #rrggbb."""
    share = step / (steps - 1) if steps > 1 else 0
    strong, pale = ends
    return "#" + "".join(f"{round(a + (b - a) * share):02x}" for a, b in zip(strong, pale, strict=True))


def scale_colours(points: int) -> list[str]:
    """One colour per scale point, most positive first: blues, a grey middle (odd scales), then oranges; strongest
    at the ends, so the diverging bar reads at a glance."""
    side = points // 2
    positives = [_blend(POSITIVE, step, side) for step in range(side)]
    negatives = [_blend(NEGATIVE, side - 1 - step, side) for step in range(side)]
    return [*positives, *([MIDDLE] if points % 2 else []), *negatives]


def diverging(label: str, points: list[tuple[str, int, str]]) -> str:
    """A scale's points as one stacked bar, most positive first in `points` (name, count, figure): the positive
    points run right of the centre line, the negative ones left, a middle point sits astride it; each side's share
    is written at its end. Every point is a bar, so a zero is a bar of no length."""
    base = sum(count for _, count, _ in points) or 1
    side, colours = len(points) // 2, scale_colours(len(points))
    centre, half, top, height = WIDTH / 2, WIDTH / 2 - 44, 6, 30
    middle = points[side][1] / base * half if len(points) % 2 else 0.0
    spans: list[tuple[float, float, int]] = []  # (x, width, index of the point)
    right = centre + middle / 2
    for index in range(side - 1, -1, -1):  # least positive next to the centre
        width = points[index][1] / base * half
        spans.append((right, width, index))
        right += width
    left = centre - middle / 2
    for index in range(len(points) - side, len(points)):  # least negative next to the centre
        width = points[index][1] / base * half
        left -= width
        spans.append((left, width, index))
    if len(points) % 2:
        spans.append((centre - middle / 2, middle, side))
    body = []
    for x, width, index in sorted(spans, key=lambda span: span[2]):
        name, _, figure = points[index]
        body.append(f'<rect class="bar" x="{round(x, 1)}" y="{top}" width="{round(width, 1)}" height="{height}" '
                    f'style="fill:{colours[index]}"><title>{escape(name)}: {escape(figure)}</title></rect>')
    negative = sum(count for _, count, _ in points[len(points) - side:])
    positive = sum(count for _, count, _ in points[:side])
    body += [
        f'<line class="axis" x1="{centre}" y1="0" x2="{centre}" y2="{top + height + 6}"/>',
        f'<text class="figure" x="0" y="{top + 20}">{negative / base:.0%}</text>',
        f'<text class="figure" x="{WIDTH}" y="{top + 20}" text-anchor="end">{positive / base:.0%}</text>',
    ]
    return _svg(label, top + height + 12, body)


def number_bins(numbers: dict[int, int], most: int = 40) -> list[tuple[str, int]]:
    """Numbers given as bars from the lowest to the highest, gaps as 0; a wide range in about 20 equal bins."""
    if not numbers:
        return []
    low, high = min(numbers), max(numbers)
    size = 1 if high - low < most else -(-(high - low + 1) // 20)
    bins = []
    for start in range(low, high + 1, size):
        end = min(start + size - 1, high)
        name = f"{start:,}" if start == end else f"{start:,}–{end:,}"
        bins.append((name, sum(count for value, count in numbers.items() if start <= value <= end)))
    return bins


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
