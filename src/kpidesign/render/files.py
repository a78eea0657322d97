"""Writing results: ``--format table|json|csv`` to stdout, and files under ``--out DIR``.

Files are written to a temporary name and renamed into place, so an interrupted or failed
run never leaves a half-written file, and files from earlier runs are replaced only once
the new result exists.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from rich.console import Console

from ..errors import KpiDesignError

__all__ = ["FORMATS", "emit", "say_written", "to_json", "write_atomic"]

FORMATS = ("table", "json", "csv")


class Result(Protocol):
    def to_dict(self) -> dict: ...
    def tables(self) -> dict[str, pd.DataFrame]: ...


def _jsonable(x: Any) -> Any:
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return None
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    return x


def to_json(result: Result) -> str:
    """Deterministic JSON (NaN/inf become null) ending with a newline."""
    return json.dumps(_jsonable(result.to_dict()), indent=2, allow_nan=False) + "\n"


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.10g")


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8, line endings as given; bytes as they are) to a
    temporary file beside ``path``, then rename it into place, readable as any new file
    is under the process's umask (a temporary file is created private)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        if isinstance(content, bytes):
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_option_file(path: Path, content: str | bytes, option: str) -> None:
    """:func:`write_atomic` for a file a command-line option names (``--out``, ``--lp``):
    a file that cannot be written is a user error naming the option, not a traceback."""
    try:
        write_atomic(path, content)
    except OSError as exc:
        msg = f"{option} {path}: cannot write the file: {exc.strerror or exc}"
        raise KpiDesignError(msg) from None


def say_written(names: list[str], out: Path) -> None:
    """The one stderr line of a command that wrote files: ``wrote a.json, b.csv to DIR``;
    the path as given, on one line (no markup read from it, no wrapping at 80 columns,
    rich's width in a pipe)."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"wrote {', '.join(names)} to {out}", highlight=False, markup=False
    )


def emit(
    result: Result,
    fmt: str,
    out: Path | None,
    name: str,
    render_table: Callable[[Result, Console], None],
) -> None:
    """Print ``result`` in ``fmt``; with ``out``, also write it under that directory."""
    if fmt == "csv" and out is None:
        msg = "--format csv writes several tables: give --out DIR"
        raise KpiDesignError(msg)
    files: dict[str, str] = {}
    if fmt == "json":
        text = to_json(result)
        files[f"{name}.json"] = text
        if out is None:
            print(text, end="")
    elif fmt == "csv":
        for table, frame in result.tables().items():
            files[f"{name}_{table}.csv"] = _csv(frame)
    else:
        # piped output gets a readable width instead of rich's 80 columns
        console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
        render_table(result, console)
        if out is not None:
            record = Console(record=True, width=120, file=io.StringIO(), highlight=False)
            render_table(result, record)
            files[f"{name}.txt"] = record.export_text()
    if out is not None:
        documents = getattr(result, "documents", None)
        if documents is not None:
            files.update(documents())
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = f"--out {out}: cannot create the directory: {exc.strerror}"
            raise KpiDesignError(msg) from None
        for filename, text in files.items():
            write_atomic(out / filename, text)
        if fmt != "table":
            say_written(sorted(files), out)
