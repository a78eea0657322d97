"""The result of ``design``: designed scorecards, gaps, and the verification."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import pandas as pd

from ..types import Diagnosis
from .common import Outcome, RunInfo, clean, figure
from .prices import TransferPrices
from .verification import Verification

__all__ = ["DesignResult"]

_COLUMNS = (
    ["department", "kpi", "sense", "unit", "designed", "current"],
    [
        "department", "gap", "gap_share", "current_gap", "exact", "margin", "weight_tolerance",
        "widest_tolerance", "certified", "cuts", "indifferent", "optimistic_only",
        "optimistic_loss", "pessimistic_loss", "kept", "alignment_current", "alignment_designed",
    ],
    ["department", "resource", "baseline", "designed"],
)  # fmt: skip


@dataclass(frozen=True)
class DesignResult(Outcome):
    """Designed scorecards, their incentive gaps, margins and tolerances, the target's
    allocations, and the verification by simulation.

    ``weights``: department, kpi, sense, unit, designed, current (long format; current
    weights are normalized to sum 1).  ``departments``: one row per department (columns in
    ``_COLUMNS``; losses in objective units, from the optimum).  ``allocations``:
    department, resource, baseline, designed.  ``scheme``: the scheme verified and written
    (department -> {kpi: weight}; a department without a design keeps its current one).
    """

    run: RunInfo
    optimum: float
    status_quo: float
    weights: pd.DataFrame
    departments: pd.DataFrame
    verification: Verification
    notes: list[str] = field(default_factory=list)
    diagnosis: Diagnosis | None = None
    #: per department, the KPIs of its menu it cannot move at the target plan (unweighted)
    constant_kpis: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: departments whose designed scorecard mixes a ratio with other KPIs and could not be
    #: certified against the true ratio (node limit, cut limit, or two ratios mixed)
    approximate_ratio: tuple[str, ...] = ()
    allocations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_COLUMNS[2]))
    #: the objective at the target plan z* (the optimum, within the tie slack)
    target_objective: float = float("nan")
    scheme: dict[str, dict[str, float]] = field(default_factory=dict)
    #: the practical limits the design was made under: ``max_kpis`` and ``round``
    practice: dict[str, float | int | None] = field(default_factory=dict)
    #: the prices lever: transfer prices at z*, their intervals, the profit-centre diagnosis
    transfer_prices: TransferPrices | None = None
    #: the prices lever's verification (as ``verification`` is the weights')
    price_verification: Verification | None = None
    #: the lever headlined and written to scheme.yaml: ``weights`` or ``prices``
    lever: str = "weights"

    @property
    def chosen(self) -> Verification:
        """The verification of the lever chosen (``lever``)."""
        if self.lever == "prices" and self.price_verification is not None:
            return self.price_verification
        return self.verification

    #: per department, the verified scheme's weights as exchange rates between its KPIs
    #: (in objective units where it has a KPI measuring the objective): a list of
    #: ``{kpi, unit, per, per_unit, rate, objective_units, text}``
    #: (:func:`~kpidesign.analyses.scales.exchange_rates`)
    exchange_rates: dict[str, list[dict]] = field(default_factory=dict)

    #: the names of :meth:`figures`, in order
    FIGURES = ("system", "status_quo", "designed", "designed_share")

    def figures(self) -> dict[str, float]:
        """The headline figures a grid of designs (a sweep, a frontier) lists: the optimum,
        the status quo, the designed scheme on its worst computed path and its share of the
        optimum (NaN without an optimum)."""
        if self.diagnosis is not None:
            return dict.fromkeys(self.FIGURES, math.nan)
        return {
            "system": self.optimum,
            "status_quo": self.status_quo,
            "designed": self.chosen.objective,
            "designed_share": self.chosen.share_of_optimum,
        }

    @classmethod
    def failed(cls, run: RunInfo, diagnosis: Diagnosis) -> DesignResult:
        """The result of a design without an optimum: its diagnosis, no numbers."""
        nan = float("nan")
        weights, departments = (pd.DataFrame(columns=c) for c in _COLUMNS[:2])
        return cls(run, nan, nan, weights, departments, Verification.never(), [], diagnosis)

    @property
    def positive_gap(self) -> list[str]:
        """Departments for which no menu weights make the optimum their own best (not those
        left without a design, whose gap is undefined: their notes say why)."""
        return [
            r.department
            for r in self.departments.itertuples()
            if not r.exact and r.gap == r.gap  # NaN: no design
        ]

    @property
    def indifferent(self) -> list[str]:
        """Departments for which the optimum is one of several best choices."""
        return [r.department for r in self.departments.itertuples() if r.indifferent]

    @property
    def immovable(self) -> list[str]:
        """Departments that cannot move any KPI of their menu at the target plan: a gap of
        0 whatever they are paid on, so they keep their current scheme."""
        return [r.department for r in self.departments.itertuples() if r.kept and r.gap == 0.0]

    def flags(self, department: str) -> list[str]:
        """What a consultant must know about a department's design: ``positive_gap`` (no
        menu weights make the optimum its own best), ``indifferent`` (the optimum is one of
        several best responses, and the worst of them loses value), ``constant_kpi`` (a KPI
        of its menu it cannot move was left unweighted), ``approximate_ratio`` (its
        scorecard mixes a ratio with other KPIs and its best response under it could not be
        certified), ``optimistic_only`` (alone at the target, it keeps the optimum only
        if its tie is broken in the company's favour: its worst best response loses)."""
        row = self.departments[self.departments.department == department].iloc[0]
        out = []
        if department in self.positive_gap:
            out.append("positive_gap")
        if row.indifferent:
            out.append("indifferent")
        if self.constant_kpis.get(department):
            out.append("constant_kpi")
        if department in self.approximate_ratio:
            out.append("approximate_ratio")
        if row.optimistic_only:
            out.append("optimistic_only")
        return out

    def flagged(self) -> dict[str, list[str]]:
        """Departments with a positive incentive gap, those indifferent at the target, and
        those for which the design holds only under the optimistic tie-break."""
        return {
            "positive_gap": self.positive_gap,
            "indifferent": self.indifferent,
            "optimistic_only": [
                r.department for r in self.departments.itertuples() if r.optimistic_only
            ],
        }

    def allocation(self) -> dict[str, dict[str, float]]:
        """The designed allocations: department -> {resource: amount}."""
        out: dict[str, dict[str, float]] = {}
        for r in self.allocations.itertuples():
            out.setdefault(r.department, {})[r.resource] = clean(r.designed)
        return out

    def allocation_changes(self) -> list[str]:
        """The change from today's allocations, one sentence per resource that moves, e.g.
        "budget: sales gives up 9,200 (to 30,800); quality gets 4,000 more (to 24,000);
        5,200 more is left unallocated" (changes against today's allocations)."""
        lines = []
        for resource, group in self.allocations.groupby("resource", sort=False):
            change = group.designed - group.baseline
            scale = 1e-9 * (1.0 + float(group.baseline.abs().max()))
            parts = []
            for r, delta in zip(group.itertuples(), change, strict=True):
                if delta < -scale:
                    parts.append(
                        f"{r.department} gives up {figure(-delta)} (to {figure(r.designed)})"
                    )
            for r, delta in zip(group.itertuples(), change, strict=True):
                if delta > scale:
                    parts.append(
                        f"{r.department} gets {figure(delta)} more (to {figure(r.designed)})"
                    )
            if not parts:
                continue
            net = float(change.sum())
            if net < -scale:
                parts.append(f"{figure(-net)} more is left unallocated")
            elif net > scale:
                parts.append(f"{figure(net)} more comes from what was unallocated")
            lines.append(f"{resource}: " + "; ".join(parts))
        return lines

    def scheme_yaml(self) -> str:
        """The designed scheme as a scheme file (MODEL_FORMAT.md): weights per department
        and the allocations, numbers written so that they read back exactly."""
        lines = [
            f"# KPI design of {self.label} by kpidesign {self.run.kpidesign_version}: the "
            f"{self.lever} and allocations it verified.",
            "# `kpidesign evaluate MODEL --scheme` with this file reproduces its verification.",
        ]
        if self.lever == "prices" and self.transfer_prices is not None:
            lines.append("# every department is a profit centre at these transfer prices")
            lines.append("prices:")
            for constraint, price in self.transfer_prices.scheme().items():
                if isinstance(price, dict):
                    lines.append(f"  {_key(constraint)}:")
                    lines.extend(f"    {_key(i)}: {float(p)!r}" for i, p in price.items())
                else:
                    lines.append(f"  {_key(constraint)}: {float(price)!r}")
        else:
            for d, weights in self.scheme.items():
                lines.append(f"{_key(d)}:")
                lines.extend(f"  {_key(k)}: {w!r}" for k, w in weights.items())
                if not weights:
                    lines[-1] = f"{_key(d)}: {{}}"
        allocation = self.allocation()
        if allocation:
            lines.append("allocations:")
            for d, amounts in allocation.items():
                lines.append(f"  {_key(d)}:")
                lines.extend(f"    {_key(r)}: {float(v)!r}" for r, v in amounts.items())
        else:
            # without resources there is nothing to allocate, but the section is what asks
            # evaluate for the verification: without it the file would not reproduce it
            lines.append("allocations: {}  # the model allocates no resource")
        return "\n".join(lines) + "\n"

    def documents(self) -> dict[str, str]:
        """Files written beside the result under ``--out``: the designed scheme."""
        return {"scheme.yaml": self.scheme_yaml()} if self.ok else {}

    def to_dict(self) -> dict:
        """The JSON contract of ``design`` (DESIGN.md)."""
        departments: dict[str, dict] = {}
        for r in self.departments.itertuples(index=False):
            w = self.weights[self.weights.department == r.department]
            departments[r.department] = {
                "weights": {k: clean(v) for k, v in zip(w.kpi, w.designed, strict=True) if v > 0},
                "current_weights": {
                    k: clean(v) for k, v in zip(w.kpi, w.current, strict=True) if v > 0
                },
                "incentive_gap": clean(r.gap),
                "incentive_gap_share": clean(r.gap_share),
                "current_incentive_gap": clean(r.current_gap),
                "exact": bool(r.exact),
                "indifferent": bool(r.indifferent),
                "margin": clean(r.margin),
                "weight_tolerance": clean(r.weight_tolerance),
                "ratio_cuts": int(r.cuts),
                "optimistic_loss": clean(r.optimistic_loss),
                "pessimistic_loss": clean(r.pessimistic_loss),
                "keeps_current_scheme": bool(r.kept),
                "alignment": {
                    "current": clean(r.alignment_current),
                    "designed": clean(r.alignment_designed),
                },
                "flags": self.flags(r.department),
                "constant_kpis": list(self.constant_kpis.get(r.department, ())),
                "exchange_rates": [
                    {**e, "rate": clean(e["rate"])}
                    for e in self.exchange_rates.get(r.department, [])
                ],
            }
        return self.finish(
            {
                "model": self.model,
                "scenario": self.scenario,
                "variant": self.variant,
                "sense": str(self.sense),
                "optimum": clean(self.optimum),
                "status_quo": clean(self.status_quo),
                "target_objective": clean(self.target_objective),
                "allocation": self.allocation(),
                "allocation_changes": self.allocation_changes(),
                "practice": dict(self.practice),
                "lever": self.lever,
                "departments": departments,
                "flags": self.flagged(),
                "verification": self.chosen.to_dict(),
                "weights_verification": self.verification.to_dict(),
                **self._prices_dict(),
                "notes": list(self.notes),
            }
        )

    def _prices_dict(self) -> dict:
        """``transfer_prices``, ``transfer_price_ranges`` and the ``prices`` section, whose
        ``verification`` is the prices lever's, run as ``verification`` is."""
        if self.transfer_prices is None:
            return {}
        out = self.transfer_prices.to_dict()
        if self.price_verification is not None:
            out["prices"]["verification"] = self.price_verification.to_dict()
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """The long-format tables written as CSV files."""
        v = self.chosen
        verification = pd.DataFrame(
            [
                {"path": name, **path.to_dict(), "start": v.start}
                for name, path in (("optimistic", v.optimistic), ("pessimistic", v.pessimistic))
            ]
        )
        out = {
            "weights": self.weights,
            "departments": self.departments,
            "allocations": self.allocations,
            "verification": verification,
        }
        out["exchange_rates"] = pd.DataFrame(
            [
                {"department": d, **rate}
                for d, rates in self.exchange_rates.items()
                for rate in rates
            ],
            columns=[
                "department",
                "kpi",
                "unit",
                "per",
                "per_unit",
                "rate",
                "objective_units",
                "text",
            ],
        )
        if self.transfer_prices is not None:
            out.update(self.transfer_prices.tables())
        return out


def _key(name: str) -> str:
    """A YAML mapping key: the name itself where it is a plain identifier that YAML reads
    as a string, else quoted."""
    plain = name.replace("_", "a").isalnum() and not name[0].isdigit()
    return name if plain and name.lower() not in _YAML_WORDS else json.dumps(name)


_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}
