"""The verification of a scheme: the decentralized outcome under it, on both tie-breaks."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .common import clean

__all__ = ["Path", "Verification"]


@dataclass(frozen=True)
class Path:
    """One computed path of best-response dynamics: where it ended, as a share of the
    optimum, and how (rounds, converged, cycle)."""

    objective: float
    share_of_optimum: float
    rounds: int
    converged: bool
    cycle: bool
    #: the order the departments moved in (every round)
    order: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """The JSON form."""
        return {
            "objective": clean(self.objective),
            "share_of_optimum": clean(self.share_of_optimum),
            "rounds": self.rounds,
            "converged": self.converged,
            "cycle": self.cycle,
            "order": list(self.order),
        }


@dataclass(frozen=True)
class Verification:
    """The decentralized outcome under a scheme and its allocations, from ``start`` (in
    words), with the optimistic and the pessimistic tie-break: for each, the worst of the
    computed paths over department orders (its order is given).

    ``objective`` and ``share_of_optimum`` are those of the **worst computed path** (the
    lower share of the two): not a guarantee, since breaking each tie pessimistically is not
    the worst case over all paths.
    """

    optimistic: Path
    pessimistic: Path
    start: str
    #: the same scheme from the optimal plan at its allocations (the plan rolled out with
    #: the scheme): does it hold there?  (optimistic, pessimistic)
    from_target: tuple[Path, Path] | None = None
    #: departments that alone could still improve the company objective where the worst
    #: computed path ended (empty with a shortfall: a coordination stall)
    could_improve: tuple[str, ...] = ()
    #: the allocations verified at: department -> {resource: amount}
    allocation: dict[str, dict[str, float]] = field(default_factory=dict)
    #: computed paths (department orders x tie-breaks) the figures are the worst of
    paths: int = 0

    @property
    def worst(self) -> Path:
        """The computed path with the lower share of the optimum (a path without a figure,
        such as an unbounded pessimistic response, counts as the worst)."""
        p, o = self.pessimistic.share_of_optimum, self.optimistic.share_of_optimum
        if math.isnan(p) or (not math.isnan(o) and p <= o):
            return self.pessimistic
        return self.optimistic

    @property
    def objective(self) -> float:
        """The objective on the worst computed path."""
        return self.worst.objective

    @property
    def share_of_optimum(self) -> float:
        """The share of the optimum on the worst computed path."""
        return self.worst.share_of_optimum

    @property
    def optimistic_only(self) -> bool:
        """Does the scheme reach clearly more under the optimistic tie-break than under the
        pessimistic one (by more than 1e-6 of the optimum)?"""
        o, p = self.optimistic.share_of_optimum, self.pessimistic.share_of_optimum
        return not math.isnan(o) and (math.isnan(p) or o - p > 1e-6)

    @property
    def stalled(self) -> bool:
        """Did the worst computed path end short of the optimum (by more than 1e-6) where no
        department alone can improve the company objective?"""
        share = self.share_of_optimum
        return not math.isnan(share) and share < 1.0 - 1e-6 and not self.could_improve

    def to_dict(self) -> dict:
        """The JSON form."""
        out = {
            "objective": clean(self.objective),
            "share_of_optimum": clean(self.share_of_optimum),
            "path": "worst computed",
            "paths": self.paths,
            "optimistic": self.optimistic.to_dict(),
            "pessimistic": self.pessimistic.to_dict(),
            "start": self.start,
            "coordination_stall": self.stalled,
            "could_improve_alone": list(self.could_improve),
            "allocation": {d: dict(a) for d, a in self.allocation.items()},
        }
        if self.from_target is not None:
            o, p = self.from_target
            out["from_target"] = {"optimistic": o.to_dict(), "pessimistic": p.to_dict()}
        return out

    @classmethod
    def never(cls) -> Verification:
        """No verification (a failed analysis)."""
        nan = float("nan")
        path = Path(nan, nan, 0, False, False)
        return cls(path, path, "")
