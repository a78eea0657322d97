"""Scenario files: the model they name, with their ``set`` and ``scale`` overrides (then
the chosen variant's) applied before resolution."""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ErrorCollector, Location, SpecError
from .model import ModelSpec
from .resolve import resolve_spec
from .schema import (
    ScenarioFile,
)
from .shape import FIELDS, FREE_KEYS, is_number, matches, validate_shape
from .sources import KeyPath, SourceMap, check_regular_file, closest, did_you_mean, read_yaml

#: one overlay: its ``set`` and ``scale`` mappings, where each sits in its file, the file
_Overlay = tuple[dict[str, Any], dict[str, float], KeyPath, KeyPath, SourceMap]


@dataclass(frozen=True)
class Overlay:
    """``set`` and ``scale`` overrides that come from no file (a sweep's point): applied
    after the scenario's and the variant's, and an error in them is located at ``label``
    (``sweep point 3: set.resources.budget.total: ...``)."""

    sets: dict[str, Any]
    scales: dict[str, float]
    label: str

    def entry(self) -> _Overlay:
        """The overlay as the loader applies it."""
        at = Path(self.label)  # no line: the point is not in a file
        entries = {("set", d): (at, None) for d in self.sets}
        entries |= {("scale", d): (at, None) for d in self.scales}
        source = SourceMap(entries=entries, default_file=at)  # type: ignore[arg-type]
        return (self.sets, self.scales, ("set",), ("scale",), source)


def apply_overlays(
    model_data: dict, model_source: SourceMap, overlays: list[_Overlay]
) -> list[tuple[str, float, Location]]:
    """Apply each overlay's ``set`` and ``scale`` to the model's data in order (numbers
    scaled in place); the scales of whole params, applied once they are read. Every error
    of every overlay is collected before raising."""
    errors = ErrorCollector()
    scales: list[tuple[str, float, Location]] = []
    for sets, scale, set_root, scale_root, source in overlays:
        for dotted, value in sets.items():
            _apply_set(model_data, model_source, dotted, value, source, (*set_root, dotted), errors)
        for dotted, factor in scale.items():
            where_scale = source.locate((*scale_root, dotted))
            if not _apply_scale(model_data, dotted, factor, where_scale, errors):
                scales.append((dotted.split(".")[1], factor, where_scale))
    errors.raise_if_any()
    return scales


def load_scenario(
    path: Path,
    data: dict,
    source: SourceMap,
    variant: str | None,
    max_size: int,
    start_plan: Path | None = None,
    overlay: Overlay | None = None,
    reader: Callable[[Path], tuple[Any, SourceMap]] = read_yaml,
) -> ModelSpec:
    """A scenario file: its model, with the scenario's (and the variant's) overrides applied,
    then ``overlay``'s. The scenario's ``today:`` replaces the model's (a variant's ``set``
    may replace it again); ``start_plan`` replaces both."""
    scenario = validate_shape(ScenarioFile, data, source)
    model_path = (path.parent / scenario.model).resolve()
    with contextlib.suppress(ValueError):  # show a short path where there is one
        model_path = model_path.relative_to(Path.cwd())
    where = source.locate(("model",))
    try:
        check_regular_file(model_path, "model file")
    except SpecError as exc:  # "model file not found: ../models/x.yaml"
        reason = exc.messages[0].removeprefix(f"{model_path}: ")
        raise SpecError.at(where, f"{reason}: {model_path}") from None
    model_data, model_source = reader(model_path)
    if "model" in model_data and "objective" not in model_data:
        raise SpecError.at(where, f"{model_path} is a scenario, not a model")
    if scenario.today is not None:  # located in the scenario: its path is relative to it
        model_data["today"] = copy.deepcopy(data["today"])
        model_source.replace(("today",), source, ("today",))
    overlays: list[_Overlay] = [(scenario.set, scenario.scale, ("set",), ("scale",), source)]
    if variant is not None:
        if variant not in scenario.variants:
            known = ", ".join(scenario.variants) or "none"
            suffix = did_you_mean(variant, scenario.variants, otherwise=f" (variants: {known})")
            msg = f"{path}: unknown variant '{variant}'{suffix}"
            raise SpecError(msg)
        v = scenario.variants[variant]
        overlays.append(
            (
                v.set, v.scale, ("variants", variant, "set"), ("variants", variant, "scale"),
                source,
            )
        )  # fmt: skip
    if overlay is not None:
        overlays.append(overlay.entry())
    scales = apply_overlays(model_data, model_source, overlays)
    name = scenario.name or path.stem
    return resolve_spec(
        model_path,
        path,
        model_data,
        model_source,
        name,
        variant,
        scales,
        max_size=max_size,
        start_plan=start_plan,
    )


def _all_paths(data: Any, prefix: str = "") -> list[str]:
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            p = f"{prefix}.{k}" if prefix else str(k)
            out.append(p)
            out.extend(_all_paths(v, p))
    return out


def _unknown_path(data: dict, dotted: str, where: Location, errors: ErrorCollector) -> None:
    hint = closest(dotted, _all_paths(data))
    suffix = f" (closest existing path: {hint})" if hint else ""
    errors.add(where, f"path '{dotted}' does not exist in the model{suffix}")


def _apply_set(
    data: dict,
    model_source: SourceMap,
    dotted: str,
    value: Any,
    scenario_source: SourceMap,
    scenario_path: KeyPath,
    errors: ErrorCollector,
) -> None:
    where = scenario_source.locate(scenario_path)
    keys = dotted.split(".")
    node: Any = data
    for key in keys[:-1]:
        if not isinstance(node, dict) or key not in node:
            _unknown_path(data, dotted, where, errors)
            return
        node = node[key]
    last = keys[-1]
    if not isinstance(node, dict):
        _unknown_path(data, dotted, where, errors)
        return
    parent = tuple(keys[:-1])
    allowed_new = any(matches(p, parent) for p in FREE_KEYS) or any(
        matches(p, parent) and last in fields for p, fields in FIELDS
    )
    if last not in node and not allowed_new:
        _unknown_path(data, dotted, where, errors)
        return
    node[last] = copy.deepcopy(value)
    model_source.replace(tuple(keys), scenario_source, scenario_path)


def _apply_scale(
    data: dict, dotted: str, factor: float, where: Location, errors: ErrorCollector
) -> bool:
    """Multiply a number (or a mapping of numbers) in place; False for a whole param."""
    keys = dotted.split(".")
    params = data.get("params")
    if len(keys) == 2 and keys[0] == "params" and isinstance(params, dict) and keys[1] in params:
        return False  # applied after the param is read (it may be a CSV table)
    node: Any = data
    for key in keys[:-1]:
        if not isinstance(node, dict) or key not in node:
            _unknown_path(data, dotted, where, errors)
            return True
        node = node[key]
    last = keys[-1]
    if not isinstance(node, dict) or last not in node:
        _unknown_path(data, dotted, where, errors)
        return True
    target = node[last]
    if is_number(target):
        node[last] = _scaled(target, factor, dotted, where, errors)
    elif isinstance(target, dict) and all(is_number(v) for v in target.values()):
        node[last] = {k: _scaled(v, factor, dotted, where, errors) for k, v in target.items()}
    else:
        errors.add(where, f"cannot scale '{dotted}': it is not a number or a param")
    return True


def _scaled(value: float, factor: float, dotted: str, where: Location, errors: ErrorCollector):
    """``value * factor``, an error at the scale's line where that is not a finite number."""
    try:
        out = float(value) * factor
    except OverflowError:
        out = math.inf
    if not math.isfinite(out):
        errors.add(where, f"scaling '{dotted}' by {factor:g} overflows ({value!r} · {factor:g})")
        return value
    return out


def scenario_variants(path: Path) -> tuple[str, ...]:
    """The names of a scenario file's variants, in file order (none for a model file)."""
    data, source = read_yaml(Path(path))
    if not (isinstance(data, dict) and "model" in data and "objective" not in data):
        return ()
    return tuple(validate_shape(ScenarioFile, data, source).variants)
