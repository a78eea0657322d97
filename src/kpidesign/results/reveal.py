"""The result of ``reveal``: the incentives each department acts on, read from its plan."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from .common import Outcome, RunInfo, clean

__all__ = ["DepartmentFit", "RevealResult"]


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else clean(x)


@dataclass(frozen=True)
class DepartmentFit:
    """One department's revealed weights.

    ``weights``: the point reported (of the weights that fit best, the one closest to the
    official scheme), KPI -> weight, summing to 1; ``ranges``: per KPI the interval of
    weights that fit as well; ``gap``: the smallest gap (how much more the department
    could score under those weights, in scorecard units); ``baseline_gap``: the mean gap
    of the single-KPI scorecards; ``fit``: ρ = 1 − gap/baseline_gap; ``official``: its
    official scheme (normalized), with its gap and fit; ``left_out``: KPIs it cannot move
    (or undefined ratios); ``given``: its values in the actuals; ``distance``: L1 distance
    its values moved where the actuals had to be projected onto the feasible plans;
    ``pinned``: it can move no KPI, so every scheme fits and nothing is revealed.
    """

    department: str
    kpis: list[str]
    weights: dict[str, float]
    ranges: dict[str, tuple[float, float]]
    gap: float
    baseline_gap: float
    fit: float
    official: dict[str, float]
    official_gap: float
    official_fit: float
    left_out: list[str]
    given: int
    distance: float = 0.0
    #: it can move none of its KPIs: every scheme fits, nothing is revealed
    pinned: bool = False

    @classmethod
    def moving_nothing(
        cls,
        department: str,
        kpis: list[str],
        official_weights: Sequence[float],
        official: dict[str, float],
        given: int,
    ) -> DepartmentFit:
        """A department that cannot move any KPI of its menu: its plan is its best choice
        under every scheme (every gap 0, fit 1), so every weight fits and the point
        reported is the official scheme."""
        total = sum(official.values()) or 1.0
        return cls(
            department=department,
            kpis=kpis,
            weights={k: float(w) for k, w in zip(kpis, official_weights, strict=True)},
            ranges=dict.fromkeys(kpis, (0.0, 1.0)),
            gap=0.0,
            baseline_gap=0.0,
            fit=1.0,
            official={k: w / total for k, w in official.items()},
            official_gap=0.0,
            official_fit=1.0,
            left_out=list(kpis),
            given=given,
            pinned=True,
        )

    def to_dict(self) -> dict:
        """The JSON form of ``departments.{dept}``."""
        return {
            "weights": {k: _num(w) for k, w in self.weights.items() if w},
            "weight_ranges": {
                k: {"min": _num(lo), "max": _num(hi)} for k, (lo, hi) in self.ranges.items()
            },
            "fit": _num(self.fit),
            "gap": _num(self.gap),
            "baseline_gap": _num(self.baseline_gap),
            "official": {k: _num(w) for k, w in self.official.items()},
            "official_fit": _num(self.official_fit),
            "official_gap": _num(self.official_gap),
            "left_out": list(self.left_out),
            "given": self.given,
            "distance": _num(self.distance),
            "moves_no_kpi": self.pinned,
        }


@dataclass(frozen=True)
class RevealResult(Outcome):
    """Per department, the weights its observed plan reveals (:class:`DepartmentFit`);
    ``projected``: whether the actuals had to be projected onto the feasible plans;
    ``completed``: how many values the re-plan completed."""

    run: RunInfo
    departments: dict[str, DepartmentFit]
    projected: bool
    completed: int
    notes: list[str] = field(default_factory=list)
    diagnosis: None = None

    def to_dict(self) -> dict:
        """The JSON contract: ``departments.{dept}.{weights, weight_ranges, fit, gap,
        official_fit}``."""
        return self.finish(
            {
                **self.header(),
                "actuals": {"projected": self.projected, "completed": self.completed},
                "departments": {d: f.to_dict() for d, f in self.departments.items()},
                "notes": list(self.notes),
            }
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """``weights`` (department, kpi, weight, min, max, official) and ``fit``
        (department, fit, gap, official_fit, official_gap, distance)."""
        weights, fits = [], []
        for d, f in self.departments.items():
            for k in f.kpis:
                lo, hi = f.ranges.get(k, (float("nan"), float("nan")))
                weights.append(
                    {
                        "department": d, "kpi": k, "weight": f.weights.get(k, 0.0),
                        "min": lo, "max": hi, "official": f.official.get(k, 0.0),
                    }
                )  # fmt: skip
            fits.append(
                {
                    "department": d, "fit": f.fit, "gap": f.gap, "official_fit": f.official_fit,
                    "official_gap": f.official_gap, "distance": f.distance,
                }
            )  # fmt: skip
        return {
            "weights": pd.DataFrame(
                weights, columns=["department", "kpi", "weight", "min", "max", "official"]
            ),
            "fit": pd.DataFrame(
                fits,
                columns=["department", "fit", "gap", "official_fit", "official_gap", "distance"],
            ),
        }
