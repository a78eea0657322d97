"""Spec -> Pyomo model (:mod:`.build`) -> :class:`LinearProgram` of sparse arrays
(:mod:`.compile`, :mod:`.program`): the contract between modelling and solving."""

from .build import BuiltModel, build
from .compile import compile_model
from .program import ALLOCATION, DENOMINATOR_FLOOR, SHARED, KpiRows, LinearProgram, SparseRow

__all__ = [
    "ALLOCATION",
    "DENOMINATOR_FLOOR",
    "SHARED",
    "BuiltModel",
    "KpiRows",
    "LinearProgram",
    "SparseRow",
    "build",
    "compile_model",
]
