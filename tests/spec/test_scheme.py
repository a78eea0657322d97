"""Incentive schemes given by the user: ``resolve_scheme``, ``read_scheme`` and
``parse_incentives``.  (The CLI's file-and-line errors are in tests/analyses/test_design.py.)"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import TESTS

from kpidesign.errors import SpecError
from kpidesign.spec import ModelSpec, load
from kpidesign.spec.scheme import parse_incentives, read_scheme, resolve_scheme

TWO = TESTS / "models" / "compare" / "two_departments.yaml"
CURRENT = {"sales": {"sales.volume": 1.0}, "production": {"production.output": 1.0}}


@pytest.fixture(scope="module")
def spec() -> ModelSpec:
    return load(TWO)


def _errors(spec: ModelSpec, scheme: dict, where: dict | None = None) -> list[str]:
    with pytest.raises(SpecError) as caught:
        resolve_scheme(spec, scheme, where)
    return caught.value.messages


def test_an_empty_scheme_keeps_every_current_scheme(spec: ModelSpec) -> None:
    assert resolve_scheme(spec, {}) == CURRENT


@pytest.mark.parametrize("key", ["output", "production.output"])
def test_own_kpis_by_short_or_qualified_name_and_company_kpis(spec: ModelSpec, key: str) -> None:
    resolved = resolve_scheme(spec, {"production": {key: 0.25, "profit": 3}})
    # the named department's scheme is replaced whole; sales keeps its own
    assert resolved == {
        "sales": {"sales.volume": 1.0},
        "production": {"production.output": 0.25, "profit": 3.0},
    }
    assert isinstance(resolved["production"]["profit"], float)


def test_a_weight_of_zero_and_an_empty_scheme_are_allowed(spec: ModelSpec) -> None:
    assert resolve_scheme(spec, {"sales": {"volume": 0}, "production": {}}) == {
        "sales": {"sales.volume": 0.0},
        "production": {},
    }


@pytest.mark.parametrize(
    ("scheme", "message"),
    [
        (
            {"prodution": {"output": 1}},
            "unknown department 'prodution' (did you mean 'production'?)",
        ),
        ({"finance": {"output": 1}}, "unknown department 'finance'"),  # nothing close
        (
            {"production": {"outptu": 1}},
            "production: unknown KPI 'outptu' (did you mean 'output'?)",
        ),
        ({"production": {"proft": 1}}, "production: unknown KPI 'proft' (did you mean 'profit'?)"),
        # another department's KPI is not on production's scorecard
        ({"production": {"sales.volume": 1}}, "production: unknown KPI 'sales.volume'"),
        ({"production": 1}, "production: expected a mapping of KPI to weight"),
        ({"production": None}, "production: expected a mapping of KPI to weight"),
    ],
)
def test_unknown_names_are_errors_with_a_suggestion_when_one_is_close(
    spec: ModelSpec, scheme: dict, message: str
) -> None:
    assert _errors(spec, scheme) == [message]


@pytest.mark.parametrize(
    ("weight", "shown"),
    [
        (-1, "-1"),
        (-0.5, "-0.5"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (True, "True"),  # a YAML boolean is not a number
        ("0.5", "'0.5'"),
        (None, "None"),
    ],
)
def test_bad_weights_are_errors(spec: ModelSpec, weight: object, shown: str) -> None:
    assert _errors(spec, {"production": {"output": weight}}) == [
        f"production.output: a weight must be a number >= 0, got {shown}"
    ]


def test_every_error_of_a_scheme_is_reported_at_once(spec: ModelSpec) -> None:
    scheme = {
        "prodution": {"output": 1},
        "sales": {"volum": 1, "volume": -2, "profit": 0.5},
    }
    assert _errors(spec, scheme) == [
        "unknown department 'prodution' (did you mean 'production'?)",
        "sales: unknown KPI 'volum' (did you mean 'volume'?)",
        "sales.volume: a weight must be a number >= 0, got -2",
    ]


def test_errors_of_a_scheme_file_name_the_line_of_each_entry(
    spec: ModelSpec, tmp_path: Path
) -> None:
    path = tmp_path / "scheme.yaml"
    path.write_text(
        "# a scheme\n"
        "sales:\n"
        "  volume: 0.5\n"
        "  volum: 0.5\n"  # line 4
        "production:\n"
        "  output: -1\n"  # line 6
        "finanse: {profit: 1}\n"  # line 7
    )
    data, where = read_scheme(path)
    assert data == {
        "sales": {"volume": 0.5, "volum": 0.5},
        "production": {"output": -1},
        "finanse": {"profit": 1},
    }
    assert _errors(spec, data, where) == [
        # the location carries the key path: the message does not repeat it
        f"{path}:4: sales.volum: unknown KPI 'volum' (did you mean 'volume'?)",
        f"{path}:6: production.output: a weight must be a number >= 0, got -1",
        f"{path}:7: finanse: unknown department 'finanse'",
    ]


@pytest.mark.parametrize(
    ("options", "scheme"),
    [
        (("sales.volume=1",), {"sales": {"volume": 1.0}}),
        (
            ("sales.volume=0.7", "production.output=0.3", "sales.profit=.5"),
            {"sales": {"volume": 0.7, "profit": 0.5}, "production": {"output": 0.3}},
        ),
        ((" sales.volume = 2e-1 ",), {"sales": {"volume": 0.2}}),
        # spaces around the dot are not part of the names
        (("sales .volume=1",), {"sales": {"volume": 1.0}}),
        # the last of two weights for one KPI wins
        (("sales.volume=1", "sales.volume=2"), {"sales": {"volume": 2.0}}),
        # a company KPI through its department's entry; numbers are checked later
        (("sales.profit=-1",), {"sales": {"profit": -1.0}}),
    ],
)
def test_incentive_options(options: tuple[str, ...], scheme: dict) -> None:
    assert parse_incentives(options) == scheme


@pytest.mark.parametrize(
    "option",
    [
        "output=1",
        "sales.volume",
        "sales.volume=",
        "sales.=1",
        ".volume=1",
        " .volume=1",
        "sales.volume=a",
        "sales.volume=nan",
    ],
)
def test_malformed_incentive_options_are_errors(option: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_incentives(("sales.volume=1", option))
    assert caught.value.messages == [
        f"--incentive {option}: expected DEPT.KPI=WEIGHT, e.g. sales.revenue=0.7"
    ]


def test_a_negative_incentive_option_is_refused_by_the_scheme(spec: ModelSpec) -> None:
    assert _errors(spec, parse_incentives(("production.output=-1",))) == [
        "production.output: a weight must be a number >= 0, got -1.0"
    ]
