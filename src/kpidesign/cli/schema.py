"""``kpidesign schema``: the JSON Schema of model and scenario files, for editors."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .failures import handle_errors

__all__ = ["schema"]


@click.command()
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the schema to this file instead of standard output.",
)
@handle_errors
def schema(out: Path | None) -> None:
    """Print the JSON Schema (draft 2020-12) of model and scenario files.

    Point an editor at it (yaml-language-server, VS Code's YAML extension) to complete and
    check keys as you type: see the README, "Editor support".
    """
    from ..render.files import write_option_file
    from ..spec.schema import json_schema_text

    text = json_schema_text()
    if out is None:
        sys.stdout.write(text)
        return
    write_option_file(out, text, "--out")
    click.echo(f"wrote {out}", err=True)
