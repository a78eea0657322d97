"""One Options object for the API and the command line."""

from __future__ import annotations

import pickle

import click
import pytest
from conftest import TESTS

import kpidesign
from kpidesign.cli import main
from kpidesign.options import Options
from kpidesign.render.files import FORMATS
from kpidesign.solver.status import SOLVERS

TWO = TESTS / "models" / "compare" / "two_departments.yaml"


def test_defaults_and_overrides() -> None:
    assert Options() == Options.of()
    opts = Options.of(Options(tol=1e-7), max_rounds=7)
    assert (opts.tol, opts.max_rounds, opts.solver) == (1e-7, 7, "choose")
    assert pickle.loads(pickle.dumps(opts)) == opts


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"solver": "gurobi"}, "unknown solver 'gurobi' (one of choose, simplex, ipm, pdlp)"),
        ({"tol": 0}, "tol must be positive"),
        ({"max_rounds": 0}, "max_rounds must be at least 1"),
        ({"time_limit": -1.0}, "time_limit must be positive"),
        ({"threads": 0}, "threads must be at least 1"),
        ({"tie_slack": -1e-9}, "tie_slack must be at least 0"),
    ],
)
def test_a_bad_setting_is_a_user_error(settings: dict, message: str) -> None:
    with pytest.raises(kpidesign.KpiDesignError) as info:
        Options(**settings)
    assert info.value.messages[0].startswith(message)


def test_an_unknown_keyword_names_the_known_ones() -> None:
    with pytest.raises(TypeError, match=r"unknown option tolerance \(known: tol, max_rounds"):
        kpidesign.compare(TWO, tolerance=1e-7)


def test_keywords_and_an_options_object_are_the_same_run() -> None:
    a = kpidesign.compare(TWO, tol=1e-7, max_rounds=9)
    b = kpidesign.compare(TWO, options=Options(tol=1e-7, max_rounds=9))
    assert a.run.options == b.run.options == Options(tol=1e-7, max_rounds=9)
    assert a.to_dict() == b.to_dict()


def test_the_cli_offers_the_solvers_and_formats_the_modules_define() -> None:
    for name in ("solve", "compare", "design", "evaluate"):
        params = {p.name: p for p in main.commands[name].params}
        assert isinstance(params["solver"].type, click.Choice)
        assert tuple(params["solver"].type.choices) == SOLVERS
        assert tuple(params["fmt"].type.choices) == FORMATS
    compare = {p.name: p for p in main.commands["compare"].params}
    assert compare["tol"].default == Options().tol
    assert compare["max_rounds"].default == Options().max_rounds


def test_cli_options_reach_the_run_block(tmp_path) -> None:
    from click.testing import CliRunner

    res = CliRunner().invoke(
        main, ["compare", str(TWO), "-f", "json", "--tol", "1e-7", "--max-rounds", "9"]
    )
    assert res.exit_code == 0, res.output
    import json

    options = json.loads(res.stdout)["run"]["options"]
    assert options["tol"] == 1e-7 and options["max_rounds"] == 9
