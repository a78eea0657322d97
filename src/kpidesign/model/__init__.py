"""Spec -> :class:`LinearProgram` of sparse arrays (:mod:`.assemble`, no Pyomo: the solve
path), or spec -> Pyomo model (:mod:`.build`) -> program (:mod:`.compile`): the model a
user can inspect and export.  :mod:`.program` is the contract between modelling and
solving."""

from typing import TYPE_CHECKING, Any

from .program import ALLOCATION, DENOMINATOR_FLOOR, SHARED, KpiRows, LinearProgram, SparseRow

__all__ = [
    "ALLOCATION",
    "DENOMINATOR_FLOOR",
    "SHARED",
    "BuiltModel",
    "KpiRows",
    "LinearProgram",
    "SparseRow",
    "compile_model",
]

#: the Pyomo path is imported when it is used (Pyomo takes a second to import); the
#: functions named like their modules (``build``, ``program``) are imported from those
#: modules (``from kpidesign.model.build import build``): a package attribute of that name
#: is the module once it has been imported
_LAZY = {"BuiltModel": "build", "compile_model": "compile"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    import importlib

    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)


if TYPE_CHECKING:
    from .build import BuiltModel
    from .compile import compile_model
