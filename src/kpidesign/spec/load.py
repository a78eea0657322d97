"""Load model and scenario files into a validated, immutable :class:`ModelSpec`.

``load(path, variant)`` reads a model file, or a scenario file and the model it names,
applies the scenario's ``set`` and ``scale`` overrides (then the chosen variant's), reads
CSV params, validates the shape with :mod:`schema` and the cross-references here.  Every
problem is collected and reported as ``FILE:LINE: key.path: message``.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import SpecError
from .model import DEFAULT_MAX_SIZE, ModelSpec
from .resolve import resolve_spec
from .scenario import load_scenario
from .sources import read_yaml

# --------------------------------------------------------------------------------------
# loading


def load(
    path: str | Path,
    variant: str | None = None,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    start_plan: str | Path | None = None,
) -> ModelSpec:
    """Load a model or scenario file (optionally one of its variants) into a ModelSpec.

    ``max_size`` bounds every set, variable, constraint family and sum, and the total
    number of variables; a model beyond it is refused before anything is allocated.
    ``start_plan``, a plan file, replaces the file's ``today:`` (which is then not read).
    """
    plan = None if start_plan is None else Path(start_plan)
    path = Path(path)
    data, source = read_yaml(path)
    if isinstance(data, dict) and "model" in data and "objective" not in data:
        return load_scenario(path, data, source, variant, max_size, plan)
    if variant is not None:
        msg = f"{path}: --variant {variant}: a model file has no variants"
        raise SpecError(msg)
    return resolve_spec(path, None, data, source, None, None, max_size=max_size, start_plan=plan)
