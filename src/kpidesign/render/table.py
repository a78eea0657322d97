"""Terminal tables (rich) of the analysis results.  They only show what results hold."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..results import (
    SHARE,
    CompareResult,
    DesignResult,
    DiffResult,
    FrontierResult,
    SensitivityResult,
    StatusQuoRange,
    SweepResult,
    SystemResult,
    Verification,
    figure,
)
from ..results.contract import ContractResult
from ..results.monitor import MonitorResult
from ..results.report import percent
from ..results.reveal import RevealResult
from ..results.stress import StressResult
from ..types import Plan

#: amounts of money print as every other number (:func:`~kpidesign.results.figure`)
_money = figure


def _better(sense: str) -> str:
    """Which direction of a KPI is good, as its "better" column says: higher or lower."""
    return "higher" if sense == "max" else "lower"


def _unit(unit: str | None) -> str:
    """A unit as a table's unit column shows it: a share's values print as %."""
    return "%" if unit == SHARE else (unit or "")


_PER_UNIT = "objective change per +1"


def _notes(notes: list[str], console: Console) -> None:
    """A result's notes, one line each."""
    for note in notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")


def print_system(r: SystemResult, console: Console, top: int = 15) -> None:
    """The system optimum for a manager: objective, allocations, KPIs, state, prices."""
    console.print(
        f"[bold]{r.label}[/bold]: system optimum ({r.status}), "
        f"objective ({r.sense}) = [bold]{_money(r.objective)}[/bold]"
    )
    if len(r.allocations):
        console.print(_allocations(r))
    if len(r.resources):
        t = Table(title="Resources", title_justify="left")
        for col in ("resource", "available", "allocated", _PER_UNIT):
            t.add_column(col, justify="left" if col == "resource" else "right")
        for x in r.resources.itertuples(index=False):
            t.add_row(x.resource, _money(x.available), _money(x.allocated), figure(x.shadow_price))
        console.print(t)
    console.print(_kpis_at_optimum(r))
    if not r.state_measures.empty:
        console.print(_state_table(r.state_measures, [("", "value")]))
    priced = r.priced_constraints()
    if len(priced):
        console.print(_priced_constraints(priced, top))
    if len(priced) or len(r.allocations) or len(r.resources):
        good = "positive" if r.sense == "max" else "negative"
        console.print(
            "A shadow price is the change of the objective per unit increase of the "
            f"right-hand side (a resource, an allocation, a constraint); the objective is "
            f"{'maximized' if r.sense == 'max' else 'minimized'}, so {good} is good."
        )
    _notes(r.notes, console)


def _range(lower: float, upper: float) -> str:
    """A range as a finance report prints it: [a, b], with -inf/inf for an open side."""
    lo = "-inf" if lower == float("-inf") else figure(lower)
    hi = "inf" if upper == float("inf") else figure(upper)
    return f"[{lo}, {hi}]"


def print_sensitivity(r: SensitivityResult, console: Console, top: int = 25) -> None:
    """The sensitivity report: shadow prices with the ranges they hold over (allocations,
    resources, constraints, binding first), then costs with their optimality ranges."""
    where = "today's allocations (plan B)" if r.at == "today" else "the system optimum (C)"
    console.print(
        f"[bold]{r.label}[/bold]: sensitivity at {where}, objective ({r.sense}) = "
        f"[bold]{_money(r.objective)}[/bold]"
    )
    if len(r.allocations):
        t = Table(title="Allocations", title_justify="left")
        for col in ("department", "resource", "allocation", _PER_UNIT, "holds for allocation"):
            t.add_column(col, justify="left" if col in ("department", "resource") else "right")
        for a in r.allocations.itertuples(index=False):
            t.add_row(
                a.department, a.resource, _money(a.allocation), figure(a.dual),
                _range(a.lower, a.upper),
            )  # fmt: skip
        console.print(t)
    if len(r.resources):
        t = Table(title="Resources", title_justify="left")
        for col in ("resource", "available", _PER_UNIT, "holds for available"):
            t.add_column(col, justify="left" if col == "resource" else "right")
        for x in r.resources.itertuples(index=False):
            t.add_row(x.resource, _money(x.available), figure(x.dual), _range(x.lower, x.upper))
        console.print(t)
    c = r.constraints.sort_values("binding", ascending=False, kind="stable")
    if len(c):
        t = Table(title="Constraints (binding first)", title_justify="left")
        for col in ("constraint", "right-hand side", "slack", _PER_UNIT, "holds for rhs"):
            t.add_column(col, justify="left" if col == "constraint" else "right")
        for x in c.head(top).itertuples(index=False):
            name = x.constraint + (f"[{x.index}]" if x.index else "")
            flag = " (degenerate)" if x.degenerate else ""
            t.add_row(
                escape(name) + flag, _money(x.rhs), figure(x.slack), figure(x.dual),
                _range(x.rhs_lower, x.rhs_upper),
            )  # fmt: skip
        console.print(t)
        if len(c) > top:
            console.print(f"{len(c) - top} more constraint row(s) in the JSON and CSV output.")
    if r.at == "today":
        advice = r.advice()
        if advice:
            console.print("[bold]Reallocation[/bold] (each move verified by a re-solve):")
            for line in advice:
                console.print(f"  {escape(line)}")
        elif len(r.allocations):
            console.print("Reallocation: no move of an allocation raises the objective.")
    if len(r.slack_prices):
        t = Table(title="Price of intentional slack (margin set to 0)", title_justify="left")
        for col in ("margin", "rows", "objective change (re-solve)", "first-order estimate"):
            t.add_column(col, justify="left" if col == "margin" else "right")
        for p in r.slack_prices.itertuples(index=False):
            name = "all margins together" if p.margin == "total" else p.margin
            t.add_row(escape(name), str(p.rows), figure(p.resolve), figure(p.first_order))
        console.print(t)
    v = r.variables
    if len(v):
        t = Table(title="Objective coefficients", title_justify="left")
        for col in ("variable", "value", "reduced cost", "coefficient", "plan optimal for"):
            t.add_column(col, justify="left" if col == "variable" else "right")
        for x in v.head(top).itertuples(index=False):
            name = x.variable + (f"[{x.index}]" if x.index else "")
            t.add_row(
                escape(name), figure(x.value), figure(x.reduced_cost), figure(x.cost),
                _range(x.cost_lower, x.cost_upper),
            )  # fmt: skip
        console.print(t)
        if len(v) > top:
            console.print(f"{len(v) - top} more variable(s) in the JSON and CSV output.")
    console.print(
        "A shadow price is the change of the objective per unit increase of the right-hand "
        "side (an allocation, a resource's total, a constraint); it holds while that value "
        "stays in its range. A coefficient may move within its range with the plan still "
        "optimal."
    )
    _notes(r.notes, console)


def print_frontier(r: FrontierResult, console: Console) -> None:
    """The value of a resource: the objective at every breakpoint, the slope after it."""
    what = (
        f"the total of {r.resource}"
        if r.resource
        else f"the margin of {r.margin} (a fraction)"
        if r.margin
        else f"the bound of {r.constraint}"
    )
    console.print(
        f"[bold]{r.label}[/bold]: the objective ({r.sense}, allocations optimized) as a "
        f"function of {escape(what)}"
    )
    x = r.parameter
    # a margin is a fraction: its slope is quoted per percentage point
    step, per = (0.01, "+0.01 (one point)") if r.margin else (1.0, "+1")
    t = Table(title="Breakpoints (exact: each point a solve)", title_justify="left")
    for col in (x, "objective", f"objective change per {per} of {x} after it"):
        t.add_column(col, justify="right")
    slopes = [*r.slopes.slope, None]
    for p, slope in zip(r.points.to_dict("records"), slopes, strict=True):
        value = f"{p[x]:.4g}" if r.margin else _money(p[x])
        change = "" if slope is None else figure(slope * step)
        t.add_row(value, _money(p["objective"]), change)
    console.print(t)
    if r.status_quo is not None:
        t = Table(
            title="The status quo along the totals (a grid: it is not piecewise linear); "
            "today's allocations, and their max_shift bounds with them, scaled pro rata, so "
            "the optimum here can differ from the frontier's, whose bounds stay today's",
            title_justify="left",
        )
        for col in ("total", "optimum", "aligned", "status quo (file order)", "range",
                    "misalignment"):  # fmt: skip
            t.add_column(col, justify="right")
        for q in r.status_quo.to_dict("records"):
            if q["status"] != "optimal":
                t.add_row(_money(q["total"]), q["status"], "", "", "", "")
                continue
            t.add_row(
                _money(q["total"]), _money(q["system"]), _money(q["aligned"]),
                _money(q["status_quo"]),
                f"{_money(q['status_quo_min'])} .. {_money(q['status_quo_max'])}",
                f"{q['misalignment_cost_min']:.1%} .. {q['misalignment_cost_max']:.1%}",
            )  # fmt: skip
        console.print(t)
    if r.designs is not None:
        t = Table(
            title="The design along the totals (a grid; today's allocations scaled pro "
            "rata): the designed scheme on its worst computed path",
            title_justify="left",
        )
        for col in ("total", "optimum", "status quo (file order)", "designed", "share"):
            t.add_column(col, justify="right")
        for q in r.designs.to_dict("records"):
            if q["status"] != "optimal":
                t.add_row(_money(q["total"]), q["status"], "", "", "")
                continue
            t.add_row(
                _money(q["total"]), _money(q["system"]), _money(q["status_quo"]),
                _money(q["designed"]), f"{q['designed_share']:.2%}",
            )  # fmt: skip
        console.print(t)
    _notes(r.notes, console)


def _allocations(r: SystemResult) -> Table:
    t = Table(title="Allocations (optimized vs baseline)", title_justify="left")
    for col in ("department", "resource", "baseline", "optimal", "change", _PER_UNIT):
        t.add_column(col, justify="left" if col in ("department", "resource") else "right")
    for a in r.allocations.itertuples(index=False):
        t.add_row(
            a.department,
            a.resource,
            _money(a.baseline),
            _money(a.allocation),
            f"{a.allocation - a.baseline:+,.0f}",
            figure(a.shadow_price),
        )
    return t


def _kpis_at_optimum(r: SystemResult) -> Table:
    t = Table(title="KPIs at the optimum", title_justify="left")
    for col in ("department", "kpi", "unit", "better", "value"):
        t.add_column(col, justify="right" if col == "value" else "left")
    for k in r.kpis.itertuples(index=False):
        t.add_row(
            k.department or "(company)",
            k.kpi + (" (ratio)" if k.ratio else ""),
            escape(_unit(k.unit)),
            _better(k.sense),
            figure(k.value, k.unit),
        )
    return t


def _priced_constraints(priced: pd.DataFrame, top: int) -> Table:
    t = Table(
        title=f"Binding constraints: {len(priced)} with a shadow price"
        + (f" (largest {top} shown)" if len(priced) > top else ""),
        title_justify="left",
    )
    t.add_column("constraint")
    t.add_column("shadow price", justify="right")
    for c in priced.head(top).itertuples(index=False):
        t.add_row(
            escape(c.constraint + (f"[{c.index}]" if c.index else "")), figure(c.shadow_price)
        )
    return t


_PLAN_HEADERS = (
    (Plan.STATUS_QUO, "A status quo"),
    (Plan.ALIGNED, "B aligned"),
    (Plan.SYSTEM, "C system opt."),
)


def _cost_range(ranged: StatusQuoRange) -> str:
    low, high = ranged.misalignment_cost
    return f"{low * 100:.1f}% to {high * 100:.1f}%"


def _signed(x: float) -> str:
    """A change: :func:`figure` with its sign, + included."""
    return ("+" if x > 0 else "") + figure(x)


def _pct(x: float) -> str:
    return "-" if x != x else f"{x * 100:+.1f}%"


def print_compare(r: CompareResult, console: Console) -> None:
    """The comparison for a manager: headline, three plans, departments, shared state."""
    console.print(f"[bold]{r.label}[/bold]")
    console.print(f"[bold]{escape(r.headline())}[/bold]")
    t = Table(title="Plans", title_justify="left")
    t.add_column("plan")
    t.add_column(f"objective ({r.sense})", justify="right")
    t.add_column("vs aligned", justify="right")
    for key, head in _PLAN_HEADERS:
        t.add_row(head, _money(r.objectives[key]), _pct(r.vs_aligned(key)))
    t.add_row(
        "A, pessimistic tie-break",
        _money(r.status_quo_pessimistic),
        _pct(r.pessimistic_vs_aligned),
    )
    ranged = r.status_quo_range
    if ranged is not None:
        for head, end in (
            ("A, worst computed path", ranged.worst),
            ("A, best computed path", ranged.best),
        ):
            t.add_row(head, _money(end.objective), _pct(r.relative_to_aligned(end.objective)))
    console.print(t)
    d = r.decentralized
    console.print(
        f"Misalignment cost (B-A)/|B|: [bold]{r.misalignment_cost * 100:.1f}%[/bold] "
        f"(pessimistic {r.misalignment_cost_pessimistic * 100:.1f}%"
        + ("" if ranged is None else f"; {_cost_range(ranged)} over every computed path")
        + f");  reallocation gain (C-B)/|C|: [bold]{r.reallocation_gain * 100:.1f}%[/bold]"
    )
    console.print(
        f"Status quo A = best-response dynamics from B, departments in file order: {d.ending} "
        f"after {d.rounds} round(s)."
    )
    if ranged is not None:
        console.print(_range_sentence(ranged))
    console.print(_departments(r))
    if r.verification is not None:
        console.print(
            "The scheme at its allocations reaches "
            f"[bold]{r.verification.share_of_optimum * 100:.2f}% of the optimum[/bold] on the "
            "worst computed path."
        )
        _verification(r.verification, console)
    if not r.state_measures.empty:
        console.print(_state_table(r.state_measures, [(str(p), h) for p, h in _PLAN_HEADERS]))
    console.print(
        "Unilateral loss: the drop in the company objective when only that department "
        "plays its own optimum (optimistic .. pessimistic tie-break)."
    )
    _notes(r.notes, console)


def _range_sentence(ranged: StatusQuoRange) -> str:
    """How the status quo's range was computed and where its ends came from."""
    starts = ", ".join(ranged.starts.values())
    reach = (
        "every one ends at the same plan"
        if ranged.same_equilibrium
        else f"they end at {ranged.equilibria} different plans"
    )
    text = (
        f"Range of the status quo: {ranged.paths} computed paths ({ranged.orders} department "
        f"order(s) x {len(ranged.starts)} start(s): {starts} x 2 tie-breaks); {reach}."
    )
    if not ranged.same_equilibrium:
        text += f" Worst: {ranged.worst.describe()}. Best: {ranged.best.describe()}."
    if ranged.unbounded:
        text += f" {ranged.unbounded} path(s) ended without a plan (an unbounded worst response)."
    return escape(text)


_MEASURE_LABELS = {"average": "average", "min": "lowest", "max": "highest"}


def _state_table(m: pd.DataFrame, plans: list[tuple[str, str]]) -> Table:
    """Each shared-state variable per period of its time-like set (summed over its other
    sets): average, lowest and highest, one column per (plan, header) of ``plans`` (plan
    "": a table without a plan column); its total where it has no such set."""
    units = bool((m.unit != "").any())
    t = Table(title="Shared state per period (other sets summed)", title_justify="left")
    t.add_column("variable")
    t.add_column("measure")
    if units:
        t.add_column("unit")
    for _, head in plans:
        t.add_column(head, justify="right")
    for var, per, unit in m[["variable", "per", "unit"]].drop_duplicates().itertuples(index=False):
        measures = list(_MEASURE_LABELS) if per else ["average"]
        for i, measure in enumerate(measures):
            label = f"{_MEASURE_LABELS[measure]} per {per}" if per else "total"
            hit = m[(m.variable == var) & (m.measure == measure)]
            values = [float((hit[hit.plan == p] if p else hit).value.iloc[0]) for p, _ in plans]
            t.add_row(
                escape(var) if i == 0 else "",
                escape(label),
                *([escape(_unit(unit))] if units else []),
                *[figure(v, unit) for v in values],
            )
    return t


def _departments(r: CompareResult) -> Table:
    """Every KPI of every department under each plan, in its unit and with the direction
    that is good; each department's row above its KPIs carries its unilateral loss."""
    holds = r.own_kpis_hold()
    t = Table(
        title="Departments: KPIs under each plan (* = paid on it; better: the direction "
        "that is good)",
        title_justify="left",
    )
    t.add_column("department / kpi")
    t.add_column("unit")
    t.add_column("better")
    for _, head in _PLAN_HEADERS:
        t.add_column(head, justify="right")
    ranged = r.status_quo_range
    if ranged is not None:
        t.add_column("A range", justify="right")
    t.add_column("unilateral loss", justify="right")
    losses = r.unilateral_losses()
    blank = [""] * (len(_PLAN_HEADERS) + (ranged is not None))
    for dept in dict.fromkeys(x for x in r.kpis.department if x):
        lcell = ""
        if dept in losses:
            loss, pessimistic = losses[dept]
            lcell = _money(loss) + ("" if pessimistic is None else f" .. {_money(pessimistic)}")
        name = dept + ("" if holds.get(dept, True) else " (!)")
        t.add_row(f"[bold]{escape(name)}[/bold]", "", "", *blank, lcell)
        rows = r.kpis[r.kpis.department == dept]
        for kpi in dict.fromkeys(rows.kpi):
            paid = f"{dept}.{kpi}" in r.incentives.get(dept, {})
            row = rows[rows.kpi == kpi].iloc[0]
            unit = row.get("unit", "") or ""
            vals = [figure(r.kpi(dept, kpi, p), unit) for p, _ in _PLAN_HEADERS]
            if ranged is not None:
                low, high = ranged.kpi_range(dept, kpi)
                low_s, high_s = figure(low, unit), figure(high, unit)
                vals.append(low_s if low_s == high_s else f"{low_s} .. {high_s}")
            t.add_row(
                "  " + escape(kpi + (" *" if paid else "")),
                escape(_unit(unit)),
                _better(row.sense),
                *vals,
                "",
            )
        t.add_section()
    return t


def print_design(r: DesignResult, console: Console) -> None:
    """Designed scorecards beside the current ones, margins and money at stake, the
    allocations designed for, and the verification on both tie-breaks."""
    v = r.chosen
    console.print(
        f"[bold]{escape(r.label)}[/bold]: KPI design for the system optimum "
        f"({_money(r.optimum)}; status quo {_money(r.status_quo)})"
    )
    lever = (
        "transfer prices (profit centres) reach"
        if r.lever == "prices"
        else "designed scheme reaches"
    )
    headline = (
        f"The {lever} [bold]{v.share_of_optimum * 100:.2f}% of the optimum[/bold]"
        f" ({_money(v.objective)}) on the worst computed path"
    )
    if v.optimistic_only:
        headline += (
            f"; [yellow]only the optimistic tie-break reaches "
            f"{v.optimistic.share_of_optimum * 100:.2f}%[/yellow]"
        )
    held = min((p.share_of_optimum for p in v.from_target or ()), default=float("nan"))
    if held == held and held - v.share_of_optimum > 1e-4:
        headline += f"; rolled out with the target plan it holds {held * 100:.2f}%" + (
            " (a coordination stall: see below)" if v.stalled else ""
        )
    console.print(headline + ".")
    console.print(_scorecards(r))
    _exchange_rates(r, console)
    if r.positive_gap:
        console.print(
            "[yellow]Positive incentive gap[/yellow] (no menu weights make the optimum "
            f"their own best): {', '.join(r.positive_gap)}"
        )
    if r.indifferent:
        console.print(
            "[yellow]Indifferent[/yellow] (the optimum is one of several best choices: a "
            f"margin of 0, or a tie-break that loses): {', '.join(r.indifferent)}"
        )
    if not r.allocations.empty:
        console.print(_design_allocations(r))
        for line in r.allocation_changes() or ["no allocation changes"]:
            console.print(f"  {escape(line)}")
    console.print(f"[bold]Lever: {'weights' if r.lever == 'weights' else 'prices'}[/bold]")
    _verification(v, console)
    if r.transfer_prices is not None:
        _print_prices(r, console)
    console.print(
        "The worst computed path is not a guarantee: breaking each tie against the company "
        "is not the worst case over all paths. Incentive gap: how much the department could "
        "still gain, in scorecard units, by deviating from the optimum. Margin: score lost "
        "per unit of distance moved off any constraint binding at the optimum (0 = knife "
        "edge). Tolerance: how much any one weight may change with the optimum still its "
        "best. Loss if tied: the company's loss when the department alone breaks its ties "
        "against it. Alignment: cosine, at the target plan, of the total effects of the "
        "department's decisions on its score and on the company objective, over the moves "
        "its equality rows allow (shared state that a balance ties to its decisions moves "
        "with them). 1 = aligned, -1 = opposed, - = nothing to align."
    )
    _notes(r.notes, console)


def _exchange_rates(r: DesignResult, console: Console) -> None:
    """The designed weights as exchange rates between each scorecard's KPIs."""
    lines = [e["text"] for rates in r.exchange_rates.values() for e in rates]
    if not lines:
        return
    console.print("Exchange rates on the designed scorecards (each KPI in its own unit):")
    for line in lines:
        console.print(f"  {escape(line)}")


def _design_allocations(r: DesignResult) -> Table:
    """Today's allocations beside the designed (tight) ones."""
    t = Table(title="Allocations: today vs designed (tight at the target)", title_justify="left")
    for col in ("department", "resource", "today", "designed", "change"):
        t.add_column(col, justify="left" if col in ("department", "resource") else "right")
    for a in r.allocations.itertuples(index=False):
        change = a.designed - a.baseline
        t.add_row(
            escape(a.department),
            escape(a.resource),
            figure(a.baseline),
            figure(a.designed),
            "-" if abs(change) <= 1e-9 * (1 + abs(a.baseline)) else _signed(change),
        )
    return t


def _scorecards(r: DesignResult) -> Table:
    """Designed beside current weights, each KPI with the direction that is good; each
    department's row above its KPIs carries its gap, margin, tolerance, the money at
    stake in a tie, and alignment."""
    t = Table(
        title="Scorecards: designed vs current weights (better: the direction that is good)",
        title_justify="left",
    )
    for col in (
        "department / kpi",
        "better",
        "current",
        "designed",
        "incentive gap",
        "margin",
        "tolerance",
        "loss if tied",
        "alignment now -> designed",
    ):
        t.add_column(col, justify="left" if col in ("department / kpi", "better") else "right")
    for d in r.departments.itertuples(index=False):
        share = "" if d.gap_share != d.gap_share else f" ({d.gap_share * 100:.1f}% of score)"
        gap = "0 (exact)" if d.exact else f"{figure(d.gap)}{share}"
        if d.department in r.immovable:
            gap = "0 (moves no KPI)"
        flags = [f for f in r.flags(d.department) if f in ("indifferent", "optimistic_only")]
        name = d.department + (f" ({', '.join(flags)})" if flags else "")
        if d.kept:
            name += " (keeps current)"
        t.add_row(
            f"[bold]{escape(name)}[/bold]",
            "",
            "",
            "",
            gap,
            "-" if d.kept else _short(d.margin),
            "-" if d.kept else _short(d.weight_tolerance),
            _money(d.pessimistic_loss),
            f"{_short(d.alignment_current)} -> {_short(d.alignment_designed)}",
        )
        w = r.weights[r.weights.department == d.department]
        for row in w.itertuples(index=False):
            t.add_row(
                "  " + escape(row.kpi),
                _better(row.sense),
                f"{row.current:.3f}" if row.current else "-",
                f"{row.designed:.3f}" if row.designed else "-",
                *[""] * 5,
            )
        t.add_section()
    return t


def _verification(v: Verification, console: Console) -> None:
    """The verification of a scheme: its start, both tie-breaks, from the target, stall."""
    console.print(
        f"Verification: each department at its own optimum under the scheme and its "
        f"allocations, from {escape(v.start)}:"
    )
    for name, path in (("optimistic", v.optimistic), ("pessimistic", v.pessimistic)):
        ending = "converged" if path.converged else ("cycled" if path.cycle else "not converged")
        console.print(
            f"  {name} tie-break: {_money(path.objective)} = "
            f"{path.share_of_optimum * 100:.2f}% of the optimum ({ending} after "
            f"{path.rounds} round(s))"
        )
    if v.allocation:
        at = "; ".join(
            f"{d} {r} {figure(amount)}"
            for d, amounts in v.allocation.items()
            for r, amount in amounts.items()
        )
        console.print(f"  at the allocations: {escape(at)}")
    if v.from_target is not None:
        o, p = v.from_target
        console.print(
            f"  from the target plan itself (rolled out with the scheme): optimistic "
            f"{o.share_of_optimum * 100:.2f}%, pessimistic {p.share_of_optimum * 100:.2f}%"
        )
    if v.stalled:
        console.print(
            "[yellow]Coordination stall[/yellow]: where the worst path ends, no department "
            "alone can improve the company objective; only a coordinated move of several "
            "(rolling out the target plan with the scheme) reaches the optimum."
        )


def _print_prices(r: DesignResult, console: Console) -> None:
    """The two levers side by side, and the prices lever's diagnosis."""
    tp = r.transfer_prices
    assert tp is not None
    t = Table(title="Levers side by side (share of the optimum)", title_justify="left")
    for col in ("lever", "worst computed path", "optimistic", "pessimistic", "from the target"):
        t.add_column(col, justify="left" if col == "lever" else "right")
    for name, v in (("weights", r.verification), ("prices", r.price_verification)):
        if v is None:
            continue
        held = v.from_target
        t.add_row(
            name + (" (chosen)" if name == r.lever else ""),
            _pct_share(v.share_of_optimum),
            _pct_share(v.optimistic.share_of_optimum),
            _pct_share(v.pessimistic.share_of_optimum),
            "-" if held is None else _pct_share(min(p.share_of_optimum for p in held)),
        )
    console.print(t)
    priced = tp.prices[tp.prices.price != 0]
    console.print(
        f"Transfer prices: {len(tp.prices)} row(s) link departments, {len(priced)} with a "
        f"nonzero price (margin {tp.margin:.2f} of each interval; see the JSON for each price "
        "and its interval)."
    )
    for d in tp.departments:
        if d.flags:
            console.print(
                f"  [yellow]{escape(d.department)}[/yellow]: indifferent at the prices"
                + (f" ({escape(d.tie_breakers[0].text)})" if d.tie_breakers else "")
            )


def _pct_share(share: float) -> str:
    return "-" if share != share else f"{share * 100:.2f}%"


def _short(v: float) -> str:
    """Three significant digits (a rate, a tolerance, a cosine); '-' for NaN."""
    return "-" if v != v else f"{v:.3g}"


def print_sweep(r: SweepResult, console: Console) -> None:
    """One line per point: its values, status and figures; a point without an optimum
    with its diagnosis."""
    console.print(
        f"[bold]{escape(r.scenario)}[/bold]: {r.analysis} at {len(r.points)} point(s) of "
        + escape(", ".join(r.paths()) or "the variants")
    )
    t = Table(title="Points", title_justify="left")
    columns = ["point", *(["variant"] if r.points.variant.notna().any() else []), *r.paths()]
    for col in [*columns, "status", *r.figures]:
        t.add_column(escape(col), justify="right")
    for p in r.points.to_dict("records"):
        cells = [str(p["point"])]
        if "variant" in columns:
            cells.append(p["variant"] or "")
        cells += [f"{p[c]:g}" if isinstance(p[c], float) else str(p[c]) for c in r.paths()]
        cells.append(p["status"])
        for f in r.figures:
            v = p[f]
            if v != v:  # NaN: no optimum here
                cells.append("")
            elif f.startswith("misalignment") or f.endswith("share"):
                cells.append(f"{v:.1%}")
            else:
                cells.append(_money(v))
        t.add_row(*cells)
    console.print(t)
    for p in r.points.to_dict("records"):
        d = p["diagnosis"]
        if d is not None:
            every = [*d["conflict"], *d["ray"]]
            more = f", and {len(every) - 8} more (in the JSON)" if len(every) > 8 else ""
            names = ", ".join(every[:8]) + more
            console.print(
                f"point {p['point']}: {escape(d['message'])}"
                + (f" ({escape(names)})" if names else "")
            )
    _notes(r.notes, console)


#: changes listed in the table at most (all of them in the JSON and CSV)
DIFF_ROWS = 200


def print_diff(r: DiffResult, console: Console) -> None:
    """The changes between two runs: section, key, A, B and B - A."""

    def side(s: dict) -> str:
        return s["scenario"] + (f"[{s['variant']}]" if s["variant"] else "") + f" ({s['file']})"

    console.print(
        f"[bold]{r.analysis}[/bold]: A = {escape(side(r.a))}, B = {escape(side(r.b))}; "
        f"{len(r.changes)} of {r.compared} figures " + ("shown" if r.everything else "changed")
    )
    if len(r.changes):
        t = Table(title="Changes (B - A)", title_justify="left")
        for col in ("section", "key", "A", "B", "B - A"):
            t.add_column(col, justify="left" if col in ("section", "key") else "right")
        for c in r.changes.head(DIFF_ROWS).to_dict("records"):
            cells = [
                "" if v is None else figure(v) if isinstance(v, int | float) else str(v)
                for v in (c["a"], c["b"], c["delta"])
            ]
            t.add_row(escape(c["section"]), escape(c["key"]), *map(escape, cells))
        console.print(t)
        if len(r.changes) > DIFF_ROWS:
            console.print(
                f"{len(r.changes) - DIFF_ROWS} more change(s) in the JSON and CSV output."
            )
    _notes(r.notes, console)


def print_stress(r: StressResult, console: Console) -> None:
    """Each plan's objective over the futures, the value of the slack, the robust
    allocation."""
    n, fresh = r.weights.size, r.out_of_sample_weights.size
    how = "every combination, with its probability" if r.exact else f"drawn with seed {r.seed}"
    console.print(
        f"[bold]{escape(r.label)}[/bold]: {n} futures ({how}); the first stage "
        f"{'is every decision' if r.commit == 'all' else 'is the allocations'}"
        f"{'' if r.commit in ('0', 'all') else f' and the first {r.commit} periods'}, the rest "
        "re-solved in each future with the margins released",
        highlight=False,
    )
    title = "The company objective over the futures" + (
        " (where a plan breaks rows, less the shortfall penalty)" if r.has_breaks() else ""
    )
    t = Table(title=title, title_justify="left")
    same = (fresh == n and r.exact) or any("the same futures" in note for note in r.notes)
    last = "mean, the same futures" if same else f"mean, {fresh} fresh futures"
    for col in ("plan", "as planned", "mean", "± s.e.", "p05", "p50", "p95", "worst 5%",
                "P(not met as planned)", last):  # fmt: skip
        t.add_column(col, justify="right" if col != "plan" else "left")
    for name, p in r.plans.items():
        d = r.distribution(name)
        oos = r.distribution(name, out_of_sample=True).mean if p.out_of_sample is not None else None
        t.add_row(
            name.replace("_", " "), _money(p.forecast), _money(d.mean), figure(d.standard_error),
            _money(d.quantiles["p05"]), _money(d.quantiles["p50"]), _money(d.quantiles["p95"]),
            _money(d.worst_tail_mean), percent(d.infeasible), _money(oos),
        )  # fmt: skip
    console.print(t)
    value, se = r.value_of_slack()
    console.print(
        f"Value of the slack (with the margins, against without, on the same futures): "
        f"{figure(value)} ± {figure(se)}",
        highlight=False,
    )
    for name, (v, e) in r.value_of_margins().items():
        console.print(f"  of {escape(name)} alone: {figure(v)} ± {figure(e)}", highlight=False)
    if "robust" in r.plans:
        vss, vss_se = r.value_of_stochastic_solution()
        rows = ", ".join(
            f"{d}.{res} {_money(v)}" for d, rs in r.plans["robust"].allocation.items()
            for res, v in rs.items()
        )  # fmt: skip
        more = r.keeps_more_headroom()
        console.print(
            f"Robust allocation ({r.robust_futures} futures): {rows}; expected "
            f"{_money(r.robust_expected)}; it keeps {'more' if more else 'no more'} headroom "
            f"than the plan for the forecast; value of the stochastic solution {figure(vss)} "
            f"± {figure(vss_se)}",
            highlight=False,
        )
    if r.decentralized is not None:
        t = Table(
            title="Each future planned afresh by the departments (no first stage)",
            title_justify="left",
        )
        for col in ("outcome", "mean", "± s.e.", "p05", "p50", "p95", "worst 5%"):
            t.add_column(col, justify="right" if col != "outcome" else "left")
        labels = {
            "status_quo": "today's schemes (file order)",
            "status_quo_min": "today's schemes, lowest path",
            "status_quo_max": "today's schemes, highest path",
            "designed": "designed scheme, worst path",
            "designed_optimistic": "designed scheme, optimistic",
            "aligned": "aligned (today's allocations)",
            "system": "system optimum",
        }
        for key, d in r.to_dict()["decentralized"].items():
            q = d["quantiles"]
            t.add_row(
                labels[key], _money(d["mean"]), figure(d["standard_error"]), _money(q["p05"]),
                _money(q["p50"]), _money(q["p95"]), _money(d["worst_5pct_mean"]),
            )  # fmt: skip
        console.print(t)
    for name, p in r.plans.items():
        if p.broken:
            top = sorted(p.broken.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
            console.print(
                f"{name}: rows broken — " + ", ".join(f"{row} in {k}" for row, k in top),
                highlight=False,
            )
    for note in r.notes:
        console.print(f"note: {escape(note)}", highlight=False)


def print_monitor(r: MonitorResult, console: Console, top: int = 15) -> None:
    """The year so far: plan, re-plan, the value lost and who lost it, the largest
    drifts, the re-planned allocations."""
    periods = r.periods
    span = f"{periods[0]}–{periods[-1]}" if len(periods) > 1 else str(periods[0])
    console.print(
        f"[bold]{escape(r.label)}[/bold]: actuals of {escape(r.time_set)} {escape(span)} "
        f"({r.actuals_given} values); the rest re-planned"
        f"{' at the allocations in force' if r.keep_allocations else ', allocations included'}",
        highlight=False,
    )
    console.print(
        f"Plan ({escape(r.plan_source)}) {_money(r.plan_objective)}, re-plan "
        f"{_money(r.replan_objective)}: [bold]lost {_money(r.lost)}[/bold]",
        highlight=False,
    )
    t = Table(title="Who lost it", caption=r.method, title_justify="left", caption_justify="left")
    t.add_column("department")
    t.add_column("lost", justify="right")
    for d, v in sorted(r.attribution.items(), key=lambda kv: (-kv[1], kv[0])):
        t.add_row(escape(d), _money(v))
    if r.unexplained:
        t.add_row("(unexplained: observed shared state)", _money(r.unexplained))
    if r.scheme_shortfall:
        t.add_row("(less the scheme's shortfall from the optimum)", _money(-r.scheme_shortfall))
    console.print(t)
    moved = r.drift[r.drift["drift"] != 0]
    if len(moved):
        order = moved["drift"].abs().sort_values(ascending=False, kind="stable").index
        t = Table(
            title=f"Largest drifts (actual − plan), {min(top, len(moved))} of {len(moved)}",
            title_justify="left",
        )
        for col in ("department", "kind", "name", "period", "plan", "actual", "drift"):
            t.add_column(col, justify="right" if col in ("plan", "actual", "drift") else "left")
        for row in moved.loc[order[:top]].itertuples(index=False):
            t.add_row(
                escape(row.department or ("(company)" if row.kind == "kpi" else "(shared)")),
                row.kind, escape(row.name), row.period,
                figure(row.plan), figure(row.actual), figure(row.drift),
            )  # fmt: skip
        console.print(t)
    if r.allocation:
        rows = ", ".join(
            f"{d}.{res} {_money(v)}" for d, rs in r.allocation.items() for res, v in rs.items()
        )
        console.print(f"Re-planned allocations: {rows}", highlight=False)
    _notes(r.notes, console)
    if r.redesign is not None:
        console.print("\n[bold]Scorecards for the periods from here[/bold] (the re-plan as target)")
        print_design(r.redesign, console)


def print_reveal(r: RevealResult, console: Console) -> None:
    """Per department: what it acts as if paid on, how well that fits, against its
    official scheme."""
    console.print(
        f"[bold]{escape(r.label)}[/bold]: the incentives each department's actuals reveal",
        highlight=False,
    )
    t = Table(
        title="Acts as if paid on (the best-fitting weights closest to its official scheme)",
        caption="fit: 1 = its plan is its best choice under those weights; 0 = no better "
        "than the average single KPI",
        title_justify="left",
        caption_justify="left",
    )
    for col in ("department", "acts as if paid on", "fit", "official scheme", "its fit"):
        t.add_column(col, justify="right" if "fit" in col else "left")

    def scheme(weights: dict[str, float]) -> str:
        shown = sorted(((w, k) for k, w in weights.items() if w > 5e-4), reverse=True)
        return ", ".join(f"{k.split('.')[-1]} {percent(w)}" for w, k in shown) or "—"

    for d, f in r.departments.items():
        acts = "anything (it moves no KPI)" if f.pinned else scheme(f.weights)
        t.add_row(
            escape(d), escape(acts), figure(f.fit), escape(scheme(f.official)),
            figure(f.official_fit),
        )  # fmt: skip
    console.print(t)
    t = Table(title="Weights that fit as well (min–max)", title_justify="left")
    for col in ("department", "kpi", "min", "max"):
        t.add_column(col, justify="right" if col in ("min", "max") else "left")
    for d, f in r.departments.items():
        if f.pinned:
            continue
        for k, (lo, hi) in f.ranges.items():
            t.add_row(escape(d), escape(k.split(".")[-1]), percent(lo), percent(hi))
    console.print(t)
    _notes(r.notes, console)


def print_contract(r: ContractResult, console: Console) -> None:
    """The contract: its terms against today's, who earns what, who pays whom, and the
    outcome under it."""
    v = r.verification
    console.print(
        f"[bold]{escape(r.label)}[/bold]: alliance {_money(r.status_quo_objective)} under "
        f"today's contract ({percent(r.status_quo_share)} of its optimum "
        f"{_money(r.optimum)}); under the contract {_money(v.objective)} "
        f"({percent(v.share_of_optimum)}) on the worst computed path",
        highlight=False,
    )
    t = Table(title="Contract terms", title_justify="left")
    for col in ("term", "today", "contract", "range allowed"):
        t.add_column(col, justify="left" if col == "term" else "right")
    for name, term in r.terms.items():
        t.add_row(
            escape(name), f"{term.today:.6g}", f"{term.contract:.6g}",
            f"{term.lower:.6g} – {term.upper:.6g}",
        )  # fmt: skip
    console.print(t)
    if r.exact:
        console.print(
            f"Each partner's own optimum is the alliance optimum under these terms; any one "
            f"term may move by {figure(r.margin)} and it stays so (margin against ties).",
            highlight=False,
        )
    t = Table(
        title=f"Profits: today, and under the contract with fixed payments ({r.split} split)",
        title_justify="left",
    )
    for col in ("partner", "today", "at the optimum", "payment received", "with payment"):
        t.add_column(col, justify="left" if col == "partner" else "right")
    for d in r.status_quo:
        t.add_row(
            escape(d), _money(r.status_quo[d]), _money(r.at_optimum[d]),
            _money(r.payments.get(d)), _money(r.contract_profit(d)),
        )  # fmt: skip
    if r.payments:
        console.print(t)
    _verification(v, console)
    if r.binding:
        console.print(f"Binding: {escape(', '.join(r.binding))}", highlight=False)
    _notes(r.notes, console)
