"""The model's time set: the set its lags (``x[t-1]``) run over.

``monitor`` splits a plan into the periods observed so far and the rest; which set is time
is read from the expressions, not guessed from names: an index position written as
arithmetic (``t-1``, ``t - 2``) of a param or variable marks that position's set.  A
model with lags over several sets names its time set with ``--time-set``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from ..errors import KpiDesignError
from .model import ModelSpec
from .params import member_lookup
from .sources import did_you_mean

__all__ = ["lag_sets", "member_of", "time_set"]


def _texts(spec: ModelSpec) -> Iterator[str]:
    """Every expression of the model: constraints, KPIs, resource uses, the objective."""
    yield spec.objective.text
    for c in spec.constraints.values():
        yield c.expr
    for k in spec.all_kpis().values():
        yield k.text
    for d in spec.departments.values():
        for text, _ in d.uses.values():
            yield text


def lag_sets(spec: ModelSpec) -> list[str]:
    """The sets some param or variable is indexed over with arithmetic (``x[t-1]``), in
    the order the sets are declared."""
    over = {n: v.over for n, v in spec.variables.items()} | {
        n: p.over for n, p in spec.params.items()
    }
    found: set[str] = set()
    for text in _texts(spec):
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError:  # pragma: no cover - the build has checked every expression
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)):
                continue
            sets = over.get(node.value.id, ())
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            for item, s in zip(items, sets, strict=False):
                if isinstance(item, ast.BinOp):
                    found.add(s)
    return [s for s in spec.sets if s in found]


def time_set(spec: ModelSpec, requested: str | None = None) -> str:
    """The model's time set: ``requested`` (``--time-set``) if given, else the one set its
    lags run over; a :class:`KpiDesignError` saying what to do where there is none or
    several."""
    lags = lag_sets(spec)
    if requested is not None:
        if requested not in spec.sets:
            hint = did_you_mean(requested, spec.sets, otherwise="")
            msg = f"--time-set: unknown set '{requested}'{hint}"
            raise KpiDesignError(msg)
        return requested
    if len(lags) == 1:
        return lags[0]
    if not lags:
        msg = (
            f"{spec.model_file}: no lag (x[t-1]) in the model tells which set is time: "
            "name it with --time-set"
        )
    else:
        msg = (
            f"{spec.model_file}: lags run over {', '.join(lags)}: name the time set with --time-set"
        )
    raise KpiDesignError(msg)


def member_of(spec: ModelSpec, set_name: str, text: str, option: str) -> Any:
    """The member of ``set_name`` that ``text`` names (``"4"`` -> 4); a
    :class:`KpiDesignError` naming ``option`` where it is not one."""
    lookup = member_lookup(spec.sets[set_name])
    if text not in lookup:
        members = list(lookup)
        shown = ", ".join(members[:6]) + (", …" if len(members) > 6 else "")
        msg = f"{option}: '{text}' is not a member of set '{set_name}' ({shown})"
        raise KpiDesignError(msg)
    return lookup[text]
