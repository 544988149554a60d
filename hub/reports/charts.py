"""Bar charts as inline SVG made on the server (no script, no outside service): each chart is
an image with a title and a description for screen readers, every bar has a <title> (its
tooltip) and a text label with its value; all text is escaped."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

#: Bar colour and the colour of text and axis lines (as in static/css/hub.css).
BAR = "#3b6fd8"
INK = "#1f2633"
LINE = "#d5dae3"
_ids = iter(range(1, 1 << 62))


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _frame(title: str, description: str, width: int, height: int, body: list[str]) -> Markup:
    n = next(_ids)
    return Markup(
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="chart-{n}-title chart-{n}-desc">'
        f'<title id="chart-{n}-title">{escape(title)}</title>'
        f'<desc id="chart-{n}-desc">{escape(description)}</desc>'
        + "".join(body) + "</svg>")


def _describe(items: Sequence[tuple[str, float]], fmt: Callable[[float], str]) -> str:
    return "; ".join(f"{label}: {fmt(value)}" for label, value in items) or "—"


def bars(title: str, items: Sequence[tuple[str, float]], *,
         fmt: Callable[[float], str] = _number, label_width: int = 260) -> Markup:
    """Horizontal bars, one row per item (long labels such as organisations' names)."""
    row, width, pad = 26, 720, 6
    plot = width - label_width - 70
    top = max((v for _, v in items), default=0) or 1
    body = []
    for i, (label, value) in enumerate(items):
        y = pad + i * row
        length = max(0.0, value) / top * plot
        name, shown = escape(label), escape(fmt(value))
        body.append(
            f'<g><title>{name}: {shown}</title>'
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" font-size="13" '
            f'fill="{INK}">{escape(_short(label, 38))}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{BAR}" rx="2"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 17}" font-size="13" '
            f'fill="{INK}">{shown}</text></g>')
    body.append(f'<line x1="{label_width}" y1="{pad}" x2="{label_width}" '
                f'y2="{pad + max(1, len(items)) * row}" stroke="{LINE}"/>')
    height = pad * 2 + max(1, len(items)) * row
    return _frame(title, _describe(items, fmt), width, height, body)


def columns(title: str, items: Sequence[tuple[str, float]], *,
            fmt: Callable[[float], str] = _number) -> Markup:
    """Vertical columns in order (months of a year), labels under them."""
    width, height, base, head = 720, 240, 200, 24
    slot = (width - 20) / max(1, len(items))
    top = max((v for _, v in items), default=0) or 1
    body = [f'<line x1="10" y1="{base}" x2="{width - 10}" y2="{base}" stroke="{LINE}"/>']
    for i, (label, value) in enumerate(items):
        x = 10 + i * slot
        length = max(0.0, value) / top * (base - head)
        name, shown = escape(label), escape(fmt(value))
        middle = x + slot / 2
        body.append(
            f'<g><title>{name}: {shown}</title>'
            f'<rect x="{x + slot * 0.15:.1f}" y="{base - length:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{length:.1f}" fill="{BAR}" rx="2"/>'
            f'<text x="{middle:.1f}" y="{base - length - 5:.1f}" text-anchor="middle" '
            f'font-size="13" fill="{INK}">{shown}</text>'
            f'<text x="{middle:.1f}" y="{base + 18}" text-anchor="middle" font-size="12" '
            f'fill="{INK}">{escape(_short(label, 8))}</text></g>')
    return _frame(title, _describe(items, fmt), width, height, body)
