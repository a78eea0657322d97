"""Params read from a sheet of an .xlsx workbook: the same values as the same table in a
CSV, every error located by file, sheet, row and cell."""

from __future__ import annotations

import subprocess
from pathlib import Path

import openpyxl
import pytest
from conftest import BASE_MODEL, kpidesign_executable, write_files

import kpidesign
from kpidesign.errors import SpecError

MODEL = BASE_MODEL.replace("  cap: 10\n", "  cap: {file: data/cap.xlsx, sheet: Q1}\n").replace(
    "make[t] <= cap", "make[t] <= cap[t]"
)


def _book(path: Path, sheets: dict[str, list[tuple]]) -> Path:
    """A workbook with ``sheets`` (name -> rows), written by openpyxl."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(list(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _errors(path: Path) -> list[str]:
    with pytest.raises(SpecError) as exc:
        kpidesign.load(path)
    return list(exc.value.messages)


def test_a_sheet_reads_as_the_same_table_in_a_csv(tmp_path) -> None:
    rows = [("period", "value"), (1, 4.0), (2, 5.5), (3, 6)]
    _book(tmp_path / "data" / "cap.xlsx", {"Q0": [("x",)], "Q1": rows})
    from_sheet = kpidesign.solve(write_files(tmp_path, MODEL))
    csv_model = MODEL.replace("{file: data/cap.xlsx, sheet: Q1}", "{file: data/cap.csv}")
    from_csv = kpidesign.solve(
        write_files(tmp_path, csv_model, "csv.yaml", cap="period,value\n1,4\n2,5.5\n3,6\n")
    )
    assert from_sheet.objective == pytest.approx(15.5) == from_csv.objective
    # the workbook is one of the run's inputs (its digest in the run block)
    assert any(name.endswith("cap.xlsx") for name, _ in from_sheet.run.inputs)


def test_the_first_sheet_when_none_is_named(tmp_path) -> None:
    _book(tmp_path / "data" / "cap.xlsx", {"Budget": [("period", "value"), (1, 1), (2, 1), (3, 1)]})
    model = MODEL.replace("{file: data/cap.xlsx, sheet: Q1}", "{file: data/cap.xlsx}")
    assert kpidesign.solve(write_files(tmp_path, model)).objective == pytest.approx(3.0)


def test_bad_cells_are_located_by_file_sheet_row_and_cell(tmp_path) -> None:
    rows = [("period", "value"), (1, "lots"), (7, 2), (3, None)]
    book = _book(tmp_path / "data" / "cap.xlsx", {"Q1": rows})
    errors = _errors(write_files(tmp_path, MODEL))
    where = f"{book}[Q1]"
    assert errors == [
        f"{where}:2: B2: value 'lots' is missing or not a finite number (param 'cap')",
        f"{where}:3: A3: period '7' is not a member of set 'period' (param 'cap')",
        f"{where}:4: B4: value '' is missing or not a finite number (param 'cap')",
    ]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: _book(d / "cap.xlsx", {"Q2": [("period", "value")]}), "no sheet 'Q1' (has: Q2)"),
        (lambda d: (d / "cap.xlsx").write_text("period,value\n"), "not an .xlsx workbook"),
        (lambda d: None, "workbook not found"),
        (
            lambda d: _book(d / "cap.xlsx", {"Q1": [("month", "value"), (1, 2)]}),
            "column 'month' is not a set",
        ),
    ],
    ids=["unknown sheet", "not a workbook", "missing", "wrong columns"],
)
def test_unreadable_workbooks_are_one_located_line(tmp_path, setup, message) -> None:
    (tmp_path / "data").mkdir()
    setup(tmp_path / "data")
    path = write_files(tmp_path, MODEL)
    errors = _errors(path)
    assert len(errors) == 1 and message in errors[0]
    assert errors[0].startswith(f"{path}:")  # at the model's `file:` key


def test_a_sheet_on_a_csv_file_is_an_error(tmp_path) -> None:
    model = MODEL.replace("cap.xlsx", "cap.csv")
    path = write_files(tmp_path, model, cap="period,value\n1,1\n2,1\n3,1\n")
    (line,) = _errors(path)
    assert "params.cap.sheet: sheet names a sheet (text) of an .xlsx file" in line


def test_the_executable_reports_a_bad_cell_with_exit_status_2(tmp_path) -> None:
    _book(tmp_path / "data" / "cap.xlsx", {"Q1": [("period", "value"), (1, "x"), (2, 1), (3, 1)]})
    path = write_files(tmp_path, MODEL)
    proc = subprocess.run(
        [kpidesign_executable(), "solve", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "cap.xlsx[Q1]:2: B2: value 'x'" in proc.stderr
