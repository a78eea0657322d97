"""``kpidesign init DIR``: write a commented starter model (model, scenario, CSV data) that
validates, solves, compares and designs as written, for a consultant to adapt."""

from __future__ import annotations

import shlex
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

import click

from ..errors import KpiDesignError
from ..render.files import write_atomic
from .failures import handle_errors, one_line

__all__ = ["init", "starter_files", "write_starter"]

#: what the user runs next, on the scenario the starter writes
NEXT_STEPS = (
    ("validate", "check the files; run it after every change"),
    ("solve", "the company's best plan"),
    ("compare", "status quo vs aligned vs optimum: the cost of misalignment"),
    ("design", "KPI weights and budget allocations that close the gap"),
    ("report", "all of it in one report for the client"),
)


def _walk(folder: Traversable, prefix: PurePosixPath) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    # files before folders: model.yaml, scenario.yaml, then data/*.csv
    for entry in sorted(folder.iterdir(), key=lambda e: (e.is_dir(), e.name)):
        if entry.name.startswith((".", "__")):  # __pycache__, editor files: not starter files
            continue
        if entry.is_dir():
            found.update(_walk(entry, prefix / entry.name))
        else:
            found[str(prefix / entry.name)] = entry.read_bytes()
    return found


def starter_files() -> dict[str, bytes]:
    """The starter files shipped with kpidesign.

    Returns
    -------
    dict
        Each file's path relative to the starter directory (``/``-separated, e.g.
        ``data/demand.csv``) mapped to its bytes, in a stable order.
    """
    return _walk(files("kpidesign") / "starter", PurePosixPath())


def _check_targets(directory: Path, targets: dict[str, Path], force: bool) -> None:
    """Refuse, before anything is written, where a starter file cannot be written or would
    replace a file without ``force``."""
    if directory.exists() and not directory.is_dir():
        msg = f"{directory}: exists and is not a directory"
        raise KpiDesignError(msg)
    existing: list[str] = []
    for rel, path in targets.items():
        for parent in PurePosixPath(rel).parents:
            step = directory / parent
            if str(parent) != "." and step.exists() and not step.is_dir():
                msg = f"{directory}: {parent} exists and is not a directory"
                raise KpiDesignError(msg)
        if path.is_dir():
            msg = f"{directory}: {rel} exists and is a directory"
            raise KpiDesignError(msg)
        if path.exists() or path.is_symlink():
            existing.append(rel)
    if existing and not force:
        msg = (
            f"{directory}: would overwrite {', '.join(existing)}; nothing was written "
            "(use --force to replace them, or choose another directory)"
        )
        raise KpiDesignError(msg)


def write_starter(directory: Path, force: bool = False) -> list[Path]:
    """Write the starter files into ``directory`` (created with its parents).

    Parameters
    ----------
    directory
        Where the files go; ``model.yaml``, ``scenario.yaml`` and ``data/*.csv`` are
        written under it.
    force
        Replace files that already exist.  Without it, an existing file is an error and
        nothing is written.

    Returns
    -------
    list of Path
        The files written, ``directory / relative path`` each, in a stable order.

    Raises
    ------
    KpiDesignError
        ``DIR: ...`` where a file exists (without ``force``), a path is in the way, or a
        file cannot be written.
    """
    contents = starter_files()
    targets = {rel: directory.joinpath(*PurePosixPath(rel).parts) for rel in contents}
    _check_targets(directory, targets, force)
    written: list[Path] = []
    for rel, data in contents.items():
        path = targets[rel]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)  # never half-written; a symlink is replaced
        except OSError as exc:
            reason = exc.strerror or str(exc)
            msg = f"{directory}: cannot write {rel}: {reason}"
            raise KpiDesignError(msg) from None
        written.append(path)
    return written


def next_steps(directory: Path) -> str:
    """The commands to run next on the scenario written into ``directory``."""
    scenario = shlex.quote(str(directory / "scenario.yaml"))
    lines = ["Next steps (then adapt the commented model.yaml to your organization):"]
    width = max(len(name) for name, _ in NEXT_STEPS)
    for name, what in NEXT_STEPS:
        extra = f" --out {shlex.quote(str(directory / name))}" if name == "report" else ""
        lines.append(f"  kpidesign {name:<{width}} {scenario}{extra}    # {what}")
    lines.append(f"  kpidesign compare {scenario} --variant demand_surge    # a what-if")
    return "\n".join(lines) + "\n"


@click.command()
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace starter files that already exist in DIR.")
@handle_errors
def init(directory: Path, force: bool) -> None:
    """Write a commented starter model into DIR (model.yaml, scenario.yaml, data/*.csv)
    that validates, solves, compares and designs as written; existing files are kept
    unless --force."""
    for path in write_starter(directory, force):
        click.echo(f"wrote {one_line(str(path))}", err=True)
    click.echo(next_steps(Path(one_line(str(directory)))), nl=False)
