"""Inline SVG charts rendered on the server (no script, no external asset).

Each function returns markup built from numbers and escaped labels only, marked safe for the
template.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape

__all__ = ["bar_chart", "sparkline"]


def _fmt(value: float) -> str:
    if value >= 3600:
        return f"{value / 3600:.1f}h"
    if value >= 100 or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.1f}"


def bar_chart(values: Sequence[float | None], slots: Sequence[datetime], *, title: str, css_class: str,
              width: int = 640, height: int = 140) -> Markup:
    """A bar per slot (hour) with hour labels every few bars and the maximum on the axis.

    Args:
        values: one value per slot (None: no data).
        slots: the slot start times.
        title: accessible title (also shown as the caption).
        css_class: class for the bars (colour comes from CSS).
        width: view box width.
        height: view box height.

    Returns:
        ``<svg>`` markup.
    """
    top, bottom, left = 14, 18, 34
    plot_h, plot_w = height - top - bottom, width - left - 4
    peak = max((v for v in values if v is not None), default=0) or 1
    step = plot_w / max(len(values), 1)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             f'<text class="axis" x="{left - 4}" y="{top + 4}" text-anchor="end">{escape(_fmt(peak))}</text>',
             f'<text class="axis" x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>',
             f'<line class="base" x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}"/>']
    for i, value in enumerate(values):
        x = left + i * step
        if value:
            bar = max(plot_h * value / peak, 1.0)
            label = f"{slots[i]:%H:00} {_fmt(value)}"
            parts.append(f'<rect class="{escape(css_class)}" x="{x + 1:.1f}" y="{top + plot_h - bar:.1f}" '
                         f'width="{max(step - 2, 1):.1f}" height="{bar:.1f}"><title>{escape(label)}</title></rect>')
        if i % max(len(values) // 6, 1) == 0:
            parts.append(f'<text class="axis" x="{x + step / 2:.1f}" y="{height - 4}" text-anchor="middle">'
                         f"{slots[i]:%H:00}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(values: Sequence[int], *, width: int = 120, height: int = 24) -> Markup:
    """A small polyline of counts (partner rows)."""
    peak = max(values, default=0) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (height - 4) * v / peak:.1f}" for i, v in enumerate(values))
    return Markup(f'<svg class="spark" viewBox="0 0 {width} {height}" aria-hidden="true">'
                  f'<polyline points="{points}"/></svg>')
