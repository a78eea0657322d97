"""Incentive schemes given by the user: a YAML file or ``dept.kpi=w`` options."""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import ErrorCollector, Location, SpecError
from .model import ModelSpec, own_name
from .sources import did_you_mean, read_yaml

__all__ = [
    "ALLOCATIONS",
    "SECTIONS",
    "parse_incentives",
    "read_scheme",
    "resolve_allocations",
    "resolve_scheme",
    "split_scheme",
]

#: the scheme file's section of allocations
ALLOCATIONS = "allocations"
#: top-level keys of a scheme file that are sections, not departments (``prices``: a price
#: scheme, read by :func:`kpidesign.analyses.prices.resolve_prices`)
SECTIONS = (ALLOCATIONS, "prices")


def split_scheme(data: dict) -> tuple[dict, dict | None, object]:
    """A scheme file's weights (department -> {kpi: weight}), its ``allocations:`` section
    and its ``prices:`` section (None where it has none)."""
    weights = {k: v for k, v in data.items() if k not in SECTIONS}
    return weights, data.get(ALLOCATIONS), data.get("prices")


def resolve_allocations(
    spec: ModelSpec,
    allocations: object,
    where: dict[tuple[str, ...], Location] | None = None,
) -> dict[tuple[str, str], float]:
    """The allocations a scheme names, ``(department, resource) -> amount``, each checked
    against the model: a department that holds that resource, a finite number within the
    allocation's bounds (``max_shift`` around its baseline, else >= 0).  Allocations not
    named stay at their baselines."""
    where = where or {}
    errors = ErrorCollector()
    out: dict[tuple[str, str], float] = {}
    if not isinstance(allocations, dict):
        top = _at(where, (ALLOCATIONS,))
        errors.add(top, "expected a mapping of department -> {resource: amount}")
        errors.raise_if_any()
    assert isinstance(allocations, dict)
    for dept, amounts in allocations.items():
        if dept not in spec.departments:
            suffix = did_you_mean(dept, spec.departments)
            loc = _at(where, (ALLOCATIONS, str(dept)), ALLOCATIONS)
            errors.add(loc, f"unknown department '{dept}'{suffix}")
            continue
        held = spec.departments[dept].allocation
        if not isinstance(amounts, dict):
            loc = _at(where, (ALLOCATIONS, dept))
            errors.add(loc, "expected a mapping of resource -> amount")
            continue
        for resource, amount in amounts.items():
            rloc = _at(where, (ALLOCATIONS, dept, str(resource)))
            if resource not in held:
                suffix = did_you_mean(resource, held)
                errors.add(rloc, f"{dept} holds no allocation of '{resource}'{suffix}")
                continue
            if (
                isinstance(amount, bool)
                or not isinstance(amount, int | float)
                or not math.isfinite(amount)
            ):
                errors.add(rloc, f"an allocation must be a finite number, got {amount!r}")
                continue
            lower, upper = spec.resources[resource].allocation_bounds(held[resource])
            if not lower - 1e-9 * (1 + abs(lower)) <= amount <= upper + 1e-9 * (1 + abs(upper)):
                errors.add(
                    rloc,
                    f"{amount!r} is outside the allocation's bounds [{lower:g}, {upper:g}]",
                )
                continue
            out[(dept, resource)] = float(amount)
    errors.raise_if_any()
    return out


def _at(
    where: dict[tuple[str, ...], Location], keys: tuple[str, ...], path: str | None = None
) -> Location:
    """Where the entry ``keys`` of a scheme is: its location in the scheme file (which
    carries the key path, so messages must not repeat it), or, for a scheme not read from a
    file, ``path`` (default: the keys dot-joined) alone."""
    hit = where.get(keys)
    if hit is not None:
        return hit
    return Location(None, None, path if path is not None else ".".join(keys))


def resolve_scheme(
    spec: ModelSpec,
    scheme: dict[str, dict[str, float]],
    where: dict[tuple[str, ...], Location] | None = None,
) -> dict[str, dict[str, float]]:
    """Every department's weights by qualified KPI name: ``scheme`` over the current one.

    A KPI may be written as ``volume``, ``sales.volume`` or a company-wide KPI's name.
    The sections of :data:`SECTIONS` are not departments and are skipped here.
    """
    where = where or {}
    errors = ErrorCollector()
    full = {d.name: dict(d.weights) for d in spec.departments.values()}
    for dept, weights in scheme.items():
        if dept in SECTIONS:
            continue
        loc = where.get((dept,))
        if dept not in spec.departments:
            suffix = did_you_mean(dept, spec.departments)
            errors.add(loc, f"unknown department '{dept}'{suffix}")
            continue
        d = spec.departments[dept]
        if not isinstance(weights, dict):
            errors.add(_at(where, (dept,)), "expected a mapping of KPI to weight")
            continue
        new: dict[str, float] = {}
        for key, w in weights.items():
            name = own_name(key, dept)
            if name in d.kpis:
                qualified = f"{dept}.{name}"
            elif name in spec.kpis:
                qualified = name
            else:
                suffix = did_you_mean(name, [*d.kpis, *spec.kpis])
                errors.add(_at(where, (dept, str(key)), dept), f"unknown KPI '{key}'{suffix}")
                continue
            if (
                isinstance(w, bool)
                or not isinstance(w, int | float)
                or not math.isfinite(w)
                or w < 0
            ):
                kloc = _at(where, (dept, str(key)), f"{dept}.{name}")
                errors.add(kloc, f"a weight must be a number >= 0, got {w!r}")
                continue
            new[qualified] = float(w)
        full[dept] = new
    errors.raise_if_any()
    return full


def read_scheme(path: Path) -> tuple[dict, dict[tuple[str, ...], Location]]:
    """A scheme file ``{dept: {kpi: weight}}`` (and its sections, such as ``prices:
    {constraint: price | {index: price}}``) and the location of each entry, keyed by the
    entry's key path (keys as text below the top level)."""
    data, source = read_yaml(path)
    where = {}
    for dept, weights in data.items():
        where[(dept,)] = source.locate((dept,))
        if isinstance(weights, dict):
            for key, value in weights.items():
                where[(dept, str(key))] = source.locate((dept, key))
                if dept in SECTIONS and isinstance(value, dict):
                    for index in value:
                        where[(dept, str(key), str(index))] = source.locate((dept, key, index))
    return data, where


def parse_incentives(options: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """``("sales.revenue=0.7", "sales.volume=0.3")`` -> ``{"sales": {...}}``."""
    out: dict[str, dict[str, float]] = {}
    for text in options:
        key, sep, value = text.partition("=")
        dept, dot, kpi = (part.strip() for part in key.partition("."))
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not sep or not dot or not dept or not kpi or math.isnan(weight):
            msg = f"--incentive {text}: expected DEPT.KPI=WEIGHT, e.g. sales.revenue=0.7"
            raise SpecError(msg)
        out.setdefault(dept, {})[kpi] = weight
    return out
