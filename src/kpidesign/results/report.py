"""The result of ``report``: compare, design (or a given scheme), sensitivity and a frontier
over each resource, gathered once for the HTML report and the workbook.

Every number the report shows is computed here, once, and cleaned exactly as the JSON of
the analysis it comes from cleans it, so that the report, the workbook and each command's
``--format json`` agree to the last digit.  The renderers only lay these tables out.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..types import Plan, Sense
from .common import RunInfo, clean, figure
from .compare import CompareResult
from .contract import ContractResult
from .design import DesignResult
from .frontier import FrontierResult
from .monitor import MonitorResult
from .reveal import RevealResult
from .sensitivity import SensitivityResult
from .stress import StressResult
from .summary import ModelSummary

__all__ = ["PLAN_LABELS", "Recommendation", "ReportResult", "percent"]

#: how the report names the three plans of ``compare``
PLAN_LABELS = {
    Plan.STATUS_QUO: "status quo",
    Plan.ALIGNED: "aligned",
    Plan.SYSTEM: "optimum",
}

#: what a linear program assumes, said once in every report
DIVISIBILITY = (
    "The model is a linear program: every quantity is divisible. Truckloads, batches and "
    "headcount come out as fractions (12.4 trucks), and the plans are exact only as far "
    "as rounding them to whole units changes little."
)


@dataclass(frozen=True)
class Recommendation:
    """The scheme the report recommends and what it achieves.

    ``source`` is ``design`` (the designed scheme) or the scheme file's path; ``weights``
    and ``current`` map department -> {kpi: weight}; ``worst``/``best`` are the company
    objective on the worst and best computed path under it (pessimistic and optimistic
    tie-breaks over department orders), with their shares of the optimum; ``start`` says
    where those paths start, ``allocation`` (department -> {resource: amount}) is where
    the scheme is run.
    """

    source: str
    weights: dict[str, dict[str, float]]
    current: dict[str, dict[str, float]]
    worst: float
    worst_share: float
    best: float
    best_share: float
    start: str
    paths: int
    allocation: dict[str, dict[str, float]] = field(default_factory=dict)
    allocation_changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportResult:
    """Everything ``report`` shows, for :mod:`kpidesign.render.report`."""

    title: str
    run: RunInfo
    summary: ModelSummary
    margins: dict[str, float]
    compare: CompareResult
    recommendation: Recommendation
    sensitivity: SensitivityResult
    frontiers: dict[str, FrontierResult]
    design: DesignResult | None = None
    #: for partner firms (a model with contract terms): the contract recommended
    contract: ContractResult | None = None
    #: the plans lived through the scenario's shocks (None without shocks:)
    stress: StressResult | None = None
    #: the actuals against the plan, and the incentives they reveal (None without actuals)
    monitor: MonitorResult | None = None
    reveal: RevealResult | None = None
    #: the libraries that drew the report (name -> version), for its provenance
    renderers: dict[str, str] = field(default_factory=dict)

    # -- the headline page -------------------------------------------------------------

    @property
    def sense(self) -> Sense:
        """Whether the company objective is maximized or minimized."""
        return self.compare.sense

    def _worse_first(self, a: float, b: float) -> tuple[float, float]:
        return (min(a, b), max(a, b)) if self.sense is Sense.MAX else (max(a, b), min(a, b))

    def figures(self) -> dict[str, float | str]:
        """The figures on the headline page, by name (the JSON's ``headline``)."""
        c, rec = self.compare, self.recommendation
        ranged = c.status_quo_range
        sq_low, sq_high = (ranged.low, ranged.high) if ranged else (math.nan, math.nan)
        sq_worst, sq_best = self._worse_first(sq_low, sq_high)
        cost_min, cost_max = (
            ranged.misalignment_cost if ranged else (c.misalignment_cost, c.misalignment_cost)
        )
        return {
            "optimum": clean(c.objectives[Plan.SYSTEM]),
            "aligned": clean(c.objectives[Plan.ALIGNED]),
            "status_quo": clean(c.objectives[Plan.STATUS_QUO]),
            "status_quo_worst": clean(sq_worst),
            "status_quo_best": clean(sq_best),
            "misalignment_cost": clean(c.misalignment_cost),
            "misalignment_cost_min": clean(cost_min),
            "misalignment_cost_max": clean(cost_max),
            "reallocation_gain": clean(c.reallocation_gain),
            "recommended": rec.source,
            "recommended_pessimistic": clean(rec.worst),
            "recommended_pessimistic_share": clean(rec.worst_share),
            "recommended_optimistic": clean(rec.best),
            "recommended_optimistic_share": clean(rec.best_share),
            "recovered_pessimistic": clean(_better_by(self.sense, rec.worst, sq_worst)),
            "recovered_optimistic": clean(_better_by(self.sense, rec.best, sq_best)),
            **self._stress_figures(),
            **self._monitoring_figures(),
        }

    def _monitoring_figures(self) -> dict[str, float]:
        """The headline's monitoring figures (none without actuals)."""
        m = self.monitor
        if m is None:
            return {}
        return {
            "monitoring_plan": clean(m.plan_objective),
            "monitoring_replan": clean(m.replan_objective),
            "monitoring_lost": clean(m.lost),
        }

    def monitoring_text(self) -> str | None:
        """How far behind the plan the actuals leave the company, who lost it, and what
        the departments act on, in two sentences (None without actuals)."""
        m = self.monitor
        if m is None:
            return None
        periods = m.periods
        span = f"{periods[0]}–{periods[-1]}" if len(periods) > 1 else str(periods[0])
        ranked = sorted(((v, d) for d, v in m.attribution.items() if v > 0), reverse=True)
        if m.lost <= 0 or not ranked:
            who = "no department's actuals cost the company anything"
        else:
            parts = [f"{d} {figure(v)} ({percent(v / m.lost)})" for v, d in ranked[:3]]
            who = "lost by " + ", ".join(parts)
        first = (
            f"After {m.time_set} {span} the company can still reach {figure(m.replan_objective)} "
            f"against a plan of {figure(m.plan_objective)}: {figure(m.lost)} is {who}."
        )
        r = self.reveal
        if r is None:
            return first
        off = sorted(
            ((f.official_fit, d) for d, f in r.departments.items() if not f.pinned),
        )
        if not off:
            return first
        fit, d = off[0]
        best = r.departments[d]
        if best.fit < _EXPLAINS:
            acts = (
                f"no scorecard of its menu explains what it did (the best fits {figure(best.fit)})"
            )
        else:
            acts = (
                "it acts as if paid on "
                + ", ".join(
                    f"{k.split('.')[-1]} {percent(w)}"
                    for k, w in sorted(best.weights.items(), key=lambda kv: -kv[1])
                    if w > 5e-4
                )
                + f" (fit {figure(best.fit)})"
            )
        return first + (
            f" The actuals fit the official scorecards least for {d} (fit {figure(fit)}): {acts}."
        )

    def _stress_figures(self) -> dict[str, float | bool | None]:
        """The headline's stress figures (none without shocks)."""
        if self.stress is None:
            return {}
        value, se = self.stress.value_of_slack()
        return {
            "value_of_slack": _number(value),
            "value_of_slack_standard_error": _number(se),
            "robust_keeps_more_headroom": self.stress.keeps_more_headroom(),
        }

    def stress_text(self) -> str | None:
        """What the margins are worth under the scenario's shocks, and whether the robust
        allocation keeps more headroom, in one sentence (None without shocks)."""
        s = self.stress
        if s is None:
            return None
        value, se = s.value_of_slack()
        n = s.weights.size
        if math.isnan(value):
            worth = (
                "the value of the margins is undefined: a future the plans cannot meet has "
                "no objective (declare shocks.shortfall_penalty)"
            )
        else:
            sign = "pay" if value > 0 else "cost"
            worth = (
                f"the shipped margins {sign} {figure(abs(value))} ± {figure(se)} on average "
                "against a plan made without them (both re-solved in every future with the "
                "margins released)"
            )
        more = s.keeps_more_headroom()
        robust = (
            "there is no robust allocation"
            if more is None
            else f"the robust allocation keeps {'more' if more else 'no more'} headroom "
            "unallocated than the plan for the forecast"
        )
        return f"Under the scenario's shocks ({n} futures), {worth}; {robust}."

    def cost_text(self) -> str:
        """The misalignment cost as the headline quotes it: a range where compare gives
        one, with the file order's value."""
        f = self.figures()
        low, high, file = (
            f["misalignment_cost_min"],
            f["misalignment_cost_max"],
            f["misalignment_cost"],
        )
        if abs(float(high) - float(low)) < 5e-4:
            return percent(float(file))
        return f"{percent(float(low))}–{percent(float(high))} (file order {percent(float(file))})"

    def loss_story(self) -> tuple[str, str]:
        """What the company loses and why, in two sentences."""
        c = self.compare
        f = self.figures()
        holds = c.own_kpis_hold()
        everyone = bool(holds) and all(holds.values())
        lead = (
            "Every department meets its own KPIs at least as well as under the aligned plan, "
            "yet the company"
            if everyone
            else "Under today's scorecards the company"
        )
        if float(f["misalignment_cost_max"]) <= _NOTHING:
            rest = (
                f"the only gain left is the reallocation's, {percent(c.reallocation_gain)} "
                f"(the optimum is {figure(float(f['optimum']))})."
                if c.reallocation_gain > _NOTHING
                else "neither the scorecards nor the allocations leave anything to gain."
            )
            return (
                "Today's scorecards cost the company nothing measurable: every computed "
                f"path of the status quo reaches the aligned plan's "
                f"{figure(float(f['aligned']))}.",
                f"So {rest}",
            )
        verb = "earns" if self.sense is Sense.MAX else "spends"
        less = "less" if self.sense is Sense.MAX else "more"
        first = (
            f"{lead} {verb} {self.cost_text()} {less} than it could with the same budgets: "
            f"{figure(float(f['status_quo_worst']))} to {figure(float(f['status_quo_best']))} "
            f"against {figure(float(f['aligned']))} aligned and "
            f"{figure(float(f['optimum']))} at the optimum."
        )
        current = self.recommendation.current
        losses = sorted(
            ((loss, d) for d, (loss, _) in c.unilateral_losses().items() if loss > 1e-9),
            reverse=True,
        )
        if not losses:
            second = (
                "No department alone pulls the company away from the aligned plan; the loss "
                "comes from how their moves combine."
            )
        else:
            parts = [
                f"{d} (paid on {_paid(current.get(d, {}))}) alone costs {figure(loss)}"
                for loss, d in losses[:2]
            ]
            second = (
                f"Why: {' and '.join(parts)}, because what their scorecards reward pulls away "
                "from the company's objective and takes shared headroom from the others."
            )
        return first, second

    def recovery_text(self) -> str:
        """What the recommended scheme recovers against today's scorecards, worst computed
        path against worst and best against best, said plainly where it falls short."""
        f = self.figures()
        parts = []
        for key, which in (("pessimistic", "worst"), ("optimistic", "best")):
            gain = float(f[f"recovered_{key}"])
            if gain >= 0:
                parts.append(f"recovers {figure(gain)} on the {which} computed path ({key})")
            else:
                parts.append(f"ends {figure(-gain)} below today's {which} computed path ({key})")
        return f"Against today's scorecards, the recommended scheme {' and '.join(parts)}."

    def decisions(self) -> list[str]:
        """The three decisions to take, most valuable first."""
        rec, out = self.recommendation, []
        if self.contract is not None:
            out.append(self.contract_text())
        changed = [
            d for d, w in rec.weights.items() if _rounded(w) != _rounded(rec.current.get(d, {}))
        ]
        if self.contract is not None:
            pass  # partner firms keep their profits: the contract is the lever
        elif changed:
            out.append(
                f"Change the scorecards of {', '.join(changed)} to the recommended weights "
                f"(worst computed path {percent(rec.worst_share)} of the optimum, "
                f"{percent(rec.best_share)} optimistic)."
            )
        else:
            out.append("Keep today's scorecards: no weights change.")
        out = out[:3] if self.contract is None else out
        if rec.allocation_changes:
            out.append(f"Reallocate: {'; '.join(rec.allocation_changes)}.")
        else:
            moves = self.sensitivity.advice()
            out.append(f"Reallocate: {moves[0]}." if moves else "Keep today's allocations.")
        prices = self.sensitivity.slack_prices
        paid = prices[(prices.margin != "total") & (prices.resolve.abs() > 1e-9)]
        if not paid.empty:
            top = paid.loc[paid.resolve.abs().idxmax()]
            out.append(
                f"Review the margin {top.margin}: holding it costs {figure(abs(top.resolve))} "
                "of the objective (re-solved without it)."
            )
        else:
            dual = self.sensitivity.allocations
            if not dual.empty and dual.dual.abs().max() > 1e-9:
                top = dual.loc[dual.dual.abs().idxmax()]
                out.append(
                    f"Watch {top.department}'s {top.resource}: one more unit is worth "
                    f"{figure(top.dual)} between {figure(top.lower)} and {figure(top.upper)}."
                )
            else:
                out.append("No margin or allocation has a price: the budgets are not binding.")
        return out

    def contract_text(self) -> str:
        """The contract to sign, in one sentence: its terms and who pays whom."""
        c = self.contract
        assert c is not None
        terms = ", ".join(
            f"{name} {t.today:.6g} → {t.contract:.6g}"
            if t.contract != t.today
            else f"{name} stays at {t.today:.6g}"
            for name, t in c.terms.items()
        )
        v = c.verification
        reach = (
            f"worst computed path {percent(v.share_of_optimum)} of the optimum, "
            f"{percent(v.optimistic.share_of_optimum)} optimistic"
        )
        if not c.payments:
            return f"Change the contract: {terms} (the best within its bounds; {reach})."
        payers = sorted(((v, d) for d, v in c.payments.items() if v < 0))
        paid = sorted(((v, d) for d, v in c.payments.items() if v > 0), reverse=True)
        moves = "; ".join(
            [f"{d} pays {figure(-v)}" for v, d in payers]
            + [f"{d} receives {figure(v)}" for v, d in paid]
        )
        return (
            f"Change the contract: {terms}, with fixed payments ({c.split} split: {moves}), "
            f"so that every partner earns more than today ({reach})."
        )

    def notes(self) -> list[tuple[str, str]]:
        """Every note and flag of the analyses behind the report, as (analysis, note)."""
        out = [("compare", n) for n in self.compare.notes]
        if self.contract is not None:
            out += [("contract", n) for n in self.contract.notes]
        if self.design is not None:
            out += [("design", n) for n in self.design.notes]
            for d, flags in self.design.flagged().items():
                out += [("design", f"{d}: {flag}") for flag in flags]
        out += [("sensitivity", n) for n in self.sensitivity.notes]
        if self.stress is not None:
            out += [("stress", n) for n in self.stress.notes]
        if self.monitor is not None:
            out += [("monitor", n) for n in self.monitor.notes]
        if self.reveal is not None:
            out += [("reveal", n) for n in self.reveal.notes]
        for name, f in self.frontiers.items():
            out += [(f"frontier {name}", n) for n in f.notes]
        return out

    # -- the tables behind every chart ---------------------------------------------------

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the report, by sheet name, numbers as the JSON gives them."""
        c, rec, f = self.compare, self.recommendation, self.figures()
        headline = pd.DataFrame(
            [{"figure": k, "value": v} for k, v in f.items()],
            columns=["figure", "value"],
        )
        plans = pd.DataFrame(
            [{"plan": str(p), "objective": clean(v)} for p, v in c.objectives.items()]
            + [
                {"plan": "status_quo_worst", "objective": f["status_quo_worst"]},
                {"plan": "status_quo_best", "objective": f["status_quo_best"]},
                {"plan": "recommended_pessimistic", "objective": clean(rec.worst)},
                {"plan": "recommended_optimistic", "objective": clean(rec.best)},
            ],
            columns=["plan", "objective"],
        )
        kpis = c.kpis.copy()
        kpis["paid"] = [
            rec.current.get(r.department, {}).get(r.kpi, 0.0) if r.department else 0.0
            for r in kpis.itertuples(index=False)
        ]
        scorecards = pd.DataFrame(
            [
                {
                    "department": d,
                    "kpi": k,
                    "current": clean(rec.current.get(d, {}).get(k, 0.0)),
                    "recommended": clean(rec.weights.get(d, {}).get(k, 0.0)),
                }
                for d in dict.fromkeys([*rec.current, *rec.weights])
                for k in dict.fromkeys([*rec.current.get(d, {}), *rec.weights.get(d, {})])
            ],
            columns=["department", "kpi", "current", "recommended"],
        )
        rates = pd.DataFrame(
            [
                {
                    "department": d,
                    "kpi": r["kpi"],
                    "per": r["per"],
                    "rate": clean(r["rate"]),
                    "text": r["text"],
                }
                for d, rs in (self.design.exchange_rates if self.design else {}).items()
                for r in rs
            ],
            columns=["department", "kpi", "per", "rate", "text"],
        )
        s = self.sensitivity
        frontier = pd.DataFrame(
            [
                {"resource": name, "total": clean(p["total"]), "objective": clean(p["objective"])}
                for name, f in self.frontiers.items()
                for p in f.points.to_dict("records")
            ],
            columns=["resource", "total", "objective"],
        )
        slopes = pd.DataFrame(
            [
                {
                    "resource": name,
                    "from": clean(r["from"]),
                    "to": clean(r["to"]),
                    "slope": clean(r["slope"]),
                }
                for name, f in self.frontiers.items()
                for r in f.slopes.to_dict("records")
            ],
            columns=["resource", "from", "to", "slope"],
        )
        tables = {
            "headline": headline,
            "plans": plans,
            "kpis": kpis,
            "state_by_period": c.state_periods,
            "scorecards": scorecards,
            "exchange_rates": rates,
            "allocations": s.allocations,
            "reallocation": s.reallocation,
            "margins": s.slack_prices,
            "constraints": s.constraints,
            "frontier": frontier,
            "frontier_slopes": slopes,
            "notes": pd.DataFrame(self.notes(), columns=["analysis", "note"]),
            "provenance": pd.DataFrame(self.provenance(), columns=["item", "value"]),
        }
        if self.stress is not None:
            stressed = self.stress.tables()
            tables["stress"] = stressed["distributions"]
            tables["stress_futures"] = stressed["outcomes"]
        if self.contract is not None:
            contracted = self.contract.tables()
            tables["contract_terms"] = contracted["terms"]
            tables["contract_partners"] = contracted["partners"]
        if self.monitor is not None:
            monitored = self.monitor.tables()
            tables["monitor_attribution"] = monitored["attribution"]
            tables["monitor_drift"] = monitored["drift"]
        if self.reveal is not None:
            revealed = self.reveal.tables()
            tables["reveal_fit"] = revealed["fit"]
            tables["reveal_weights"] = revealed["weights"]
        return {name: _cleaned(t) for name, t in tables.items()}

    def provenance(self) -> list[tuple[str, str]]:
        """What a consultant needs to defend the report: versions, input digests,
        scenario, variant, seed, the options of the run."""
        run = self.run
        out = [
            ("model", run.model),
            ("scenario", run.scenario),
            ("variant", run.variant or "(none)"),
            ("recommended scheme", self.recommendation.source),
            ("kpidesign", run.kpidesign_version),
            ("HiGHS", run.highs_version),
            *((name, v) for name, v in sorted(self.renderers.items())),
            ("seed", "none (nothing random)" if run.seed is None else str(run.seed)),
        ]
        out += [(f"input {path}", digest) for path, digest in run.inputs]
        if run.options is not None:
            out += [(f"option {k}", str(v)) for k, v in run.options.provenance().items()]
        return out

    def to_dict(self, files: list[str] | None = None) -> dict:
        """``--format json``: the files written and the figures on the headline page."""
        first, second = self.loss_story()
        return {
            "title": self.title,
            "model": self.run.model,
            "scenario": self.run.scenario,
            "variant": self.run.variant,
            "sense": str(self.sense),
            "files": list(files or []),
            "headline": self.figures(),
            "misalignment_cost_text": self.cost_text(),
            "story": [first, second],
            "decisions": self.decisions(),
            "stress": self.stress_text(),
            "monitoring": self.monitoring_text(),
            "run": self.run.to_dict(),
        }


#: a revealed fit below which the report says no scorecard explains a department's plan
_EXPLAINS = 0.5

#: a share below which nothing is lost (0.05%: what the report's one decimal shows as 0.0%)
_NOTHING = 5e-4


def _better_by(sense: Sense, value: float, reference: float) -> float:
    """How much better ``value`` is than ``reference`` for the company (positive: better)."""
    return value - reference if sense is Sense.MAX else reference - value


def _number(x: object) -> object:
    """A cell as the JSON gives it: a float cleaned (None where not finite), else as is."""
    if x is None or isinstance(x, bool | np.bool_):
        return None if x is None else bool(x)
    if isinstance(x, numbers.Real):
        return clean(float(x)) if math.isfinite(x) else None
    return str(x)


def _cleaned(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every cell as the JSON gives it (object columns, so that an
    unbounded range end stays None instead of NaN)."""
    return pd.DataFrame(
        {col: [_number(v) for v in frame[col].tolist()] for col in frame.columns},
        columns=list(frame.columns),
        dtype=object,
    )


def percent(x: float | None) -> str:
    """A share as the report quotes it: one decimal (``84.3%``), ``n/a`` where there is
    none."""
    return "n/a" if x is None or not math.isfinite(float(x)) else f"{100 * float(x):.1f}%"


def _paid(weights: dict[str, float]) -> str:
    return (
        " + ".join(k if abs(w - 1) < 1e-9 else f"{w:.2f}·{k}" for k, w in weights.items() if w)
        or "nothing"
    )


def _rounded(weights: dict[str, float]) -> dict[str, float]:
    return {k: round(w, 6) for k, w in weights.items() if abs(w) > 1e-9}
