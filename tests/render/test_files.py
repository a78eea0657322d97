"""``render.files.emit``: what goes to stdout, what is written under ``--out``, and that a
failed write never replaces an earlier file."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TESTS

import kpidesign
from kpidesign.render.files import emit
from kpidesign.results import SystemResult

WYNDOR = TESTS / "models" / "textbook" / "wyndor.yaml"


@pytest.fixture(scope="module")
def result() -> SystemResult:
    return kpidesign.solve(WYNDOR)


def _no_table(result: object, console: object) -> None:
    raise AssertionError("only --format table renders a table")


def test_the_wrote_line_is_one_line_however_long_the_path(
    result: SystemResult,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # a pipe: rich would wrap at 80 columns
    out_dir = tmp_path / ("results-" * 12)
    emit(result, "json", out_dir, "solve", _no_table)
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"wrote solve.json to {out_dir}\n"


@pytest.mark.parametrize("name", ["out[bold]x", "out[final]", "[/]"])
def test_the_wrote_line_names_the_directory_as_given(
    result: SystemResult, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """Square brackets in a path are text, not rich markup to be swallowed."""
    out_dir = tmp_path / name
    emit(result, "json", out_dir, "solve", _no_table)
    assert out_dir.is_dir()
    assert capsys.readouterr().err == f"wrote solve.json to {out_dir}\n"
