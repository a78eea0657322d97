"""The consultant's deliverable: ``report.html`` (self-contained, charts inline) and
``report.xlsx`` (one sheet per table, native charts), drawn from one
:class:`~kpidesign.results.report.ReportResult`.

Needs the ``report`` extra (jinja2, matplotlib, xlsxwriter): ``pip install
'kpidesign[report]'``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ...results.report import ReportResult
from ..files import write_atomic

__all__ = ["REPORT_LIBRARIES", "render", "write_report"]

#: the libraries that draw the report (their import names are their package names), named
#: in its provenance and checked before a report is run
REPORT_LIBRARIES = ("jinja2", "matplotlib", "xlsxwriter")


def libraries() -> dict[str, str]:
    """The versions of :data:`REPORT_LIBRARIES` (``missing`` for one not installed)."""
    out = {}
    for name in REPORT_LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    return out


def render(result: ReportResult) -> dict[str, str | bytes]:
    """The report's files by name: ``report.html`` and ``report.xlsx``."""
    from .html import render_html
    from .workbook import render_workbook

    return {"report.html": render_html(result), "report.xlsx": render_workbook(result)}


def write_report(result: ReportResult, out: Path) -> list[Path]:
    """Render the report and write its files into ``out`` (created if needed), each to a
    temporary name first; the paths written, in order."""
    files = render(result)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        write_atomic(out / name, content)
        written.append(out / name)
    return written
