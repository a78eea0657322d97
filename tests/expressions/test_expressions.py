"""The safe expression compiler: errors, linear forms, ratios, lags, slack, and security.

Most tests compile text directly (``compile_linear`` / ``compile_kpi`` /
``compile_constraint`` / ``compile_bindings``) against a spec loaded from a small model
file; the rest go through ``build`` so the resulting Pyomo rows can be checked.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import json
from pathlib import Path

import pytest
from conftest import TINY, line_of, write_files
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import kpidesign
from kpidesign.errors import BuildError, KpiDesignError, Location
from kpidesign.expressions import (
    compile_bindings,
    compile_constraint,
    compile_kpi,
    compile_linear,
)
from kpidesign.model.build import build
from kpidesign.spec import load

MODEL = """\
kpidesign: 1
name: expr
sets:
  product: [a, b]
  period: 1..3
params:
  price: {a: 10, b: 16}
  cap: {over: [period], default: 50, values: {2: 40}}
  cost: 4
  level: {over: [period], default: 1, initial: 7}
variables:
  inventory: {over: [product, period], initial: 5}
  z: {}
departments:
  d:
    variables:
      x: {over: [product, period]}
      y: {over: [product, period]}
      w: {over: [period]}
    kpis:
      k: {max: "sum(x[p, t] for p in product for t in period)"}
    incentive: {k: 1}
constraints:
  c:
    for: t in period
    expr: w[t] <= cap[t]
objective:
  max: "z"
"""

WHERE = Location(Path("e.yaml"), 7, "test.expr")
PREFIX = "e.yaml:7: test.expr: "
PT = {"p": "product", "t": "period"}


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return load(write_files(tmp_path_factory.mktemp("expr"), MODEL))


def table(spec) -> dict:
    """Each variable's index -> a readable label, e.g. ``x[a,1]`` (``z`` for a scalar)."""
    out = {}
    for v in spec.variables.values():
        members = [spec.sets[s].members for s in v.over]
        out[v.name] = {
            idx: v.name + (f"[{','.join(map(str, idx))}]" if idx else "")
            for idx in itertools.product(*members)
        }
    return out


def linear(spec, text: str, env: dict | None = None, bound: dict | None = None):
    template = compile_linear(
        spec, text, WHERE, bound if bound is not None else {k: PT[k] for k in env or {}}
    )
    form = template.evaluate(dict(env or {}), table(spec))
    return form.nonzero_terms(), form.constant


def build_error(spec, text: str, bound: dict | None = None) -> str:
    with pytest.raises(BuildError) as info:
        compile_linear(spec, text, WHERE, bound or {})
    assert len(info.value.messages) == 1
    return info.value.messages[0]


# --------------------------------------------------------------------------------------
# what compiles, and to what


def test_linear_form(spec):
    terms, const = linear(spec, "2 * x[a, t] - price[b] * y[b, t] / 4 + cost - -z", {"t": 2})
    assert terms == {"x[a,2]": 2.0, "y[b,2]": -4.0, "z": 1.0}
    assert const == 4.0


def test_sum_over_two_sets(spec):
    terms, const = linear(spec, "sum(price[p] * x[p, t] + 1 for p in product for t in period)")
    assert terms == {f"x[{p},{t}]": {"a": 10.0, "b": 16.0}[p] for p in "ab" for t in (1, 2, 3)}
    assert const == 6.0


def test_sum_with_if_condition(spec):
    terms, _ = linear(spec, "sum(w[t] for t in period if t > 1)")
    assert terms == {"w[2]": 1.0, "w[3]": 1.0}
    terms, _ = linear(spec, "sum(x[p, t] for p in product for t in period if p == b and t != 2)")
    assert terms == {"x[b,1]": 1.0, "x[b,3]": 1.0}
    terms, _ = linear(spec, "sum(cap[t] * w[t] for t in period if not t < 3 or t == 1)")
    assert terms == {"w[1]": 50.0, "w[3]": 50.0}


def test_param_default_and_values(spec):
    terms, const = linear(spec, "cap[1] + cap[2] + z")
    assert (terms, const) == ({"z": 1.0}, 90.0)


def test_bare_member_and_integer_index(spec):
    terms, _ = linear(spec, "x[b, 3] + 2 * price[a] * w[1]")
    assert terms == {"x[b,3]": 1.0, "w[1]": 20.0}


def test_index_arithmetic_on_integer_set(spec):
    terms, const = linear(spec, "w[t + 1] - w[t - 1] + cap[t+1]", {"t": 2})
    assert (terms, const) == ({"w[3]": 1.0, "w[1]": -1.0}, 50.0)


def test_ratio_recognised_at_top_of_kpi(spec):
    kpi = compile_kpi(
        spec,
        "(30 + sum(cost * x[p, t] for p in product for t in period))"
        " / sum(x[p, t] for p in product for t in period)",
        WHERE,
    )
    assert kpi.is_ratio
    num = kpi.numerator.evaluate({}, table(spec))
    den = kpi.denominator.evaluate({}, table(spec))
    assert num.constant == 30.0
    assert set(num.nonzero_terms().values()) == {4.0} and len(num.nonzero_terms()) == 6
    assert den.constant == 0.0 and set(den.nonzero_terms().values()) == {1.0}


def test_division_by_data_at_top_of_kpi_is_not_a_ratio(spec):
    kpi = compile_kpi(spec, "sum(w[t] for t in period) / (cost * 2)", WHERE)
    assert not kpi.is_ratio and kpi.denominator is None
    assert kpi.numerator.evaluate({}, table(spec)).nonzero_terms() == {
        "w[1]": 0.125,
        "w[2]": 0.125,
        "w[3]": 0.125,
    }


def test_kpi_without_variables_is_an_error(spec):
    with pytest.raises(BuildError) as info:
        compile_kpi(spec, "cost * 3", WHERE)
    assert str(info.value) == f"{PREFIX}a KPI must depend on decision variables: `cost * 3`"


def test_ratio_below_the_top_of_a_kpi_is_an_error(spec):
    with pytest.raises(BuildError) as info:
        compile_kpi(spec, "1 + z / w[1]", WHERE)
    assert str(info.value) == (
        f"{PREFIX}division by an expression with variables is allowed only as a ratio at the "
        "top of a KPI: `z / w[1]`"
    )


# --------------------------------------------------------------------------------------
# compile errors: one test per case


def test_unknown_name_did_you_mean(spec):
    assert build_error(spec, "sum(prise[p] * x[p, 1] for p in product)") == (
        f"{PREFIX}unknown name 'prise' (did you mean 'price'?): `prise`"
    )


def test_unknown_scalar_name_did_you_mean(spec):
    assert (
        build_error(spec, "2 * cots + z")
        == f"{PREFIX}unknown name 'cots' (did you mean 'cost'?): `cots`"
    )


def test_unknown_set_member_as_index(spec):
    assert build_error(spec, "x[c, 1]") == f"{PREFIX}unknown index name 'c' for set 'product': `c`"
    assert build_error(spec, "sum(x[pp, 1] for p in product)") == (
        f"{PREFIX}unknown index name 'pp' for set 'product' (did you mean 'p'?): `pp`"
    )


def test_non_linear_product(spec):
    assert build_error(spec, "x[p, t] * y[p, t]", PT) == (
        f"{PREFIX}non-linear: a product of two variable terms: `x[p, t] * y[p, t]`"
    )


def test_non_linear_product_inside_sum(spec):
    assert build_error(spec, "sum(w[t] * (z + 1) for t in period)") == (
        f"{PREFIX}non-linear: a product of two variable terms: `w[t] * (z + 1)`"
    )


def test_division_by_variable_outside_kpi(spec):
    assert build_error(spec, "cost / w[1]") == (
        f"{PREFIX}division by an expression with variables is allowed only as a ratio at the "
        "top of a KPI: `cost / w[1]`"
    )


def test_division_by_variable_in_constraint(spec):
    with pytest.raises(BuildError) as info:
        compile_constraint(spec, "x[a, 1] / w[1] <= 3", WHERE, {})
    assert str(info.value) == (
        f"{PREFIX}division by an expression with variables is allowed only as a ratio at the "
        "top of a KPI: `x[a, 1] / w[1]`"
    )


def test_division_by_zero(spec):
    with pytest.raises(BuildError) as info:
        linear(spec, "z / (cost - 4)")
    assert str(info.value) == f"{PREFIX}division by zero in `z / (cost - 4)`"


def test_lag_without_initial(spec):
    template = compile_linear(spec, "x[p, t-1]", WHERE, PT)
    assert template.evaluate({"p": "a", "t": 2}, table(spec)).nonzero_terms() == {"x[a,1]": 1.0}
    with pytest.raises(BuildError) as info:
        template.evaluate({"p": "a", "t": 1}, table(spec))
    assert str(info.value) == (
        f"{PREFIX}x[a,0] (in `x[p, t-1]`) is outside its sets and variable 'x' declares no "
        "`initial` value"
    )


def test_lag_of_param_without_initial(spec):
    with pytest.raises(BuildError) as info:
        linear(spec, "cap[t - 1] * w[t]", {"t": 1})
    assert str(info.value) == (
        f"{PREFIX}cap[0] (in `cap[t - 1]`) is outside its sets and param 'cap' declares no "
        "`initial` value"
    )


def test_lag_with_initial_is_a_constant(spec):
    terms, const = linear(
        spec, "inventory[p, t] - inventory[p, t-1] + level[t-1]", {"p": "b", "t": 1}
    )
    assert (terms, const) == ({"inventory[b,1]": 1.0}, -5.0 + 7.0)


def test_index_arithmetic_on_string_set(spec):
    assert build_error(spec, "x[p + 1, t]", PT) == (
        f"{PREFIX}index arithmetic needs an integer set, and 'product' is not one: `p + 1`"
    )
    assert build_error(spec, "x[1 + 1, t]", PT) == (
        f"{PREFIX}index arithmetic needs an integer set, and 'product' is not one: `1 + 1`"
    )


def test_wrong_number_of_indices(spec):
    assert build_error(spec, "x[t]", PT) == (
        f"{PREFIX}variable 'x' takes 2 index(es) (product, period), got 1: `x[t]`"
    )


def test_unsubscripted_indexed_variable(spec):
    assert build_error(spec, "w + z") == (
        f"{PREFIX}variable 'w' is indexed over ['period']: subscript it: `w`"
    )


def test_sum_over_unknown_set(spec):
    assert build_error(spec, "sum(w[t] for t in perod)") == (
        f"{PREFIX}`for ... in` must name a set (did you mean 'period'?): `perod`"
    )


def test_condition_on_variable_rejected(spec):
    assert build_error(spec, "sum(w[t] for t in period if w[t] > 1)") == (
        f"{PREFIX}a condition cannot depend on variables: `w[t]`"
    )


def test_comparison_inside_expression_rejected(spec):
    assert build_error(spec, "z + (w[1] <= 3)") == (
        f"{PREFIX}a comparison is allowed only at the top of a constraint's expr: `w[1] <= 3`"
    )


def test_invalid_syntax(spec):
    assert (
        build_error(spec, "x[a, 1] +")
        == f"{PREFIX}invalid expression syntax (invalid syntax): `x[a, 1] +`"
    )


def test_constraint_without_comparison(spec):
    with pytest.raises(BuildError) as info:
        compile_constraint(spec, "w[1] + 3", WHERE, {})
    assert str(info.value) == f"{PREFIX}a constraint needs one of <=, >=, == at its top: `w[1] + 3`"


def test_constraint_with_two_comparisons(spec):
    with pytest.raises(BuildError) as info:
        compile_constraint(spec, "0 <= w[1] <= 3", WHERE, {})
    assert str(info.value) == f"{PREFIX}a constraint takes exactly one comparison: `0 <= w[1] <= 3`"


def test_constraint_strict_comparison(spec):
    with pytest.raises(BuildError) as info:
        compile_constraint(spec, "w[1] < 3", WHERE, {})
    assert str(info.value) == f"{PREFIX}a constraint's comparison must be <=, >= or ==: `w[1] < 3`"


def test_constraint_data_only(spec):
    with pytest.raises(BuildError) as info:
        compile_constraint(spec, "cost <= 3", WHERE, {})
    assert str(info.value) == f"{PREFIX}a constraint must contain a decision variable: `cost <= 3`"


def test_constraint_sides_and_flip(spec):
    c = compile_constraint(spec, "cap[t] >= 2 + w[t]", WHERE, {"t": "period"})
    assert c.sense == "<="  # variables moved to the left: 2 + w[t] <= cap[t]
    form, lhs, rhs = c.evaluate({"t": 2}, table(spec))
    assert form.nonzero_terms() == {"w[2]": 1.0}
    assert (lhs, rhs) == (2.0, 40.0)


def test_bindings(spec):
    b = compile_bindings(spec, "p in product, t in period if t >= 2 and p == a", WHERE)
    assert b.names == ("p", "t") and b.sets == ("product", "period")
    assert list(b) == [{"p": "a", "t": 2}, {"p": "a", "t": 3}]
    assert list(compile_bindings(spec, None, WHERE)) == [{}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("t in perod", "unknown set 'perod' (did you mean 'period'?)"),
        ("t period", "expected `name in set`, got `t period`"),
        ("t in period, t in product", "index name 't' is already in use"),
        ("cost in period", "index name 'cost' is already in use"),
        ("t in period if t.real > 1", "attribute access is not allowed: `t.real`"),
        ("t in period if t", "a condition must be a comparison on indices (e.g. t > 1): `t`"),
    ],
)
def test_bindings_errors(spec, text, message):
    with pytest.raises(BuildError) as info:
        compile_bindings(spec, text, WHERE)
    assert str(info.value) == PREFIX + message


# --------------------------------------------------------------------------------------
# through build: Pyomo rows


def model_with(write_model, constraints: str) -> Path:
    head = MODEL[: MODEL.index("constraints:")]
    return write_model(head + "constraints:\n" + constraints + 'objective:\n  max: "z"\n')


def test_lag_with_initial_folds_into_bounds(write_model):
    path = model_with(
        write_model,
        "  balance:\n"
        "    for: p in product, t in period\n"
        "    expr: inventory[p, t] == inventory[p, t-1] + x[p, t] - y[p, t]\n"
        "  floor:\n"
        "    for: t in period\n"
        "    expr: w[t] >= level[t-1]\n",
    )
    m = build(load(path)).model
    assert (m.balance["a", 1].lower, m.balance["a", 1].upper) == (5.0, 5.0)
    assert (m.balance["b", 2].lower, m.balance["b", 2].upper) == (0.0, 0.0)
    assert len(m.balance) == 6
    assert [m.floor[t].lower for t in (1, 2, 3)] == [7.0, 1.0, 1.0]
    assert m.floor[1].upper is None


def test_lag_without_initial_through_build(write_model):
    path = model_with(write_model, "  lagged:\n    for: t in period\n    expr: w[t] <= w[t-1]\n")
    line = line_of(path, "expr: w[t] <= w[t-1]")
    with pytest.raises(BuildError) as info:
        build(load(path))
    assert info.value.messages == [
        f"{path}:{line}: constraints.lagged.expr: w[0] (in `w[t-1]`) is outside its sets and "
        "variable 'w' declares no `initial` value"
    ]


def test_slack_on_equality_rejected(write_model):
    path = model_with(
        write_model, "  same:\n    for: t in period\n    expr: w[t] == cap[t]\n    slack: 0.1\n"
    )
    line = line_of(path, "slack: 0.1")
    with pytest.raises(BuildError) as info:
        build(load(path))
    assert info.value.messages == [
        f"{path}:{line}: constraints.same.slack: slack on an equality constraint is not allowed"
    ]


def test_slack_with_variables_on_both_sides_rejected(write_model):
    path = model_with(
        write_model, "  both:\n    for: t in period\n    expr: w[t] <= z\n    slack: 0.1\n"
    )
    line = line_of(path, "slack: 0.1")
    with pytest.raises(BuildError) as info:
        build(load(path))
    assert info.value.messages == [
        f"{path}:{line}: constraints.both.slack: slack needs one side of the constraint to be data"
    ]


def test_slack_margins(write_model):
    rows = {
        "le": "w[t] <= cap[t]",
        "ge": "w[t] >= cap[t]",
        "left_ge": "cap[t] >= w[t]",  # data on the left: w[t] <= cap[t]
        "left_le": "cap[t] <= w[t]",  # data on the left: w[t] >= cap[t]
        "offset": "w[t] + 5 <= cap[t]",
        "none": "w[t] <= cap[t]",
    }
    text = ""
    for name, expr in rows.items():
        text += f"  {name}:\n    for: t in period\n    expr: {expr}\n"
        if name != "none":
            text += "    slack: 0.2\n"
    m = build(load(model_with(write_model, text))).model
    cap = {1: 50.0, 2: 40.0, 3: 50.0}
    for t, c in cap.items():
        assert (m.le[t].lower, m.le[t].upper) == (None, pytest.approx(0.8 * c))
        assert (m.ge[t].lower, m.ge[t].upper) == (pytest.approx(1.2 * c), None)
        assert (m.left_ge[t].lower, m.left_ge[t].upper) == (None, pytest.approx(0.8 * c))
        assert (m.left_le[t].lower, m.left_le[t].upper) == (pytest.approx(1.2 * c), None)
        assert m.offset[t].upper == pytest.approx(0.8 * c - 5)
        assert m.none[t].upper == c
        for con in (m.le, m.ge, m.left_ge, m.left_le, m.offset):
            assert str(con[t].body) == f"w[{t}]"


def test_kpis_and_objective_built(write_model):
    built = build(load(TINY))
    assert built.kpis["production.unit_cost"].is_ratio
    assert not built.kpis["sales.volume"].is_ratio
    assert set(built.kpis) == {
        "sales.volume",
        "sales.revenue",
        "production.unit_cost",
        "production.output",
        "profit",
    }
    assert built.owners == {
        "inventory": None,
        "sold": "sales",
        "promo": "sales",
        "made": "production",
    }


# --------------------------------------------------------------------------------------
# security: no expression can run code

ATTACKS = [
    "__import__('os').system('touch MARKER')",
    "(lambda: __import__('os').system('touch MARKER'))()",
    "z.__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd')",
    "open('MARKER', 'w')",
    '"abc"',
    "z ** 2",
    "[i for i in period]",
    'eval(\'__import__("os").system("touch MARKER")\')',
    "exec('import os; os.system(\"touch MARKER\")')",
    "globals()",
    'f\'{__import__("os").system("touch MARKER")}\'',
    "__builtins__",
    "z if __import__('os').system('touch MARKER') else z",
    "sum(w[t] for t in __import__('os').system('touch MARKER'))",
    "sum(w[t] for t in period if __import__('os').system('touch MARKER'))",
    "sum(w[t] for t in period if t > __import__('os').system('touch MARKER'))",
    "w[__import__('os').system('touch MARKER')]",
    "cap[(lambda: 1)()] * z",
    "z + [__import__('os').system('touch MARKER')][0]",
    "(z := 1)",
    "{'a': z}",
    "z[::-1]",
    "getattr(z, '__class__')",
    "sum(w[t] for t in period, start=__import__('os'))",
    "sum(__import__('os').system('touch MARKER') for t in period)",
]


def attack_model(tmp_path: Path, attack: str, where: str) -> tuple[Path, str, str]:
    """A model whose ``where`` holds ``attack``: (path, key path, line needle)."""
    marker = tmp_path / "MARKER"
    attack = attack.replace("MARKER", str(marker))
    quoted = json.dumps(attack)  # a JSON string is a YAML double-quoted scalar
    text = MODEL
    if where == "objective":
        text = text.replace('  max: "z"', f"  max: {quoted}")
        return write_files(tmp_path, text), "objective.max", "  max: "
    if where == "constraint":
        text = text.replace(
            "    expr: w[t] <= cap[t]",
            f"    expr: {json.dumps('w[t] + (' + attack + ') <= cap[t]')}",
        )
        return write_files(tmp_path, text), "constraints.c.expr", "    expr: "
    if where == "kpi":
        text = text.replace(
            '      k: {max: "sum(x[p, t] for p in product for t in period)"}',
            f"      k: {{min: {quoted}}}",
        )
        return write_files(tmp_path, text), "departments.d.kpis.k.min", "      k: {min"
    assert where == "for"
    cond = attack.replace("'", '"')
    text = text.replace("    for: t in period", f"    for: {json.dumps('t in period if ' + cond)}")
    return write_files(tmp_path, text), "constraints.c.for", "    for: "


@pytest.mark.parametrize("where", ["objective", "constraint", "kpi", "for"])
@pytest.mark.parametrize("attack", ATTACKS)
def test_no_expression_runs_code(tmp_path, monkeypatch, attack, where):
    monkeypatch.chdir(tmp_path)
    path, key, needle = attack_model(tmp_path, attack, where)
    with pytest.raises(KpiDesignError) as info:
        build(load(path))
    line = line_of(path, needle)
    assert len(info.value.messages) == 1, info.value.messages
    message = info.value.messages[0]
    assert message.startswith(f"{path}:{line}: {key}: "), message
    assert not (tmp_path / "MARKER").exists()


def test_compiler_never_calls_eval_or_exec(monkeypatch):
    def forbidden(*args, **kwargs):
        msg = "eval/exec called"
        raise AssertionError(msg)

    spec = load(TINY)  # (pandas builds namedtuples with eval while reading CSV rows)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    built = build(spec)
    assert len(built.model.balance) == 6
    assert built.kpis["production.unit_cost"].is_ratio
    kpi = compile_kpi(spec, spec.departments["sales"].kpis["revenue"].text, WHERE)
    assert not kpi.is_ratio
    for attack in ATTACKS:
        with pytest.raises(KpiDesignError):
            compile_linear(spec, attack, WHERE, {})


# --------------------------------------------------------------------------------------
# property: random linear expressions compile to the coefficients computed directly

PROP_MODEL = """\
kpidesign: 1
name: prop
sets:
  s: 1..3
params:
  a: 2.5
  b: -3
  c: 0.5
  q: {1: 1, 2: -2, 3: 4}
variables:
  x: {lb: null}
  y: {}
  z: {}
  v: {over: [s]}
objective:
  max: "x"
"""
PARAMS = {"a": 2.5, "b": -3.0, "c": 0.5}
Q = {1: 1.0, 2: -2.0, 3: 4.0}
VARS = {"x": {(): "x"}, "y": {(): "y"}, "z": {(): "z"}, "v": {(i,): f"v[{i}]" for i in (1, 2, 3)}}


@pytest.fixture(scope="module")
def prop_spec(tmp_path_factory):
    return load(write_files(tmp_path_factory.mktemp("prop"), PROP_MODEL))


# an expression is rendered to (text, {variable: coefficient}, constant, has_variables)


def _number(value: float) -> tuple:
    return (repr(value), {}, float(value), False)


def _scale(e: tuple, k: float) -> tuple[dict, float]:
    return {n: c * k for n, c in e[1].items()}, e[2] * k


def _add(e1: tuple, e2: tuple, sign: float) -> tuple[dict, float]:
    terms = dict(e1[1])
    for n, c in e2[1].items():
        terms[n] = terms.get(n, 0.0) + sign * c
    return terms, e1[2] + sign * e2[2]


LEAVES = [
    ("sum(q[i] * v[i] for i in s)", {f"v[{i}]": Q[i] for i in Q}, 0.0, True),
    ("sum(v[i] - q[i] for i in s if i > 1)", {"v[2]": 1.0, "v[3]": 1.0}, -2.0, True),
    ("v[2]", {"v[2]": 1.0}, 0.0, True),
    ("q[3]", {}, 4.0, False),
]

numbers = st.one_of(st.integers(-9, 9).map(float), st.sampled_from([0.5, 1.25, -2.5, 0.1])).map(
    _number
)
params = st.sampled_from(sorted(PARAMS)).map(lambda n: (n, {}, PARAMS[n], False))
variables = st.sampled_from(["x", "y", "z"]).map(lambda n: (n, {n: 1.0}, 0.0, True))
constants = st.one_of(numbers, params)
divisors = st.one_of(st.sampled_from([2.0, -4.0, 0.5, 8.0]).map(_number), params)


def _combine(children):
    def add(pair):
        (e1, e2), sign = pair
        terms, const = _add(e1, e2, sign)
        op = "+" if sign > 0 else "-"
        return (f"({e1[0]} {op} {e2[0]})", terms, const, e1[3] or e2[3])

    def mul(pair):
        e, k, left = pair
        terms, const = _scale(e, k[2])
        text = f"({k[0]} * {e[0]})" if left else f"({e[0]} * {k[0]})"
        return (text, terms, const, e[3])

    def div(pair):
        e, d = pair
        terms, const = _scale(e, 1.0 / d[2])
        return (f"({e[0]} / {d[0]})", terms, const, e[3])

    def neg(e):
        terms, const = _scale(e, -1.0)
        return (f"(-{e[0]})", terms, const, e[3])

    def total(e):  # sum(e for j in s): three copies of e
        terms, const = _scale(e, 3.0)
        return (f"sum({e[0]} for j in s)", terms, const, e[3])

    def weighted(e):  # sum(e * q[j] for j in s): e times sum(q)
        terms, const = _scale(e, sum(Q.values()))
        return (f"sum({e[0]} * q[j] for j in s)", terms, const, e[3])

    return st.one_of(
        st.tuples(st.tuples(children, children), st.sampled_from([1.0, -1.0])).map(add),
        st.tuples(children, constants, st.booleans()).map(mul),
        st.tuples(children, divisors).map(div),
        children.map(neg),
        children.map(total),
        children.map(weighted),
    )


expressions = st.recursive(
    st.one_of(numbers, params, variables, st.sampled_from(LEAVES)), _combine, max_leaves=10
)


def _check(form, terms: dict, const: float) -> None:
    got = form.terms
    for name in set(got) | set(terms):
        assert got.get(name, 0.0) == pytest.approx(terms.get(name, 0.0), rel=1e-9, abs=1e-9), name
    assert form.constant == pytest.approx(const, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(expressions)
def test_random_linear_expressions(prop_spec, expr):
    text, terms, const, has_variables = expr
    text = _index_names(text)
    template = compile_linear(prop_spec, text, WHERE)
    assert template.has_variables == has_variables
    _check(template.evaluate({}, VARS), terms, const)


@settings(max_examples=60, deadline=None)
@given(expressions, expressions)
def test_random_linear_constraints(prop_spec, left, right):
    assume(left[3] or right[3])  # a constraint needs a variable somewhere
    text = f"{_index_names(left[0])} <= {_index_names(right[0])}"
    compiled = compile_constraint(prop_spec, text, WHERE, {})
    form, lhs_const, rhs_const = compiled.evaluate({}, VARS)
    var_side, data_side = (left, right) if left[3] else (right, left)
    assert compiled.sense == ("<=" if left[3] else ">=")
    terms, const = _add(var_side, data_side, -1.0)
    _check(form, terms, const)
    assert lhs_const == pytest.approx(var_side[2], rel=1e-9, abs=1e-9)
    assert rhs_const == pytest.approx(data_side[2], rel=1e-9, abs=1e-9)


def _index_names(text: str) -> str:
    """Number the ``j`` of every ``sum(... for j in s)`` by its nesting depth."""
    out = []
    open_sums: list[int] = []  # paren depth at which each open sum started
    depth = 0
    i = 0
    while i < len(text):
        if text.startswith("sum(", i):
            open_sums.append(depth)
            out.append("sum(")
            depth += 1
            i += 4
            continue
        if text.startswith("for j in s", i):
            out.append(f"for j{len(open_sums)} in s")
            i += len("for j in s")
            continue
        if text.startswith("q[j]", i):
            out.append(f"q[j{len(open_sums)}]")
            i += len("q[j]")
            continue
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if open_sums and open_sums[-1] == depth:
                open_sums.pop()
        out.append(ch)
        i += 1
    return "".join(out)


def test_index_names_helper():
    text = "sum((sum(x for j in s) + y) * q[j] for j in s)"
    assert _index_names(text) == "sum((sum(x for j2 in s) + y) * q[j1] for j1 in s)"


def test_the_attacks_are_real(tmp_path, monkeypatch):
    """Control: evaluated by Python, the first attack does create its marker file."""
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "MARKER"
    eval(ATTACKS[0].replace("MARKER", str(marker)), {})  # the point of the test
    assert marker.exists()


NEGATIVE_RHS = """\
kpidesign: 1
name: negative_rhs
description: >
  Slack on negative right-hand sides.  `lo >= -100` with slack 0.1 must hold with a margin
  of 0.1·|-100| = 10, so lo >= -90 (a loosening rule, rhs·(1 + f), would give -110);
  `hi <= -100` with slack 0.1 means hi <= -110.  Minimizing lo - hi: lo = -90, hi = -110,
  objective -90 - (-110) = 20.  The duals are +1 on the floor (raising it by one raises the
  minimum by one) and -1 on the cap.
departments:
  ops:
    variables:
      lo: {lb: null}
      hi: {lb: null}
    kpis:
      spread: {min: "lo - hi"}
    incentive: {spread: 1}
constraints:
  floor: {expr: "lo >= -100", slack: 0.1}
  cap: {expr: "hi <= -100", slack: 0.1}
  box: {expr: "hi >= -1000"}
objective:
  min: "lo - hi"
"""


def test_slack_on_a_negative_right_hand_side_tightens(write_model):
    path = write_model(NEGATIVE_RHS)
    m = build(load(path)).model
    assert (m.floor.lower, m.floor.upper) == (pytest.approx(-90.0), None)
    assert (m.cap.lower, m.cap.upper) == (None, pytest.approx(-110.0))
    result = kpidesign.solve(path)
    assert result.objective == pytest.approx(20.0)
    duals = result.to_dict()["duals"]["constraints"]
    assert duals["floor"] == pytest.approx(1.0)
    assert duals["cap"] == pytest.approx(-1.0)


def test_a_long_expression_counts_lines_as_python_does():
    # found in review: str.splitlines also breaks at a form feed, which shifted every later
    # token of a long expression (and its value): lines break at \n, \r\n and \r only
    from kpidesign.expressions.parse import parse

    text = "(c +\f b\n + d) + " + " + ".join(["a"] * 260) + " - c * 2"
    tree = parse(text, Location(None))
    values = {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}
    value = eval(compile(ast.Expression(ast.fix_missing_locations(tree)), "t", "eval"), values)
    assert value == 261.0
    assert ast.get_source_segment(text, tree) == text


def test_a_long_expression_refuses_what_python_refuses():
    from kpidesign.expressions.parse import parse

    long = " + ".join(["a"] * 400)
    with pytest.raises(BuildError, match="a line break outside brackets"):
        parse(long + "\n- b", Location(None))
    tree = parse("-(" + long + ")", Location(None))  # spans include the sign and brackets
    assert ast.get_source_segment("-(" + long + ")", tree).startswith("-(a + a")
