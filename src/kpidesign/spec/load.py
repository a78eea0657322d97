"""Load model and scenario files into a validated, immutable :class:`ModelSpec`.

``load(path, variant)`` reads a model file, or a scenario file and the model it names,
applies the scenario's ``set`` and ``scale`` overrides (then the chosen variant's), reads
CSV params, validates the shape with :mod:`schema` and the cross-references here.  Every
problem is collected and reported as ``FILE:LINE: key.path: message``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import SpecError
from .model import DEFAULT_MAX_SIZE, ModelSpec
from .resolve import resolve_spec
from .scenario import Overlay, apply_overlays, load_scenario
from .sources import SourceMap, read_yaml

#: reads a YAML file into plain data and its source map (``read_yaml`` or a cache of it)
Reader = Callable[[Path], tuple[Any, SourceMap]]


class CachedReader:
    """``read_yaml`` that reads each file once and hands out copies: the specs of a sweep's
    points differ only in their overlays, and reading YAML with line numbers is the slow
    part of loading (about 0.2 s of the seed's 0.2 s)."""

    def __init__(self) -> None:
        self._files: dict[Path, tuple[Any, SourceMap]] = {}

    def __call__(self, path: Path) -> tuple[Any, SourceMap]:
        """A copy of ``path``'s data and source map (read the first time)."""
        key = Path(path).resolve()
        if key not in self._files:
            self._files[key] = read_yaml(path)
        data, source = self._files[key]
        return copy.deepcopy(data), copy.deepcopy(source)


# --------------------------------------------------------------------------------------
# loading


def load(
    path: str | Path,
    variant: str | None = None,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    start_plan: str | Path | None = None,
    overlay: Overlay | None = None,
    reader: Reader = read_yaml,
) -> ModelSpec:
    """Load a model or scenario file (optionally one of its variants) into a ModelSpec.

    ``max_size`` bounds every set, variable, constraint family and sum, and the total
    number of variables; a model beyond it is refused before anything is allocated.
    ``start_plan``, a plan file, replaces the file's ``today:`` (which is then not read).
    ``overlay`` (a sweep's point) sets and scales paths after the file's own overrides;
    ``reader`` reads the YAML files (a :class:`CachedReader` for many points).
    """
    plan = None if start_plan is None else Path(start_plan)
    path = Path(path)
    data, source = reader(path)
    if isinstance(data, dict) and "model" in data and "objective" not in data:
        return load_scenario(path, data, source, variant, max_size, plan, overlay, reader)
    if variant is not None:
        msg = f"{path}: --variant {variant}: a model file has no variants"
        raise SpecError(msg)
    scales = apply_overlays(data, source, [overlay.entry()]) if overlay is not None else None
    return resolve_spec(
        path, None, data, source, None, None, scales, max_size=max_size, start_plan=plan
    )
