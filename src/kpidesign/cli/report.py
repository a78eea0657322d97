"""``kpidesign report``: the consultant's deliverable, ``DIR/report.html`` and
``DIR/report.xlsx``, from compare, design (or a given scheme), sensitivity and a frontier
over each resource, run on one compiled program."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from .failures import handle_errors
from .options import (
    FILE,
    actuals_option,
    dynamics_options,
    keep_allocations_option,
    model_options,
    scheme_option,
    through_option,
)

if TYPE_CHECKING:
    from ..options import Options
    from ..results.report import ReportResult

__all__ = ["report"]


def _check_extra() -> None:
    """Stop with one line when the ``report`` extra is not installed."""
    from importlib.util import find_spec

    from ..errors import KpiDesignError
    from ..render.report import REPORT_LIBRARIES

    missing = [m for m in REPORT_LIBRARIES if find_spec(m) is None]
    if missing:
        msg = (
            f"report needs {', '.join(missing)}: install the report extra, "
            "pip install 'kpidesign[report]'"
        )
        raise KpiDesignError(msg)


def _print_summary(result: ReportResult, written: list[Path], console: Console) -> None:
    from ..results.report import percent

    f = result.figures()
    first, second = result.loss_story()
    console.print(f"[bold]{result.title}[/bold]", markup=True)
    console.print(f"misalignment cost: {result.cost_text()}", markup=False)
    console.print(
        f"recommended ({f['recommended']}): {percent(f['recommended_pessimistic_share'])}"
        f" of the optimum on the worst computed path, "
        f"{percent(f['recommended_optimistic_share'])} optimistic",
        markup=False,
    )
    console.print(first, markup=False)
    console.print(second, markup=False)
    if (stressed := result.stress_text()) is not None:
        console.print(stressed, markup=False)
    if (monitored := result.monitoring_text()) is not None:
        console.print(monitored, markup=False)
    for i, d in enumerate(result.decisions(), start=1):
        console.print(f"{i}. {d}", markup=False)
    console.print(f"wrote {', '.join(str(p) for p in written)}", markup=False)


@contextlib.contextmanager
def _progress(console: Console, steps: int) -> Iterator[Callable[[str], None]]:
    """A progress bar on ``console`` (stderr) when it is a terminal: the callback names
    the step starting; a pipe or a log gets nothing, not even a blank line."""
    if not console.is_terminal:
        yield lambda _step: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
    )
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("report", total=steps)
        yield lambda step: bar.update(task, description=step, advance=0 if step == "build" else 1)


@click.command()
@FILE
@model_options
@scheme_option
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("report"),
    show_default=True,
    help="The directory report.html and report.xlsx are written to.",
)
@click.option("--title", default=None, help="The report's title (default: model and scenario).")
@actuals_option(
    required=False,
    help="A plan file of what was done so far: adds the year so far (monitor and reveal).",
)
@through_option
@keep_allocations_option
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="What stdout shows: a summary, or JSON (the files written, the headline figures).",
)
@dynamics_options
@handle_errors
def report(
    file: Path,
    variant: str | None,
    max_size: int,
    scheme_file: Path | None,
    out: Path,
    title: str | None,
    actuals: Path | None,
    through: str | None,
    time_set: str | None,
    keep_allocations: bool,
    fmt: str,
    options: Options,
) -> None:
    """Write DIR/report.html (self-contained, charts inline, prints to A4) and
    DIR/report.xlsx (one sheet per table, native charts) for FILE; with --scheme, that
    scheme is the one recommended (evaluated as evaluate --scheme does) instead of
    design's; with --actuals, the year so far (monitor and reveal) too."""
    _check_extra()
    from .. import api
    from ..errors import KpiDesignError
    from ..render.files import say_written, to_json
    from ..render.report import libraries, write_report
    from ..spec import load
    from ..spec.scheme import read_scheme

    if actuals is None and (through is not None or time_set is not None or keep_allocations):
        msg = "--through, --time-set and --keep-allocations are about the actuals: add --actuals"
        raise KpiDesignError(msg)
    scheme, where = read_scheme(scheme_file) if scheme_file is not None else (None, None)
    spec = load(file, variant, max_size=max_size)
    steps = len(api.REPORT_STEPS) + len(spec.resources) + 1  # build starts at 0, write ends
    steps += 2 if actuals is not None else 0  # monitor, reveal
    stderr = Console(stderr=True)
    with _progress(stderr, steps) as progress:
        result = api.report(
            spec,
            scheme=scheme,
            locations=where,
            scheme_file=scheme_file,
            title=title,
            actuals=actuals,
            through=through,
            time_set=time_set,
            keep_allocations=keep_allocations,
            progress=progress,
            options=options,
        )
        result = dataclasses.replace(result, renderers=libraries())
        progress("write")
        try:
            written = write_report(result, out)
        except OSError as exc:
            msg = f"--out {out}: cannot write the report: {exc.strerror}"
            raise KpiDesignError(msg) from None
    if fmt == "json":
        document = to_json(_Document(result, [str(p) for p in written]))
        print(document, end="")
        say_written([p.name for p in written], out)
    else:
        _print_summary(result, written, Console(highlight=False, soft_wrap=True))


@dataclasses.dataclass(frozen=True)
class _Document:
    """The JSON of ``report``: what ``to_json`` expects of a result."""

    result: ReportResult
    files: list[str]

    def to_dict(self) -> dict:
        return self.result.to_dict(self.files)

    def tables(self) -> dict:
        return {}
