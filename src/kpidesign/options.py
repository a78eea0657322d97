"""How an analysis solves: one :class:`Options` object, shared by the Python API's
signatures and the command line's option decorators."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .errors import KpiDesignError
from .solver.status import SOLVERS

__all__ = ["Options"]


@dataclass(frozen=True)
class Options:
    """Solver and dynamics settings of an analysis (picklable, for worker processes).

    ``tol``: the best-response dynamics stop when no department's own variables move by
    more than this (relative) in a round.  ``max_rounds``: their round limit.
    ``time_limit``: seconds per solve (None: none).  ``solver``: HiGHS's algorithm, one of
    :data:`~kpidesign.solver.status.SOLVERS`.  ``threads``: HiGHS's threads (None: its
    default; sessions that run side by side set 1).  ``tie_slack``: how far below its
    optimum (relative) a department's held score may fall in a tie-break.  ``orders``:
    the department orders the status-quo dynamics run in (``'all'``, ``'file'`` or a
    number of sampled orders, see :func:`~kpidesign.analyses.equilibria.department_orders`).
    ``workers``: processes the independent paths run on (the output does not depend on it,
    so it is not part of a result's provenance).
    """

    tol: float = 1e-6
    max_rounds: int = 50
    time_limit: float | None = None
    solver: str = "choose"
    threads: int | None = None
    tie_slack: float = 1e-9
    orders: str | int = "all"
    workers: int = 1

    #: settings that change how fast a result comes, never what it is
    EXECUTION = ("workers",)

    def __post_init__(self) -> None:
        problems = []
        if self.solver not in SOLVERS:
            problems.append(f"unknown solver '{self.solver}' (one of {', '.join(SOLVERS)})")
        if not self.tol > 0:
            problems.append(f"tol must be positive, not {self.tol}")
        if self.max_rounds < 1:
            problems.append(f"max_rounds must be at least 1, not {self.max_rounds}")
        if self.time_limit is not None and not self.time_limit > 0:
            problems.append(f"time_limit must be positive, not {self.time_limit}")
        if self.threads is not None and self.threads < 1:
            problems.append(f"threads must be at least 1, not {self.threads}")
        if not self.tie_slack >= 0:
            problems.append(f"tie_slack must be at least 0, not {self.tie_slack}")
        if not _valid_orders(self.orders):
            problems.append(
                f"orders must be 'all', 'file' or a positive number, not {self.orders!r}"
            )
        if self.workers < 1:
            problems.append(f"workers must be at least 1, not {self.workers}")
        if problems:
            raise KpiDesignError(problems)

    def provenance(self) -> dict[str, Any]:
        """The settings that decide a result (all but :attr:`EXECUTION`), for its run block."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in self.EXECUTION}

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        """The names of the settings."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def of(cls, options: Options | None = None, **settings: Any) -> Options:
        """``options`` (default: the defaults) with ``settings`` replacing its fields; an
        unknown setting is an error naming the known ones."""
        unknown = sorted(set(settings) - set(cls.fields()))
        if unknown:
            msg = f"unknown option {', '.join(unknown)} (known: {', '.join(cls.fields())})"
            raise TypeError(msg)
        return dataclasses.replace(options or cls(), **settings)


def _valid_orders(orders: object) -> bool:
    if isinstance(orders, bool):
        return False
    if isinstance(orders, int):
        return orders >= 1
    return orders in ("all", "file")
