"""The safe expression compiler: a small subset of Python syntax to linear forms.

Expressions are parsed with :mod:`ast` and compiled, once per text, into a tree of small
closures; the closures are then evaluated once per index instance.  Nothing is ever passed
to ``eval`` or ``exec``: a name can only mean a set, a param, a variable or a bound index,
and every node type outside the documented subset is rejected with the offending text.

Each compiled node has a *kind*, known before any instance is evaluated:

``idx``
    an index value (a set member, or integer arithmetic on one);
``num``
    a number that depends on data and indices only;
``lin``
    a linear form in the decision variables.

A ``lin`` node is evaluated by *accumulation*: ``fn(env, acc, factor)`` adds
``factor * value`` to the :class:`Linear` ``acc``.  This avoids building intermediate forms
for the terms of a long ``sum``.  The keys of a linear form are whatever the caller's
variable table holds (Pyomo variables when building a model, plain labels in tests).
"""

from __future__ import annotations

import ast
import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import BuildError, Location
from ..spec import ModelSpec
from ..spec.sources import did_you_mean
from .parse import parse, shorten
from .tree import (
    Context,
    Kind,
    Linear,
    VariableTable,
    as_linear,
    as_linear_vec,
    compile_condition,
    compile_node,
    iterate,
    require_number,
)
from .vector import Context as VectorContext
from .vector import Frame, Loop, NotVectorizable, Terms, expand

# --------------------------------------------------------------------------------------
# public entry points


@dataclass(frozen=True)
class LinearTemplate:
    """A compiled linear expression; :meth:`evaluate` gives its form at one index binding."""

    text: str
    where: Location
    fn: Callable
    has_variables: bool
    vec: Callable | None = None  # over a frame of bindings (None: scalar only)

    def evaluate_frame(self, frame: Frame, terms: Terms, factor: float = 1.0) -> None:
        """Add ``factor`` times the form at every binding of ``frame`` to ``terms``;
        raises :class:`~.vector.NotVectorizable` when the scalar :meth:`evaluate` must be
        used (also when it would raise the located error)."""
        if self.vec is None:
            raise NotVectorizable
        self.vec(frame, terms, np.full(frame.n, factor))

    def evaluate(self, env: dict, variables: VariableTable) -> Linear:
        """The linear form at the index values ``env``."""
        acc = Linear()
        env["__vars__"] = variables
        try:
            self.fn(env, acc, 1.0)
        finally:
            env.pop("__vars__", None)
        return acc

    def accumulate(self, env: dict, variables: VariableTable, acc: Linear, factor: float) -> None:
        """Add ``factor`` times the form at ``env`` to ``acc``."""
        env["__vars__"] = variables
        try:
            self.fn(env, acc, factor)
        finally:
            env.pop("__vars__", None)


def _depth_guarded(fn: Callable) -> Callable:
    """Compile functions walk the tree recursively: a pathological chain that still got past
    the parser (``x*2*2*…`` thousands of times) is refused as a located error."""

    @functools.wraps(fn)
    def wrapper(spec: ModelSpec, text: Any, where: Location, *args: Any) -> Any:
        try:
            return fn(spec, text, where, *args)
        except RecursionError:
            raise BuildError.at(
                where, f"the expression is nested too deeply to compile: `{shorten(str(text))}`"
            ) from None

    return wrapper


@_depth_guarded
def compile_linear(
    spec: ModelSpec, text: str, where: Location, bound: Mapping[str, str] | None = None
) -> LinearTemplate:
    """Compile a linear expression (an objective, a ``uses`` entry, a non-ratio KPI)."""
    ctx = Context(spec, text, where, dict(bound or {}))
    tree = parse(text, where)
    node = compile_node(tree, ctx)
    require_number(node, tree, ctx)
    return _template(text, where, node)


def _template(text: str, where: Location, node: Any) -> LinearTemplate:
    return LinearTemplate(
        text, where, as_linear(node), node.kind == Kind.LINEAR, as_linear_vec(node)
    )


@dataclass(frozen=True)
class CompiledKpi:
    """A KPI: ``numerator`` alone, or the ratio ``numerator / denominator``."""

    numerator: LinearTemplate
    denominator: LinearTemplate | None

    @property
    def is_ratio(self) -> bool:
        """Is the KPI a ratio of two linear forms?"""
        return self.denominator is not None


@_depth_guarded
def compile_kpi(spec: ModelSpec, text: str, where: Location) -> CompiledKpi:
    """Compile a KPI; a division at the top whose divisor has variables is a ratio."""
    tree = parse(text, where)
    ctx = Context(spec, text, where, {})
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Div):
        right = compile_node(tree.right, Context(spec, text, where, {}))
        if right.kind == Kind.LINEAR:
            left = compile_node(tree.left, ctx)
            require_number(left, tree.left, ctx)
            return CompiledKpi(_template(text, where, left), _template(text, where, right))
    node = compile_node(tree, ctx)
    require_number(node, tree, ctx)
    if node.kind != Kind.LINEAR:
        raise BuildError.at(where, f"a KPI must depend on decision variables: `{text.strip()}`")
    return CompiledKpi(_template(text, where, node), None)


@dataclass(frozen=True)
class Bindings:
    """The ``for:`` of a constraint: index names, their sets and an optional condition."""

    names: tuple[str, ...]
    sets: tuple[str, ...]
    loops: tuple[Loop, ...]

    def __iter__(self) -> Iterator[dict]:
        env: dict = {}
        for _ in iterate(list(self.loops), env):
            yield dict(env)

    @property
    def bound(self) -> dict[str, str]:
        """The index names the bindings bind, with their sets."""
        return dict(zip(self.names, self.sets, strict=True))

    def frame(self, context: VectorContext) -> Frame:
        """Every binding at once, in the order of iteration; raises
        :class:`~.vector.NotVectorizable` if the condition is scalar only."""
        frame, _ = expand(Frame(1, {}, context), self.loops)
        return frame


_BINDING = re.compile(r"^\s*([A-Za-z_]\w*)\s+in\s+([A-Za-z_]\w*)\s*$")


def compile_bindings(spec: ModelSpec, text: str | None, where: Location) -> Bindings:
    """Parse ``p in product, t in period [if condition]``."""
    if text is None or not str(text).strip():
        return Bindings((), (), ())
    text = str(text).strip()
    condition = None
    m = re.search(r"\s+if\s+", text)
    head = text
    if m:
        head, condition = text[: m.start()], text[m.end() :]
    names, sets = [], []
    for part in head.split(","):
        bm = _BINDING.match(part)
        if not bm:
            raise BuildError.at(where, f"expected `name in set`, got `{part.strip()}`")
        name, set_name = bm.groups()
        if set_name not in spec.sets:
            suffix = did_you_mean(set_name, spec.sets)
            raise BuildError.at(where, f"unknown set '{set_name}'{suffix}")
        if name in names or name in spec.params or name in spec.variables or name in spec.sets:
            raise BuildError.at(where, f"index name '{name}' is already in use")
        names.append(name)
        sets.append(set_name)
    loops = [Loop(n, s, spec.sets[s].members) for n, s in zip(names, sets, strict=True)]
    size = math.prod(len(loop.members) for loop in loops)
    if size > spec.max_size:
        raise BuildError.at(
            where,
            f"`for: {shorten(text)}` makes {size:,} rows (an upper bound); the limit is "
            f"{spec.max_size:,} (raise it with --max-size)",
        )
    if condition is not None:
        ctx = Context(spec, condition, where, dict(zip(names, sets, strict=True)))
        try:
            cond_tree = ast.parse(condition.strip(), mode="eval").body
            loops[-1] = loops[-1]._replace(conditions=(compile_condition(cond_tree, ctx),))
        except SyntaxError as exc:
            raise BuildError.at(where, f"invalid condition ({exc.msg}): `{condition}`") from None
        except (RecursionError, MemoryError):
            msg = f"the condition is nested too deeply: `{shorten(condition)}`"
            raise BuildError.at(where, msg) from None
    return Bindings(tuple(names), tuple(sets), tuple(loops))


@dataclass(frozen=True)
class CompiledConstraint:
    """``variable side  sense  data side`` as two templates; ``sense`` in <=, >=, ==."""

    lhs: LinearTemplate
    rhs: LinearTemplate
    sense: str

    def evaluate(self, env: dict, variables: VariableTable) -> tuple[Linear, float, float]:
        """(form with variables moved left, data value of the lhs, data value of the rhs).

        The returned form holds ``lhs - rhs`` (terms and constant); the two data values are
        the constants of each side, used for slack margins.
        """
        form = self.lhs.evaluate(env, variables)
        lhs_const = form.constant
        self.rhs.accumulate(env, variables, form, -1.0)
        rhs_const = lhs_const - form.constant
        return form, lhs_const, rhs_const

    def evaluate_frame(self, frame: Frame) -> tuple[Terms, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`evaluate` at every binding of ``frame``: (the forms ``lhs - rhs``, their
        constants, the lhs's data values, the rhs's data values), the same operations in
        the same order per binding."""
        terms = Terms()
        self.lhs.evaluate_frame(frame, terms)
        lhs_const = terms.constant(frame.n)
        self.rhs.evaluate_frame(frame, terms, -1.0)
        constant = terms.constant(frame.n)
        return terms, constant, lhs_const, lhs_const - constant


_SENSES = {ast.LtE: "<=", ast.GtE: ">=", ast.Eq: "=="}


@_depth_guarded
def compile_constraint(
    spec: ModelSpec, text: str, where: Location, bound: Mapping[str, str]
) -> CompiledConstraint:
    """Compile a constraint's text (``lhs <= rhs``, ``>=`` or ``==``) under its bindings."""
    tree = parse(text, where)
    ctx = Context(spec, text, where, dict(bound))
    if not isinstance(tree, ast.Compare):
        raise BuildError.at(
            where, f"a constraint needs one of <=, >=, == at its top: `{text.strip()}`"
        )
    if len(tree.ops) != 1:
        msg = "a constraint takes exactly one comparison"
        raise ctx.error(msg, tree)
    op = type(tree.ops[0])
    if op not in _SENSES:
        msg = "a constraint's comparison must be <=, >= or =="
        raise ctx.error(msg, tree)
    left = compile_node(tree.left, ctx)
    right = compile_node(tree.comparators[0], ctx)
    for side, ast_side in ((left, tree.left), (right, tree.comparators[0])):
        require_number(side, ast_side, ctx)
    if left.kind != Kind.LINEAR and right.kind != Kind.LINEAR:
        raise BuildError.at(
            where, f"a constraint must contain a decision variable: `{text.strip()}`"
        )
    sense = _SENSES[op]
    if left.kind != Kind.LINEAR:  # keep the variables on the left: `cap >= x` is `x <= cap`
        left, right = right, left
        sense = {"<=": ">=", ">=": "<=", "==": "=="}[sense]
    return CompiledConstraint(_template(text, where, left), _template(text, where, right), sense)
