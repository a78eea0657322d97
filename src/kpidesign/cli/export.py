"""``kpidesign export``: the model as Pyomo builds it, written as an LP or MPS file for
audit (the solve path itself never builds Pyomo objects)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from ..errors import KpiDesignError
from .failures import handle_errors
from .options import FILE, model_options

__all__ = ["export"]

_OUT = click.Path(path_type=Path, dir_okay=False)


@click.command()
@FILE
@model_options
@click.option("--lp", "lp_out", type=_OUT, default=None, help="Write the model as an LP file.")
@click.option("--mps", "mps_out", type=_OUT, default=None, help="Write the model as an MPS file.")
@handle_errors
def export(
    file: Path, variant: str | None, max_size: int, lp_out: Path | None, mps_out: Path | None
) -> None:
    """Build FILE as a Pyomo model and write it as an LP and/or MPS file.

    Rows and columns carry the model's names (``capacity[2]``, ``made[standard,3]``); the
    numbers are those every analysis solves (the tests check the program against Pyomo's
    standard form entry by entry).
    """
    from ..model.build import build
    from ..render.files import write_option_file
    from ..spec import load

    if lp_out is None and mps_out is None:
        msg = "export: give --lp FILE and/or --mps FILE"
        raise KpiDesignError(msg)
    built = build(load(file, variant, max_size=max_size))
    for out, fmt in ((lp_out, "lp"), (mps_out, "mps")):
        if out is None:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            written = Path(tmp) / f"model.{fmt}"
            # the format from the file's extension: .lp is CPLEX LP, .mps is MPS
            built.model.write(str(written), io_options={"symbolic_solver_labels": True})
            text = written.read_bytes()
        write_option_file(out, text, f"--{fmt}")
        click.echo(f"wrote {out}", err=True)
