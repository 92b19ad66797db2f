"""The dashboard's Plotly figures as JSON-ready dicts.

Numbers and every label (translated here, in the request's language) come from the server;
``static/guanxi/dashboard.js`` only hands each figure to ``Plotly.newPlot``.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from guanxi.core.templatetags.guanxi import money
from guanxi.hierarchy.selectors import Cell, HistogramBin, MigrationMatrix, ParetoPoint

ACTUAL_COLOUR = "#b3261e"
RECOMMENDED_COLOUR = "#2b4f9a"
STAYED_COLOUR = "rgba(120, 128, 144, 0.35)"
MOVED_COLOUR = "rgba(179, 38, 30, 0.45)"


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _grouped(n: float) -> str:
    return number_format(int(n), use_l10n=True, force_grouping=True)


def _nice_step(top: float, ticks: int = 3) -> int:
    """A round step (1, 2 or 5 × 10^k) giving about ``ticks`` ticks up to ``top``."""
    raw = top / ticks
    if raw <= 1:
        return 1
    power = 10 ** math.floor(math.log10(raw))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def pyramid_figure(
    *, labels: list[str], actual: list[Cell], recommended: list[Cell]
) -> dict[str, Any]:
    """The relationship pyramid: a horizontal bar per level, basic at the bottom, the actual
    level to the left of the axis and the recommended one to the right."""
    customers = sum(c.customers for c in actual)
    profit = sum(c.profit_cents for c in actual)

    def trace(name: str, cells: list[Cell], sign: int, colour: str) -> dict[str, Any]:
        return {
            "type": "bar",
            "orientation": "h",
            "name": name,
            "y": labels,
            "x": [sign * c.customers for c in cells],
            "marker": {"color": colour},
            "customdata": [
                [c.customers, _share(c.customers, customers), _share(c.profit_cents, profit)]
                for c in cells
            ],
            "hovertemplate": (
                "<b>%{y}</b> · "
                + name
                + "<br>"
                + _("Customers")
                + ": %{customdata[0]:,} (%{customdata[1]:.1%})<br>"
                + _("Share of profit")
                + ": %{customdata[2]:.1%}<extra></extra>"
            ),
        }

    top = max([c.customers for c in actual + recommended] or [0])
    step = _nice_step(top)
    ticks = [t * step for t in range(-(top // step) - 1, top // step + 2)]
    return {
        "data": [
            trace(_("Actual level"), actual, -1, ACTUAL_COLOUR),
            trace(_("Recommended level"), recommended, 1, RECOMMENDED_COLOUR),
        ],
        "layout": {
            "barmode": "overlay",
            "bargap": 0.08,
            "xaxis": {
                "title": {"text": _("Customers")},
                "tickvals": ticks,
                "ticktext": [_grouped(abs(t)) for t in ticks],
                "zeroline": True,
            },
            "yaxis": {"automargin": True},
        },
    }


def funnel_figure(*, labels: list[str], cells: list[Cell]) -> dict[str, Any]:
    """The lifecycle funnel: customers per stage, prospects first."""
    return {
        "data": [
            {
                "type": "funnel",
                "y": labels,
                "x": [c.customers for c in cells],
                "texttemplate": "%{value:,}<br>%{percentTotal:.0%}",
                "marker": {"color": RECOMMENDED_COLOUR},
                "hovertemplate": "<b>%{y}</b><br>"
                + _("Customers")
                + ": %{x:,} (%{percentTotal:.1%})<extra></extra>",
            }
        ],
        "layout": {"yaxis": {"automargin": True}},
    }


def pareto_figure(
    *, points: list[ParetoPoint], a_class: tuple[float, float] | None
) -> dict[str, Any]:
    """Cumulative profit share against customer share, with the line of equal shares and the
    point where class A ends."""
    hover = _("%(customers)s of the customers make %(profit)s of the profit") % {
        "customers": "%{x:.1%}",
        "profit": "%{y:.1%}",
    }
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": _("Equal shares"),
            "x": [0, 1],
            "y": [0, 1],
            "line": {"dash": "dot", "color": "#9aa1ad"},
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": _("Customers ranked by profit"),
            "x": [p.customer_share for p in points],
            "y": [p.profit_share for p in points],
            "line": {"color": ACTUAL_COLOUR, "shape": "linear"},
            "marker": {"size": 4},
            "hovertemplate": hover + "<extra></extra>",
        },
    ]
    if a_class is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": _("End of class A"),
                "x": [a_class[0]],
                "y": [a_class[1]],
                "text": [_("A")],
                "textposition": "bottom right",
                "marker": {"size": 10, "color": RECOMMENDED_COLOUR},
                "hovertemplate": hover + "<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": {
            # Below the plot: three entries wrap on a phone and would cover the curve above it.
            "legend": {"orientation": "h", "x": 0, "y": -0.3, "yanchor": "top"},
            "margin": {"b": 110},
            "xaxis": {"title": {"text": _("Share of customers")}, "tickformat": ".0%"},
            "yaxis": {"title": {"text": _("Share of profit")}, "tickformat": ".0%"},
        },
    }


def bin_label(b: HistogramBin) -> str:
    if b.low_cents is None:
        return _("under %(amount)s") % {"amount": money(b.high_cents, 0)}
    if b.high_cents is None:
        return _("%(amount)s and more") % {"amount": money(b.low_cents, 0)}
    return f"{money(b.low_cents, 0)}–{money(b.high_cents, 0)}"


def histogram_figure(*, bins: list[HistogramBin]) -> dict[str, Any]:
    """Customers per CLV range (ranges of 1, 2 and 5 per decade)."""
    return {
        "data": [
            {
                "type": "bar",
                "x": [bin_label(b) for b in bins],
                "y": [b.customers for b in bins],
                "marker": {"color": RECOMMENDED_COLOUR},
                "hovertemplate": "%{x}<br>" + _("Customers") + ": %{y:,}<extra></extra>",
            }
        ],
        "layout": {
            "xaxis": {"title": {"text": _("Customer lifetime value")}, "automargin": True},
            "yaxis": {"title": {"text": _("Customers")}},
            "bargap": 0.05,
        },
    }


def sankey_figure(
    *, matrix: MigrationMatrix, labels: dict[str, str], from_title: str, to_title: str
) -> dict[str, Any]:
    """How customers moved: the earlier run's values on the left, the later run's on the right;
    links of customers who stayed are grey."""
    values = list(matrix.values) + [
        v for pair in matrix.cells for v in pair if v not in matrix.values
    ]
    values = list(dict.fromkeys(values))
    index = {v: i for i, v in enumerate(values)}
    offset = len(values)
    sources, targets, counts, colours, custom = [], [], [], [], []
    for (from_value, to_value), cell in sorted(matrix.cells.items()):
        if not cell.customers:
            continue
        sources.append(index[from_value])
        targets.append(offset + index[to_value])
        counts.append(cell.customers)
        colours.append(STAYED_COLOUR if from_value == to_value else MOVED_COLOUR)
        custom.append(money(cell.profit_cents, 0))
    node_labels = [labels.get(v, v) for v in values]
    return {
        "data": [
            {
                "type": "sankey",
                "arrangement": "snap",
                "node": {
                    "label": node_labels + node_labels,
                    "pad": 12,
                    "thickness": 14,
                    "color": [RECOMMENDED_COLOUR] * offset + [ACTUAL_COLOUR] * offset,
                    "hovertemplate": "%{label}<br>"
                    + _("Customers")
                    + ": %{value:,}<extra></extra>",
                },
                "link": {
                    "source": sources,
                    "target": targets,
                    "value": counts,
                    "color": colours,
                    "customdata": custom,
                    "hovertemplate": "%{source.label} → %{target.label}<br>"
                    + _("Customers")
                    + ": %{value:,}<br>"
                    + _("Profit")
                    + ": %{customdata}<extra></extra>",
                },
            }
        ],
        "layout": {
            "annotations": [
                {
                    "text": from_title,
                    "x": 0,
                    "y": 1.08,
                    "xref": "paper",
                    "yref": "paper",
                    "showarrow": False,
                    "xanchor": "left",
                },
                {
                    "text": to_title,
                    "x": 1,
                    "y": 1.08,
                    "xref": "paper",
                    "yref": "paper",
                    "showarrow": False,
                    "xanchor": "right",
                },
            ]
        },
    }
