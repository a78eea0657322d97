"""The result of ``stress``: each plan's objective over sampled futures, the value of the
intentional slack, and the robust allocation."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..types import Sense
from .common import Outcome, RunInfo, clean

__all__ = ["PLAN_NAMES", "Distribution", "PlanOutcomes", "StressResult", "distribution"]

#: the plans ``stress`` lives through the futures, and what each is
PLAN_NAMES = {
    "with_slack": "made for the forecast with the model's margins and reserves",
    "without_slack": "made for the forecast with every margin and reserve at 0",
    "average_future": "made for the average future, with the margins",
    "robust": "the allocations best on average over the futures (the margins' reserve kept)",
}

#: the tail the worst-case mean is taken over
TAIL = 0.05


@dataclass(frozen=True)
class Distribution:
    """A plan's objective over the futures: mean (NaN where a future has no objective)
    with its standard error (0 for enumerated futures: the mean is exact), quantiles,
    the mean of the worst 5% and the probability that the plan cannot be met as it is."""

    mean: float
    standard_error: float
    quantiles: dict[str, float]
    worst_tail_mean: float
    infeasible: float

    def to_dict(self) -> dict:
        """The JSON form."""
        return {
            "mean": _num(self.mean),
            "standard_error": _num(self.standard_error),
            "quantiles": {k: _num(v) for k, v in self.quantiles.items()},
            "worst_5pct_mean": _num(self.worst_tail_mean),
            "probability_infeasible": _num(self.infeasible),
        }


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else clean(x)


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    i = int(np.searchsorted(cum, q * cum[-1] - 1e-12))
    return float(v[min(i, v.size - 1)])


def distribution(
    values: np.ndarray, weights: np.ndarray, feasible: np.ndarray, sense: Sense, exact: bool
) -> Distribution:
    """The :class:`Distribution` of ``values`` (one per future, NaN for a future without
    an objective) under ``weights``; ``exact``: the futures are every outcome, not a
    sample (no sampling error)."""
    infeasible = float(weights[~feasible].sum())
    if np.isnan(values).any():
        nan = math.nan
        return Distribution(nan, nan, dict.fromkeys(_Q, nan), nan, infeasible)
    mean = float(np.dot(weights, values))
    se = 0.0 if exact or values.size < 2 else float(np.std(values, ddof=1) / math.sqrt(values.size))
    quantiles = {name: _weighted_quantile(values, weights, q) for name, q in _Q.items()}
    # the worst 5% of the probability mass: lowest values for a maximized objective
    bad = values if sense is Sense.MAX else -values
    order = np.argsort(bad, kind="stable")
    mass, total = 0.0, 0.0
    for i in order:
        take = min(weights[i], TAIL - mass)
        if take <= 0:
            break
        total += take * values[i]
        mass += take
    return Distribution(mean, se, quantiles, total / mass, infeasible)


_Q = {"p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}


@dataclass(frozen=True)
class PlanOutcomes:
    """One plan: its allocations (department -> {resource: amount}), what it leaves
    unallocated per resource, its objective as planned (``forecast``: with its margins;
    the average-future plan's in the average future), and its objective in each
    future (in-sample ``values``; ``out_of_sample`` on fresh futures) with feasibility
    and the rows broken (row name -> futures)."""

    allocation: dict[str, dict[str, float]]
    unallocated: dict[str, float]
    forecast: float
    values: np.ndarray
    feasible: np.ndarray
    broken: dict[str, int]
    out_of_sample: np.ndarray | None = None
    out_of_sample_feasible: np.ndarray | None = None


@dataclass(frozen=True)
class StressResult(Outcome):
    """Plans lived through futures: ``plans`` (name -> :class:`PlanOutcomes`, names in
    :data:`PLAN_NAMES`; ``robust`` absent where no allocation meets every future),
    ``weights`` of the futures (and of the fresh ones), the robust LP's expected
    objective, and how the futures were made."""

    run: RunInfo
    plans: dict[str, PlanOutcomes]
    weights: np.ndarray
    out_of_sample_weights: np.ndarray
    exact: bool  # enumerated futures: expectations are exact
    seed: int
    commit: str
    robust_expected: float = math.nan
    robust_futures: int = 0
    #: with ``analysis="compare"``: per future (future, weight), compare's system, aligned,
    #: status_quo (file order), status_quo_min/max and the designed scheme's worst
    #: computed path (``designed``) and optimistic one
    decentralized: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    diagnosis: None = None

    def distribution(self, plan: str, *, out_of_sample: bool = False) -> Distribution:
        """A plan's :class:`Distribution` over the futures (or the fresh ones)."""
        p = self.plans[plan]
        if out_of_sample:
            assert p.out_of_sample is not None and p.out_of_sample_feasible is not None
            return distribution(
                p.out_of_sample, self.out_of_sample_weights, p.out_of_sample_feasible,
                self.sense, self.exact,
            )  # fmt: skip
        return distribution(p.values, self.weights, p.feasible, self.sense, self.exact)

    def _better(self, a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
        """Mean and standard error of how much better ``a`` is than ``b``, future by
        future (the same futures: the difference's own spread)."""
        d = (a - b) if self.sense is Sense.MAX else (b - a)
        if np.isnan(d).any():
            return math.nan, math.nan
        se = 0.0 if self.exact or d.size < 2 else float(np.std(d, ddof=1) / math.sqrt(d.size))
        return float(np.dot(weights, d)), se

    def value_of_slack(self, *, out_of_sample: bool = False) -> tuple[float, float]:
        """How much better, on average over the futures, the plan made with the margins
        does than the plan made without them (objective units, positive: the slack pays),
        with its standard error."""
        w, s = self.plans["with_slack"], self.plans["without_slack"]
        if out_of_sample:
            assert w.out_of_sample is not None and s.out_of_sample is not None
            return self._better(w.out_of_sample, s.out_of_sample, self.out_of_sample_weights)
        return self._better(w.values, s.values, self.weights)

    def value_of_margins(self) -> dict[str, tuple[float, float]]:
        """Per margin planned alone (``margin:NAME`` plans), how much better it does than
        the plan without any, with its standard error (empty unless asked for)."""
        base = self.plans["without_slack"]
        return {
            name.removeprefix("margin:"): self._better(p.values, base.values, self.weights)
            for name, p in self.plans.items()
            if name.startswith("margin:")
        }

    def value_of_stochastic_solution(self, *, out_of_sample: bool = False) -> tuple[float, float]:
        """How much better the robust allocation does than the plan for the average future,
        on average over the futures (NaN without a robust allocation)."""
        if "robust" not in self.plans:
            return math.nan, math.nan
        r, m = self.plans["robust"], self.plans["average_future"]
        if out_of_sample:
            assert r.out_of_sample is not None and m.out_of_sample is not None
            return self._better(r.out_of_sample, m.out_of_sample, self.out_of_sample_weights)
        return self._better(r.values, m.values, self.weights)

    def has_breaks(self) -> bool:
        """Did any plan break a row in any future (its objective then less the penalty)?"""
        return any(p.broken for p in self.plans.values())

    def keeps_more_headroom(self) -> bool | None:
        """Does the robust allocation leave more of the resources unallocated than the
        deterministic optimum (the plan with slack)? None without a robust allocation."""
        if "robust" not in self.plans:
            return None
        robust = sum(self.plans["robust"].unallocated.values())
        plan = sum(self.plans["with_slack"].unallocated.values())
        return robust > plan + 1e-9 * (1.0 + abs(plan))

    def to_dict(self) -> dict:
        """The JSON contract of ``stress``."""
        plans = {}
        for name, p in self.plans.items():
            entry = {
                "description": PLAN_NAMES.get(
                    name, f"made for the forecast with {name.removeprefix('margin:')} alone"
                ),
                "planned_objective": _num(p.forecast),
                "allocation": {
                    d: {r: clean(v) for r, v in rs.items()} for d, rs in p.allocation.items()
                },
                "unallocated": {r: clean(v) for r, v in p.unallocated.items()},
                "distribution": self.distribution(name).to_dict(),
                "broken": dict(sorted(p.broken.items())),
            }
            if p.out_of_sample is not None:
                entry["out_of_sample"] = self.distribution(name, out_of_sample=True).to_dict()
            plans[name] = entry
        value, se = self.value_of_slack()
        oos_value, oos_se = self.value_of_slack(out_of_sample=True)
        vss, vss_se = self.value_of_stochastic_solution()
        oos_vss, oos_vss_se = self.value_of_stochastic_solution(out_of_sample=True)
        return self.finish(
            {
                **self.header(),
                "futures": {
                    "count": int(self.weights.size),
                    "out_of_sample": int(self.out_of_sample_weights.size),
                    "enumerated": self.exact,
                    "seed": self.seed,
                },
                "commit": self.commit,
                "plans": plans,
                "value_of_slack": {
                    "mean": _num(value),
                    "standard_error": _num(se),
                    "out_of_sample": {"mean": _num(oos_value), "standard_error": _num(oos_se)},
                    "per_margin": {
                        name: {"mean": _num(v), "standard_error": _num(e)}
                        for name, (v, e) in self.value_of_margins().items()
                    },
                },
                "robust": {
                    "found": "robust" in self.plans,
                    "expected": _num(self.robust_expected),
                    "futures": self.robust_futures,
                    "keeps_more_headroom": self.keeps_more_headroom(),
                    "value_of_stochastic_solution": {
                        "mean": _num(vss),
                        "standard_error": _num(vss_se),
                        "out_of_sample": {
                            "mean": _num(oos_vss),
                            "standard_error": _num(oos_vss_se),
                        },
                    },
                },
                **(
                    {"decentralized": self._decentralized_dict()}
                    if self.decentralized is not None
                    else {}
                ),
                "notes": list(self.notes),
            }
        )

    #: the decentralized outcomes summarized, and which end of the status quo's range
    DECENTRALIZED = ("status_quo", "status_quo_min", "status_quo_max", "designed",
                     "designed_optimistic", "aligned", "system")  # fmt: skip

    def _decentralized_dict(self) -> dict:
        """Per outcome of the decentralized analysis, its distribution over the futures."""
        frame = self.decentralized
        assert frame is not None
        w = frame.weight.to_numpy(dtype=float)
        out = {}
        for column in self.DECENTRALIZED:
            values = frame[column].to_numpy(dtype=float)
            d = distribution(values, w, ~np.isnan(values), self.sense, self.exact)
            out[column] = d.to_dict()
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """Long tables: each plan in each future, and each plan's distribution."""
        outcomes = pd.DataFrame(
            [
                {
                    "plan": name,
                    "sample": "in" if which == "in" else "out",
                    "future": i,
                    "weight": float(w[i]),
                    "objective": _num(float(v[i])),
                    "feasible": bool(f[i]),
                }
                for name, p in self.plans.items()
                for which, v, f, w in (
                    ("in", p.values, p.feasible, self.weights),
                    ("out", p.out_of_sample, p.out_of_sample_feasible, self.out_of_sample_weights),
                )
                if v is not None and f is not None
                for i in range(v.size)
            ],
            columns=["plan", "sample", "future", "weight", "objective", "feasible"],
        )
        rows = []
        for name in self.plans:
            d = self.distribution(name).to_dict()
            quantiles = d.pop("quantiles")
            rows.append({"plan": name, **d, **quantiles})
        summary = pd.DataFrame(rows)
        out = {"outcomes": outcomes, "distributions": summary}
        if self.decentralized is not None:
            out["decentralized"] = self.decentralized
        return out
