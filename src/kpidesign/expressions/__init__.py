"""The safe expression compiler: text -> Python ``ast`` (:mod:`.parse`) -> a checked tree of
closures (:mod:`.tree`) -> linear forms, KPIs, constraints and bindings (:mod:`.forms`)."""

from .forms import (
    Bindings,
    CompiledConstraint,
    CompiledKpi,
    LinearTemplate,
    compile_bindings,
    compile_constraint,
    compile_kpi,
    compile_linear,
)
from .tree import Linear

__all__ = [
    "Bindings",
    "CompiledConstraint",
    "CompiledKpi",
    "Linear",
    "LinearTemplate",
    "compile_bindings",
    "compile_constraint",
    "compile_kpi",
    "compile_linear",
]
