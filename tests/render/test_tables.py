"""The terminal tables: every KPI with its unit and the direction that is good, numbers in
the one format, shared state per period."""

from __future__ import annotations

import io

from conftest import TESTS
from rich.console import Console

import kpidesign
from kpidesign.render.table import print_compare, print_system

STOCK = TESTS / "models" / "compare" / "stock_periods.yaml"


def _text(printer, result) -> str:
    out = io.StringIO()
    printer(result, Console(file=out, width=120, highlight=False))
    return out.getvalue()


def _row(text: str, first: str) -> list[str]:
    line = next(
        ln for ln in text.splitlines() if ln.startswith("│") and ln.strip("│ ").startswith(first)
    )
    return [c.strip() for c in line.strip("│").split("│")]


def test_compare_table_shows_units_and_directions() -> None:
    text = _text(print_compare, kpidesign.compare(STOCK))
    assert "better" in text and "unit" in text
    # A, B, C, then A's range over every computed path (one plan here), then the loss
    assert _row(text, "output *") == ["output *", "units", "higher", "24", "9", "9", "24", ""]
    # a share prints as %, and its goal is the lower value
    assert _row(text, "scrap_share") == [
        "scrap_share", "%", "lower", "1%", "1%", "1%", "1%", "",
    ]  # fmt: skip
    # shared state per period, never the sum over periods (30 for stock)
    assert _row(text, "stock") == ["stock", "average per period", "units", "10", "0", "0"]
    assert _row(text, "lowest per period")[1:] == ["lowest per period", "units", "5", "0", "0"]
    assert "Shared state (totals)" not in text
    assert text.isascii() or all(ord(c) < 128 or 0x2500 <= ord(c) < 0x2580 for c in text), (
        "only the box drawing is not ASCII"
    )


def test_solve_table_shows_units_and_directions() -> None:
    text = _text(print_system, kpidesign.solve(STOCK))
    row = next(r for r in text.splitlines() if "scrap_share" in r)
    assert [c.strip() for c in row.strip("│").split("│")] == [
        "production", "scrap_share (ratio)", "%", "lower", "1%",
    ]  # fmt: skip
    assert _row(text, "cash") == ["cash", "average per period", "EUR", "28"]
