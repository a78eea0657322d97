"""The house rules: data flows one way through the packages, and only the solver session
talks to HiGHS.  Checked on the source, so a sideways import fails here, not in review."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import TESTS

SRC = TESTS.parent / "src" / "kpidesign"

#: what each part of the package may import from kpidesign (besides itself)
ALLOWED: dict[str, set[str]] = {
    "types": set(),
    "errors": {"types"},
    "options": {"errors", "solver"},  # the algorithms HiGHS offers: solver/status.py
    "spec": {"errors", "types"},
    "expressions": {"errors", "types", "spec"},
    "model": {"errors", "types", "spec", "expressions"},
    "solver": {"errors", "types", "options", "model"},
    "results": {"errors", "types", "options", "spec"},
    "analyses": {"errors", "types", "options", "spec", "model", "solver", "results"},
    "runners": {"errors", "types", "options", "spec", "model", "solver", "results", "analyses"},
    "render": {"errors", "types", "results"},
    "api": {"errors", "types", "options", "spec", "model", "analyses", "results", "runners"},
    "cli": {
        "errors",
        "types",
        "options",
        "spec",
        "model",
        "analyses",
        "results",
        "render",
        "api",
        "solver",
    },
}


def _part(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> set[str]:
    """The kpidesign parts a module imports (relative or absolute)."""
    tree = ast.parse(path.read_text())
    depth = len(path.relative_to(SRC).parts) - 1  # 0 for a top-level module
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module and node.module.startswith("kpidesign."):
                    found.add(node.module.split(".")[1])
                continue
            up = node.level - 1  # levels above the module's own package
            if up > depth:
                continue
            inside = path.relative_to(SRC).parts[: depth - up]
            target = [*inside, *(node.module.split(".") if node.module else [])]
            if target:
                found.add(target[0])
            else:  # `from .. import api`
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(
                a.name.split(".")[1] for a in node.names if a.name.startswith("kpidesign.")
            )
    return found


def test_every_part_imports_only_what_comes_before_it() -> None:
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        part = _part(path)
        if part == "__init__":
            continue
        assert part in ALLOWED, f"{path}: a new part of the package: add it to ALLOWED"
        extra = _imports(path) - ALLOWED[part] - {part}
        if extra:
            wrong.append(f"{path.relative_to(SRC)} imports {sorted(extra)}")
    assert not wrong, "\n".join(wrong)


def test_only_the_solver_session_imports_highspy() -> None:
    users = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "highspy" or n.startswith("highspy.") for n in names):
                users.append(str(path.relative_to(SRC)))
    assert users == ["solver/session.py"]


def test_the_public_names_are_listed_alike_in_all_three_places() -> None:
    """``kpidesign/__init__`` names its public API three times: ``_HOME`` (the lazy
    imports), the ``TYPE_CHECKING`` imports (for IDEs and type checkers) and ``__all__``
    (for ``import *`` and the docs).  They must agree, and each name must be found where
    ``_HOME`` says it lives."""
    import importlib

    import kpidesign

    home = kpidesign._HOME
    checked: dict[str, str] = {}
    tree = ast.parse((SRC / "__init__.py").read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.level == 1
        checked.update(dict.fromkeys((a.name for a in node.names), node.module or ""))
    assert checked == home
    assert sorted(kpidesign.__all__) == sorted(home)
    for name, module in home.items():
        assert hasattr(importlib.import_module(f"kpidesign.{module}"), name), name
        assert getattr(kpidesign, name) is getattr(
            importlib.import_module(f"kpidesign.{module}"), name
        )
