"""``render.files.emit``: what goes to stdout, what is written under ``--out``, and that a
failed write never replaces an earlier file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from conftest import TESTS

import kpidesign
from kpidesign.errors import KpiDesignError
from kpidesign.render import files
from kpidesign.render.files import emit, to_json
from kpidesign.render.table import print_system
from kpidesign.results import SystemResult

WYNDOR = TESTS / "models" / "textbook" / "wyndor.yaml"


@pytest.fixture(scope="module")
def result() -> SystemResult:
    return kpidesign.solve(WYNDOR)


class _Fake:
    """A result with numbers JSON has no literal for."""

    def to_dict(self) -> dict:
        return {"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5], "c": {1: "x"}}

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"one": pd.DataFrame({"x": [1.0, 0.5]}), "two": pd.DataFrame({"y": ["a"]})}


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


def test_json_to_stdout_is_exactly_one_document(
    result: SystemResult, capsys: pytest.CaptureFixture[str]
) -> None:
    emit(result, "json", None, "solve", _no_table)
    out, err = capsys.readouterr()
    assert err == ""
    document, end = json.JSONDecoder().raw_decode(out)
    assert out[end:] == "\n"  # one document, one newline, nothing else
    assert out == to_json(result)
    assert document["status"] == "optimal"
    assert document["objective"] == pytest.approx(36.0)


def test_json_with_out_goes_to_a_file_not_to_stdout(
    result: SystemResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "new" / "dir"  # created on demand
    emit(result, "json", out_dir, "solve", _no_table)
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"wrote solve.json to {out_dir}\n"
    assert [p.name for p in out_dir.iterdir()] == ["solve.json"]
    assert (out_dir / "solve.json").read_text() == to_json(result)


def test_json_has_no_nan_or_infinity_literals(capsys: pytest.CaptureFixture[str]) -> None:
    emit(_Fake(), "json", None, "x", _no_table)
    out, _ = capsys.readouterr()
    assert "NaN" not in out and "Infinity" not in out
    assert json.loads(out) == {"a": None, "b": [None, None, 1.5], "c": {"1": "x"}}


def test_csv_needs_out(result: SystemResult, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(KpiDesignError) as caught:
        emit(result, "csv", None, "solve", _no_table)
    assert caught.value.messages == ["--format csv writes several tables: give --out DIR"]
    assert capsys.readouterr() == ("", "")


def test_csv_writes_one_file_per_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    emit(_Fake(), "csv", tmp_path, "x", _no_table)
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"wrote x_one.csv, x_two.csv to {tmp_path}\n"
    assert (tmp_path / "x_one.csv").read_text() == "x\n1\n0.5\n"
    assert (tmp_path / "x_two.csv").read_text() == "y\na\n"


def test_an_out_path_that_is_a_file_is_a_clear_error(result: SystemResult, tmp_path: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a directory\n")
    with pytest.raises(KpiDesignError, match=r"--out .*taken/sub: cannot create the directory"):
        emit(result, "json", blocker / "sub", "solve", _no_table)


def test_table_with_out_prints_and_writes_the_same_table(
    result: SystemResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emit(result, "table", tmp_path, "solve", print_system)
    out, err = capsys.readouterr()
    assert err == ""  # tables say nothing about the file they wrote
    written = (tmp_path / "solve.txt").read_text()
    assert "system optimum" in out
    assert written == out  # a pipe and the file: both 120 columns, no colour codes
    assert [p.name for p in tmp_path.iterdir()] == ["solve.txt"]


class _Boom(OSError):
    pass


def _earlier(tmp_path: Path) -> Path:
    path = tmp_path / "solve.json"
    path.write_text("earlier result\n")
    return path


def test_a_write_that_fails_midway_keeps_the_earlier_file(
    result: SystemResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new text goes to a temporary file first: the disk fills up after a few bytes,
    and the earlier result is still there, whole, with no temporary file left beside it."""
    path = _earlier(tmp_path)
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, fh: object) -> None:
            self.fh = fh

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()  # type: ignore[attr-defined]

        def write(self, text: str) -> int:
            self.fh.write(text[:10])  # type: ignore[attr-defined]
            self.fh.flush()  # type: ignore[attr-defined]
            raise _Boom("No space left on device")

    monkeypatch.setattr(files.os, "fdopen", lambda *a, **k: HalfWriter(real_fdopen(*a, **k)))
    with pytest.raises(_Boom):
        emit(result, "json", tmp_path, "solve", _no_table)
    assert path.read_text() == "earlier result\n"
    assert [p.name for p in tmp_path.iterdir()] == ["solve.json"]


def test_a_rename_that_fails_keeps_the_earlier_file(
    result: SystemResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _earlier(tmp_path)
    renamed: list[tuple[str, str]] = []

    def failing_replace(src: str, dst: str) -> None:
        renamed.append((src, dst))
        assert Path(src).read_text() == to_json(result)  # the new text was complete
        raise _Boom("rename refused")

    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(_Boom):
        emit(result, "json", tmp_path, "solve", _no_table)
    assert len(renamed) == 1 and Path(renamed[0][1]) == path
    assert Path(renamed[0][0]).parent == tmp_path  # same directory: a rename, not a copy
    assert path.read_text() == "earlier result\n"
    assert [p.name for p in tmp_path.iterdir()] == ["solve.json"]


def test_a_successful_write_replaces_the_earlier_file(result: SystemResult, tmp_path: Path) -> None:
    path = _earlier(tmp_path)
    emit(result, "json", tmp_path, "solve", _no_table)
    assert path.read_text() == to_json(result)
    assert [p.name for p in tmp_path.iterdir()] == ["solve.json"]
