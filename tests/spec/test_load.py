"""Loader tests (spec.load): one test per error case, each checking the message and its line.

Every error is ``FILE:LINE: key.path: message``; the expected line is looked up in the file
the test wrote, so the assertions check that the loader points at the right place.
"""

from __future__ import annotations

from pathlib import Path

import pyomo.environ as pyo
import pytest
from conftest import BASE_MODEL, TINY, line_of

from kpidesign.errors import KpiDesignError, SpecError
from kpidesign.model.build import build
from kpidesign.spec import load


def spec_errors(path: Path, variant: str | None = None) -> list[str]:
    """The messages of the SpecError that loading ``path`` raises."""
    with pytest.raises(SpecError) as info:
        load(path, variant)
    assert str(info.value) == "\n".join(info.value.messages)
    return info.value.messages


def all_errors(path: Path, variant: str | None = None) -> list[str]:
    """The messages of any user error raised by load + build."""
    with pytest.raises(KpiDesignError) as info:
        build(load(path, variant))
    return info.value.messages


def only(messages: list[str]) -> str:
    assert len(messages) == 1, messages
    return messages[0]


SCENARIO = """\
kpidesign: 1
model: model.yaml
name: tweak
"""


# --------------------------------------------------------------------------------------
# the file itself


def test_yaml_syntax_error(write_model):
    path = write_model(BASE_MODEL.replace("  cap: 10", "  cap: a: b"))
    line = line_of(path, "cap: a: b")
    msg = only(spec_errors(path))
    assert msg == f"{path}:{line}: YAML syntax error: mapping values are not allowed here"


def test_yaml_syntax_error_unclosed_bracket(write_model):
    path = write_model("kpidesign: 1\nname: [x\n")
    msg = only(spec_errors(path))
    assert msg.startswith(f"{path}:3: YAML syntax error: ")
    assert "expected ',' or ']'" in msg


def test_empty_file(write_model):
    path = write_model("")
    assert only(spec_errors(path)) == f"{path}: the file is empty"


def test_file_with_only_comments_is_empty(write_model):
    path = write_model("# nothing here\n\n")
    assert only(spec_errors(path)) == f"{path}: the file is empty"


def test_file_not_a_mapping(write_model):
    path = write_model("- kpidesign\n- 1\n")
    assert only(spec_errors(path)) == (
        f"{path}:1: the file must be a mapping of keys (kpidesign: 1, ...)"
    )


def test_missing_file(tmp_path):
    path = tmp_path / "absent.yaml"
    assert only(spec_errors(path)) == f"{path}: file not found"


def test_scenario_names_missing_model_file(write_model):
    scen = write_model(SCENARIO.replace("model.yaml", "nowhere.yaml"), name="scen.yaml")
    line = line_of(scen, "model: nowhere.yaml")
    msg = only(spec_errors(scen))
    assert msg == f"{scen}:{line}: model: model file not found: {scen.parent / 'nowhere.yaml'}"


def test_scenario_naming_a_scenario_is_an_error(write_model):
    write_model(SCENARIO, name="other.yaml")
    scen = write_model(SCENARIO.replace("model.yaml", "other.yaml"), name="scen.yaml")
    line = line_of(scen, "model: other.yaml")
    assert only(spec_errors(scen)) == (
        f"{scen}:{line}: model: {scen.parent / 'other.yaml'} is a scenario, not a model"
    )


def test_wrong_format_version(write_model):
    path = write_model(BASE_MODEL.replace("kpidesign: 1", "kpidesign: 2"))
    assert only(spec_errors(path)) == (
        f"{path}:1: kpidesign: unsupported format version 2 (this kpidesign reads format 1)"
    )


def test_missing_format_version(write_model):
    path = write_model(BASE_MODEL.replace("kpidesign: 1\n", ""))
    assert only(spec_errors(path)) == f"{path}:1: kpidesign: missing required key"


def test_missing_objective(write_model):
    text = BASE_MODEL[: BASE_MODEL.index("objective:")]
    path = write_model(text)
    assert only(spec_errors(path)) == f"{path}:1: objective: missing required key"


# --------------------------------------------------------------------------------------
# keys and names


def test_unknown_key_with_did_you_mean(write_model):
    path = write_model(BASE_MODEL.replace("    kpis:\n", "    kpi:\n"))
    line = line_of(path, "    kpi:")
    assert only(spec_errors(path)) == (
        f"{path}:{line}: departments.ops.kpi: unknown key 'kpi' (did you mean 'kpis'?)"
    )


def test_unknown_top_level_key(write_model):
    path = write_model(BASE_MODEL.replace("params:", "parmas:"))
    line = line_of(path, "parmas:")
    msgs = spec_errors(path)
    assert f"{path}:{line}: parmas: unknown key 'parmas' (did you mean 'params'?)" in msgs


def test_unknown_key_in_variable(write_model):
    path = write_model(
        BASE_MODEL.replace("{over: [period], lb: 0}", "{over: [period], initail: 0}")
    )
    line = line_of(path, "initail")
    assert only(spec_errors(path)) == (
        f"{path}:{line}: departments.ops.variables.make.initail: unknown key 'initail' "
        "(did you mean 'initial'?)"
    )


def test_unknown_key_without_close_match_lists_allowed_keys(write_model):
    path = write_model(BASE_MODEL.replace("{over: [period], lb: 0}", "{over: [period], zzz: 0}"))
    line = line_of(path, "zzz")
    assert only(spec_errors(path)) == (
        f"{path}:{line}: departments.ops.variables.make.zzz: unknown key 'zzz' "
        "(allowed: description, initial, lb, over, ub, unit)"
    )


def test_unknown_key_in_scenario_suggests_scenario_keys(write_model):
    write_model(BASE_MODEL)
    scen = write_model(SCENARIO + "sets: {params.cap: 3}\n", name="scen.yaml")
    line = line_of(scen, "sets:")
    assert (
        only(spec_errors(scen)) == f"{scen}:{line}: sets: unknown key 'sets' (did you mean 'set'?)"
    )


def test_unknown_set_in_variable_over(write_model):
    path = write_model(BASE_MODEL.replace("stock: {over: [period]", "stock: {over: [perod]"))
    line = line_of(path, "stock:")
    assert only(spec_errors(path)) == (
        f"{path}:{line}: variables.stock.over[0]: unknown set 'perod' (did you mean 'period'?)"
    )


def test_unknown_set_in_param_over(write_model):
    path = write_model(BASE_MODEL.replace("  cap: 10", "  cap: {over: [perod], default: 1}"))
    line = line_of(path, "cap: {over")
    assert only(spec_errors(path)) == (
        f"{path}:{line}: params.cap.over[0]: unknown set 'perod' (did you mean 'period'?)"
    )


WITH_BUDGET = (
    BASE_MODEL.replace(
        "    incentive: {output: 1}\n",
        "    incentive: {output: 1}\n"
        "    uses: {budget: 'sum(make[t] for t in period)'}\n"
        "    allocation: {budget: 10}\n",
    )
    + "resources:\n  budget: {total: 100}\n"
)


def test_model_with_resources_is_valid(write_model):
    built = build(load(write_model(WITH_BUDGET)))
    assert [a.department for a in built.allocations] == ["ops"]


def test_unknown_resource_in_uses(write_model):
    path = write_model(WITH_BUDGET.replace("uses: {budget:", "uses: {budgte:"))
    uses = line_of(path, "uses:")
    alloc = line_of(path, "allocation:")
    msgs = spec_errors(path)
    assert (
        f"{path}:{uses}: departments.ops.uses.budgte: unknown resource 'budgte' "
        "(did you mean 'budget'?)" in msgs
    )
    # the allocation of budget now has no matching `uses`
    assert (
        f"{path}:{alloc}: departments.ops.allocation.budget: an allocation of 'budget' but no "
        "`uses: {budget: ...}`"
    ) in msgs


def test_unknown_resource_in_allocation(write_model):
    path = write_model(WITH_BUDGET.replace("allocation: {budget:", "allocation: {budegt:"))
    uses = line_of(path, "uses:")
    alloc = line_of(path, "allocation:")
    msgs = spec_errors(path)
    assert (
        f"{path}:{alloc}: departments.ops.allocation.budegt: unknown resource 'budegt' "
        "(did you mean 'budget'?)"
    ) in msgs
    assert (
        f"{path}:{uses}: departments.ops.uses.budget: uses 'budget' but has no "
        "`allocation: {budget: ...}`" in msgs
    )


def test_unknown_kpi_in_incentive(write_model):
    path = write_model(BASE_MODEL.replace("incentive: {output: 1}", "incentive: {outptu: 1}"))
    line = line_of(path, "incentive:")
    assert only(spec_errors(path)) == (
        f"{path}:{line}: departments.ops.incentive.outptu: unknown KPI 'outptu' "
        "(did you mean 'output'?)"
    )


def test_duplicate_name_param_and_variable(write_model):
    path = write_model(BASE_MODEL.replace("  stock: {over", "  cap: {over"))
    line = line_of(path, "  cap: {over")
    assert only(spec_errors(path)) == (
        f"{path}:{line}: variables.cap: name 'cap' is already used by params.cap"
    )


def test_duplicate_name_department_and_shared_variable(write_model):
    path = write_model(BASE_MODEL.replace("      make: {over", "      stock: {over"))
    line = line_of(path, "      stock: {over")
    msgs = spec_errors(path)
    assert (
        f"{path}:{line}: departments.ops.variables.stock: name 'stock' is already used by "
        "variables.stock"
    ) in msgs


def test_duplicate_name_set_and_param(write_model):
    path = write_model(BASE_MODEL.replace("  cap: 10", "  cap: 10\n  period: 3"))
    line = line_of(path, "  period: 3")
    assert only(spec_errors(path)) == (
        f"{path}:{line}: params.period: name 'period' is already used by sets.period"
    )


def test_duplicate_yaml_key(write_model):
    path = write_model(BASE_MODEL.replace("  cap: 10", "  cap: 10\n  cap: 11"))
    line = line_of(path, "cap: 11")
    msg = only(spec_errors(path))
    assert msg.startswith(f"{path}:{line}: YAML syntax error: ")
    assert 'duplicate key "cap"' in msg


def test_negative_incentive_weight(write_model):
    path = write_model(BASE_MODEL.replace("incentive: {output: 1}", "incentive: {output: -0.5}"))
    line = line_of(path, "incentive:")
    assert only(spec_errors(path)) == (
        f"{path}:{line}: departments.ops.incentive.output: "
        "input should be greater than or equal to 0"
    )


def test_negative_resource_total(write_model):
    path = write_model(WITH_BUDGET.replace("{total: 100}", "{total: -100}"))
    line = line_of(path, "budget: {total")
    assert only(spec_errors(path)) == (
        f"{path}:{line}: resources.budget.total: input should be greater than or equal to 0"
    )


def test_several_errors_in_one_file_are_all_reported(write_model):
    text = BASE_MODEL.replace("incentive: {output: 1}", "incentive: {outptu: 1}").replace(
        "stock: {over: [period]", "stock: {over: [perod]"
    )
    path = write_model(text)
    msgs = spec_errors(path)
    assert len(msgs) == 2
    assert msgs[0].startswith(f"{path}:{line_of(path, 'stock:')}: variables.stock.over[0]: ")
    assert msgs[1].startswith(
        f"{path}:{line_of(path, 'incentive:')}: departments.ops.incentive.outptu: "
    )


# --------------------------------------------------------------------------------------
# CSV params

CSV_MODEL = BASE_MODEL.replace("  cap: 10", "  cap: {file: data/cap.csv}").replace(
    "<= cap", "<= cap[t]"
)


def test_csv_param_is_read(write_model):
    path = write_model(CSV_MODEL, cap="period,value\n1,5\n2,6.5\n3,7\n")
    p = load(path).params["cap"]
    assert p.over == ("period",)
    assert p.values == {(1,): 5.0, (2,): 6.5, (3,): 7.0}


def test_missing_csv_file(write_model):
    path = write_model(CSV_MODEL)
    line = line_of(path, "cap: {file")
    assert only(spec_errors(path)) == (
        f"{path}:{line}: params.cap.file: CSV file not found: {path.parent / 'data' / 'cap.csv'}"
    )


def test_csv_empty_value(write_model):
    path = write_model(CSV_MODEL, cap="period,value\n1,5\n2,\n3,7\n")
    csv = path.parent / "data" / "cap.csv"
    assert only(spec_errors(path)) == (
        f"{csv}:3: value '' is missing or not a finite number (param 'cap')"
    )


def test_csv_nan_value(write_model):
    path = write_model(CSV_MODEL, cap="period,value\n1,5\n2,6\n3,NaN\n")
    csv = path.parent / "data" / "cap.csv"
    assert only(spec_errors(path)) == (
        f"{csv}:4: value 'NaN' is missing or not a finite number (param 'cap')"
    )


def test_csv_text_value(write_model):
    path = write_model(CSV_MODEL, cap="period,value\n1,five\n2,6\n3,7\n")
    csv = path.parent / "data" / "cap.csv"
    assert only(spec_errors(path)) == (
        f"{csv}:2: value 'five' is missing or not a finite number (param 'cap')"
    )


def test_csv_member_not_in_set(write_model):
    path = write_model(CSV_MODEL, cap="period,value\n1,5\n7,6\n3,7\n")
    csv = path.parent / "data" / "cap.csv"
    assert only(spec_errors(path)) == (
        f"{csv}:3: period '7' is not a member of set 'period' (param 'cap')"
    )


def test_csv_duplicate_row(write_model):
    path = write_model(CSV_MODEL, cap="period,value\n1,5\n2,6\n2,7\n")
    csv = path.parent / "data" / "cap.csv"
    assert only(spec_errors(path)) == f"{csv}:4: duplicate row for 2 (param 'cap')"


def test_csv_without_value_column(write_model):
    path = write_model(CSV_MODEL, cap="period,amount\n1,5\n")
    line = line_of(path, "cap: {file")
    csv = path.parent / "data" / "cap.csv"
    assert only(spec_errors(path)) == (
        f"{path}:{line}: params.cap.file: {csv}: needs a 'value' column (has: period, amount)"
    )


def test_csv_errors_on_several_lines_all_reported(write_model):
    path = write_model(CSV_MODEL, cap="period,value\n1,\n2,nan\n9,7\n")
    csv = path.parent / "data" / "cap.csv"
    msgs = spec_errors(path)
    assert [m.split(": ")[0] for m in msgs] == [f"{csv}:2", f"{csv}:3", f"{csv}:4"]


# --------------------------------------------------------------------------------------
# scenarios

SCEN_MODEL = (
    BASE_MODEL.replace("  cap: 10", "  cap: 10\n  demand: {file: data/demand.csv}").replace(
        "    incentive: {output: 1}\n",
        "    incentive: {output: 1}\n"
        "    uses: {budget: 'sum(make[t] for t in period)'}\n"
        "    allocation: {budget: 10}\n",
    )
    + "resources:\n  budget: {total: 100, reserve: 0.1}\n"
)
DEMAND_CSV = "period,value\n1,10\n2,20\n3,30\n"


def test_scenario_overrides_applied(write_model):
    write_model(SCEN_MODEL, demand=DEMAND_CSV)
    scen = write_model(
        SCENARIO + "set:\n"
        "  params.cap: 20\n"
        "  resources.budget.total: 80\n"
        "  constraints.limit.slack: 0.25\n"
        "  departments.ops.incentive: {output: 0.5}\n"
        "scale:\n"
        "  params.demand: 1.5\n"
        "variants:\n"
        "  big:\n"
        "    set: {params.cap: 30}\n"
        "    scale: {params.demand: 2}\n",
        name="scen.yaml",
    )
    spec = load(scen)
    assert spec.scenario == "tweak"
    assert spec.variant is None
    assert spec.scenario_file == scen
    assert spec.params["cap"].values == {(): 20.0}
    assert spec.params["demand"].values == {(1,): 15.0, (2,): 30.0, (3,): 45.0}
    assert spec.resources["budget"].total == 80
    assert spec.resources["budget"].available == pytest.approx(72)
    assert spec.constraints["limit"].slack == 0.25
    assert spec.departments["ops"].weights == {"ops.output": 0.5}

    varied = load(scen, "big")
    assert varied.variant == "big"
    assert varied.label == "tweak[big]"
    assert varied.params["cap"].values == {(): 30.0}  # the variant's set wins
    # the variant's scale multiplies on top of the scenario's own
    assert varied.params["demand"].values == {(1,): 30.0, (2,): 60.0, (3,): 90.0}
    assert varied.resources["budget"].total == 80  # the scenario's set still applies

    # the model file itself is untouched
    base = load(scen.parent / "model.yaml")
    assert base.params["cap"].values == {(): 10.0}
    assert base.params["demand"].values == {(1,): 10.0, (2,): 20.0, (3,): 30.0}


def test_scenario_scale_of_a_number(write_model):
    write_model(SCEN_MODEL, demand=DEMAND_CSV)
    scen = write_model(SCENARIO + "scale:\n  resources.budget.total: 0.9\n", name="scen.yaml")
    assert load(scen).resources["budget"].total == pytest.approx(90)


def test_scenario_sets_a_missing_optional_field(write_model):
    write_model(SCEN_MODEL, demand=DEMAND_CSV)
    scen = write_model(SCENARIO + "set:\n  resources.budget.max_shift: 0.2\n", name="scen.yaml")
    assert load(scen).resources["budget"].max_shift == 0.2


def test_scenario_name_defaults_to_file_stem(write_model):
    write_model(BASE_MODEL)
    scen = write_model("kpidesign: 1\nmodel: model.yaml\n", name="cut_it.yaml")
    assert load(scen).scenario == "cut_it"


def test_unknown_scenario_set_path(write_model):
    write_model(BASE_MODEL)
    scen = write_model(SCENARIO + "set:\n  params.cpa: 3\n", name="scen.yaml")
    line = line_of(scen, "params.cpa")
    assert only(spec_errors(scen)) == (
        f"{scen}:{line}: set.params.cpa: path 'params.cpa' does not exist in the model "
        "(closest existing path: params.cap)"
    )


def test_unknown_scenario_set_path_deep(write_model):
    write_model(BASE_MODEL)
    scen = write_model(
        SCENARIO + "set:\n  departments.opps.incentive: {output: 2}\n", name="scen.yaml"
    )
    line = line_of(scen, "departments.opps")
    assert only(spec_errors(scen)) == (
        f"{scen}:{line}: set.departments.opps.incentive: path 'departments.opps.incentive' does "
        "not exist in the model (closest existing path: departments.ops.incentive)"
    )


def test_unknown_scenario_scale_path(write_model):
    write_model(BASE_MODEL)
    scen = write_model(SCENARIO + "scale:\n  params.cpa: 2\n", name="scen.yaml")
    line = line_of(scen, "params.cpa")
    assert only(spec_errors(scen)) == (
        f"{scen}:{line}: scale.params.cpa: path 'params.cpa' does not exist in the model "
        "(closest existing path: params.cap)"
    )


def test_unknown_path_in_variant(write_model):
    write_model(BASE_MODEL)
    scen = write_model(SCENARIO + "variants:\n  v1:\n    set: {params.cpa: 3}\n", name="scen.yaml")
    line = line_of(scen, "params.cpa")
    assert load(scen).params["cap"].values == {(): 10.0}  # the variant is not applied
    assert only(spec_errors(scen, "v1")) == (
        f"{scen}:{line}: variants.v1.set.params.cpa: path 'params.cpa' does not exist in the "
        "model (closest existing path: params.cap)"
    )


def test_unknown_variant(write_model):
    write_model(BASE_MODEL)
    scen = write_model(SCENARIO + "variants:\n  low: {set: {params.cap: 3}}\n", name="scen.yaml")
    assert only(spec_errors(scen, "lw")) == f"{scen}: unknown variant 'lw' (did you mean 'low'?)"


def test_unknown_variant_lists_the_variants(write_model):
    write_model(BASE_MODEL)
    scen = write_model(SCENARIO + "variants:\n  low: {set: {params.cap: 3}}\n", name="scen.yaml")
    assert only(spec_errors(scen, "zzz")) == f"{scen}: unknown variant 'zzz' (variants: low)"


def test_model_file_with_variant(write_model):
    path = write_model(BASE_MODEL)
    assert only(spec_errors(path, "low")) == f"{path}: --variant low: a model file has no variants"


def test_error_in_scenario_value_points_at_scenario_line(write_model):
    write_model(BASE_MODEL)
    scen = write_model(
        SCENARIO
        + "set:\n  constraints.limit.slack: 1.5\n  departments.ops.incentive: {output: -1}\n",
        name="scen.yaml",
    )
    slack = line_of(scen, "slack: 1.5")
    weight = line_of(scen, "output: -1")
    msgs = spec_errors(scen)
    assert f"{scen}:{slack}: constraints.limit.slack: input should be less than 1" in msgs
    assert (
        f"{scen}:{weight}: departments.ops.incentive.output: "
        "input should be greater than or equal to 0"
    ) in msgs
    assert len(msgs) == 2


def test_bad_param_value_from_scenario_points_at_scenario_line(write_model):
    write_model(BASE_MODEL)
    scen = write_model(SCENARIO + "set:\n  params.cap: abc\n", name="scen.yaml")
    line = line_of(scen, "params.cap: abc")
    assert only(spec_errors(scen)) == (
        f"{scen}:{line}: params.cap: a param is a number, a mapping by one set, or "
        "{file: ...}/{over: ...}; got 'abc'"
    )


def test_expression_error_from_scenario_points_at_scenario_line(write_model):
    write_model(BASE_MODEL)
    scen = write_model(
        SCENARIO + "set:\n  constraints.limit.expr: make[t] * stock[t] <= cap\n", name="scen.yaml"
    )
    line = line_of(scen, "constraints.limit.expr")
    assert only(all_errors(scen)) == (
        f"{scen}:{line}: constraints.limit.expr: non-linear: a product of two variable terms: "
        "`make[t] * stock[t]`"
    )


def test_expression_error_in_model_still_points_at_model(write_model):
    model = write_model(BASE_MODEL.replace("expr: make[t] <= cap", "expr: make[t] <= cpa"))
    scen = write_model(SCENARIO + "set:\n  params.cap: 3\n", name="scen.yaml")
    line = line_of(model, "expr: make[t] <= cpa")
    assert only(all_errors(scen)) == (
        f"{model}:{line}: constraints.limit.expr: unknown name 'cpa' (did you mean 'cap'?): `cpa`"
    )


# --------------------------------------------------------------------------------------
# what loads


def test_tiny_model_loads():
    spec = load(TINY)
    assert list(spec.sets) == ["product", "period"]
    assert list(spec.departments) == ["sales", "production"]
    assert spec.departments["production"].weights == {"production.unit_cost": 1}
    assert spec.params["demand"].values[("premium", 3)] == 8.0


def test_sets_range_and_list(write_model):
    path = write_model(
        BASE_MODEL.replace(
            "  period: 1..3\n",
            "  period: 1..3\n  week: 0..2\n  product: [standard, premium]\n  size: [10, 20, 40]\n",
        )
    )
    sets = load(path).sets
    assert sets["period"].members == (1, 2, 3) and sets["period"].integer
    assert sets["week"].members == (0, 1, 2)
    assert sets["product"].members == ("standard", "premium") and not sets["product"].integer
    assert sets["size"].members == (10, 20, 40) and sets["size"].integer


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("3..1", "empty range '3..1': the end is below the start"),
        ("1-3", "a set is an integer range 'a..b' or a list, not '1-3'"),
        ("[]", "a set needs at least one member"),
        ("[a, b, a]", "duplicate set member(s): a"),
    ],
)
def test_bad_sets(write_model, raw, message):
    path = write_model(BASE_MODEL.replace("  period: 1..3", f"  period: 1..3\n  bad: {raw}"))
    line = line_of(path, "  bad:")
    assert only(spec_errors(path)) == f"{path}:{line}: sets.bad: {message}"


def test_params_in_all_forms(write_model):
    text = BASE_MODEL.replace(
        "  period: 1..3\n", "  period: 1..3\n  product: [standard, premium]\n"
    ).replace(
        "  cap: 10\n",
        "  cap: 10\n"
        "  price: {standard: 120, premium: 180.5}\n"
        "  ramp: {over: [period], default: 900, values: {2: 40}}\n"
        "  grid: {over: [product, period], default: 1, values: {'premium, 3': 7}}\n"
        "  demand: {file: data/demand.csv}\n"
        "  level: {over: [period], default: 2, initial: 4}\n",
    )
    path = write_model(
        text, demand="product,period,value\nstandard,1,5\nstandard,2,6\npremium,1,7\npremium,2,8\n"
    )
    params = load(path).params
    assert params["cap"].over == () and params["cap"].values == {(): 10.0}
    assert params["price"].over == ("product",)
    assert params["price"].values == {("standard",): 120.0, ("premium",): 180.5}
    assert params["ramp"].over == ("period",)
    assert params["ramp"].default == 900 and params["ramp"].values == {(2,): 40.0}
    assert params["grid"].values == {("premium", 3): 7.0} and params["grid"].default == 1
    assert params["demand"].over == ("product", "period")
    assert params["demand"].values == {
        ("standard", 1): 5.0,
        ("standard", 2): 6.0,
        ("premium", 1): 7.0,
        ("premium", 2): 8.0,
    }
    assert params["level"].initial == 4


def test_param_values_key_not_in_set(write_model):
    path = write_model(
        BASE_MODEL.replace("  cap: 10", "  cap: {over: [period], default: 1, values: {9: 2}}")
    )
    line = line_of(path, "cap: {over")
    assert (
        only(spec_errors(path))
        == f"{path}:{line}: params.cap.values.9: '9' is not a member of set 'period'"
    )


def test_param_mapping_matching_no_set(write_model):
    path = write_model(BASE_MODEL.replace("  cap: 10", "  cap: {north: 1, south: 2}"))
    line = line_of(path, "cap: {north")
    assert only(spec_errors(path)) == (
        f"{path}:{line}: params.cap: no set contains all of its keys (north, south); "
        "write {over: [SET], values: ...}"
    )


def test_variable_defaults(write_model):
    path = write_model(
        BASE_MODEL.replace(
            "  stock: {over: [period], lb: 0, initial: 0}\n",
            "  stock: {over: [period], lb: 0, initial: 0}\n"
            "  level: {}\n"
            "  free: {over: [period], lb: null}\n"
            "  boxed: {lb: -2, ub: 3}\n",
        )
    )
    spec = load(path)
    level, free, boxed = spec.variables["level"], spec.variables["free"], spec.variables["boxed"]
    assert (level.over, level.lb, level.ub, level.initial, level.owner) == (
        (),
        0.0,
        None,
        None,
        None,
    )
    assert (free.lb, free.ub) == (None, None)
    assert (boxed.lb, boxed.ub) == (-2, 3)
    assert spec.variables["make"].owner == "ops"
    assert list(spec.variables) == ["stock", "level", "free", "boxed", "make"]

    m = build(spec).model
    assert m.level.bounds == (0, None)
    assert all(v.bounds == (None, None) for v in m.free.values())
    assert m.boxed.bounds == (-2, 3)
    assert isinstance(m.stock, pyo.Var) and len(m.stock) == 3


def test_variable_lb_above_ub(write_model):
    path = write_model(
        BASE_MODEL.replace("{over: [period], lb: 0}", "{over: [period], lb: 5, ub: 1}")
    )
    line = line_of(path, "make: {over")
    assert only(spec_errors(path)) == (
        f"{path}:{line}: departments.ops.variables.make: lb (5.0) is above ub (1.0)"
    )
