"""Plan files (MODEL_FORMAT.md, "Plan files"): ``variable,index,value`` read against the
model's variables and sets, every error located ``FILE:LINE: column: message``; ``today:``
in model and scenario files; ``start_plan=`` instead of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import TESTS, TINY, line_of

import kpidesign
from kpidesign.model.problem import Problem
from kpidesign.spec.plan import with_today

SHOP = TESTS / "models" / "plans" / "shop.yaml"


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """tiny.yaml (variables over product × period, one over period) in ``tmp_path``."""
    shutil.copytree(TINY.parent / "data", tmp_path / "data")
    return Path(shutil.copy(TINY, tmp_path / "tiny.yaml"))


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """shop.yaml (with a scalar variable, promo) in ``tmp_path``."""
    return Path(shutil.copy(SHOP, tmp_path / "shop.yaml"))


def _with_today(model: Path, csv_text: str, name: str = "plan.csv") -> tuple[Path, Path]:
    """``model`` with ``today: {file: NAME}`` appended, and the plan file beside it."""
    plan = model.parent / name
    plan.write_text(csv_text, encoding="utf-8")
    model.write_text(model.read_text() + f"today: {{file: {name}}}\n")
    return model, plan


def _errors(path: Path, **kwargs: object) -> list[str]:
    with pytest.raises(kpidesign.SpecError) as info:
        kpidesign.load(path, **kwargs)
    return info.value.messages


def test_a_quoted_index_of_several_members_and_a_single_member_index(tiny: Path) -> None:
    model, plan = _with_today(
        tiny,
        'variable,index,value\ninventory,"standard,3",120\n'
        'sold," premium , 1 ",3.5\npromo,2,-0\n\nmade,"standard,1",1e2\n',
    )
    spec = kpidesign.load(model)
    assert spec.today is not None and spec.today.file == plan
    assert spec.today.values == {
        ("inventory", ("standard", 3)): 120.0,
        ("sold", ("premium", 1)): 3.5,
        ("promo", (2,)): 0.0,
        ("made", ("standard", 1)): 100.0,
    }


def test_a_scalar_variable_has_an_empty_index(shop: Path) -> None:
    model, _ = _with_today(shop, "variable,index,value\npromo,,2\nmade,2,4\n")
    spec = kpidesign.load(model)
    assert spec.today is not None
    assert spec.today.values == {("promo", ()): 2.0, ("made", (2,)): 4.0}


def test_every_error_of_a_plan_file_is_located_and_reported_together(tiny: Path) -> None:
    rows = [
        "variable,index,value",
        'inventory,"standard,3",120',  # 2: fine
        'invntory,"standard,3",1',  # 3: unknown variable
        'inventory,"deluxe,3",1',  # 4: a member outside its set
        'inventory,"standard,4",1',  # 5: an integer member outside its set
        "inventory,standard,1",  # 6: too few members
        'promo,"1,2",1',  # 7: too many
        "promo,1,abc",  # 8: not a number
        "promo,2,nan",  # 9: not finite
        "promo,3,inf",  # 10: not finite
        'made,"premium,2",',  # 11: missing value
        'inventory,"standard,3",5',  # 12: duplicate of line 2
        "promo,1,2,3",  # 13: too many cells
        ",1,2",  # 14: no variable
    ]
    model, plan = _with_today(tiny, "\n".join(rows) + "\n")
    assert _errors(model) == [
        f"{plan}:3: variable: unknown variable 'invntory' (did you mean 'inventory'?)",
        f"{plan}:4: index: inventory[deluxe,3]: 'deluxe' is not a member of set 'product'",
        f"{plan}:5: index: inventory[standard,4]: '4' is not a member of set 'period'",
        f"{plan}:6: index: inventory is indexed by product, period: its index has 2 "
        "member(s), got 1 ('standard')",
        f"{plan}:7: index: promo is indexed by period: its index has 1 member(s), got 2 ('1,2')",
        f"{plan}:8: value: promo[1]: 'abc' is not a number",
        f"{plan}:9: value: promo[2]: 'nan' is not a finite number",
        f"{plan}:10: value: promo[3]: 'inf' is not a finite number",
        f"{plan}:11: value: made[premium,2]: the value is missing",
        f"{plan}:12: index: inventory[standard,3] is given twice (first at line 2)",
        f"{plan}:13: row: 4 cells, but the header has 3 (an index of several members is "
        'quoted: "standard,3")',
        f"{plan}:14: variable: the variable is missing",
    ]


def test_a_scalar_variable_given_an_index_is_an_error(shop: Path) -> None:
    model, plan = _with_today(shop, "variable,index,value\npromo,1,2\n")
    assert _errors(model) == [
        f"{plan}:2: index: promo is a scalar variable: its index is empty, not '1'"
    ]


def test_lines_count_blank_lines_and_quoted_line_breaks(shop: Path) -> None:
    model, plan = _with_today(shop, 'variable,index,value\n\n"ma\nde",1,2\nmade,3,1\n')
    assert _errors(model) == [
        f"{plan}:4: variable: unknown variable 'ma\nde' (did you mean 'made'?)",
        f"{plan}:5: index: made[3]: '3' is not a member of set 'month'",
    ]


@pytest.mark.parametrize(
    ("header", "messages"),
    [
        ("variable,index", ["missing column 'value' (the columns are variable, index, value)"]),
        (
            "variable,index,values",
            [
                "unknown column 'values' (did you mean 'value'?)",
                "missing column 'value' (the columns are variable, index, value)",
            ],
        ),
        (
            "variable,index,value,unit",
            ["unknown column 'unit' (the columns are variable, index, value)"],
        ),
        ("variable,value,index,value", ["column 'value' appears twice"]),
    ],
)
def test_header_columns_missing_or_extra(shop: Path, header: str, messages: list[str]) -> None:
    model, plan = _with_today(shop, f"{header}\nmade,1,2\n")
    assert _errors(model) == [f"{plan}:1: header: {m}" for m in messages]


def test_columns_in_another_order_are_read_by_name(shop: Path) -> None:
    model, _ = _with_today(shop, " value , variable,index\n2,made,1\n")
    assert kpidesign.load(model).today.values == {("made", (1,)): 2.0}


def test_an_empty_plan_file_and_one_with_a_header_only(shop: Path) -> None:
    model, plan = _with_today(shop, "")
    assert _errors(model) == [
        f"{plan}:1: header: the file is empty; a plan file's header is variable, index, value"
    ]
    plan.write_text("variable,index,value\n")
    assert kpidesign.load(model).today.values == {}


def test_a_missing_plan_file_is_reported_at_the_key_that_names_it(shop: Path) -> None:
    model, plan = _with_today(shop, "variable,index,value\n", name="plan.csv")
    plan.unlink()
    line = line_of(model, "today:")
    assert _errors(model) == [f"{model}:{line}: today.file: plan file not found: {plan}"]


def test_the_today_key_is_checked_by_the_schema(shop: Path) -> None:
    shop.write_text(shop.read_text() + "today: {fil: plan.csv}\n")
    line = line_of(shop, "today:")
    assert sorted(_errors(shop)) == [
        f"{shop}:{line}: today.fil: unknown key 'fil' (did you mean 'file'?)",
        f"{shop}:{line}: today.file: missing required key",
    ]


def test_more_rows_than_max_size_are_refused_at_the_first_row_too_many(shop: Path) -> None:
    """Like CSV params: at most --max-size rows (shop's 7 plan values fit in 7)."""
    rows = ["made,1,1", "made,2,1", "sold,1,1", "sold,2,1", "stock,1,0", "stock,2,0", "promo,,0"]
    model, plan = _with_today(shop, "\n".join(["variable,index,value", *rows]) + "\n")
    assert len(kpidesign.load(model, max_size=7).today) == 7
    plan.write_text(plan.read_text() + "made,1,1\n")
    assert _errors(model, max_size=7) == [
        f"{plan}:9: more than 7 rows; the limit is 7 (raise it with --max-size)"
    ]


def test_a_scenario_names_its_own_plan_relative_to_itself(shop: Path, tmp_path: Path) -> None:
    """The scenario's today: replaces the model's and is read beside the scenario; a
    variant sets another with `set`; the digest of the file read joins the inputs."""
    _with_today(shop, "variable,index,value\nmade,1,1\n", name="model_plan.csv")
    sub = tmp_path / "scenarios"
    sub.mkdir()
    (sub / "plan.csv").write_text("variable,index,value\nmade,1,2\n")
    (sub / "other.csv").write_text("variable,index,value\nmade,1,3\n")
    scenario = sub / "s.yaml"
    scenario.write_text(
        "kpidesign: 1\nmodel: ../shop.yaml\ntoday: {file: plan.csv}\n"
        "variants:\n  other: {set: {today: {file: other.csv}}}\n"
        "  back: {set: {today.file: ../model_plan.csv}}\n"
    )
    assert kpidesign.load(shop).today.values == {("made", (1,)): 1.0}
    spec = kpidesign.load(scenario)
    assert spec.today.file == sub / "plan.csv"
    assert spec.today.values == {("made", (1,)): 2.0}
    assert kpidesign.load(scenario, "other").today.values == {("made", (1,)): 3.0}
    assert kpidesign.load(scenario, "back").today.values == {("made", (1,)): 1.0}
    inputs = [f for f, _ in Problem.from_spec(spec).inputs]
    assert inputs == [str(scenario), str(shop), str(sub / "plan.csv")]


def test_a_scenario_plan_file_error_names_the_scenario_line(shop: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("kpidesign: 1\nmodel: shop.yaml\n\ntoday: {file: nowhere.csv}\n")
    assert _errors(scenario) == [
        f"{scenario}:4: today.file: plan file not found: {tmp_path / 'nowhere.csv'}"
    ]


def test_start_plan_replaces_today_which_is_then_not_read(shop: Path, tmp_path: Path) -> None:
    model, plan = _with_today(shop, "variable,index,value\nmade,1,1\n")
    plan.unlink()  # the file's today: would be an error
    start = tmp_path / "start.csv"
    start.write_text("variable,index,value\nsold,2,4\n")
    spec = kpidesign.load(model, start_plan=start)
    assert spec.today.values == {("sold", (2,)): 4.0}
    assert str(start) in [f for f, _ in Problem.from_spec(spec).inputs]
    assert str(plan) not in [f for f, _ in Problem.from_spec(spec).inputs]
    # on a loaded spec too (the Python API's start_plan=)
    assert with_today(kpidesign.load(SHOP), start).today.values == spec.today.values


def test_start_plan_errors_are_located_in_the_csv(shop: Path, tmp_path: Path) -> None:
    start = tmp_path / "start.csv"
    start.write_text("variable,index,value\nsould,2,4\nsold,9,1\n")
    assert _errors(shop, start_plan=start) == [
        f"{start}:2: variable: unknown variable 'sould' (did you mean 'sold'?)",
        f"{start}:3: index: sold[9]: '9' is not a member of set 'month'",
    ]
    assert _errors(shop, start_plan=tmp_path / "none.csv") == [
        f"--start-plan: plan file not found: {tmp_path / 'none.csv'}"
    ]
    with pytest.raises(kpidesign.SpecError) as info:
        with_today(kpidesign.load(shop), start)
    assert len(info.value.messages) == 2
