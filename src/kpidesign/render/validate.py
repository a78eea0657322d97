"""The terminal summary of ``kpidesign validate``."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..results import figure
from ..results.summary import ModelSummary


def print_summary(s: ModelSummary, console: Console) -> None:
    """The summary of a valid model for a reader: sets, departments, constraints, resources."""
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
            "\n".join(f"{v} ({n})" for v, n in d.variables.items()) or "-",
            "\n".join(f"{k} ({sense})" for k, sense in d.kpis.items()) or "-",
            "\n".join(f"{k} = {figure(w)}" for k, w in d.incentive.items()) or "-",
            "\n".join(f"{r} = {figure(a)}" for r, a in d.allocation.items()) or "-",
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
            res.add_row(name, figure(r.total), figure(r.reserve), figure(r.max_shift))
        console.print(res)
    console.print(f"Objective: {escape(s.objective)}")
    for note in s.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
