"""The report's charts: static SVG drawn by matplotlib, inlined into the HTML.

Static SVG needs no script to display, prints sharply at any size, and is deterministic:
the hash salt of its clip-path ids is fixed, the date is left out, text stays text
(selectable, searchable, no embedded glyphs).  Each chart's series carry ids
``series-NAME`` (matplotlib's ``gid``) and every id is prefixed with the chart's own name,
so that charts inlined in one page never share an id.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pandas as pd
from matplotlib import rc_context
from matplotlib.axis import Axis
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

__all__ = [
    "PLAN_COLOURS",
    "attribution_chart",
    "frontier_chart",
    "paradox_chart",
    "plans_chart",
    "prices_chart",
    "scorecards_chart",
    "state_chart",
    "stress_chart",
]

#: one colour per plan, the same in every chart
PLAN_COLOURS = {
    "status_quo": "#c0392b",
    "aligned": "#2471a3",
    "system": "#1e8449",
    "recommended": "#7d3c98",
    "current": "#909497",
}
PLAN_NAMES = {"status_quo": "status quo", "aligned": "aligned", "system": "optimum"}

_STYLE = {
    "svg.fonttype": "none",  # text as text: no glyph outlines, selectable in the browser
    "svg.hashsalt": "kpidesign",  # fixed clip-path ids: the same input, the same bytes
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial", "Liberation Sans"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e7e9",
    "axes.axisbelow": True,
    "axes.titlesize": 10,
    "legend.frameon": False,
}


@contextmanager
def _figure(name: str, width: float, height: float, out: list[str]) -> Iterator[Figure]:
    """A figure whose SVG (ids prefixed with ``name``) is appended to ``out``."""
    with rc_context(_STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        yield fig
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    out.append(_inline(buffer.getvalue(), name))


def _inline(svg: str, name: str) -> str:
    """``svg`` ready to inline: no XML prolog, no metadata block (the page's provenance
    names matplotlib), every id prefixed with ``name``."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{name}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{name}-\1"', svg)
    return re.sub(r"<svg ", f'<svg role="img" aria-label="{name}" ', svg, count=1)


def _tag(bars: BarContainer, series: str) -> None:
    """Name each bar of a series: ids ``series-NAME-0``, ``series-NAME-1``, ..."""
    for i, bar in enumerate(bars):
        bar.set_gid(f"series-{series}-{i}")


def _money(x: float, _pos: int | None = None) -> str:
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.1f}M"
    if abs(x) >= 1e4:
        return f"{x / 1e3:,.0f}k"
    return f"{x:,.4g}"


def _number_axis(axis: Axis) -> None:
    axis.set_major_formatter(FuncFormatter(_money))


def plans_chart(plans: pd.DataFrame, sense: str) -> str:
    """The company objective under each plan: the status quo (file order, with its range
    over computed paths), aligned, optimum and the recommended scheme (worst computed path,
    with the optimistic one)."""
    value = dict(zip(plans.plan, plans.objective, strict=True))
    bars = [
        (
            "status quo",
            value["status_quo"],
            (value["status_quo_worst"], value["status_quo_best"]),
            PLAN_COLOURS["status_quo"],
        ),
        ("aligned", value["aligned"], None, PLAN_COLOURS["aligned"]),
        ("optimum", value["system"], None, PLAN_COLOURS["system"]),
        (
            "recommended",
            value["recommended_pessimistic"],
            (value["recommended_pessimistic"], value["recommended_optimistic"]),
            PLAN_COLOURS["recommended"],
        ),
    ]
    out: list[str] = []
    with _figure("plans", 6.4, 3.2, out) as fig:
        ax = fig.subplots()
        x = range(len(bars))
        drawn = ax.bar(x, [b[1] for b in bars], color=[b[3] for b in bars], width=0.6)
        _tag(drawn, "objective")
        for i, (_, v, _, _) in enumerate(bars):
            ax.annotate(
                _money(v),
                (i, v),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 2),
                textcoords="offset points",
            )
        for i, (_, v, span, _) in enumerate(bars):
            if span is not None and abs(span[1] - span[0]) > 1e-9 * (1 + abs(v)):
                lo, hi = min(*span, v), max(*span, v)  # v may sit a rounding outside
                line = ax.errorbar(
                    [i],
                    [v],
                    yerr=[[v - lo], [hi - v]],
                    fmt="none",
                    ecolor="#17202a",
                    capsize=6,
                    lw=1.2,
                )
                line.lines[2][0].set_gid(f"series-range-{i}")
        ax.set_xticks(list(x), [b[0] for b in bars])
        ax.set_ylabel(f"company objective ({sense})")
        _number_axis(ax.yaxis)
        low = min(min(b[1] for b in bars), *(min(b[2]) for b in bars if b[2]))
        high = max(max(b[1] for b in bars), *(max(b[2]) for b in bars if b[2]))
        if low > 0 and high > low:
            ax.set_ylim(low - 0.25 * (high - low), high + 0.08 * (high - low))
    return out[0]


def paradox_chart(kpis: pd.DataFrame, plans: pd.DataFrame) -> str:
    """Each KPI a department is paid on, and the company objective, under each plan, as an
    index (aligned plan = 100): the departments do as well or better while the company
    does worse."""
    paid = kpis[(kpis.department != "") & (kpis.paid.astype(float) > 0)]
    groups: list[tuple[str, dict[str, float]]] = []
    for (dept, kpi), rows in paid.groupby(["department", "kpi"], sort=False):
        values = dict(zip(rows.plan, rows.value.astype(float), strict=True))
        ref = values.get("aligned", math.nan)
        if not math.isfinite(ref) or abs(ref) < 1e-9:
            continue  # an index of 0 is not defined; the table shows the values
        sense = str(rows.sense.iloc[0])
        label = f"{dept}: {kpi}\n({'lower' if sense == 'min' else 'higher'} is better)"
        groups.append((label, {p: 100 * v / abs(ref) for p, v in values.items()}))
    objective = dict(zip(plans.plan, plans.objective.astype(float), strict=True))
    ref = objective["aligned"]
    if abs(ref) > 1e-9:
        groups.append(
            (
                "company objective",
                {p: 100 * objective[p] / abs(ref) for p in ("status_quo", "aligned", "system")},
            )
        )
    out: list[str] = []
    with _figure("paradox", 6.4, 0.5 + 0.55 * max(len(groups), 1), out) as fig:
        ax = fig.subplots()
        height = 0.26
        for k, plan in enumerate(("status_quo", "aligned", "system")):
            ys = [i + (k - 1) * height for i in range(len(groups))]
            xs = [g[1].get(plan, math.nan) for g in groups]
            bars = ax.barh(ys, xs, height=height, color=PLAN_COLOURS[plan], label=PLAN_NAMES[plan])
            _tag(bars, plan)
        ax.set_yticks(range(len(groups)), [g[0] for g in groups])
        ax.invert_yaxis()
        ax.axvline(100, color="#17202a", lw=0.8)
        ax.set_xlabel("index, aligned plan = 100")
        values = [v for g in groups for v in g[1].values() if math.isfinite(v)]
        if values:
            ax.set_xlim(
                min(0.0, min(values)) if min(values) < 50 else 0.8 * min(values), 1.05 * max(values)
            )
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, fontsize=8)
    return out[0]


def state_chart(periods: pd.DataFrame, variable: str) -> str:
    """A shared-state variable per period under each plan."""
    rows = periods[periods.variable == variable]
    order = list(dict.fromkeys(rows.period))
    out: list[str] = []
    with _figure(f"state-{variable}", 6.4, 2.4, out) as fig:
        ax = fig.subplots()
        for plan in ("status_quo", "aligned", "system"):
            series = rows[rows.plan == plan]
            values = dict(zip(series.period, series.value.astype(float), strict=True))
            (line,) = ax.plot(
                range(len(order)),
                [values.get(p, math.nan) for p in order],
                marker="o",
                ms=3,
                lw=1.6,
                color=PLAN_COLOURS[plan],
                label=PLAN_NAMES[plan],
                ls="--" if plan == "system" else "-",
            )
            line.set_gid(f"series-{plan}")
        ax.set_xticks(range(len(order)), order)
        per = str(rows.per.iloc[0]) if len(rows) else ""
        unit = str(rows.unit.iloc[0]) if len(rows) and rows.unit.iloc[0] else ""
        ax.set_xlabel(per)
        ax.set_ylabel(f"{variable}" + (f" ({unit})" if unit else ""))
        _number_axis(ax.yaxis)
        ax.legend(fontsize=8, ncols=3, loc="upper left")
    return out[0]


def scorecards_chart(scorecards: pd.DataFrame) -> str:
    """Each department's weights today and under the recommended scheme."""
    labels = [f"{r.department}: {r.kpi}" for r in scorecards.itertuples(index=False)]
    out: list[str] = []
    with _figure("scorecards", 6.4, 0.5 + 0.32 * max(len(labels), 1), out) as fig:
        ax = fig.subplots()
        height = 0.38
        for k, (column, name) in enumerate((("current", "today"), ("recommended", "recommended"))):
            ys = [i + (k - 0.5) * height for i in range(len(labels))]
            bars = ax.barh(
                ys,
                scorecards[column].astype(float),
                height=height,
                color=PLAN_COLOURS[column],
                label=name,
            )
            _tag(bars, column)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlim(0, 1.05)
        ax.set_xlabel("weight on the department's scorecard")
        ax.legend(loc="lower right", fontsize=8)
    return out[0]


def frontier_chart(
    points: pd.DataFrame, slopes: pd.DataFrame, resource: str, today: float | None
) -> str:
    """The company objective (allocations optimized) against a resource's total: exact,
    piecewise linear, each breakpoint marked and each piece labelled with its slope."""
    total, objective = points.total.astype(float), points.objective.astype(float)
    out: list[str] = []
    with _figure(f"frontier-{resource}", 6.4, 3.0, out) as fig:
        ax = fig.subplots()
        (line,) = ax.plot(total, objective, color=PLAN_COLOURS["system"], lw=1.8)
        line.set_gid("series-objective")
        marks = ax.scatter(total, objective, s=14, color="#17202a", zorder=3)
        marks.set_gid("series-breakpoints")
        for s in slopes.to_dict("records"):
            mid = (float(s["from"]) + float(s["to"])) / 2
            y = float(_interpolate(list(total), list(objective), mid))
            ax.annotate(
                f"{float(s['slope']):,.3g}/unit",
                (mid, y),
                fontsize=7,
                color="#566573",
                xytext=(0, 6),
                textcoords="offset points",
                ha="center",
            )
        if today is not None:
            ax.axvline(today, color=PLAN_COLOURS["current"], ls=":", lw=1)
            ax.annotate(
                "today",
                (today, ax.get_ylim()[0]),
                fontsize=7,
                color="#566573",
                xytext=(3, 3),
                textcoords="offset points",
            )
        ax.set_xlabel(f"{resource}: total")
        ax.set_ylabel("company objective")
        _number_axis(ax.xaxis)
        _number_axis(ax.yaxis)
    return out[0]


def _interpolate(xs: Sequence[float], ys: Sequence[float], x: float) -> float:
    pairs = list(zip(xs, ys, strict=True))
    for (x0, y0), (x1, y1) in itertools.pairwise(pairs):
        if x0 <= x <= x1 and x1 > x0:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return pairs[-1][1]


def prices_chart(allocations: pd.DataFrame) -> str:
    """Shadow prices of the allocations (the objective per unit more) and the range of
    each allocation over which its price holds."""
    labels = [f"{a.department}: {a.resource}" for a in allocations.itertuples(index=False)]
    out: list[str] = []
    with _figure("prices", 6.4, 0.7 + 0.4 * max(len(labels), 1), out) as fig:
        left, right = fig.subplots(1, 2, sharey=True)
        ys = list(range(len(labels)))
        bars = left.barh(ys, allocations.dual.astype(float), color=PLAN_COLOURS["aligned"])
        _tag(bars, "dual")
        left.set_yticks(ys, labels)
        left.invert_yaxis()
        left.set_xlabel("shadow price (objective per unit)")
        for y, a in zip(ys, allocations.itertuples(index=False), strict=True):
            lo = float(a.lower) if a.lower is not None else math.nan
            hi = float(a.upper) if a.upper is not None else math.nan
            value = float(a.allocation)
            ends = [lo if math.isfinite(lo) else value, hi if math.isfinite(hi) else value]
            seg = right.plot(ends, [y, y], color="#17202a", lw=2, solid_capstyle="butt")
            seg[0].set_gid(f"series-range-{y}")
            dot = right.scatter([value], [y], color=PLAN_COLOURS["status_quo"], zorder=3, s=18)
            dot.set_gid(f"series-allocation-{y}")
        right.set_xlabel("allocation: today (dot), range where the price holds")
        _number_axis(right.xaxis)
    return out[0]


def stress_chart(distributions: pd.DataFrame) -> str:
    """Each plan's objective over the futures: 5th to 95th percentile (thin bar), 25th to
    75th (thick), the median (tick) and the mean (dot)."""
    rows = [r for r in distributions.to_dict("records") if r["mean"] is not None]
    colours = {
        "with_slack": PLAN_COLOURS["aligned"],
        "without_slack": PLAN_COLOURS["status_quo"],
        "average_future": PLAN_COLOURS["current"],
        "robust": PLAN_COLOURS["recommended"],
    }
    out: list[str] = []
    with _figure("stress", 6.4, 0.8 + 0.5 * max(len(rows), 1), out) as fig:
        ax = fig.subplots()
        for y, r in enumerate(rows):
            colour = colours.get(r["plan"], "#17202a")
            (thin,) = ax.plot([r["p05"], r["p95"]], [y, y], color=colour, lw=2)
            thin.set_gid(f"series-{r['plan']}-range")
            (thick,) = ax.plot(
                [r["p25"], r["p75"]], [y, y], color=colour, lw=9, solid_capstyle="butt"
            )
            thick.set_gid(f"series-{r['plan']}-quartiles")
            ax.plot([r["p50"]] * 2, [y - 0.25, y + 0.25], color="#17202a", lw=1.5)
            dot = ax.scatter([r["mean"]], [y], color="white", edgecolor="#17202a", zorder=3, s=28)
            dot.set_gid(f"series-{r['plan']}-mean")
        ax.set_yticks(range(len(rows)), [str(r["plan"]).replace("_", " ") for r in rows])
        ax.invert_yaxis()
        ax.set_xlabel(
            "company objective over the futures (5th–95th percentile, quartiles, median; dot: mean)"
        )
        _number_axis(ax.xaxis)
    return out[0]


def attribution_chart(attribution: pd.DataFrame) -> str:
    """The value lost so far, one bar per department (and the unexplained part)."""
    rows = [r for r in attribution.to_dict("records") if r["lost"]]
    out: list[str] = []
    with _figure("attribution", 6.4, 0.8 + 0.4 * max(len(rows), 1), out) as fig:
        ax = fig.subplots()
        for y, r in enumerate(rows):
            bar = ax.barh([y], [r["lost"]], color=PLAN_COLOURS["status_quo"], height=0.6)
            bar.patches[0].set_gid(f"series-lost-{y}")
        ax.set_yticks(range(len(rows)), [str(r["part"]) for r in rows])
        ax.invert_yaxis()
        ax.axvline(0, color="#17202a", lw=0.8)
        ax.set_xlabel("company objective lost so far, by department (Shapley values)")
        _number_axis(ax.xaxis)
    return out[0]
