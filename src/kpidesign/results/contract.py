"""The result of ``contract``: the terms that align partner firms, the fixed payments that
split the surplus, and the verification of the contract."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from .common import Outcome, RunInfo, clean
from .verification import Verification

__all__ = ["ContractResult", "TermResult"]


def _num(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else clean(x)


@dataclass(frozen=True)
class TermResult:
    """A contract term: today's value, the contract's, and its bounds."""

    today: float
    contract: float
    lower: float
    upper: float


@dataclass(frozen=True)
class ContractResult(Outcome):
    """The coordinating contract.

    ``terms``: each term today and under the contract; ``margin``: how far any one term
    may move with the alliance optimum still every partner's best choice (0 where the
    terms do not coordinate); ``exact``: whether they do; ``gap``: the partners' total
    gap at the terms (0 when exact); ``payments``: fixed payments received (negative:
    paid), summing to 0; ``status_quo``: each partner's profit under today's contract
    (compare's status quo); ``at_optimum``: its profit at the alliance optimum under the
    contract's terms, before payments; ``verification``: the decentralized outcome under
    the contract, as design verifies a scheme.
    """

    run: RunInfo
    terms: dict[str, TermResult]
    margin: float
    exact: bool
    gap: float
    split: str
    payments: dict[str, float]
    status_quo: dict[str, float]
    at_optimum: dict[str, float]
    optimum: float
    status_quo_objective: float
    status_quo_share: float
    verification: Verification
    binding: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diagnosis: None = None

    def contract_profit(self, partner: str) -> float:
        """The partner's profit at the alliance optimum under the contract, payments
        included (NaN without payments: terms that do not coordinate)."""
        return self.at_optimum[partner] + self.payments.get(partner, float("nan"))

    def to_dict(self) -> dict:
        """The JSON contract: ``terms.{name}``, ``payments.{partner}``,
        ``partners.{name}.{status_quo, contract}``, ``verification``."""
        return self.finish(
            {
                **self.header(),
                "terms": {
                    name: {
                        "today": clean(t.today),
                        "contract": clean(t.contract),
                        "min": clean(t.lower),
                        "max": clean(t.upper),
                    }
                    for name, t in self.terms.items()
                },
                "exact": self.exact,
                "gap": clean(self.gap),
                "margin": clean(self.margin),
                "split": self.split,
                "payments": dict(self.payments) if self.payments else None,
                "partners": {
                    d: {
                        "status_quo": clean(self.status_quo[d]),
                        "at_optimum_before_payments": clean(self.at_optimum[d]),
                        "payment": _num(self.payments.get(d)),
                        "contract": _num(self.contract_profit(d)),
                    }
                    for d in self.status_quo
                },
                "alliance": {
                    "status_quo": clean(self.status_quo_objective),
                    "optimum": clean(self.optimum),
                    "status_quo_share": clean(self.status_quo_share),
                },
                "binding": list(self.binding),
                "verification": self.verification.to_dict(),
                "notes": list(self.notes),
            }
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """``terms`` and ``partners`` as CSV tables."""
        terms = pd.DataFrame(
            [
                {
                    "term": k,
                    "today": t.today,
                    "contract": t.contract,
                    "min": t.lower,
                    "max": t.upper,
                }
                for k, t in self.terms.items()
            ],
            columns=["term", "today", "contract", "min", "max"],
        )
        partners = pd.DataFrame(
            [
                {
                    "partner": d,
                    "status_quo": self.status_quo[d],
                    "at_optimum_before_payments": self.at_optimum[d],
                    "payment": self.payments.get(d, float("nan")),
                    "contract": self.contract_profit(d),
                }
                for d in self.status_quo
            ],
            columns=["partner", "status_quo", "at_optimum_before_payments", "payment", "contract"],
        )
        return {"terms": terms, "partners": partners}
