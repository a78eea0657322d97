"""The analysis commands: ``solve``, ``compare``, ``design`` and ``evaluate``.

Each loads FILE, calls the Python API with one :class:`~kpidesign.options.Options`, turns
a result without an optimum into its diagnosis (one error line, exit status 2), and
renders the result.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .failures import handle_errors
from .options import (
    FILE,
    dynamics_options,
    engine_options,
    max_size_option,
    model_options,
    output_options,
    path_options,
    scheme_option,
    solver_options,
    start_plan_option,
)

if TYPE_CHECKING:
    from ..options import Options

__all__ = ["compare", "design", "diff", "evaluate", "frontier", "sensitivity", "solve", "sweep"]


def _run(
    name: str,
    file: Path,
    variant: str | None,
    max_size: int,
    fmt: str,
    out: Path | None,
    options: Options,
    start_plan: Path | None = None,
    **settings: object,
) -> None:
    """Load FILE (today's plan from ``start_plan`` if given), run the API's analysis
    ``name`` (with its own ``settings``) and render it with its table printer; a result
    without an optimum becomes its one-line error (exit status 2)."""
    from .. import api
    from ..render import table
    from ..render.files import emit
    from ..spec import load

    analysis = getattr(api, name)
    printer = getattr(table, _PRINTERS[name])
    spec = load(file, variant, max_size=max_size, start_plan=start_plan)
    result = analysis(spec, options=options, **settings)
    emit(result.raise_if_failed(), fmt, out, name, printer)


_PRINTERS = {
    "solve": "print_system",
    "sensitivity": "print_sensitivity",
    "frontier": "print_frontier",
    "compare": "print_compare",
    "design": "print_design",
}


@click.command()
@FILE
@model_options
@output_options
@solver_options
@handle_errors
def solve(
    file: Path, variant: str | None, max_size: int, fmt: str, out: Path | None, options: Options
) -> None:
    """The system optimum of FILE with allocations optimized: objective, allocations,
    KPIs, shared state and shadow prices."""
    _run("solve", file, variant, max_size, fmt, out, options)


@click.command()
@FILE
@model_options
@click.option(
    "--at",
    type=click.Choice(["today", "optimum"]),
    default="today",
    show_default=True,
    help="Where the report is taken: at today's allocations (plan B: what one more unit "
    "is worth given today's budgets) or at the system optimum (plan C).",
)
@output_options
@solver_options
@handle_errors
def sensitivity(
    file: Path,
    variant: str | None,
    max_size: int,
    at: str,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """Shadow prices with the ranges over which they hold, and costs with the ranges over
    which the plan stays optimal (a sensitivity report)."""
    _run("sensitivity", file, variant, max_size, fmt, out, options, at=at)


@click.command()
@FILE
@model_options
@click.option("--resource", default=None, help="The resource whose total varies.")
@click.option(
    "--constraint",
    default=None,
    help="Instead, the constraint row whose right-hand side varies (capacity or capacity[3]).",
)
@click.option(
    "--margin",
    default=None,
    help="Instead, the margin that varies, a fraction: a constraint's slack (its whole "
    "family together) or resources.R.reserve (default from 0 to twice the file's).",
)
@click.option(
    "--from",
    "start",
    type=float,
    default=None,
    help="The smallest value (default: half the file's, or for a total the least the "
    "allocations' lower bounds need).",
)
@click.option(
    "--to", "stop", type=float, default=None, help="The largest value (default: 1.5x the file's)."
)
@click.option(
    "--analysis",
    type=click.Choice(["solve", "compare", "design"]),
    default="solve",
    show_default=True,
    help="compare: also the status quo and the misalignment cost along the totals (a "
    "grid); design: the designed scheme's worst computed path there.",
)
@click.option(
    "--grid",
    type=click.IntRange(min=2),
    default=9,
    show_default=True,
    help="Totals compare or design run at with --analysis.",
)
@output_options
@dynamics_options
@handle_errors
def frontier(
    file: Path,
    variant: str | None,
    max_size: int,
    resource: str | None,
    constraint: str | None,
    margin: str | None,
    start: float | None,
    stop: float | None,
    analysis: str,
    grid: int,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """The company objective (allocations optimized) as a function of a resource's total
    (--resource), of a constraint's right-hand side (--constraint) or of a margin
    (--margin): every breakpoint of the exact value curve and the slope between them."""
    try:
        _run(
            "frontier", file, variant, max_size, fmt, out, options,
            resource=resource, constraint=constraint, margin=margin, start=start, stop=stop,
            analysis=analysis, grid=grid,
        )  # fmt: skip
    except ValueError as exc:  # an unknown resource, or totals out of order
        raise click.UsageError(str(exc)) from None


@click.command()
@FILE
@model_options
@start_plan_option
@output_options
@dynamics_options
@handle_errors
def compare(
    file: Path,
    variant: str | None,
    max_size: int,
    start_plan: Path | None,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """Status quo (each department at its own optimum) vs aligned vs system optimum."""
    _run("compare", file, variant, max_size, fmt, out, options, start_plan)


def _step(_ctx: click.Context, _param: click.Parameter, value: float | None) -> float | None:
    """``--round STEP``: a share that divides 1 into whole steps (0.05, 0.1, 0.25, ...)."""
    if value is None:
        return None
    units = round(1.0 / value) if 0 < value <= 1 else 0
    if units < 1 or abs(units * value - 1.0) > 1e-9:
        msg = f"{value:g} is not 1/N for a whole N (e.g. 0.05, 0.1, 0.25)"
        raise click.BadParameter(msg)
    return 1.0 / units


@click.command()
@FILE
@model_options
@click.option(
    "--max-kpis",
    type=click.IntRange(min=1),
    default=None,
    help="At most N KPIs with a positive weight per department.",
)
@click.option(
    "--round",
    "step",
    type=float,
    default=None,
    callback=_step,
    metavar="STEP",
    help="Weights in multiples of STEP (e.g. 0.05); the rounded scheme is the one verified "
    "and written.",
)
@click.option(
    "--lever",
    type=click.Choice(["weights", "prices"]),
    default="weights",
    show_default=True,
    help="The lever headlined and written to scheme.yaml: KPI weights, or transfer prices "
    "(every department a profit centre). Both are computed and shown.",
)
@output_options
@dynamics_options
@handle_errors
def design(
    file: Path,
    variant: str | None,
    max_size: int,
    max_kpis: int | None,
    step: float | None,
    lever: str,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """Design KPI weights that make the system optimum each department's own best choice,
    at allocations chosen for it; with --out DIR, also DIR/scheme.yaml, which `evaluate
    --scheme` reproduces."""
    _run(
        "design",
        file,
        variant,
        max_size,
        fmt,
        out,
        options,
        max_kpis=max_kpis,
        step=step,
        lever=lever,
    )


@click.command()
@FILE
@model_options
@scheme_option
@click.option(
    "--incentive",
    "incentives",
    multiple=True,
    metavar="DEPT.KPI=W",
    help="A weight in a department's scheme (repeatable); replaces its current scheme.",
)
@start_plan_option
@output_options
@dynamics_options
@handle_errors
def evaluate(
    file: Path,
    variant: str | None,
    max_size: int,
    scheme_file: Path | None,
    incentives: tuple[str, ...],
    start_plan: Path | None,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """The decentralized outcome under another incentive scheme, against the optimum."""
    from .. import api
    from ..errors import KpiDesignError
    from ..render.files import emit
    from ..render.table import print_compare
    from ..spec import load
    from ..spec.scheme import parse_incentives, read_scheme

    if scheme_file is None and not incentives:
        msg = "give --scheme FILE or at least one --incentive DEPT.KPI=W"
        raise KpiDesignError(msg)
    scheme, where = read_scheme(scheme_file) if scheme_file is not None else ({}, {})
    for dept, weights in parse_incentives(incentives).items():
        scheme[dept] = weights  # the command line replaces that department's file entry
    spec = load(file, variant, max_size=max_size, start_plan=start_plan)
    result = api.evaluate(spec, scheme, options=options, locations=where, scheme_file=scheme_file)
    emit(result.raise_if_failed(), fmt, out, "evaluate", print_compare)


@click.command()
@FILE
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="PATH=VALUES",
    help="A path a scenario's set accepts (resources.budget.total) and its values: a:b:n "
    "(n evenly spaced) or a comma list. Several make a grid.",
)
@click.option(
    "--scale",
    "scales",
    multiple=True,
    metavar="PATH=VALUES",
    help="A path a scenario's scale accepts (params.base_demand) and its factors.",
)
@click.option("--zip", "paired", is_flag=True, help="Pair the i-th values instead of a grid.")
@click.option(
    "--variants",
    type=click.Choice(["all"]),
    default=None,
    help="Every variant of the scenario file as one more axis.",
)
@click.option("--variant", "-V", default=None, help="Sweep this variant of the scenario.")
@max_size_option
@click.option(
    "--analysis",
    type=click.Choice(["solve", "compare", "design", "evaluate"]),
    default="solve",
    show_default=True,
    help="What runs at each point.",
)
@click.option(
    "--scheme",
    type=click.Path(path_type=Path),
    default=None,
    help="The scheme evaluate runs at each point.",
)
@engine_options
@click.option(
    "--resume",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    metavar="DIR",
    help="Continue the sweep kept in DIR (its --out) after an interruption.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--verbose", is_flag=True, help="Let Dask log (and serve its dashboard).")
@output_options
@path_options
@handle_errors
def sweep(
    file: Path,
    sets: tuple[str, ...],
    scales: tuple[str, ...],
    paired: bool,
    variants: str | None,
    variant: str | None,
    max_size: int,
    analysis: str,
    scheme: Path | None,
    engine_workers: int | None,
    engine: str,
    scheduler: str | None,
    resume: Path | None,
    quiet: bool,
    verbose: bool,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """ANALYSIS at every point of a grid of paths (--set, --scale) and variants: one row
    per point, the points' KPIs long, infeasible points with their diagnosis."""
    from .. import api
    from ..render.files import emit
    from ..render.table import print_sweep
    from ..spec.scenario import scenario_variants

    if resume is not None and out is not None and resume != out:
        msg = "--resume DIR continues the sweep kept in DIR: give it alone, or the same --out"
        raise click.UsageError(msg)
    out = out or resume
    if variants == "all" and variant is not None:
        msg = "give --variants all or --variant V, not both"
        raise click.UsageError(msg)
    named: list[str | None] | None = None
    if variants == "all":
        named = list(scenario_variants(file))
        if not named:
            msg = f"{file} has no variants"
            raise click.UsageError(msg)
    elif variant is not None:
        named = [variant]
    bar = _progress() if sys.stderr.isatty() and not quiet else None
    try:
        with bar or contextlib.nullcontext():
            result = api.sweep(
                file, list(sets), list(scales), paired=paired, variants=named,
                analysis=analysis, scheme_file=scheme,
                workers=engine_workers, engine=engine,
                scheduler=scheduler, out=out, resume=resume is not None, max_size=max_size,
                verbose=verbose, progress=None if bar is None else bar.update_to,
                options=options,
            )  # fmt: skip
    except ValueError as exc:  # axes, analysis and scheme that do not go together
        raise click.UsageError(str(exc)) from None
    emit(result, fmt, out, "sweep", print_sweep)


class _progress:
    """A progress bar of points on stderr."""

    def __enter__(self) -> _progress:
        from rich.console import Console
        from rich.progress import Progress

        self._bar = Progress(console=Console(stderr=True), transient=True)
        self._bar.__enter__()
        self._task = self._bar.add_task("points", total=None)
        return self

    def update_to(self, done: int, total: int) -> None:
        """``done`` of ``total`` points finished."""
        self._bar.update(self._task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(*exc)  # type: ignore[arg-type]


@click.command()
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path), required=False)
@click.option(
    "--variant",
    "-V",
    "variants",
    multiple=True,
    help="A variant: twice (A's first, then B's or A's second), or once (with B: both "
    "files' variant; without: A itself against its variant).",
)
@click.option(
    "--analysis",
    type=click.Choice(["solve", "compare", "design"]),
    default="solve",
    show_default=True,
    help="What runs on both sides.",
)
@click.option("--all", "everything", is_flag=True, help="Every figure, not only what changed.")
@max_size_option
@output_options
@path_options
@handle_errors
def diff(
    a: Path,
    b: Path | None,
    variants: tuple[str, ...],
    analysis: str,
    everything: bool,
    max_size: int,
    fmt: str,
    out: Path | None,
    options: Options,
) -> None:
    """Two scenarios, models or variants side by side (A B, or A --variant X --variant Y):
    the objective, allocations, every KPI, shared state (and design's weights), with the
    change; only what changed unless --all."""
    from .. import api
    from ..render.files import emit
    from ..render.table import print_diff
    from ..spec import load

    if len(variants) > 2:
        msg = "at most two --variant: A's and B's"
        raise click.UsageError(msg)
    if b is None and not variants:
        msg = "give two files (A B), or one file and its variants (--variant X [--variant Y])"
        raise click.UsageError(msg)
    if len(variants) == 2:
        pair = (variants[0], variants[1])
    elif b is not None:
        pair = (variants[0], variants[0]) if variants else (None, None)
    else:
        pair = (None, variants[0])
    sides = [(a, pair[0]), (b or a, pair[1])]
    specs = [load(f, v, max_size=max_size) for f, v in sides]
    try:
        result = api.diff(
            specs[0], specs[1], analysis=analysis, everything=everything, options=options
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    emit(result, fmt, out, "diff", print_diff)
