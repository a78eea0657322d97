"""``kpidesign report``: the HTML report opened in headless Chromium, the workbook re-read
and compared with the JSON of the same input, byte-identical reruns.

The seed scenario is the acceptance run (once per module, through the installed
executable); the starter model of ``kpidesign init`` is the quick one for determinism,
the ``--scheme`` path and errors.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path

import openpyxl
import pytest
from browser import is_blank, open_page
from click.testing import CliRunner
from conftest import TESTS, run_kpidesign

from kpidesign.cli import main
from kpidesign.cli.init import write_starter
from kpidesign.results.common import figure

ROOT = TESTS.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"

#: what the page reports about itself, evaluated in Chromium after load
PAGE = {
    "charts": "document.querySelectorAll('figure.chart svg').length",
    # per chart: its id and how many of its series marks have a visible size
    "series": """Array.from(document.querySelectorAll('figure.chart')).map(f => [f.id,
        Array.from(f.querySelectorAll('svg [id*="-series-"]')).filter(e => {
            const b = e.getBoundingClientRect(); return b.width > 0 || b.height > 0; }).length])""",
    "cost": "document.getElementById('misalignment-cost').innerText",
    "cost_note": "document.getElementById('misalignment-cost').nextElementSibling.innerText",
    "recommended": "document.getElementById('recommended-share').innerText",
    "title": "document.title",
    "external": """Array.from(document.querySelectorAll('[src],[href]')).map(
        e => e.getAttribute('src') || e.getAttribute('href')).filter(u => !u.startsWith('#'))""",
}


def run(*args: str | Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return run_kpidesign(*args, timeout=timeout, cwd=ROOT)


def cli_json(*args: str | Path) -> dict:
    res = CliRunner().invoke(main, [*map(str, args), "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def sheet(book: openpyxl.Workbook, name: str) -> list[dict]:
    rows = list(book[name].iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, r, strict=True)) for r in rows[1:]]


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


# -- the acceptance run: the seed scenario --------------------------------------------


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("seed") / "out"
    res = run("report", BASELINE, "--out", out, "--format", "json")
    assert res.returncode == 0, res.stderr
    # one line, as every command with --out says; no progress bar left behind in a pipe
    assert res.stderr == f"wrote report.html, report.xlsx to {out}\n"
    return out, json.loads(res.stdout)  # the whole of stdout: one JSON document


@pytest.fixture(scope="module")
def analyses() -> dict[str, dict]:
    """compare, design, sensitivity and frontier --format json of the same input."""
    return {
        "compare": cli_json("compare", BASELINE),
        "design": cli_json("design", BASELINE),
        "sensitivity": cli_json("sensitivity", BASELINE),
        "frontier": cli_json("frontier", BASELINE, "--resource", "budget"),
    }


@pytest.fixture(scope="module")
def page(seed: tuple[Path, dict]):
    return open_page(seed[0] / "report.html", evaluations=PAGE)


def test_report_lists_its_files_and_headline(seed: tuple[Path, dict]) -> None:
    out, doc = seed
    assert doc["files"] == [str(out / "report.html"), str(out / "report.xlsx")]
    assert all(Path(f).stat().st_size > 0 for f in doc["files"])
    assert len(doc["story"]) == 2
    assert len(doc["decisions"]) == 3
    assert doc["headline"]["recommended"] == "design"
    inputs = {Path(p).name: digest for p, digest in doc["run"]["inputs"].items()}
    assert set(inputs) == {"baseline.yaml", "manufacturer.yaml", "base_demand.csv"}
    assert all(digest.startswith("sha256:") for digest in inputs.values())


def test_report_states_what_compare_and_design_state(
    seed: tuple[Path, dict], analyses: dict[str, dict], page
) -> None:
    head = seed[1]["headline"]
    c, d = analyses["compare"], analyses["design"]
    assert head["misalignment_cost"] == c["misalignment_cost"]
    assert head["misalignment_cost_min"] == c["misalignment_cost_range"]["min"]
    assert head["misalignment_cost_max"] == c["misalignment_cost_range"]["max"]
    assert head["optimum"] == c["plans"]["system"]["objective"]
    assert head["status_quo_worst"] == c["status_quo_range"]["min"]  # maximized
    assert head["recommended_pessimistic"] == d["verification"]["objective"]
    assert head["recommended_pessimistic_share"] == d["verification"]["share_of_optimum"]
    optimistic = d["verification"]["optimistic"]["share_of_optimum"]
    assert head["recommended_optimistic_share"] == optimistic
    low, high = c["misalignment_cost_range"]["min"], c["misalignment_cost_range"]["max"]
    file_order = c["misalignment_cost"]
    assert page.values["cost"] == f"{pct(low)}–{pct(high)}"
    assert page.values["cost_note"].endswith(f"(file order {pct(file_order)})")
    assert page.values["recommended"] == pct(d["verification"]["share_of_optimum"])


def test_report_opens_offline_in_chromium_with_its_charts(page) -> None:
    assert page.console_errors == []
    assert page.requests == []
    assert page.data_urls == []
    assert page.values["external"] == []
    assert page.values["charts"] >= 5
    drawn = dict(page.values["series"])
    assert set(drawn) >= {
        "chart-plans", "chart-paradox", "chart-scorecards", "chart-frontier-budget",
        "chart-prices", "chart-state-inventory", "chart-state-cash",
    }  # fmt: skip
    assert all(n > 0 for n in drawn.values()), drawn  # every chart shows its series
    assert page.values["title"] == "manufacturer: baseline"
    assert not is_blank(page.screenshot)
    assert page.pdf_pages >= 5  # prints to A4, a page per section
    target = os.environ.get("KPIDESIGN_SCREENSHOT")
    if target:  # how docs/report.png is made: KPIDESIGN_SCREENSHOT=docs/report.png pytest …
        Path(target).write_bytes(page.screenshot)


def test_paradox_chart_has_a_bar_per_plan_for_each_paid_kpi(seed: tuple[Path, dict]) -> None:
    html = (seed[0] / "report.html").read_text()
    # three paid KPIs with a nonzero aligned value (volume, unit cost, freight per unit)
    # and the company objective; escape rate and interest are charted too if not 0
    for plan in ("status_quo", "aligned", "system"):
        assert html.count(f'id="paradox-series-{plan}-') >= 4


def test_workbook_reproduces_the_json_exactly(
    seed: tuple[Path, dict], analyses: dict[str, dict]
) -> None:
    out, doc = seed
    book = openpyxl.load_workbook(out / "report.xlsx")
    c, d, s, f = (analyses[k] for k in ("compare", "design", "sensitivity", "frontier"))
    headline = {r["figure"]: r["value"] for r in sheet(book, "headline")}
    assert headline == doc["headline"]
    plans = {r["plan"]: r["objective"] for r in sheet(book, "plans")}
    assert {p: plans[p] for p in c["plans"]} == {p: v["objective"] for p, v in c["plans"].items()}
    kpis = sheet(book, "kpis")
    assert len(kpis) == 93
    for r in kpis:
        where = c["departments"][r["department"]]["kpis"] if r["department"] else c["company_kpis"]
        assert r["value"] == where[r["kpi"]][r["plan"]], r
    periods = sheet(book, "state_by_period")
    assert periods
    for r in periods:
        assert r["value"] == c["state_by_period"][r["variable"]]["periods"][r["period"]][r["plan"]]
    for r in sheet(book, "scorecards"):
        assert r["recommended"] == d["departments"][r["department"]]["weights"].get(r["kpi"], 0)
    for r in sheet(book, "allocations"):
        a = s["allocation"][r["department"]][r["resource"]]
        assert (r["allocation"], r["dual"], r["lower"], r["upper"]) == (
            a["value"], a["dual"], a["lower"], a["upper"],
        )  # fmt: skip
    points = [(r["total"], r["objective"]) for r in sheet(book, "frontier")]
    assert points == [(p["total"], p["objective"]) for p in f["points"]]
    slopes = [(r["from"], r["to"], r["slope"]) for r in sheet(book, "frontier_slopes")]
    assert slopes == [(p["from"], p["to"], p["slope"]) for p in f["slopes"]]
    constraints = sheet(book, "constraints")
    assert len(constraints) == sum(len(rows) for rows in s["constraints"].values())
    for r in constraints:
        row = s["constraints"][r["constraint"]][str(r["index"]) if r["index"] else ""]
        assert r["dual"] == row["dual"]


def test_workbook_has_frozen_headers_formats_and_native_charts(seed: tuple[Path, dict]) -> None:
    book = openpyxl.load_workbook(seed[0] / "report.xlsx")
    assert book.sheetnames[0] == "contents"
    for name in book.sheetnames[1:]:
        assert book[name].freeze_panes == "A2", name
    assert book["plans"]["B2"].number_format == "#,##0.00"
    share = next(r for r in book["headline"].iter_rows(min_row=2) if r[0].value == "optimum")
    assert share[1].number_format == "#,##0.00"
    cost = next(r for r in book["headline"].iter_rows(min_row=2) if r[0].value.endswith("cost"))
    assert cost[1].number_format == "0.00%"
    with __import__("zipfile").ZipFile(seed[0] / "report.xlsx") as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2  # the plans and the frontier, as Excel charts


# -- the starter model: determinism, --scheme, errors ---------------------------------


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("starter")
    write_starter(folder)
    return folder / "scenario.yaml"


def test_report_twice_is_byte_identical_on_any_number_of_workers(
    starter: Path, tmp_path: Path
) -> None:
    for out, workers in (("a", "1"), ("b", "2")):
        res = CliRunner().invoke(
            main, ["report", str(starter), "--out", str(tmp_path / out), "--workers", workers]
        )
        assert res.exit_code == 0, res.output
    for name in ("report.html", "report.xlsx"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    html = (tmp_path / "a" / "report.html").read_text()
    assert "<script" not in html
    assert "http://" not in html.replace("http://www.w3.org/", "")  # only XML namespaces
    assert "https://" not in html


def test_report_table_summary_names_the_files(starter: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["report", str(starter), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "misalignment cost:" in res.stdout
    assert f"wrote {tmp_path / 'report.html'}, {tmp_path / 'report.xlsx'}" in res.stdout


def test_report_recommends_a_given_scheme_as_evaluate_verifies_it(
    starter: Path, tmp_path: Path
) -> None:
    designed = tmp_path / "design"
    res = CliRunner().invoke(main, ["design", str(starter), "--out", str(designed)])
    assert res.exit_code == 0, res.output
    scheme = designed / "scheme.yaml"
    doc = cli_json("report", starter, "--scheme", scheme, "--out", tmp_path / "r")
    evaluated = cli_json("evaluate", starter, "--scheme", scheme)
    head, check = doc["headline"], evaluated["verification"]
    assert head["recommended"] == str(scheme)
    assert head["recommended_pessimistic"] == check["objective"]
    assert head["recommended_optimistic"] == check["optimistic"]["objective"]
    assert head["recommended_pessimistic_share"] == check["share_of_optimum"]
    # the recovered figures: the recommended scheme against today's, worst against worst
    c = evaluated  # evaluate's status quo is under the scheme; compare's is today's
    today = cli_json("compare", starter)
    assert math.isclose(
        head["recovered_pessimistic"],
        check["objective"] - today["status_quo_range"]["min"],
        rel_tol=0,
        abs_tol=1e-9,
    )
    assert c["plans"]["system"]["objective"] == head["optimum"]
    assert str(scheme) in doc["run"]["inputs"]


def test_report_without_the_extra_says_how_to_install_it(
    starter: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "xlsxwriter" else real(name)
    )
    res = CliRunner().invoke(main, ["report", str(starter), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        "error: report needs xlsxwriter: install the report extra, pip install 'kpidesign[report]'"
    )
    assert not (tmp_path / "r").exists()


def test_report_bad_input_is_one_line_and_keeps_what_was_written(
    starter: Path, tmp_path: Path
) -> None:
    res = CliRunner().invoke(
        main, ["report", str(starter), "--scheme", str(tmp_path / "missing.yaml")]
    )
    assert res.exit_code == 2
    assert len(res.stderr.strip().splitlines()) == 1
    assert "missing.yaml" in res.stderr
    blocked = tmp_path / "file"
    blocked.write_text("keep me")
    res = CliRunner().invoke(main, ["report", str(starter), "--out", str(blocked)])
    assert res.exit_code == 2
    assert blocked.read_text() == "keep me"


def test_report_on_an_aligned_model_says_nothing_is_lost(tmp_path: Path) -> None:
    # Dorian (minimized cost): every department's own optimum is the company's, and the
    # status quo reaches the optimum of 200; the plans chart has nothing to zoom into
    model = TESTS / "models" / "textbook" / "dorian_degenerate.yaml"
    doc = cli_json("report", model, "--out", tmp_path)
    head = doc["headline"]
    assert (doc["sense"], head["optimum"], head["misalignment_cost_max"]) == ("min", 200, 0)
    assert doc["story"] == [
        "Today's scorecards cost the company nothing measurable: every computed path of "
        "the status quo reaches the aligned plan's 200.",
        "So neither the scorecards nor the allocations leave anything to gain.",
    ]
    assert doc["decisions"][0] == "Keep today's scorecards: no weights change."


def test_a_scenario_with_shocks_gets_a_stress_section(tmp_path: Path) -> None:
    scenario = TESTS / "models" / "stress" / "shocks_reserve.yaml"
    doc = cli_json("report", scenario, "--out", tmp_path)
    stressed = cli_json("stress", scenario)
    head = doc["headline"]
    assert head["value_of_slack"] == stressed["value_of_slack"]["mean"] == 1.0
    assert head["robust_keeps_more_headroom"] is stressed["robust"]["keeps_more_headroom"] is False
    assert doc["stress"] == (
        "Under the scenario's shocks (2 futures), the shipped margins pay 1 ± 0 on average "
        "against a plan made without them (both re-solved in every future with the margins "
        "released); the robust allocation keeps no more headroom unallocated than the plan "
        "for the forecast."
    )
    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    means = {r["plan"]: r["mean"] for r in sheet(book, "stress")}
    assert means == {p: v["distribution"]["mean"] for p, v in stressed["plans"].items()}
    assert len(sheet(book, "stress_futures")) == 4 * 2 * 2  # 4 plans, 2 futures, in and out
    page = open_page(tmp_path / "report.html", evaluations=PAGE)
    assert page.console_errors == [] and page.requests == []
    assert dict(page.values["series"])["chart-stress"] > 0


def test_the_seed_report_under_shocks_states_the_value_of_slack(tmp_path: Path) -> None:
    # acceptance of the stress issue: scenarios/shocks.yaml (200 futures of the seed)
    scenario = ROOT / "scenarios" / "shocks.yaml"
    res = run("report", scenario, "--out", tmp_path, "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    from kpidesign.api import stress

    value, se = stress(scenario).value_of_slack()
    assert doc["headline"]["value_of_slack"] == value
    assert doc["headline"]["value_of_slack_standard_error"] == se
    assert isinstance(doc["headline"]["robust_keeps_more_headroom"], bool)
    text = (tmp_path / "report.html").read_text()
    sentence = doc["stress"].replace("'", "&#39;")
    assert sentence in text
    assert f"{figure(abs(value))} ± {figure(se)}" in doc["stress"]
    more = "more" if doc["headline"]["robust_keeps_more_headroom"] else "no more"
    assert f"the robust allocation keeps {more} headroom" in doc["stress"]


def test_actuals_add_the_year_so_far(tmp_path: Path) -> None:
    # the shop's month 1 (tests/analyses/test_monitor.py works it by hand): 12 lost,
    # sales 9, production 3; production's plan fits no scorecard of its menu (output
    # alone, which month 1's made = 8 does not maximize)
    model = TESTS / "models" / "plans" / "shop.yaml"
    actuals = tmp_path / "actuals.csv"
    actuals.write_text("variable,index,value\nmade,1,8\nsold,1,6\nstock,1,2\n")
    out = tmp_path / "out"
    doc = cli_json("report", model, "--actuals", actuals, "--out", out)
    monitored = cli_json("monitor", model, "--actuals", actuals)
    revealed = cli_json("reveal", model, "--actuals", actuals)
    head = doc["headline"]
    assert head["monitoring_lost"] == monitored["lost"] == 12
    assert head["monitoring_replan"] == monitored["replan"]["objective"] == 40
    assert doc["monitoring"] == (
        "After month 1 the company can still reach 40 against a plan of 52: 12 is lost by "
        "sales 9 (75.0%), production 3 (25.0%). The actuals fit the official scorecards "
        "least for production (fit 0): no scorecard of its menu explains what it did (the "
        "best fits 0)."
    )
    assert revealed["departments"]["production"]["official_fit"] == 0
    book = openpyxl.load_workbook(out / "report.xlsx")
    parts = {r["part"]: r["lost"] for r in sheet(book, "monitor_attribution")}
    assert parts == {**monitored["attribution"], "(unexplained)": 0}
    assert {r["department"] for r in sheet(book, "reveal_fit")} == {"production", "sales"}
    assert len(sheet(book, "monitor_drift")) == len(monitored["drift"])
    page = open_page(out / "report.html", evaluations=PAGE)
    assert page.console_errors == [] and page.requests == []
    assert dict(page.values["series"])["chart-attribution"] == 2
    res = run("report", model, "--through", "1", "--out", tmp_path / "other")
    assert res.returncode == 2
    assert "--through, --time-set and --keep-allocations are about the actuals" in res.stderr


def test_report_through_reveals_the_periods_it_monitors(tmp_path: Path) -> None:
    model = TESTS / "models" / "plans" / "shop.yaml"
    plan = TESTS / "models" / "plans" / "today_feasible.csv"
    cli_json("report", model, "--actuals", plan, "--through", "1", "--out", tmp_path)
    revealed = cli_json("reveal", model, "--actuals", plan, "--through", "1")
    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    gaps = {r["department"]: r["gap"] for r in sheet(book, "reveal_fit")}
    assert gaps == {d: f["gap"] for d, f in revealed["departments"].items()}
    # all of the file's months reveal a different gap for production: 0.5, not 0.25
    whole = cli_json("reveal", model, "--actuals", plan)["departments"]
    assert (gaps["production"], whole["production"]["gap"]) == (0.25, 0.5)


def test_a_partner_model_is_recommended_its_contract(tmp_path: Path) -> None:
    model = TESTS / "models" / "contract" / "double_marginalization.yaml"
    doc = cli_json("report", model, "--out", tmp_path)
    agreed = cli_json("contract", model)
    assert doc["headline"]["recommended"] == "contract"
    assert doc["headline"]["recommended_pessimistic"] == agreed["verification"]["objective"]
    assert doc["decisions"][0] == (
        "Change the contract: wholesale 7 → 3.75, with fixed payments (equal split: "
        "distributor pays 300; manufacturer receives 300), so that every partner earns more "
        "than today (worst computed path 100.0% of the optimum, 100.0% optimistic)."
    )
    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    assert sheet(book, "contract_terms") == [
        {"term": "wholesale", "today": 7, "contract": 3.75, "min": 0, "max": 20}
    ]
    profits = {r["partner"]: r["contract"] for r in sheet(book, "contract_partners")}
    assert profits == pytest.approx({"manufacturer": 650, "distributor": 450})
    page = open_page(tmp_path / "report.html", evaluations=PAGE)
    assert page.console_errors == [] and page.requests == []
