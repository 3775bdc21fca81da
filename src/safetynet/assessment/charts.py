"""Bar and radar charts as SVG text, drawn here (no chart library): the same markup goes into the page and
into the PDF, so no browser is needed to make the bulletin."""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

FONT = "Noto Sans CJK SC, Noto Sans SC, sans-serif"
PALETTE = ["#c0392b", "#2471a3", "#229954", "#d68910", "#7d3c98", "#17a589", "#5d6d7e", "#a04000"]


def _text(
    x: float, y: float, text: str, *, size: int = 12, anchor: str = "middle", fill: str = "#333"
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
        f'font-family="{FONT}">{escape(text)}</text>'
    )


def bar_chart(
    labels: Sequence[str], values: Sequence[float], *, maximum: float = 100, title: str = ""
) -> str:
    """Vertical bars, one per label, each with its value above it; the scale runs from 0 to ``maximum``."""
    count = max(len(labels), 1)
    bar_width = 36 if count <= 12 else max(10, 480 // count)
    gap = bar_width // 2 + 8
    left, top, height = 44, 34 if title else 14, 200
    width = max(left + count * (bar_width + gap) + gap, 340)
    total_height = top + height + 64
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_height}" '
        f'viewBox="0 0 {width} {total_height}" role="img" aria-label="{escape(title or "柱状图")}">'
    ]
    if title:
        parts.append(_text(width / 2, 20, title, size=14, fill="#111"))
    for tick in range(0, 5):
        value = maximum * tick / 4
        y = top + height - height * tick / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 4}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(_text(left - 6, y + 4, f"{value:g}", size=10, anchor="end", fill="#777"))
    for index, (label, value) in enumerate(zip(labels, values, strict=False)):
        x = left + gap + index * (bar_width + gap)
        bar = height * max(0.0, min(float(value), maximum)) / maximum if maximum else 0
        y = top + height - bar
        parts.append(
            f'<rect x="{x}" y="{y:.1f}" width="{bar_width}" height="{bar:.1f}" fill="{PALETTE[1]}">'
            f"<title>{escape(label)} {float(value):.2f}</title></rect>"
        )
        parts.append(_text(x + bar_width / 2, y - 4, f"{float(value):.1f}", size=10))
        # Long names are set in two lines under the bar.
        first, second = label[:4], label[4:8]
        parts.append(_text(x + bar_width / 2, top + height + 16, first, size=11))
        if second:
            parts.append(_text(x + bar_width / 2, top + height + 30, second, size=11))
    parts.append("</svg>")
    return "".join(parts)


def radar_chart(
    axes: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, title: str = "", size: int = 340
) -> str:
    """One polygon per series over the axes; each value is a share from 0 to 1 (points ÷ the item's weight)."""
    count = len(axes)
    legend_height = 18 * len(series) + 8
    total_height = size + legend_height + (24 if title else 0)
    top = 24 if title else 0
    cx, cy, radius = size / 2, top + size / 2, size / 2 - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{total_height}" '
        f'viewBox="0 0 {size} {total_height}" role="img" aria-label="{escape(title or "雷达图")}">'
    ]
    if title:
        parts.append(_text(size / 2, 18, title, size=14, fill="#111"))
    if count < 3:
        parts.append(_text(size / 2, cy, "考核项目少于三项，不绘制雷达图", size=12, fill="#777"))
        parts.append("</svg>")
        return "".join(parts)

    def point(index: int, share: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / count
        return cx + radius * share * math.cos(angle), cy + radius * share * math.sin(angle)

    for ring in (0.25, 0.5, 0.75, 1.0):
        ring_points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, ring) for i in range(count)))
        parts.append(f'<polygon points="{ring_points}" fill="none" stroke="#ddd"/>')
    for index, axis in enumerate(axes):
        x, y = point(index, 1.0)
        parts.append(f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#ccc"/>')
        lx, ly = point(index, 1.18)
        anchor = "middle" if abs(lx - cx) < 10 else ("start" if lx > cx else "end")
        parts.append(_text(lx, ly + 4, axis[:6], size=11, anchor=anchor))
    for number, (name, values) in enumerate(series):
        color = PALETTE[number % len(PALETTE)]
        shape = " ".join(
            f"{x:.1f},{y:.1f}"
            for x, y in (point(i, max(0.0, min(float(v), 1.0))) for i, v in enumerate(values))
        )
        parts.append(
            f'<polygon points="{shape}" fill="{color}" fill-opacity="0.12" stroke="{color}" stroke-width="1.5"/>'
        )
        ly = top + size + 8 + 18 * number
        parts.append(f'<rect x="16" y="{ly}" width="12" height="12" fill="{color}"/>')
        parts.append(_text(34, ly + 11, name, size=11, anchor="start"))
    parts.append("</svg>")
    return "".join(parts)
