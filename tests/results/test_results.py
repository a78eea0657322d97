"""Result types: the ``run`` block every result carries, and results without an optimum."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TESTS, TINY

import kpidesign
from kpidesign.cli import main
from kpidesign.errors import SolveError
from kpidesign.options import Options
from kpidesign.render.files import to_json
from kpidesign.results import CompareResult, DesignResult, SystemResult
from kpidesign.solver import highs_version
from kpidesign.types import Diagnosis, Status

MODELS = TESTS / "models"
TWO = MODELS / "compare" / "two_departments.yaml"
INFEASIBLE = MODELS / "infeasible.yaml"

ANALYSES: dict[str, tuple[Callable, type]] = {
    "solve": (kpidesign.solve, SystemResult),
    "compare": (kpidesign.compare, CompareResult),
    "design": (kpidesign.design, DesignResult),
}


def _digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("command", "path", "files"),
    [
        ("solve", TINY, [TINY, MODELS / "data" / "demand.csv"]),  # a model and its CSV
        ("compare", TWO, [TWO]),
        ("design", TWO, [TWO]),
    ],
)
def test_every_result_carries_a_run_block(command: str, path: Path, files: list[Path]) -> None:
    # (options given by keyword or on the command line: tests/test_options.py)
    analysis, kind = ANALYSES[command]
    result = analysis(path)
    assert isinstance(result, kind)
    assert result.ok and result.status is Status.OPTIMAL and result.diagnosis is None
    assert result.raise_if_failed() is result
    out = result.to_dict()
    run = out["run"]
    assert run == json.loads(to_json(result))["run"]  # plain JSON values
    assert run["model"] == run["scenario"] == path.stem
    assert (run["variant"], run["sense"], run["status"], run["seed"]) == (
        None,
        "max",
        "optimal",
        None,
    )
    assert run["options"] == Options().provenance()
    assert (run["kpidesign"], run["highs"]) == (version("kpidesign"), highs_version())
    # every file read, by the path it was given, with the digest of its bytes
    assert run["inputs"] == {str(f): _digest(f) for f in files}
    assert all(
        d.startswith("sha256:") and len(d) == len("sha256:") + 64 for d in run["inputs"].values()
    )
    assert "seconds" not in run  # wall time would make equal inputs give different files
    assert run["solves"] == result.run.solves
    assert run["iterations"] == result.run.iterations >= 0
    if command == "solve":
        assert run["solves"] == 1  # the system problem, solved once
    else:
        assert run["solves"] > 3  # plans B and C, then every department's responses
    if command == "compare":
        assert out["solves"] == run["solves"]


CONFLICT = ("capacity[2] (upper bound)", "commitment (lower bound)")
MESSAGE = (
    "the system problem of infeasible is infeasible: conflicting constraints "
    "capacity[2] (upper bound), commitment (lower bound)"
)


@pytest.mark.parametrize("command", list(ANALYSES))
def test_an_infeasible_model_is_a_failed_result_naming_the_conflict(command: str) -> None:
    """x[2] <= 4 (capacity[2]) against x[2] >= 6 (commitment): every analysis stops at
    the system problem and returns its diagnosis as a value."""
    analysis, kind = ANALYSES[command]
    result = analysis(INFEASIBLE)
    assert isinstance(result, kind)
    assert result.status is Status.INFEASIBLE and not result.ok
    assert result.diagnosis == Diagnosis(Status.INFEASIBLE, MESSAGE, conflict=CONFLICT)
    out = json.loads(to_json(result))
    assert out["run"]["status"] == "infeasible"
    assert out["run"]["solves"] == 1
    # the JSON carries the diagnosis too (a sweep writes its failed points as data)
    assert out["diagnosis"] == {
        "status": "infeasible",
        "message": MESSAGE,
        "conflict": list(CONFLICT),
        "ray": [],
    }
    assert list(out)[-2:] == ["diagnosis", "run"]
    with pytest.raises(SolveError) as caught:
        result.raise_if_failed()
    assert caught.value.diagnosis == result.diagnosis
    assert caught.value.messages == [MESSAGE]
    # the command line prints the same message, and nothing on stdout
    res = CliRunner().invoke(main, [command, str(INFEASIBLE)])
    assert res.exit_code == 2
    assert (res.stdout, res.stderr) == ("", f"error: {MESSAGE}\n")


def test_a_failed_result_has_no_numbers() -> None:
    out = json.loads(to_json(kpidesign.solve(INFEASIBLE)))
    assert out["status"] == "infeasible"
    assert out["objective"] is None  # NaN in Python, null in JSON
    assert (out["allocation"], out["kpis"], out["state"]) == ({}, {}, {})
    assert out["duals"] == {"constraints": {}, "allocations": {}, "resources": {}}
    out = json.loads(to_json(kpidesign.design(INFEASIBLE)))
    assert out["departments"] == {}
    assert out["verification"]["share_of_optimum"] is None


def test_a_failed_comparison_does_not_claim_its_incentives_are_aligned() -> None:
    """Its misalignment cost is undefined (NaN), not zero: the headline says why there is
    no comparison instead of reading NaN as aligned."""
    result = kpidesign.compare(INFEASIBLE)
    assert all(math.isnan(v) for v in result.objectives.values())
    out = json.loads(to_json(result))
    assert out["misalignment_cost"] is None
    assert "aligned" not in result.headline()
    assert out["headline"] == result.headline() == MESSAGE
