"""Shared helpers: write model files into a temporary directory, run the CLI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from hypothesis import settings

from kpidesign.cli import main
from kpidesign.model.program import LinearProgram, SparseRow

# the same examples on every run and machine: a red CI run is reproducible, and a failure
# hypothesis found once is pinned as an @example in the test instead of a local database
settings.register_profile("kpidesign", derandomize=True, database=None)
settings.load_profile("kpidesign")

TESTS = Path(__file__).resolve().parent
TINY = TESTS / "models" / "tiny.yaml"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

#: a small valid model: one set, one param, a variable, a department, a constraint
BASE_MODEL = """\
kpidesign: 1
name: base
sets:
  period: 1..3
params:
  cap: 10
variables:
  stock: {over: [period], lb: 0, initial: 0}
departments:
  ops:
    variables:
      make: {over: [period], lb: 0}
    kpis:
      output: {max: "sum(make[t] for t in period)"}
    incentive: {output: 1}
constraints:
  limit:
    for: t in period
    expr: make[t] <= cap
objective:
  max: "sum(make[t] for t in period)"
"""


def write_files(root: Path, text: str, name: str = "model.yaml", **csv: str) -> Path:
    """Write ``text`` (dedented) to ``root/name`` and each ``csv`` to ``root/data/<key>.csv``."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    for stem, content in csv.items():
        target = root / "data" / f"{stem}.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(content), encoding="utf-8")
    return path


@pytest.fixture
def write_model(tmp_path: Path) -> Callable[..., Path]:
    """``write_model(yaml_text, name="model.yaml", **csv_files) -> path`` in ``tmp_path``.

    ``csv_files`` map a stem to CSV text, written as ``data/<stem>.csv`` next to the file.
    """

    def write(text: str, name: str = "model.yaml", **csv: str) -> Path:
        return write_files(tmp_path, text, name, **csv)

    return write


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """The 1-based line of the ``nth`` line of ``path`` containing ``needle``."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), start=1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} not found {nth} time(s) in {path}"
    return hits[nth - 1]


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


@pytest.fixture
def run_cli() -> Callable[..., CliResult]:
    """Run ``kpidesign ARGS...`` in-process; stdout and stderr kept apart, ANSI stripped."""

    def run(*args: str | Path) -> CliResult:
        runner = CliRunner(env={"COLUMNS": "200"})
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=True)
        return CliResult(
            result.exit_code,
            _ANSI.sub("", result.stdout),
            _ANSI.sub("", result.stderr),
            result.exception,
        )

    return run


def kpidesign_executable() -> str:
    """The console script installed beside this interpreter (the project's venv)."""
    found = shutil.which("kpidesign", path=str(Path(sys.executable).parent)) or shutil.which(
        "kpidesign"
    )
    assert found, "the kpidesign console script is not installed (pip install -e .)"
    return found


def run_kpidesign(
    *args: str | Path, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed executable with ``args``, as a user's shell runs it (no pytest
    variables in its environment, no stdin, 200 columns), its output captured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [kpidesign_executable(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
        cwd=cwd,
    )


def packing_lp(seed: int, m: int, n: int, density: float) -> dict:
    """``max c x, A x <= b, 0 <= x <= 10`` with positive A (``density`` of the entries,
    uniform on [0.1, 1]; built densely: scipy 1.11 has no random_array): feasible (x = 0),
    bounded, and not reduced away by presolve; the arrays of ``HighsSession.from_arrays``."""
    rng = np.random.default_rng(seed)
    A = sp.csc_array(rng.uniform(0.1, 1.0, (m, n)) * (rng.random((m, n)) < density))
    return {
        "cost": rng.uniform(1.0, 2.0, n),
        "sense": "max",
        "A": A,
        "col_lower": np.zeros(n),
        "col_upper": np.full(n, 10.0),
        "row_lower": np.full(m, -np.inf),
        "row_upper": rng.uniform(5.0, 10.0, m),
    }


def _same_row(a: SparseRow, b: SparseRow) -> bool:
    return (
        np.array_equal(a.indices, b.indices)
        and np.array_equal(a.values, b.values)
        and a.constant == b.constant
    )


def assert_same_program(got: LinearProgram, want: LinearProgram) -> None:
    """Array for array (the matrix in the same canonical form HiGHS receives)."""
    for k in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(got.A, k), getattr(want.A, k)), k
    for k in ("row_lower", "row_upper", "col_lower", "col_upper"):
        assert np.array_equal(getattr(got, k), getattr(want, k)), k
        # -0.0 equals 0.0 but prints as "-0" in a message
        assert np.array_equal(np.signbit(getattr(got, k)), np.signbit(getattr(want, k))), k
    assert _same_row(got.objective, want.objective)
    assert got.kpis.keys() == want.kpis.keys()
    for name, rows in want.kpis.items():
        assert _same_row(got.kpis[name].numerator, rows.numerator), name
        if rows.denominator is None:
            assert got.kpis[name].denominator is None
        else:
            assert _same_row(got.kpis[name].denominator, rows.denominator), name
