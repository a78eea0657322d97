"""What every result shares: clean numbers and the :class:`RunInfo` of the run."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Self

import numpy as np

from ..errors import SolveError
from ..options import Options
from ..types import Diagnosis, Sense, Status

__all__ = ["SHARE", "Outcome", "RunInfo", "clean", "clean_array", "figure"]


def clean(x: float, tol: float = 1e-9) -> float:
    """A plain float for output: no -0.0, no solver dust below ``tol`` (relative to 1)."""
    x = float(x)
    if math.isnan(x):
        return x
    if abs(x) < tol:
        return 0.0
    return x


def clean_array(x: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """:func:`clean` of every entry of ``x`` at once (NaN stays NaN)."""
    x = np.asarray(x, dtype=float)
    return np.where(np.abs(x) < tol, 0.0, x)


#: the unit of a share or rate (0.0378 = 3.78%): printed as a percentage
SHARE = "share"


def figure(x: float | None, unit: str | None = None) -> str:
    """A number as tables and sentences print it, the one format of every table and
    sentence: four significant digits (``96.63``, ``0.03784``, ``101.5``), whole numbers
    with thousands separators from 1,000 up (``22,410``, ``2,165,485``), scientific
    notation only below 0.0001 (``1e-09``) or from 1e15 up; ``0`` for zero of either
    sign, ``inf``/``-inf``, and "-" where there is none (NaN, None).  A value whose
    ``unit`` is ``share`` is printed as a percentage by the same rule (``3.784%``)."""
    if x is None or x != x:
        return "-"
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if unit == SHARE:
        return figure(100.0 * x) + "%"
    if x == 0:
        return "0"  # also -0.0
    short = f"{x:.4g}"
    if 1e15 > abs(float(short)) >= 1000:  # rounding 999.96 gives 1000: whole from here
        return f"{x:,.0f}"
    return short


@dataclass(frozen=True)
class RunInfo:
    """What ran, on what, and how it ended.

    ``status`` is ``optimal`` when the analysis has its answer; otherwise the result's
    ``diagnosis`` says why not.  ``validate`` solves nothing: its status and options are
    None.  ``solves``/``iterations`` count every HiGHS solve of the
    run and their simplex and interior-point iterations; ``seconds`` is their wall time,
    kept out of JSON so that the same input gives the same file byte for byte.
    Provenance: the kpidesign and HiGHS versions, a digest of every input file, the
    options, and the seed of a run that draws random numbers (None here).
    """

    model: str
    scenario: str
    variant: str | None
    sense: Sense
    status: Status | None
    options: Options | None
    solves: int = 0
    iterations: int = 0
    seconds: float = 0.0
    kpidesign_version: str = ""
    highs_version: str = ""
    inputs: tuple[tuple[str, str], ...] = ()
    seed: int | None = None

    def to_dict(self) -> dict:
        """The JSON ``run`` block (everything but the wall time)."""
        return {
            "model": self.model,
            "scenario": self.scenario,
            "variant": self.variant,
            "sense": str(self.sense),
            "status": None if self.status is None else str(self.status),
            "solves": self.solves,
            "iterations": self.iterations,
            "options": None if self.options is None else self.options.provenance(),
            "kpidesign": self.kpidesign_version,
            "highs": self.highs_version,
            "inputs": dict(self.inputs),
            "seed": self.seed,
        }


class Outcome:
    """What every analysis result has: a :class:`RunInfo` and, when it has no optimum, a
    :class:`~kpidesign.types.Diagnosis`."""

    run: RunInfo
    diagnosis: Diagnosis | None

    @property
    def status(self) -> Status:
        """How the analysis ended."""
        assert self.run.status is not None
        return self.run.status

    @property
    def model(self) -> str:
        """The model's name."""
        return self.run.model

    @property
    def scenario(self) -> str:
        """The scenario's name (the model's for a model file)."""
        return self.run.scenario

    @property
    def variant(self) -> str | None:
        """The scenario variant applied, if any."""
        return self.run.variant

    @property
    def sense(self) -> Sense:
        """The direction of the company objective."""
        return self.run.sense

    @property
    def label(self) -> str:
        """``scenario`` or ``scenario [variant]``, as tables title the result."""
        return self.scenario + (f" [{self.variant}]" if self.variant else "")

    @property
    def ok(self) -> bool:
        """True when the analysis has its answer (status optimal)."""
        return self.run.status is Status.OPTIMAL

    def header(self) -> dict:
        """The first keys of a result's JSON: model, scenario, variant, status, sense."""
        return {
            "model": self.model,
            "scenario": self.scenario,
            "variant": self.variant,
            "status": str(self.status),
            "sense": self.sense,
        }

    def summary_row(self) -> dict:
        """The first columns of a result's CSV summary (the JSON header, variant as text)."""
        return {**self.header(), "variant": self.variant or ""}

    def finish(self, out: dict) -> dict:
        """A result's JSON ``out`` with, at its end, the diagnosis of a result without an
        optimum (``status``, ``message``, ``conflict``, ``ray``) and the ``run`` block."""
        if self.diagnosis is not None:
            out["diagnosis"] = {
                "status": str(self.diagnosis.status),
                "message": self.diagnosis.message,
                "conflict": list(self.diagnosis.conflict),
                "ray": list(self.diagnosis.ray),
            }
        out["run"] = self.run.to_dict()
        return out

    def raise_if_failed(self) -> Self:
        """The result itself, or the :class:`SolveError` of its diagnosis."""
        if self.diagnosis is not None:
            raise SolveError.of(self.diagnosis)
        return self
