"""The report's tables as an Excel workbook: one sheet per table, number formats, frozen
header rows, column widths, and native Excel charts of the plans and the frontier.

Written with xlsxwriter: it writes charts Excel edits natively and reproducible files (its
zip entries carry a fixed date; the document's creation date is set here).  It writes a
number with 16 significant digits (``f"{number:.16G}"``), so a quarter of all doubles
would read back one unit in the last place off the JSON; every number is therefore handed
to it as :class:`_Exact`, a float whose ``format()`` is its shortest round-trip
representation, which Excel and openpyxl read back as the very same double.  Before 3.2.1
xlsxwriter formatted with ``%``, which bypasses ``format()``: hence the lower bound, and
the tests compare every number read back on the oldest and the newest releases.
"""

from __future__ import annotations

import datetime
import io
import math
from typing import Any

import pandas as pd
import xlsxwriter

from ...results.report import ReportResult

__all__ = ["render_workbook"]

#: the fixed creation date of every workbook (a date in the file would break byte-identity)
CREATED = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)

#: sheet descriptions on the contents sheet, in sheet order
SHEETS = {
    "headline": "the figures on the report's headline page",
    "plans": "the company objective under each plan",
    "kpis": "every KPI of every department (and the company's) under each plan",
    "state_by_period": "shared state per period and plan",
    "scorecards": "weights today and under the recommended scheme",
    "exchange_rates": "the recommended weights as exchange rates",
    "allocations": "allocations at today's plan: shadow price and its range",
    "reallocation": "moves that raise the objective, verified by a re-solve",
    "margins": "what each intentional margin costs",
    "constraints": "every constraint row: shadow price, slack, right-hand-side range",
    "frontier": "the company objective against each resource's total (breakpoints)",
    "frontier_slopes": "the slope between breakpoints",
    "notes": "notes and flags of every analysis",
    "stress": "each plan's objective over the scenario's shocks (stress)",
    "stress_futures": "each plan's objective in each future drawn",
    "contract_terms": "contract terms: today's, the contract's, the range allowed",
    "contract_partners": "each partner's profit today and under the contract, with payments",
    "monitor_attribution": "the value lost so far, each department's part (Shapley values)",
    "monitor_drift": "every observed decision and KPI: plan, actual, drift",
    "reveal_fit": "per department: fit of the revealed and of the official scorecard",
    "reveal_weights": "per department and KPI: revealed weight, interval, official weight",
    "provenance": "versions, input digests, options",
}

_WEIGHTS = {"current", "recommended", "paid", "rate"}
_SHARES = {"misalignment_cost", "reallocation_gain"}


class _Exact(float):
    """A float that xlsxwriter writes with every digit: its format is its ``repr``."""

    def __format__(self, spec: str) -> str:
        return repr(float(self))


def _value(x: Any) -> Any:
    if isinstance(x, bool) or x is None:
        return x
    if isinstance(x, float | int):
        return _Exact(x) if math.isfinite(x) else None
    return str(x)


def _share_row(figure_name: object) -> bool:
    name = str(figure_name)
    return name in _SHARES or name.startswith("misalignment_cost") or name.endswith("_share")


def _write_sheet(
    book: xlsxwriter.Workbook, name: str, frame: pd.DataFrame, formats: dict[str, Any]
) -> xlsxwriter.workbook.Worksheet:
    sheet = book.add_worksheet(name)
    sheet.freeze_panes(1, 0)
    widths = [len(str(c)) for c in frame.columns]
    for j, column in enumerate(frame.columns):
        sheet.write_string(0, j, str(column), formats["header"])
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        for j, (column, x) in enumerate(zip(frame.columns, row, strict=True)):
            value = _value(x)
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(i, j, value)
                text = str(value)
            elif isinstance(value, float):
                if name == "headline" and _share_row(row[0]):
                    style = formats["share"]
                elif column in _WEIGHTS:
                    style = formats["weight"]
                else:
                    style = formats["number"]
                sheet.write_number(i, j, value, style)
                text = f"{float(value):,.2f}"
            else:
                sheet.write_string(i, j, value)
                text = value
            widths[j] = max(widths[j], min(len(text), 80))
    for j, width in enumerate(widths):
        sheet.set_column(j, j, width + 2)
    if len(frame.columns):
        sheet.autofilter(0, 0, max(len(frame), 1), len(frame.columns) - 1)
    return sheet


def _plans_chart(book: xlsxwriter.Workbook, sheet: Any, frame: pd.DataFrame) -> None:
    chart = book.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": "company objective",
            "categories": ["plans", 1, 0, len(frame), 0],
            "values": ["plans", 1, 1, len(frame), 1],
            "fill": {"color": "#2471A3"},
        }
    )
    chart.set_title({"name": "Company objective per plan"})
    chart.set_legend({"none": True})
    chart.set_y_axis({"num_format": "#,##0"})
    sheet.insert_chart(1, 3, chart, {"x_scale": 1.4, "y_scale": 1.2})


def _frontier_chart(book: xlsxwriter.Workbook, sheet: Any, frame: pd.DataFrame) -> None:
    chart = book.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    for resource in dict.fromkeys(frame.resource):
        rows = [i for i, r in enumerate(frame.resource, start=1) if r == resource]
        first, last = rows[0], rows[-1]  # one resource's points are consecutive rows
        chart.add_series(
            {
                "name": str(resource),
                "categories": ["frontier", first, 1, last, 1],
                "values": ["frontier", first, 2, last, 2],
                "marker": {"type": "circle", "size": 5},
            }
        )
    chart.set_title({"name": "Company objective against each resource's total"})
    chart.set_x_axis({"name": "total", "num_format": "#,##0"})
    chart.set_y_axis({"name": "company objective", "num_format": "#,##0"})
    sheet.insert_chart(1, 4, chart, {"x_scale": 1.4, "y_scale": 1.3})


def render_workbook(result: ReportResult) -> bytes:
    """The workbook's bytes: a contents sheet, then one sheet per table of the report."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    book.set_properties(
        {
            "title": result.title,
            "subject": f"kpidesign report: {result.run.model}, {result.run.scenario}",
            "author": "kpidesign",
            "created": CREATED.replace(tzinfo=None),
        }
    )
    formats = {
        "header": book.add_format({"bold": True, "bg_color": "#F4F6F6", "bottom": 1}),
        "number": book.add_format({"num_format": "#,##0.00"}),
        "weight": book.add_format({"num_format": "0.0000"}),
        "share": book.add_format({"num_format": "0.00%"}),
        "title": book.add_format({"bold": True, "font_size": 14}),
    }
    contents = book.add_worksheet("contents")
    contents.write_string(0, 0, result.title, formats["title"])
    first, second = result.loss_story()
    contents.write_string(1, 0, first)
    contents.write_string(2, 0, second)
    contents.write_string(4, 0, "sheet", formats["header"])
    contents.write_string(4, 1, "what it holds", formats["header"])
    tables = result.tables()
    for i, name in enumerate(tables, start=5):
        contents.write_url(i, 0, f"internal:'{name}'!A1", string=name)
        contents.write_string(i, 1, SHEETS.get(name, ""))
    contents.set_column(0, 0, 18)
    contents.set_column(1, 1, 70)
    for name, frame in tables.items():
        sheet = _write_sheet(book, name, frame, formats)
        if name == "plans":
            _plans_chart(book, sheet, frame)
        elif name == "frontier" and len(frame):
            _frontier_chart(book, sheet, frame)
    book.close()
    return buffer.getvalue()
