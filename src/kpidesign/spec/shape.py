"""The shape of a file, checked against the pydantic schema (:mod:`.schema`), with every
problem reported as a located message that names the allowed keys."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..errors import ErrorCollector
from .schema import (
    ContractTermDecl,
    DepartmentDecl,
    KpiDecl,
    ModelFile,
    PlanFileDecl,
    ResourceDecl,
    ScenarioFile,
    VariableDecl,
)
from .sources import KeyPath, SourceMap, did_you_mean

# a missing last key of a `set` path is allowed where the file format has such a field
FIELDS: list[tuple[tuple[str | None, ...], set[str]]] = [
    ((), set(ModelFile.model_fields)),
    (("resources", None), set(ResourceDecl.model_fields)),
    (("constraints", None), {"for", "expr", "slack", "description"}),
    (("variables", None), set(VariableDecl.model_fields)),
    (("departments", None), set(DepartmentDecl.model_fields)),
    (("departments", None, "variables", None), set(VariableDecl.model_fields)),
    (("departments", None, "kpis", None), set(KpiDecl.model_fields)),
    (("kpis", None), set(KpiDecl.model_fields)),
    (("objective",), set(KpiDecl.model_fields)),
    (("departments", None, "design"), {"kpis", "max_weight"}),
    (("params", None), {"file", "sheet", "over", "default", "values", "initial"}),
    (("today",), set(PlanFileDecl.model_fields)),
    (("contract", None), set(ContractTermDecl.model_fields)),
]
FREE_KEYS = [("departments", None, "incentive"), ("departments", None, "design", "max_weight")]


def matches(pattern: tuple, path: tuple) -> bool:
    """Does key path ``path`` match ``pattern`` (None matches any key)?"""
    return len(pattern) == len(path) and all(
        p is None or p == k for p, k in zip(pattern, path, strict=True)
    )


def is_number(x: Any) -> bool:
    """Is ``x`` a number (not a bool)?"""
    return isinstance(x, int | float) and not isinstance(x, bool)


# --------------------------------------------------------------------------------------
# validation


def validate_shape(cls: type, data: Any, source: SourceMap) -> Any:
    """``data`` validated against the pydantic shape ``cls``; every problem a located error."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        errors = ErrorCollector()
        for err in exc.errors():
            loc = _data_path(data, err["loc"])
            where = source.locate(loc)
            errors.add(where, _message(err, data, loc, cls))
        errors.raise_if_any()
        raise  # pragma: no cover


def _data_path(data: Any, loc: tuple) -> KeyPath:
    """The longest prefix of a pydantic ``loc`` that names real keys (plus the last key)."""
    out: list[str | int] = []
    node = data
    for key in loc:
        if (isinstance(node, dict) and key in node) or (
            isinstance(node, list) and isinstance(key, int) and key < len(node)
        ):
            out.append(key)
            node = node[key]
        elif (
            isinstance(node, dict)
            and isinstance(key, str)
            and key not in node
            and out[-1:] != [key]
        ):
            out.append(key)  # a missing or unknown key: name it
            break
        else:
            break
    return tuple(out)


def _message(err: dict, data: Any, loc: KeyPath, cls: type) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        allowed = _allowed_keys(data, loc[:-1], cls)
        listed = f" (allowed: {', '.join(sorted(allowed))})" if allowed else ""
        suffix = did_you_mean(key, allowed, otherwise=listed)
        return f"unknown key '{key}'{suffix}"
    if kind == "missing":
        return "missing required key"
    if kind == "literal_error" and loc == ("kpidesign",):
        return f"unsupported format version {err.get('input')!r} (this kpidesign reads format 1)"
    if kind == "string_pattern_mismatch":
        msg = err["msg"]
        return f"invalid name {err.get('input')!r}: {msg[:1].lower()}{msg[1:]}"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return msg[0].lower() + msg[1:] if msg else msg


def _allowed_keys(data: Any, parent: KeyPath, cls: type) -> list[str]:
    parent_t = tuple(str(p) for p in parent if not isinstance(p, int))
    if cls is ScenarioFile:  # a scenario's keys, not the model's (checked first)
        if parent_t == ():
            return sorted(ScenarioFile.model_fields)
        return ["set", "scale", "description"]
    for pattern, fields in FIELDS:
        if matches(pattern, parent_t):
            return sorted(fields)
    return []
