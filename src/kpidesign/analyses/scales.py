"""The scale of each KPI in a scorecard: one rule for every command and scheme file.

A department's score is ``U_d = sum_k w_k·sign_k·KPI_k/scale_k`` (DESIGN.md, "Scheme").
The scale is

    scale_k = max(|KPI_k(B)|, ρ·R_k, σ)        ρ = RANGE_FRACTION = 1e-3, σ = SCALE_FLOOR = 1e-6

- ``KPI_k(B)`` is the KPI at the reference plan B (the system optimum at baseline
  allocations).  A KPI clearly away from 0 there (``|KPI_k(B)| >= ρ·R_k`` and ``>= σ``)
  keeps today's scale ``|KPI_k(B)|`` exactly, so a weight in an existing scheme file keeps
  its meaning: "w per 100% of the KPI's value at B".
- ``R_k`` is the KPI's range (largest minus smallest value) over the system's feasible
  plans, allocations free within the resource rules: the set the system optimum C is
  chosen from, which holds B, C, the target z*, every status-quo and verification path and
  every department's local problem.  Near 0 at B the scale is 0.1% of that range, so a
  weight reads "w per 0.1% of the KPI's range".  Where a direction is unbounded (or its LP
  has no optimum), that end of the range is the value at B: ``R_k`` is the range in the
  bounded directions.
- For a ratio ``N/D`` (defined at B, ``r_B = N(B)/D(B)``), ``R_k`` is the range of its
  first-order model at B, ``(N − r_B·D)/D(B)``, over the same set: the change of the ratio
  that the plans can make to first order, the very gradient the scorecards use for a ratio
  mixed with other KPIs, two LPs like a linear KPI, and finite where the true ratio is not
  (its denominator may approach 0 on the set).  A ratio undefined at B (denominator 0
  there) has no reference value: its scale is 1, as before.
- σ is a floor against dividing by solver dust: it only matters for a KPI within 1e-6 of 0
  at B whose whole range is below 1e-3, and, as the maximum of continuous functions of
  ``(KPI_k(B), R_k)``, the scale never jumps: an immaterial change of the data (a safety
  stock 4e-7 -> 1e-6) changes ``KPI_k(B)`` and ``R_k`` immaterially, so the scale and the
  weights designed with it too.  A KPI constant over the set (``R_k = 0``) is constant in
  every local problem: a weight on it moves no response, whatever its scale.

A range takes up to two LPs per KPI on the analysis's live session (the system problem
with its objective replaced by the KPI row, each solved cold: see :func:`_extreme`),
computed once per run by :func:`measure_scales` for the KPIs a scorecard or a design menu
uses, and only as far as it can decide the scale: where a bound of ``R_k`` already shows
``ρ·R_k <= max(|KPI_k(B)|, σ)`` (the KPI's extremes over the column bounds alone, then
with one end measured), the scale is ``max(|KPI_k(B)|, σ)`` whatever the rest of the range,
and the LPs left are skipped (at 1M variables each is a solve of a minute or more).
:func:`kpi_range` measures the whole range.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..model.program import KpiRows, LinearProgram
from ..options import Options
from ..solver import HighsSession
from ..spec.model import own_name
from ..types import Sense

__all__ = [
    "RANGE_FRACTION",
    "SCALE_FLOOR",
    "Scales",
    "as_scales",
    "exchange_rates",
    "kpi_range",
    "measure_scales",
    "scale_of",
]

#: ρ: near 0 at the reference plan, a KPI is counted per this share of its range
RANGE_FRACTION = 1e-3
#: σ: no scale is smaller (a floor against dividing by solver dust, not a threshold)
SCALE_FLOOR = 1e-6


def scale_of(value: float, spread: float) -> float:
    """``max(|value|, ρ·spread, σ)``: the scale of a KPI worth ``value`` at the reference
    plan with range ``spread``; 1 where ``value`` is undefined (NaN: a ratio whose
    denominator is 0 at the reference plan)."""
    if not np.isfinite(value):
        return 1.0
    spread = spread if np.isfinite(spread) else 0.0
    return max(abs(value), RANGE_FRACTION * spread, SCALE_FLOOR)


@dataclass(frozen=True)
class Scales:
    """Each KPI's scale (qualified name -> scale), the reference plan B it was measured at
    and each KPI's range ``R`` (module docstring; NaN where its value at B decided the
    scale before the range was measured in full).  ``of(kpi)`` is what a scorecard divides
    by; a KPI that was not measured is an error (every analysis measures the KPIs of its
    scorecards and menus up front)."""

    reference: np.ndarray
    scales: dict[str, float] = field(default_factory=dict)
    ranges: dict[str, float] = field(default_factory=dict)

    def of(self, kpi: KpiRows) -> float:
        """The scale of ``kpi``."""
        try:
            return self.scales[kpi.name]
        except KeyError:
            msg = f"KPI {kpi.name} has no scale: measure it with the others (measure_scales)"
            raise KeyError(msg) from None


def _range_row(kpi: KpiRows, reference: np.ndarray, n: int) -> np.ndarray | None:
    """The linear function whose range is the KPI's ``R`` (constants left out: they cancel
    in a range): the KPI itself, or a ratio's first-order model at the reference plan;
    None for a ratio undefined there."""
    if kpi.denominator is None:
        return kpi.numerator.dense(n)
    if not kpi.defined_at(reference):
        return None
    den = kpi.denominator.at(reference)
    r = kpi.numerator.at(reference) / den
    return (kpi.numerator.dense(n) - r * kpi.denominator.dense(n)) / den


def _extreme(session: HighsSession, row: np.ndarray, sense: Sense) -> float | None:
    """``row·x`` at its max or min over the session's problem; None where unbounded or
    without an optimum (after :meth:`HighsSession.solve_retrying`'s retry without presolve,
    as presolve can misjudge a marginal problem).  A cold start: from the basis of another
    objective (the last KPI's, or the system's) HiGHS took 97 s where a cold solve takes
    4.5 s (156k variables, benchmarks/README.md); only the value is used, which every
    optimal vertex shares."""
    session.set_objective(row, sense, 0.0)
    sol = session.solve_retrying(warm=False)
    return float(row @ sol.x) if sol.optimal else None


def measure_scales(session: HighsSession, reference: np.ndarray, names: Iterable[str]) -> Scales:
    """The scales of the KPIs ``names`` (qualified) at the reference plan ``reference``:
    each KPI's range over the system's feasible plans, allocations free, by up to two LPs
    on the live ``session``, only as far as the range decides the scale (module
    docstring); ``Scales.ranges`` holds the range where both ends were measured, NaN where
    the value at the reference plan decided the scale without them.  The session's column
    bounds and objective are replaced; each analysis sets both before its next solve."""
    lp = session.lp
    assert lp is not None
    n = lp.num_cols
    session.set_col_bounds(np.arange(n), lp.col_lower, lp.col_upper)
    scales: dict[str, float] = {}
    ranges: dict[str, float] = {}
    for name in dict.fromkeys(names):
        kpi = lp.kpis[name]
        value = kpi.value(reference)
        # a range below this cannot raise the scale above |value| (or the floor)
        decided_below = max(abs(value), SCALE_FLOOR) / RANGE_FRACTION
        ranges[name] = _range(session, kpi, reference, decided_below)
        scales[name] = scale_of(value, ranges[name])
    return Scales(reference.copy(), scales, ranges)


def kpi_range(session: HighsSession, kpi: KpiRows, reference: np.ndarray) -> float:
    """``R`` of ``kpi`` (module docstring) by both LPs on ``session`` (its column bounds
    set to the program's; its objective replaced): NaN for a ratio undefined at
    ``reference``."""
    lp = session.lp
    assert lp is not None
    session.set_col_bounds(np.arange(lp.num_cols), lp.col_lower, lp.col_upper)
    return _range(session, kpi, reference, -np.inf)


def _range(
    session: HighsSession, kpi: KpiRows, reference: np.ndarray, decided_below: float
) -> float:
    """``R`` of ``kpi``, or NaN once a bound of it is at most ``decided_below`` (then
    ``scale_of`` does not depend on it) or where the KPI is a ratio undefined at
    ``reference``.  The bounds: the KPI row's extremes over the column bounds (no LP),
    then the measured top (or bottom, whichever the column bounds leave infinite first)
    with the other end's column bound."""
    lp = session.lp
    assert lp is not None
    row = _range_row(kpi, reference, lp.num_cols)
    if row is None:
        return float("nan")
    here = float(row @ reference)
    low, high = _column_extremes(row, lp.col_lower, lp.col_upper)
    ends = {Sense.MAX: max(high, here), Sense.MIN: min(low, here)}
    if ends[Sense.MAX] - ends[Sense.MIN] <= decided_below:
        return float("nan")
    # first the end the column bounds leave wider (infinite): measuring it can decide
    order = (Sense.MAX, Sense.MIN) if high - here >= here - low else (Sense.MIN, Sense.MAX)
    for sense in order:
        found = _extreme(session, row, sense)
        # an unbounded end (or one without an optimum) counts as the value there
        end = here if found is None else found
        ends[sense] = max(end, here) if sense is Sense.MAX else min(end, here)
        if ends[Sense.MAX] - ends[Sense.MIN] <= decided_below:
            return float("nan")
    return ends[Sense.MAX] - ends[Sense.MIN]


def _column_extremes(row: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[float, float]:
    """The smallest and largest ``row·x`` over the box ``lower <= x <= upper`` (±inf where a
    column of the row is unbounded that way): bounds of the KPI's extremes without an LP."""
    cols = np.flatnonzero(row)
    c, lo, hi = row[cols], lower[cols], upper[cols]
    positive = c > 0  # c is never 0 here, so no 0·inf: each term is finite or one infinity
    smallest = float(np.sum(np.where(positive, c * lo, c * hi)))
    largest = float(np.sum(np.where(positive, c * hi, c * lo)))
    return smallest, largest


def as_scales(lp: LinearProgram, reference: Scales | np.ndarray, names: Iterable[str]) -> Scales:
    """``reference`` itself where it is :class:`Scales`; for a bare reference plan, the
    scales of ``names`` measured there on a session of their own (the same rule, for a
    one-off scorecard; analyses measure once on their live session instead)."""
    if isinstance(reference, Scales):
        return reference
    return measure_scales(HighsSession(lp, Options()), np.asarray(reference, dtype=float), names)


def _objective_factor(lp: LinearProgram, kpi: KpiRows) -> float | None:
    """``c`` where ``kpi`` measures the company objective (a linear KPI whose row is ``c``
    times the objective's, ``c > 0`` and the same sense, or ``c < 0`` and the opposite);
    None otherwise."""
    if kpi.is_ratio:
        return None
    n = lp.num_cols
    row, objective = kpi.numerator.dense(n), lp.objective.dense(n)
    scale = float(np.max(np.abs(objective)))
    if scale == 0.0:
        return None
    pivot = int(np.argmax(np.abs(objective)))
    c = row[pivot] / objective[pivot]
    if c == 0.0 or not np.allclose(row, c * objective, rtol=1e-9, atol=1e-12 * scale):
        return None
    same_sense = Sense(kpi.sense) is Sense(lp.sense)
    return c if (c > 0) == same_sense else None


def exchange_rates(
    lp: LinearProgram, department: str, weights: dict[str, float], scales: Scales
) -> list[dict[str, object]]:
    """A scorecard's weights as exchange rates a manager can read.

    On the scorecard ``sum_k w_k·sign_k·KPI_k/scale_k`` one unit of KPI k (in its own unit)
    counts ``w_k/scale_k``, so one unit of k is worth ``(w_k/scale_k)/(w_n/scale_n)`` units
    of KPI n, each moved in its good direction.  The numéraire n is a KPI of the scorecard
    that measures the company objective (its row a multiple of the objective's, e.g.
    company profit): the rates are then in objective units (``objective_units``); otherwise
    the KPI with the largest weight (the first such).  One entry per other KPI with a
    positive weight: ``kpi``, ``unit``, ``per`` (the numéraire), ``per_unit``, ``rate``,
    ``objective_units`` and ``text``; none for a scorecard of one KPI.
    """
    active = [(k, w) for k, w in weights.items() if w > 0]
    if len(active) < 2:
        return []
    measures = [k for k, _ in active if _objective_factor(lp, lp.kpis[k]) is not None]
    per = measures[0] if measures else max(active, key=lambda kw: kw[1])[0]
    per_kpi = lp.kpis[per]
    per_value = weights[per] / scales.of(per_kpi)
    per_unit = per_kpi.unit or "unit"
    out: list[dict[str, object]] = []
    for name, w in active:
        if name == per:
            continue
        kpi = lp.kpis[name]
        rate = (w / scales.of(kpi)) / per_value
        unit = kpi.unit or "unit"
        own, per_own = own_name(name, department), own_name(per, department)
        if measures:
            text = (
                f"1 {_better(kpi)} {own} ({unit}) is worth {_amount(rate)} {per_own} "
                f"({per_unit}) on {department}'s scorecard"
            )
        else:
            text = (
                f"1 {_better(kpi)} {own} ({unit}) counts as much as {_amount(rate)} "
                f"{_better(per_kpi)} {per_own} ({per_unit}) on {department}'s scorecard"
            )
        out.append(
            {
                "kpi": own,
                "unit": kpi.unit,
                "per": per_own,
                "per_unit": per_kpi.unit,
                "rate": rate,
                "objective_units": bool(measures),
                "text": text,
            }
        )
    return out


def _amount(v: float) -> str:
    """A rate for a sentence: whole numbers from 1,000 up, else four significant digits."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def _better(kpi: KpiRows) -> str:
    """The good direction of a KPI, as a word."""
    return "more" if Sense(kpi.sense) is Sense.MAX else "less"
