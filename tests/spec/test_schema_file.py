"""The JSON Schema for editors (``kpidesign schema``, ``schema/model.schema.json``): the
committed file is the command's output, every shipped file passes it, a misspelled key
fails it, and every property tells an editor what it is."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # the dev extra installs it: the schema is checked, never skipped
import pytest
from click.testing import CliRunner
from conftest import TESTS, kpidesign_executable

import kpidesign
from kpidesign.cli import main
from kpidesign.spec.sources import read_yaml

ROOT = TESTS.parent
SCHEMA_FILE = ROOT / "schema" / "model.schema.json"
REGENERATE = "regenerate it with `kpidesign schema --out schema/model.schema.json`"
SHIPPED = sorted([*ROOT.glob("models/*.yaml"), *ROOT.glob("scenarios/*.yaml")])
TEST_MODELS = sorted((TESTS / "models").rglob("*.yaml"))
MANUFACTURER = ROOT / "models" / "manufacturer.yaml"
BASELINE = ROOT / "scenarios" / "baseline.yaml"
STRATEGY = ROOT / "scenarios" / "strategy.yaml"


def _committed() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def _as_json(path: Path) -> Any:
    """The file's data as an editor's language server sees it: JSON, keys as strings."""
    data, _ = read_yaml(path)
    return json.loads(json.dumps(data))


def _errors(data: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(_committed())
    return [
        f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator.iter_errors(data)
    ]


# --------------------------------------------------------------------------------------
# (a) the committed file is what `kpidesign schema` prints


def test_the_committed_schema_is_the_output_of_kpidesign_schema() -> None:
    res = CliRunner().invoke(main, ["schema"])
    assert res.exit_code == 0, res.output
    assert res.stderr == ""
    stale = f"{SCHEMA_FILE} is not what `kpidesign schema` prints: {REGENERATE}"
    assert SCHEMA_FILE.read_bytes() == res.stdout_bytes, stale


def test_the_schema_is_the_same_bytes_every_run() -> None:
    first = CliRunner().invoke(main, ["schema"]).stdout_bytes
    assert first == CliRunner().invoke(main, ["schema"]).stdout_bytes
    assert first.endswith(b"}\n")


def test_out_writes_the_same_bytes_and_says_so(tmp_path: Path) -> None:
    target = tmp_path / "my.schema.json"
    res = CliRunner().invoke(main, ["schema", "--out", str(target)])
    assert res.exit_code == 0, res.output
    assert res.stdout == ""
    assert res.stderr.strip() == f"wrote {target}"
    assert target.read_bytes() == SCHEMA_FILE.read_bytes(), REGENERATE
    assert [p.name for p in tmp_path.iterdir()] == ["my.schema.json"]  # no temporary file left


def test_out_into_a_missing_directory_is_one_error_line(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["schema", "--out", str(tmp_path / "nowhere" / "s.json")])
    assert res.exit_code == 2
    assert res.stdout == ""
    assert res.stderr.startswith(f"error: --out {tmp_path / 'nowhere' / 's.json'}: cannot write")
    assert len(res.stderr.strip().splitlines()) == 1


def test_the_installed_executable_prints_the_committed_schema_and_nothing_else() -> None:
    res = subprocess.run(
        [kpidesign_executable(), "schema"],
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert res.stderr == b""
    assert res.stdout == SCHEMA_FILE.read_bytes(), REGENERATE


def test_the_schema_declares_its_dialect_and_title() -> None:
    schema = _committed()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"]
    assert schema["description"]
    jsonschema.Draft202012Validator.check_schema(schema)


# --------------------------------------------------------------------------------------
# (b) every valid file passes; a misspelled key does not


@pytest.mark.parametrize("path", [*SHIPPED, *TEST_MODELS], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_valid_file_passes_the_schema(path: Path) -> None:
    """Every file under tests/models is a valid model (tests write their broken files to a
    temporary directory): it loads, and it passes the schema."""
    kpidesign.load(path)
    assert _errors(_as_json(path)) == []


def test_there_are_valid_test_models_to_check() -> None:
    assert len(TEST_MODELS) >= 10


def _rename(data: dict, path: tuple[str, ...], new: str) -> dict:
    data = copy.deepcopy(data)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[new] = node.pop(path[-1])
    return data


@pytest.mark.parametrize(
    ("path", "key", "typo"),
    [
        (MANUFACTURER, ("resources",), "resorces"),
        (MANUFACTURER, ("departments", "sales", "incentive"), "incentve"),
        (MANUFACTURER, ("departments", "sales", "variables", "promo", "ub"), "upper"),
        (MANUFACTURER, ("constraints", "demand", "expr"), "expression"),
        (MANUFACTURER, ("resources", "budget", "max_shift"), "maxshift"),
        (MANUFACTURER, ("objective", "max"), "maximize"),
        (BASELINE, ("description",), "descripton"),
        (STRATEGY, ("variants", "quality", "scale"), "scael"),
    ],
    ids=lambda x: x if isinstance(x, str) else None,
)
def test_a_misspelled_key_fails_the_schema(path: Path, key: tuple[str, ...], typo: str) -> None:
    data = _as_json(path)
    assert _errors(data) == []
    errors = _errors(_rename(data, key, typo))
    assert errors, f"{path.name}: '{typo}' for '{key[-1]}' passed the schema"
    assert any(typo in e for e in errors), errors


def test_a_misspelled_key_of_a_param_table_fails_the_schema() -> None:
    data = _as_json(MANUFACTURER)
    data["params"]["cap"] = {"over": ["period"], "defualt": 900}
    assert _errors(data)
    data["params"]["cap"] = {"over": ["period"], "default": 900}
    assert _errors(data) == []


def test_a_model_without_an_objective_and_a_scenario_without_a_model_fail_the_schema() -> None:
    model = _as_json(MANUFACTURER)
    del model["objective"]
    assert any("objective" in e for e in _errors(model))
    scenario = _as_json(BASELINE)
    del scenario["model"]
    assert _errors(scenario)


# --------------------------------------------------------------------------------------
# (c) every property is described


def _properties(node: Any, where: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Every property schema in ``node``, named by the path to it in the schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, prop in value.items():
                    yield "/".join((*where, name)), prop
                    yield from _properties(prop, (*where, name))
            else:
                yield from _properties(value, (*where, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _properties(item, (*where, str(i)))


def test_every_property_has_a_description() -> None:
    props = list(_properties(_committed()))
    assert len(props) > 50
    missing = [name for name, prop in props if not str(prop.get("description", "")).strip()]
    assert not missing, f"properties without a description: {', '.join(missing)}"


def test_every_definition_has_a_description() -> None:
    defs = _committed()["$defs"]
    missing = [name for name, d in defs.items() if not d.get("description")]
    assert not missing, f"definitions without a description: {', '.join(missing)}"
