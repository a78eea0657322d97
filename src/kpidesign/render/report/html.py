"""The report as one self-contained HTML file: styles and charts inline, no script, no
font or image fetched, printable to A4; the same input gives the same bytes."""

from __future__ import annotations

import math
from importlib.resources import files

import pandas as pd
from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from ...results.common import figure
from ...results.report import DIVISIBILITY, ReportResult, percent
from . import charts

__all__ = ["render_html"]


def _cell(x: object) -> Markup | str:
    """A table cell: a number in thousands with its exact value in ``data-value`` (what
    the JSON says, for anyone checking), anything else as text."""
    if isinstance(x, bool) or x is None:
        return "" if x is None else ("yes" if x else "no")
    if isinstance(x, float | int):
        if not math.isfinite(x):
            return ""
        return Markup('<span class="n" data-value="{}">{}</span>').format(repr(x), figure(x))
    return str(x)


def _charts(result: ReportResult, tables: dict[str, pd.DataFrame]) -> dict[str, object]:
    """Every chart of the report, by the section it illustrates."""
    sense = str(result.sense)
    periods = tables["state_by_period"]
    totals = {name: r.total for name, r in result.summary.resources.items()}
    points, slopes = tables["frontier"], tables["frontier_slopes"]
    return {
        "plans": charts.plans_chart(tables["plans"], sense),
        "paradox": charts.paradox_chart(tables["kpis"], tables["plans"]),
        "state": {
            v: charts.state_chart(periods, v) for v in dict.fromkeys(periods.variable.tolist())
        },
        "scorecards": charts.scorecards_chart(tables["scorecards"]),
        "frontiers": {
            name: charts.frontier_chart(
                points[points.resource == name],
                slopes[slopes.resource == name],
                name,
                totals.get(name),
            )
            for name in result.frontiers
        },
        "prices": charts.prices_chart(tables["allocations"]) if len(tables["allocations"]) else "",
        "stress": charts.stress_chart(tables["stress"]) if "stress" in tables else "",
        "attribution": (
            charts.attribution_chart(tables["monitor_attribution"])
            if "monitor_attribution" in tables
            else ""
        ),
    }


def render_html(result: ReportResult) -> str:
    """The report as one HTML document."""
    env = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
    env.filters["cell"] = _cell
    env.filters["pct"] = percent
    env.filters["fig"] = figure
    template = env.from_string(
        files("kpidesign.render.report").joinpath("report.html.j2").read_text(encoding="utf-8")
    )
    tables = result.tables()
    drawn = {
        name: Markup(svg) if isinstance(svg, str) else {k: Markup(v) for k, v in svg.items()}
        for name, svg in _charts(result, tables).items()
    }
    constraints = tables["constraints"]
    binding = constraints[[bool(b) for b in constraints.binding]]
    first, second = result.loss_story()
    drift = tables.get("monitor_drift")
    if drift is not None:  # the largest drifts first, 20 of them
        order = drift["drift"].abs().sort_values(ascending=False, kind="stable").index
        drift = drift.loc[order[:20]]
    return template.render(
        r=result,
        f=result.figures(),
        story=(first, second),
        decisions=result.decisions(),
        tables=tables,
        binding=binding,
        drift=drift,
        charts=drawn,
        summary=result.summary,
        divisibility=DIVISIBILITY,
        notes=result.notes(),
        provenance=result.provenance(),
    )
