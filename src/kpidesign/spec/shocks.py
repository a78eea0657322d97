"""A scenario's ``shocks:``: which params (and resource totals) vary, how, and the futures
drawn from them for ``kpidesign stress``.

Every shock is a factor its value is multiplied by (as a scenario's ``scale``), drawn
from a normal (``1 + sd·z``, floored at 0), uniform or discrete distribution; ``by``
says which values share a draw.  The futures are drawn in one place, in file order, from
one seeded generator, so the same seed gives the same futures on any engine.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ErrorCollector, Location, SpecError
from .csvfiles import RowErrors, csv_rows, read_csv
from .model import ModelSpec
from .schema import ScenarioFile, ShockDecl
from .shape import validate_shape
from .sources import read_yaml

__all__ = ["Factor", "Futures", "Shocks", "draw", "read_shocks"]

#: most combinations ``samples: all`` enumerates
MAX_COMBINATIONS = 10_000


@dataclass(frozen=True)
class Factor:
    """One shock: the path it multiplies, its distribution (``normal`` with ``(sd,)``,
    ``uniform`` with ``(low, high)``, ``discrete`` with ``(values, probabilities)``) and
    ``by`` (None: a draw per value; ``all``: one draw; a set: one per member)."""

    path: str
    kind: str
    args: tuple
    by: str | None
    where: Location

    @property
    def mean(self) -> float:
        """The factor's expected value (a normal's floor at 0 neglected: its sd is a share,
        so it matters only beyond 100%)."""
        if self.kind == "normal":
            return 1.0
        if self.kind == "uniform":
            return (self.args[0] + self.args[1]) / 2
        values, probabilities = self.args
        return float(np.dot(values, probabilities))


@dataclass(frozen=True)
class Shocks:
    """A scenario's shocks: its factors in file order, how many futures (``all``:
    every combination of discrete factors), the seed and the shortfall penalty."""

    factors: tuple[Factor, ...]
    samples: int | str
    seed: int
    shortfall_penalty: float | None
    file: Path
    #: the futures of a CSV (``shocks.file``), read once: then there is nothing to draw
    table: Futures | None = None


@dataclass(frozen=True)
class Futures:
    """Futures drawn from :class:`Shocks`: ``weights`` (their probabilities, summing to 1)
    and, per factor path, the factor of every value in every future (``factors[path]``:
    futures x values, values in the param's key order; one column for a total)."""

    weights: np.ndarray
    factors: dict[str, np.ndarray]
    keys: dict[str, list[tuple]]
    #: every combination of discrete factors with its probability, not a sample
    exact: bool = False

    @property
    def size(self) -> int:
        """How many futures."""
        return int(self.weights.size)

    def spec(self, spec: ModelSpec, s: int) -> ModelSpec:
        """``spec`` in future ``s``: each shocked param's values (and each shocked total)
        multiplied by that future's factors."""
        return _scaled(spec, {p: f[s] for p, f in self.factors.items()}, self.keys)

    def mean_spec(self, spec: ModelSpec, shocks: Shocks) -> ModelSpec:
        """``spec`` in the average future: every value multiplied by its factor's mean."""
        means = {f.path: np.full(self.factors[f.path].shape[1], f.mean) for f in shocks.factors}
        return _scaled(spec, means, self.keys)


def _scaled(spec: ModelSpec, factors: dict[str, np.ndarray], keys: dict[str, list]) -> ModelSpec:
    params, resources = dict(spec.params), dict(spec.resources)
    for path, f in factors.items():
        parts = path.split(".")
        if parts[0] == "params":
            p = params[parts[1]]
            values = {k: p.values[k] * float(f[i]) for i, k in enumerate(keys[path])}
            default = None if p.default is None else p.default * float(f[0])
            params[parts[1]] = replace(p, values=values, default=default)
        else:
            r = resources[parts[1]]
            resources[parts[1]] = replace(r, total=r.total * float(f[0]))
    return replace(spec, params=params, resources=resources)


def _factor(path: str, decl: ShockDecl, where: Location, errors: ErrorCollector) -> Factor | None:
    given = [k for k in ("normal", "uniform", "discrete") if getattr(decl, k) is not None]
    if len(given) != 1:
        errors.add(where, f"shocks.factors.{path}: give one of normal, uniform, discrete")
        return None
    kind = given[0]
    if kind == "normal":
        args: tuple = (decl.normal.sd,)  # type: ignore[union-attr]
    elif kind == "uniform":
        u = decl.uniform
        assert u is not None
        if u.high < u.low:
            errors.add(where, f"shocks.factors.{path}.uniform: high {u.high:g} < low {u.low:g}")
        args = (u.low, u.high)
    else:
        d = decl.discrete
        assert d is not None
        if len(d.values) != len(d.probabilities):
            errors.add(
                where,
                f"shocks.factors.{path}.discrete: {len(d.values)} values but "
                f"{len(d.probabilities)} probabilities",
            )
        elif abs(sum(d.probabilities) - 1.0) > 1e-9:
            errors.add(
                where,
                f"shocks.factors.{path}.discrete: probabilities sum to "
                f"{sum(d.probabilities):g}, not 1",
            )
        args = (tuple(d.values), tuple(d.probabilities))
    return Factor(path, kind, args, decl.by, where)


def read_shocks(path: Path, spec: ModelSpec) -> Shocks | None:
    """The ``shocks:`` of the scenario file ``path`` (None for a model file or a scenario
    without), checked against ``spec``: each path a param or ``resources.R.total``,
    ``by`` a set the param is indexed over; errors located in the file."""
    data, source = read_yaml(Path(path))
    if not (isinstance(data, dict) and "model" in data and "objective" not in data):
        return None
    decl = validate_shape(ScenarioFile, data, source).shocks
    if decl is None:
        return None
    errors = ErrorCollector()
    where_shocks = source.locate(("shocks",))
    if (decl.file is None) == (not decl.factors):
        errors.add(where_shocks, "shocks: give factors (distributions) or file (a CSV of futures)")
        errors.raise_if_any()
    if decl.file is not None:
        if decl.samples is not None:
            errors.add(
                source.locate(("shocks", "samples")),
                "shocks.samples: the futures are the file's; leave samples out",
            )
        csv_path = Path(path).parent / decl.file
        table = _read_futures(csv_path, source.locate(("shocks", "file")), spec, errors)
        errors.raise_if_any()
        assert table is not None
        return Shocks((), table.size, decl.seed, decl.shortfall_penalty, Path(path), table=table)
    factors = []
    for dotted, shock in decl.factors.items():
        where = source.locate(("shocks", "factors", dotted))
        parts = dotted.split(".")
        if len(parts) == 2 and parts[0] == "params":
            p = spec.params.get(parts[1])
            if p is None:
                known = ", ".join(spec.params) or "none"
                errors.add(where, f"shocks.factors.{dotted}: no param {parts[1]} ({known})")
                continue
            if shock.by not in (None, "all") and shock.by not in p.over:
                errors.add(
                    where,
                    f"shocks.factors.{dotted}.by: {shock.by} is not a set {parts[1]} is "
                    f"indexed over ({', '.join(p.over) or 'none'}); or give 'all'",
                )
                continue
            if p.default is not None and shock.by != "all" and p.over:
                errors.add(
                    where,
                    f"shocks.factors.{dotted}: {parts[1]} has a default for missing "
                    "values; shock it with by: all",
                )
                continue
        elif len(parts) == 3 and parts[0] == "resources" and parts[2] == "total":
            if parts[1] not in spec.resources:
                known = ", ".join(spec.resources) or "none"
                errors.add(where, f"shocks.factors.{dotted}: no resource {parts[1]} ({known})")
                continue
            if shock.by not in (None, "all"):
                errors.add(where, f"shocks.factors.{dotted}.by: a total has one value")
                continue
        else:
            errors.add(
                where, f"shocks.factors.{dotted}: a param (params.NAME) or resources.R.total"
            )
            continue
        factor = _factor(dotted, shock, where, errors)
        if factor is not None:
            factors.append(factor)
    if decl.samples == "all" and any(f.kind != "discrete" for f in factors):
        errors.add(
            source.locate(("shocks", "samples")),
            "shocks.samples: 'all' enumerates discrete factors only; give a number",
        )
    errors.raise_if_any()
    samples = 200 if decl.samples is None else decl.samples
    return Shocks(tuple(factors), samples, decl.seed, decl.shortfall_penalty, Path(path))


#: the columns of a CSV of futures (``probability`` optional)
FUTURE_COLUMNS = ("future", "path", "key", "factor")


def _read_futures(
    csv_path: Path, where: Location, spec: ModelSpec, errors: ErrorCollector
) -> Futures | None:
    """The futures of a CSV (:data:`FUTURE_COLUMNS`, optional ``probability``): each
    row multiplies one value (``key``, the index comma-joined) or every value (empty
    ``key``) of a param or a total in one future; what no row names keeps factor 1."""

    def read(reader: Any) -> Futures | None:
        header = next(reader, None)
        names = [h.strip() for h in header or []]
        missing = [c for c in FUTURE_COLUMNS if c not in names]
        if missing:
            errors.add(
                Location(csv_path, 1, ""),
                f"missing columns {', '.join(missing)} "
                f"(a CSV of futures has {', '.join(FUTURE_COLUMNS)}[, probability])",
            )
            return None
        col = {c: names.index(c) for c in names}
        report = RowErrors(csv_path, reader, errors)
        order: dict[str, int] = {}
        chances: dict[str, float] = {}
        entries: list[tuple[int, str, str, float]] = []
        for row in csv_rows(reader, csv_path, errors, MAX_FUTURE_ROWS):
            cells = {c: (row[i].strip() if i < len(row) else "") for c, i in col.items()}
            path_, key = cells["path"], cells["key"]
            if not _known_path(spec, path_):
                report(f"path {path_!r} is not a param (params.NAME) or resources.R.total")
                continue
            try:
                factor = float(cells["factor"])
            except ValueError:
                factor = math.nan
            if not (math.isfinite(factor) and factor >= 0):
                report(f"factor {cells['factor']!r} is not a number >= 0")
                continue
            if key and _key_index(spec, path_, key) is None:
                report(f"key {key!r} is not an index of {path_}")
                continue
            label = cells["future"]
            order.setdefault(label, len(order))
            if "probability" in col:
                try:
                    p = float(cells["probability"])
                except ValueError:
                    p = math.nan
                if not (0 <= p <= 1):
                    report(f"probability {cells['probability']!r} is not in [0, 1]")
                    continue
                if chances.setdefault(label, p) != p:
                    report(f"future {label!r} has two probabilities")
                    continue
            entries.append((order[label], path_, key, factor))
        report.close()
        if report.count:
            return None
        if not order:
            errors.add(Location(csv_path, 1, ""), "no futures")
            return None
        if "probability" in col:
            weights = np.array([chances[label] for label in order])
            if abs(weights.sum() - 1.0) > 1e-9:
                errors.add(
                    Location(csv_path, 1, ""),
                    f"the futures' probabilities sum to {weights.sum():g}, not 1",
                )
                return None
        else:
            weights = np.full(len(order), 1.0 / len(order))
        keys = {
            p: _groups(spec, Factor(p, "discrete", ((1.0,), (1.0,)), None, where))[0]
            for p in dict.fromkeys(e[1] for e in entries)
        }
        factors = {p: np.ones((len(order), len(k))) for p, k in keys.items()}
        for s, p, key, factor in entries:
            if key:
                factors[p][s, _key_index(spec, p, key)] *= factor
            else:
                factors[p][s, :] *= factor
        # with probabilities the file is the distribution itself; without, a sample
        return Futures(weights, factors, keys, exact="probability" in col)

    return read_csv(csv_path, where, errors, read, "CSV of futures")


#: rows a CSV of futures may have
MAX_FUTURE_ROWS = 1_000_000


def _known_path(spec: ModelSpec, path: str) -> bool:
    parts = path.split(".")
    if len(parts) == 2 and parts[0] == "params":
        return parts[1] in spec.params
    return (
        len(parts) == 3
        and parts[0] == "resources"
        and parts[2] == "total"
        and (parts[1] in spec.resources)
    )


def _key_index(spec: ModelSpec, path: str, key: str) -> int | None:
    """The position of the value ``key`` (comma-joined index) names among the param's."""
    parts = path.split(".")
    if parts[0] != "params":
        return None
    for i, k in enumerate(spec.params[parts[1]].values):
        if ",".join(str(m) for m in k) == key.replace(" ", ""):
            return i
    return None


def _groups(spec: ModelSpec, factor: Factor) -> tuple[list[tuple], np.ndarray]:
    """The values a factor multiplies (their keys, in the param's order) and which draw
    each takes (a group number per value)."""
    parts = factor.path.split(".")
    if parts[0] == "resources":
        return [()], np.zeros(1, dtype=np.int64)
    p = spec.params[parts[1]]
    keys = list(p.values)
    if factor.by == "all" or not p.over:
        return keys, np.zeros(len(keys), dtype=np.int64)
    if factor.by is None:
        return keys, np.arange(len(keys), dtype=np.int64)
    axis = p.over.index(factor.by)
    members = {m: i for i, m in enumerate(spec.sets[factor.by].members)}
    return keys, np.array([members[k[axis]] for k in keys], dtype=np.int64)


def draw(
    shocks: Shocks, spec: ModelSpec, *, samples: int | str | None = None, seed: int | None = None
) -> Futures:
    """The futures of ``shocks`` (``samples`` and ``seed`` override the file's): random
    draws with equal weights, or with ``all`` every combination of the discrete factors'
    draws with its probability."""
    if shocks.table is not None:
        if samples is not None:
            msg = f"{shocks.file}: the futures are those of shocks.file; --samples does not apply"
            raise SpecError(msg)
        return shocks.table
    n = shocks.samples if samples is None else samples
    rng = np.random.default_rng(shocks.seed if seed is None else seed)
    grouped = {f.path: _groups(spec, f) for f in shocks.factors}
    sizes = {f.path: int(grouped[f.path][1].max(initial=-1)) + 1 for f in shocks.factors}
    if n == "all" and any(f.kind != "discrete" for f in shocks.factors):
        msg = f"{shocks.file}: shocks.samples: 'all' enumerates discrete factors only"
        raise SpecError(msg)
    if n == "all":
        slots = [(f, g) for f in shocks.factors for g in range(sizes[f.path])]
        combos = math.prod(len(f.args[0]) for f, _ in slots)
        if combos > MAX_COMBINATIONS:
            msg = (
                f"{shocks.file}: shocks.samples: all would enumerate {combos:,} futures "
                f"(at most {MAX_COMBINATIONS:,}); give a number"
            )
            raise SpecError(msg)
        picks = list(itertools.product(*(range(len(f.args[0])) for f, _ in slots)))
        weights = np.array(
            [
                math.prod(f.args[1][i] for (f, _), i in zip(slots, pick, strict=True))
                for pick in picks
            ]
        )
        draws = {f.path: np.zeros((len(picks), sizes[f.path])) for f in shocks.factors}
        for s, pick in enumerate(picks):
            for (f, g), i in zip(slots, pick, strict=True):
                draws[f.path][s, g] = f.args[0][i]
    else:
        count = int(n)
        weights = np.full(count, 1.0 / count)
        draws = {}
        for f in shocks.factors:
            shape = (count, sizes[f.path])
            if f.kind == "normal":
                draws[f.path] = np.maximum(0.0, 1.0 + f.args[0] * rng.standard_normal(shape))
            elif f.kind == "uniform":
                draws[f.path] = rng.uniform(f.args[0], f.args[1], shape)
            else:
                draws[f.path] = rng.choice(np.array(f.args[0]), size=shape, p=np.array(f.args[1]))
    factors = {p: draws[p][:, grouped[p][1]] for p in draws}
    return Futures(weights, factors, {p: grouped[p][0] for p in grouped}, exact=n == "all")
