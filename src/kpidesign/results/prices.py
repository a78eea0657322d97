"""The transfer prices of the target plan and the prices lever (issue 10, item 8).

:class:`TransferPrices` holds, per linking row, the price chosen and the interval of
optimal prices; per department its profit-centre diagnosis (:class:`ProfitCentre`); and,
where it was run, the verification of the prices lever by best-response dynamics.  Its
:meth:`TransferPrices.to_dict` gives the JSON sections ``transfer_prices``,
``transfer_price_ranges`` and ``prices`` of ``design``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from .common import clean
from .verification import Path

__all__ = ["ProfitCentre", "Quantity", "RowChange", "TransferPrices"]

PRICE_COLUMNS = ["constraint", "index", "price", "min", "max"]


def _number(x: float) -> float | None:
    """A plain float for JSON; None for an unbounded (infinite) end or NaN."""
    return clean(x) if math.isfinite(x) else None


def _keyed(rows: list[tuple[str, str, object]]) -> dict[str, object]:
    """``(constraint, index, value)`` rows as ``{constraint: value}`` for a scalar
    constraint (index ``""``) and ``{constraint: {index: value}}`` for an indexed one."""
    out: dict[str, object] = {}
    for constraint, index, value in rows:
        if index == "":
            out[constraint] = value
        else:
            entry = out.setdefault(constraint, {})
            assert isinstance(entry, dict)
            entry[index] = value
    return out


@dataclass(frozen=True)
class RowChange:
    """What a department's tied response does to one priced row, the others at z*:
    ``change`` of the row's activity (its part of the row moves by this much) and
    ``violation`` (how far the row then lies outside its bounds; 0 = still satisfied)."""

    constraint: str
    index: str
    change: float
    violation: float


@dataclass(frozen=True)
class Quantity:
    """A quantity that breaks a department's tie at the prices.

    ``kind`` is ``target`` (one of its variables held at its value at z*) or
    ``allocation`` (its part of a priced row held at its value at z*: a share of a
    capacity, a quota, a delivery).  ``amount`` is that value; ``text`` says it in words.
    """

    department: str
    kind: str
    constraint: str
    index: str
    amount: float
    variable: str | None
    text: str

    def to_dict(self) -> dict:
        """The JSON form."""
        return {
            "kind": self.kind,
            "constraint": self.constraint,
            "index": self.index or None,
            "variable": self.variable,
            "amount": clean(self.amount),
            "text": self.text,
        }


@dataclass(frozen=True)
class ProfitCentre:
    """One department as a profit centre at the prices.

    ``indifferent``: its problem with the linking rows priced, not imposed (its own
    columns and private state, everyone else at z*), has optimal responses other than z*
    that move a priced row or the company objective.  ``overrun``: what the worst of them
    does to each priced row it touches.  ``value_change``: the company objective's change
    at that response (others at z*, linking rows ignored: an infeasible plan can "gain").
    ``unbounded``: that problem is unbounded without its linking rows (``ray`` names the
    variables along the ray).  ``tie_breakers``: the quantities that make z* its only
    response (empty where none is needed or none was found; ``notes`` say which).
    ``response``: the worst tied response's values of the block's variables it changes.
    ``pessimistic_loss``: with the linking rows imposed (the local problem of DESIGN.md,
    others at z*), the company's loss when it alone plays its worst tied best response.
    """

    department: str
    indifferent: bool
    unbounded: bool
    pessimistic_loss: float
    value_change: float = 0.0
    overrun: tuple[RowChange, ...] = ()
    tie_breakers: tuple[Quantity, ...] = ()
    ray: tuple[str, ...] = ()
    response: tuple[tuple[str, float], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def flags(self) -> list[str]:
        """``indifferent`` where prices alone leave it a choice that matters."""
        return ["indifferent"] if self.indifferent or self.unbounded else []

    def to_dict(self) -> dict:
        """The JSON form: ``departments.{dept}`` of the ``prices`` section."""
        return {
            "flags": self.flags,
            "indifferent": self.indifferent,
            "unbounded_without_linking_rows": self.unbounded,
            "ray": list(self.ray),
            "pessimistic_loss": _number(self.pessimistic_loss),
            "value_change": _number(self.value_change),
            "response": {name: clean(v) for name, v in self.response},
            "overrun": _keyed([(c.constraint, c.index, _number(c.change)) for c in self.overrun]),
            "violation": _keyed(
                [(c.constraint, c.index, _number(c.violation)) for c in self.overrun if c.violation]
            ),
            "tie_breakers": [q.to_dict() for q in self.tie_breakers],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class TransferPrices:
    """Transfer prices at the target plan z* and the profit-centre diagnosis.

    ``prices`` (long format): constraint, index (``""`` for a scalar constraint), price
    (the one chosen), min, max (the interval of optimal prices: the ends of the dual
    optimal face; ±inf for an unbounded end).  Prices are in the unit of ``duals`` in
    ``solve``: the change of the company objective per unit increase of the row's
    right-hand side.  ``margin``: the smallest distance of a price from the ends of its
    interval, as a share of the interval's width (0.5 = every price at its midpoint; 0
    where an interval is a point).  ``verification``: ``optimistic``/``pessimistic`` ->
    the dynamics under the profit-centre scorecards, from ``start``.
    """

    prices: pd.DataFrame
    margin: float
    departments: tuple[ProfitCentre, ...]
    verification: dict[str, Path] = field(default_factory=dict)
    start: str = ""
    notes: tuple[str, ...] = ()

    def price(self, constraint: str, index: str = "") -> float:
        """The chosen price of one row."""
        p = self.prices
        return float(p[(p.constraint == constraint) & (p["index"] == index)].price.iloc[0])

    def interval(self, constraint: str, index: str = "") -> tuple[float, float]:
        """The interval of optimal prices of one row."""
        p = self.prices
        hit = p[(p.constraint == constraint) & (p["index"] == index)]
        return float(hit["min"].iloc[0]), float(hit["max"].iloc[0])

    def department(self, name: str) -> ProfitCentre:
        """The profit-centre diagnosis of one department."""
        return next(d for d in self.departments if d.department == name)

    @property
    def indifferent(self) -> list[str]:
        """Departments that prices alone do not steer to z*."""
        return [d.department for d in self.departments if d.flags]

    @property
    def worst(self) -> Path | None:
        """The verification on the worst computed path (the lower share of the two)."""
        if not self.verification:
            return None
        return min(
            self.verification.values(),
            key=lambda v: v.share_of_optimum if math.isfinite(v.share_of_optimum) else -math.inf,
        )

    def scheme(self) -> dict[str, object]:
        """The ``prices:`` section of a scheme file: ``{constraint: price}`` or
        ``{constraint: {index: price}}``."""
        return _keyed(
            [(r.constraint, r.index, clean(r.price)) for r in self.prices.itertuples(index=False)]
        )

    def to_dict(self) -> dict:
        """``transfer_prices``, ``transfer_price_ranges`` and the ``prices`` section."""
        rows = list(self.prices.itertuples(index=False))
        out: dict[str, object] = {
            "transfer_prices": self.scheme(),
            "transfer_price_ranges": _keyed(
                [
                    (r.constraint, r.index, {"min": _number(r.min), "max": _number(r.max)})
                    for r in rows
                ]
            ),
        }
        section: dict[str, object] = {
            "margin": clean(self.margin),
            "departments": {d.department: d.to_dict() for d in self.departments},
            "flags": {"indifferent": self.indifferent},
        }
        worst = self.worst
        if worst is not None:
            section["verification"] = {
                "objective": _number(worst.objective),
                "share_of_optimum": _number(worst.share_of_optimum),
                **{mode: v.to_dict() for mode, v in self.verification.items()},
                "start": self.start,
            }
        section["notes"] = list(self.notes)
        out["prices"] = section
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """The long-format tables written as CSV files."""
        overrun = pd.DataFrame(
            [
                {
                    "department": d.department,
                    "constraint": c.constraint,
                    "index": c.index,
                    "change": c.change,
                    "violation": c.violation,
                }
                for d in self.departments
                for c in d.overrun
            ],
            columns=["department", "constraint", "index", "change", "violation"],
        )
        return {"transfer_prices": self.prices, "price_overrun": overrun}
