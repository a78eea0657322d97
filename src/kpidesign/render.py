"""Renderers: terminal tables (rich), JSON and CSV.  They only read result objects."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .results import CompareResult, DesignResult, SystemResult
from .summary import ModelSummary

__all__ = ["print_compare", "print_design", "print_summary", "print_system"]


def _num(x: float | None) -> str:
    """A number for a table; "-" where there is none (an undefined ratio is NaN)."""
    if x is None or x != x:
        return "-"
    return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.0f}"


def print_summary(s: ModelSummary, console: Console) -> None:
    title = f"{s.model}" + (f" / scenario {s.scenario}" if s.scenario != s.model else "")
    if s.variant:
        title += f" / variant {s.variant}"
    console.print(f"[bold]{escape(title)}[/bold]  ({escape(s.file)}): valid")
    console.print(f"{s.n_variables:,} variables, {s.n_constraints:,} constraints")
    sets = Table(title="Sets", title_justify="left")
    sets.add_column("set")
    sets.add_column("size", justify="right")
    for name, size in s.sets.items():
        sets.add_row(name, str(size))
    console.print(sets)
    deps = Table(title="Departments", title_justify="left")
    for col in ("department", "variables", "KPIs", "incentive", "allocation"):
        deps.add_column(col)
    for name, d in s.departments.items():
        deps.add_row(
            name,
            "\n".join(f"{v} ({n})" for v, n in d["variables"].items()) or "-",
            "\n".join(f"{k} ({sense})" for k, sense in d["kpis"].items()) or "-",
            "\n".join(f"{k} = {_num(w)}" for k, w in d["incentive"].items()) or "-",
            "\n".join(f"{r} = {_num(a)}" for r, a in d["allocation"].items()) or "-",
        )
    console.print(deps)
    if s.shared_state:
        console.print("Shared state: " + ", ".join(f"{v} ({n})" for v, n in s.shared_state.items()))
    cons = Table(title="Constraints", title_justify="left")
    cons.add_column("constraint")
    cons.add_column("rows", justify="right")
    for name, n in s.constraints.items():
        cons.add_row(name, str(n))
    console.print(cons)
    if s.resources:
        res = Table(title="Resources", title_justify="left")
        for col in ("resource", "total", "reserve", "max_shift"):
            res.add_column(col, justify="right" if col != "resource" else "left")
        for name, r in s.resources.items():
            res.add_row(name, _num(r["total"]), _num(r["reserve"]), _num(r["max_shift"]))
        console.print(res)
    console.print(f"Objective: {escape(s.objective)}")
    for note in s.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")


def _money(x: float) -> str:
    return f"{x:,.2f}" if abs(x) < 1e5 else f"{x:,.0f}"


def print_system(r: SystemResult, console: Console, top: int = 15) -> None:
    """The system optimum for a manager: objective, allocations, KPIs, state, prices."""
    label = r.scenario + (f" [{r.variant}]" if r.variant else "")
    console.print(
        f"[bold]{label}[/bold]: system optimum ({r.status}), "
        f"objective ({r.sense}) = [bold]{_money(r.objective)}[/bold]"
    )
    per_unit = "objective change per +1"
    if len(r.allocations):
        t = Table(title="Allocations (optimized vs baseline)", title_justify="left")
        for col in ("department", "resource", "baseline", "optimal", "change", per_unit):
            t.add_column(col, justify="left" if col in ("department", "resource") else "right")
        for a in r.allocations.itertuples(index=False):
            change = a.allocation - a.baseline
            t.add_row(
                a.department,
                a.resource,
                _money(a.baseline),
                _money(a.allocation),
                f"{change:+,.0f}",
                _num(a.shadow_price),
            )
        console.print(t)
    if len(r.resources):
        t = Table(title="Resources", title_justify="left")
        for col in ("resource", "available", "allocated", per_unit):
            t.add_column(col, justify="left" if col == "resource" else "right")
        for x in r.resources.itertuples(index=False):
            t.add_row(x.resource, _money(x.available), _money(x.allocated), _num(x.shadow_price))
        console.print(t)
    t = Table(title="KPIs at the optimum", title_justify="left")
    for col in ("department", "kpi", "goal", "value", "unit"):
        t.add_column(col, justify="right" if col == "value" else "left")
    for k in r.kpis.itertuples(index=False):
        t.add_row(
            k.department or "(company)",
            k.kpi,
            k.sense + (" ratio" if k.ratio else ""),
            _num(k.value),
            k.unit,
        )
    console.print(t)
    if len(r.state):
        t = Table(title="Shared state (totals)", title_justify="left")
        t.add_column("variable")
        t.add_column("total", justify="right")
        for s in r.state.itertuples(index=False):
            t.add_row(s.variable, _num(s.total))
        console.print(t)
    binding = r.constraints[r.constraints.binding & (r.constraints.shadow_price != 0)]
    if len(binding):
        order = binding.shadow_price.abs().sort_values(ascending=False, kind="stable").index
        shown = binding.loc[order[:top]]
        t = Table(
            title=f"Binding constraints: {len(binding)} with a shadow price"
            + (f" (largest {top} shown)" if len(binding) > top else ""),
            title_justify="left",
        )
        t.add_column("constraint")
        t.add_column("shadow price", justify="right")
        for c in shown.itertuples(index=False):
            t.add_row(
                escape(c.constraint + (f"[{c.index}]" if c.index else "")), _num(c.shadow_price)
            )
        console.print(t)
    if len(binding) or len(r.allocations) or len(r.resources):
        good = "positive" if r.sense == "max" else "negative"
        console.print(
            "A shadow price is the change of the objective per unit increase of the "
            f"right-hand side (a resource, an allocation, a constraint); the objective is "
            f"{'maximized' if r.sense == 'max' else 'minimized'}, so {good} is good."
        )
    for note in r.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")


_PLAN_HEADERS = (
    ("status_quo", "A status quo"),
    ("aligned", "B aligned"),
    ("system", "C system opt."),
)


def _pct(x: float) -> str:
    return "-" if x != x else f"{x * 100:+.1f}%"


def print_compare(r: CompareResult, console: Console) -> None:
    """The comparison for a manager: headline, three plans, departments, shared state."""
    label = r.scenario + (f" [{r.variant}]" if r.variant else "")
    console.print(f"[bold]{label}[/bold]")
    console.print(f"[bold]{escape(r.headline())}[/bold]")
    t = Table(title="Plans", title_justify="left")
    t.add_column("plan")
    t.add_column(f"objective ({r.sense})", justify="right")
    t.add_column("vs aligned", justify="right")
    for key, head in _PLAN_HEADERS:
        obj = r.objectives[key]
        ref = r.objectives["aligned"]
        rel = (obj - ref) / abs(ref) if abs(ref) > 1e-12 else float("nan")
        t.add_row(head, _money(obj), _pct(rel))
    t.add_row(
        "A, pessimistic tie-break",
        _money(r.status_quo_pessimistic),
        _pct(
            -r.misalignment_cost_pessimistic
            if r.sense == "max"
            else r.misalignment_cost_pessimistic
        ),
    )
    console.print(t)
    d = r.decentralized
    console.print(
        f"Misalignment cost (B-A)/|B|: [bold]{r.misalignment_cost * 100:.1f}%[/bold] "
        f"(pessimistic {r.misalignment_cost_pessimistic * 100:.1f}%);  "
        f"reallocation gain (C-B)/|C|: [bold]{r.reallocation_gain * 100:.1f}%[/bold]"
    )
    status = "converged" if d["converged"] else ("cycled" if d["cycle"] else "did not converge")
    console.print(
        f"Status quo = best-response dynamics from B: {status} after {d['rounds']} round(s)."
    )
    holds = r.own_kpis_hold()
    t = Table(title="Departments: KPIs under each plan (* = paid on it)", title_justify="left")
    t.add_column("department")
    t.add_column("kpi")
    for _, head in _PLAN_HEADERS:
        t.add_column(head, justify="right")
    t.add_column("unilateral loss", justify="right")
    loss = {u.department: u for u in r.unilateral.itertuples(index=False)}
    for dept in dict.fromkeys(x for x in r.kpis.department if x):
        rows = r.kpis[r.kpis.department == dept]
        first = True
        for kpi in dict.fromkeys(rows.kpi):
            paid = f"{dept}.{kpi}" in r.incentives.get(dept, {})
            vals = [_num(r.kpi(dept, kpi, p)) for p, _ in _PLAN_HEADERS]
            u = loss.get(dept)
            lcell = ""
            if first and u is not None:
                same = abs(u.loss_pessimistic - u.loss) <= 1e-4 * (1 + abs(u.loss))
                lcell = _money(u.loss) + ("" if same else f" .. {_money(u.loss_pessimistic)}")
            name = dept + ("" if holds.get(dept, True) else " (!)") if first else ""
            t.add_row(name, kpi + (" *" if paid else ""), *vals, lcell)
            first = False
        t.add_section()
    console.print(t)
    state_vars = list(dict.fromkeys(r.state.variable))
    if state_vars:
        t = Table(title="Shared state (totals)", title_justify="left")
        t.add_column("variable")
        for _, head in _PLAN_HEADERS:
            t.add_column(head, justify="right")
        for var in state_vars:
            t.add_row(var, *[_num(r.state_total(var, p)) for p, _ in _PLAN_HEADERS])
        console.print(t)
    console.print(
        "Unilateral loss: the drop in the company objective when only that department "
        "plays its own optimum (optimistic .. pessimistic tie-break)."
    )
    for note in r.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")


def print_design(r: DesignResult, console: Console) -> None:
    """Designed scorecards beside the current ones, gaps, alignment and verification."""
    label = r.scenario + (f" [{r.variant}]" if r.variant else "")
    v = r.verification
    console.print(
        f"[bold]{escape(label)}[/bold]: KPI design for the system optimum "
        f"({_money(r.optimum)}; status quo {_money(r.status_quo)})"
    )
    t = Table(title="Scorecards: designed vs current weights", title_justify="left")
    for col in (
        "department",
        "kpi",
        "current",
        "designed",
        "incentive gap",
        "alignment now -> designed",
    ):
        t.add_column(col, justify="left" if col in ("department", "kpi") else "right")
    for d in r.departments.itertuples(index=False):
        w = r.weights[r.weights.department == d.department]
        first = True
        for row in w.itertuples(index=False):
            gap = ""
            align = ""
            if first:
                share = (
                    "" if d.gap_share != d.gap_share else f" ({d.gap_share * 100:.1f}% of score)"
                )
                gap = "0 (exact)" if d.exact else f"{_num(d.gap)}{share}"
                align = f"{_num(d.alignment_current)} -> {_num(d.alignment_designed)}"
            flag = ""
            if first and d.indifferent:
                flag = " (indifferent)"
            t.add_row(
                escape(d.department + flag) if first else "",
                escape(row.kpi),
                f"{row.current:.3f}" if row.current else "-",
                f"{row.designed:.3f}" if row.designed else "-",
                gap,
                align,
            )
            first = False
        t.add_section()
    console.print(t)
    flags = r.flagged()
    if flags["positive_gap"]:
        console.print(
            "[yellow]Positive incentive gap[/yellow] (no menu weights make the optimum "
            f"their own best): {', '.join(flags['positive_gap'])}"
        )
    if flags["indifferent"]:
        console.print(
            "[yellow]Indifferent[/yellow] (the optimum is one of several best choices; the "
            f"pessimistic tie-break loses value): {', '.join(flags['indifferent'])}"
        )
    console.print(
        f"Verification: decentralized outcome under the designed scheme and optimal allocations, "
        f"from {escape(v['start'])}: {_money(v['objective'])} = "
        f"[bold]{v['share_of_optimum'] * 100:.2f}% of the optimum[/bold] "
        f"({'converged' if v['converged'] else 'not converged'} after {v['rounds']} round(s))."
    )
    console.print(
        "Incentive gap: how much the department could still gain, in scorecard units, by "
        "deviating from the optimum. Alignment: cosine of the reduced costs of its score "
        "and of the company objective over its decisions (1 = aligned)."
    )
    for note in r.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
