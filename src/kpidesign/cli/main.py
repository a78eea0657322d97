"""The ``kpidesign`` command group; each command lives in the module of its group."""

from __future__ import annotations

import click

from .analyses import compare, design, diff, evaluate, frontier, sensitivity, solve, sweep
from .contract import contract
from .export import export
from .init import init
from .monitor import monitor, reveal
from .report import report
from .schema import schema
from .stress import stress
from .validate import validate

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.version_option(package_name="kpidesign")
def main(debug: bool) -> None:
    """Design KPIs and allocations that make an organization pull in one direction."""


for _command in (
    init, validate, solve, sensitivity, frontier, compare, design, evaluate, contract, stress,
    monitor, reveal, report, sweep, diff, export, schema,
):  # fmt: skip
    main.add_command(_command)
