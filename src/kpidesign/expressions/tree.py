"""``ast`` -> a checked tree of closures: each node's kind (index, number, linear form) is
known before any instance is evaluated; only the documented subset is accepted."""

from __future__ import annotations

import ast
import enum
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import BuildError, Location
from ..spec import ModelSpec, ParamSpec
from ..spec.sources import did_you_mean
from .parse import shorten, source_lines
from .vector import Frame, Grid, Loop, NotVectorizable, Terms, exact, expand, product

_ALLOWED = (
    "numbers, names of sets, params and variables, subscripts x[p, t], index arithmetic "
    "t-1, + - * and / by a constant, and sum(... for i in set if ...)"
)

VariableTable = Mapping[str, Mapping[tuple, Any]]


class Linear:
    """``sum(terms[k] * k) + constant``; keys are variables of the caller's table."""

    __slots__ = ("constant", "terms")

    def __init__(self) -> None:
        self.terms: dict[Any, float] = {}
        self.constant: float = 0.0

    def add_term(self, key: Any, coef: float) -> None:
        """Add ``coef`` to the coefficient of ``key``."""
        self.terms[key] = self.terms.get(key, 0.0) + coef

    def nonzero_terms(self) -> dict[Any, float]:
        """The terms whose coefficient is not 0."""
        return {k: v for k, v in self.terms.items() if v != 0.0}


class Context:
    """What the compiler needs to know while walking one text."""

    def __init__(self, spec: ModelSpec, text: str, where: Location, bound: dict[str, str]):
        self.spec = spec
        self.text = text
        self.where = where
        self.bound = dict(bound)  # index name -> set name
        self._lines: list[bytes] | None = None
        #: index combinations the enclosing loops (a constraint's `for:`, outer sums) run
        self.iterations = math.prod(len(spec.sets[s].members) for s in bound.values())

    def error(self, message: str, node: ast.AST | None = None) -> BuildError:
        """A BuildError at this expression, quoting ``node``'s text where given."""
        if node is not None:
            message = f"{message}: `{shorten(self.segment(node))}`"
        return BuildError.at(self.where, message)

    def segment(self, node: ast.AST) -> str:
        """The source text of ``node``.  ``ast.get_source_segment`` splits the whole text
        on every call, which is quadratic over the terms of a long sum."""
        if self._lines is None:
            self._lines = [line.encode("utf-8") for line in source_lines(self.text)]
        try:
            first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
            start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
            if first == last:
                raw = self._lines[first][start:end]
            else:
                raw = b"".join(
                    [
                        self._lines[first][start:],
                        *self._lines[first + 1 : last],
                        self._lines[last][:end],
                    ]
                )
            return raw.decode("utf-8") or ast.unparse(node)
        except (AttributeError, IndexError, TypeError, UnicodeDecodeError):
            return ast.unparse(node)

    def names(self) -> list[str]:
        """The names an expression may use here: bound indices, sets, params, variables."""
        s = self.spec
        return [*s.sets, *s.params, *s.variables, *self.bound]


class Kind(enum.StrEnum):
    """What a compiled node evaluates to, known before any instance is evaluated."""

    INDEX = "idx"  # a set member, or integer arithmetic on one
    NUMBER = "num"  # a number that depends on data and indices only
    LINEAR = "lin"  # a linear form in the decision variables


@dataclass(frozen=True)
class Node:
    """A compiled node: its kind, the closure that evaluates it, whether it is an integer
    (for index arithmetic), and the closure that evaluates it over a frame of bindings
    (:mod:`.vector`; None: this node is evaluated by the scalar closure only)."""

    kind: Kind
    fn: Callable
    integer: bool = False  # for idx: an integer-valued index (arithmetic allowed)
    vec: Callable | None = None

    @property
    def codes(self) -> bool:
        """Are its values members of a non-integer set (codes, when vectorized)?"""
        return self.kind is Kind.INDEX and not self.integer


def _all(*vecs: Callable | None) -> bool:
    return all(v is not None for v in vecs)


# --------------------------------------------------------------------------------------
# walking the tree


def compile_node(node: ast.expr, ctx: Context) -> Node:
    """Compile ``node`` into a checked :class:`Node` (an error for anything outside the
    documented subset)."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            what = "strings" if isinstance(value, str) else "this constant"
            msg = f"{what} are not allowed in an expression"
            raise ctx.error(msg, node)
        try:
            finite = math.isfinite(float(value))
        except OverflowError:
            finite = False
        if not finite:
            msg = "a number in an expression must be finite (and below 1.8e308)"
            raise ctx.error(msg, node)
        v = float(value) if isinstance(value, float) else value
        integer = isinstance(value, int)
        return Node(Kind.NUMBER, lambda env: v, integer=integer, vec=lambda fr: fr.full(v))
    if isinstance(node, ast.Name):
        return _compile_name(node, ctx)
    if isinstance(node, ast.Subscript):
        return _compile_subscript(node, ctx)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub | ast.UAdd):
            inner = compile_node(node.operand, ctx)
            sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
            iv = inner.vec
            if inner.kind == Kind.LINEAR:
                fn = inner.fn
                return Node(
                    Kind.LINEAR,
                    lambda env, acc, f: fn(env, acc, sign * f),
                    vec=iv and (lambda fr, acc, f: iv(fr, acc, sign * f)),
                )
            ifn = inner.fn
            require_number(inner, node.operand, ctx)
            if sign > 0:
                return Node(Kind.NUMBER, ifn, inner.integer, iv)
            return Node(
                Kind.NUMBER, lambda env: -ifn(env), inner.integer, iv and (lambda fr: -iv(fr))
            )
        msg = "this operator is not allowed (use + - * /)"
        raise ctx.error(msg, node)
    if isinstance(node, ast.BinOp):
        return _compile_binop(node, ctx)
    if isinstance(node, ast.Call):
        return _compile_sum(node, ctx)
    if isinstance(node, ast.Compare):
        msg = "a comparison is allowed only at the top of a constraint's expr"
        raise ctx.error(msg, node)
    if isinstance(node, ast.Attribute):
        msg = "attribute access is not allowed"
        raise ctx.error(msg, node)
    if isinstance(node, ast.Lambda):
        msg = "lambda is not allowed"
        raise ctx.error(msg, node)
    if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        msg = "a comprehension is allowed only inside sum(...)"
        raise ctx.error(msg, node)
    if isinstance(node, ast.BoolOp):
        msg = "and/or are allowed only in an `if` condition on indices"
        raise ctx.error(msg, node)
    msg = f"not allowed in an expression (allowed: {_ALLOWED})"
    raise ctx.error(msg, node)


def require_number(node: Node, ast_node: ast.AST, ctx: Context) -> None:
    """An error unless ``node`` is a number (not a linear form)."""
    if node.kind is Kind.INDEX and not node.integer:
        msg = "a non-numeric index cannot be used as a number"
        raise ctx.error(msg, ast_node)


def _compile_name(node: ast.Name, ctx: Context) -> Node:
    name = node.id
    spec = ctx.spec
    if name in ctx.bound:
        s = spec.sets[ctx.bound[name]]
        return Node(
            Kind.INDEX, lambda env: env[name], integer=s.integer, vec=lambda fr: fr.index[name]
        )
    if name in spec.params:
        p = spec.params[name]
        if p.over:
            msg = f"param '{name}' is indexed over {list(p.over)}: subscript it"
            raise ctx.error(msg, node)
        value = p.values[()]
        return Node(Kind.NUMBER, lambda env: value, vec=lambda fr: fr.full(value))
    if name in spec.variables:
        v = spec.variables[name]
        if v.over:
            msg = f"variable '{name}' is indexed over {list(v.over)}: subscript it"
            raise ctx.error(msg, node)

        def scalar_var(env, acc, f, _n=name):
            acc.add_term(env["__vars__"][_n][()], f)

        def scalar_var_vec(fr: Frame, acc: Terms, f: np.ndarray) -> None:
            first, _ = fr.context.columns[name]
            acc.add_terms(np.arange(fr.n), np.full(fr.n, first), f)

        return Node(Kind.LINEAR, scalar_var, vec=scalar_var_vec)
    if name in spec.sets:
        msg = f"set '{name}' can only be iterated (for i in {name})"
        raise ctx.error(msg, node)
    if name == "sum":
        msg = "sum must be called as sum(... for i in set)"
        raise ctx.error(msg, node)
    suffix = did_you_mean(name, ctx.names())
    msg = f"unknown name '{name}'{suffix}"
    raise ctx.error(msg, node)


def _compile_index(
    node: ast.expr, set_name: str, ctx: Context
) -> tuple[Callable, bool, Callable | None]:
    """Compile one subscript position; returns (fn(env) -> member, uses_arithmetic,
    vectorized fn giving values in the set's domain, or None)."""
    s = ctx.spec.sets[set_name]
    if isinstance(node, ast.Name) and node.id not in ctx.bound and node.id not in ctx.spec.params:
        # a bare member of the set at this position, e.g. price[premium]
        if node.id in s.member_set:
            member = node.id
            return (lambda env: member), False, (lambda fr: fr.full(fr.context.members.of(member)))
        suffix = did_you_mean(node.id, [*ctx.bound, *map(str, s.members)])
        msg = f"unknown index name '{node.id}' for set '{set_name}'{suffix}"
        raise ctx.error(msg, node)
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
    ):
        value = node.value
        if s.integer:
            vec = lambda fr: fr.full(value)  # noqa: E731
        else:
            vec = lambda fr: fr.full(fr.context.members.of(value))  # noqa: E731
        return (lambda env: value), False, vec
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        msg = "strings are not allowed in an expression"
        raise ctx.error(msg, node)
    arithmetic = not isinstance(node, ast.Name)
    if arithmetic and not s.integer:
        msg = f"index arithmetic needs an integer set, and '{set_name}' is not one"
        raise ctx.error(msg, node)
    inner = compile_node(node, ctx)
    if inner.kind == Kind.LINEAR:
        msg = "a variable cannot be used as an index"
        raise ctx.error(msg, node)
    if inner.kind == Kind.NUMBER and not inner.integer:
        msg = "an index must be a set member or integer index arithmetic"
        raise ctx.error(msg, node)
    # vectorized, values must be in the set's domain: integers for an integer set, codes
    # (a non-integer set's bound index) otherwise
    same_domain = inner.codes != s.integer
    return inner.fn, arithmetic, inner.vec if same_domain else None


def _compile_subscript(node: ast.Subscript, ctx: Context) -> Node:
    """``x[i, t-1]``: a param's value, or a variable's term, at the index it names."""
    name, kind, decl_over, items = _subscripted(node, ctx)
    compiled = [
        _compile_index(item, set_name, ctx) for item, set_name in zip(items, decl_over, strict=True)
    ]
    index_of = _index_function([fn for fn, _, _ in compiled])
    vecs = [vec for _, _, vec in compiled]
    grid = Grid(decl_over, tuple(len(ctx.spec.sets[s].members) for s in decl_over))
    position = _position_function(grid, vecs) if _all(*vecs) else None
    sets = [ctx.spec.sets[s].member_set for s in decl_over]
    outside, missing = _off_table(name, kind, sets, ctx.segment(node), ctx.where)
    if kind == "param":
        return _param_node(name, ctx.spec.params[name], index_of, outside, missing, position)
    return _variable_node(name, ctx.spec.variables[name].initial, index_of, missing, position)


def _position_function(
    grid: Grid, vecs: list[Callable]
) -> Callable[[Frame], tuple[np.ndarray, np.ndarray]]:
    """frame -> (flat position in ``grid``, inside its sets) of the subscript at each
    binding."""

    def position(fr: Frame) -> tuple[np.ndarray, np.ndarray]:
        return grid.flat(fr.context.members, [vec(fr) for vec in vecs])

    return position


def _subscripted(
    node: ast.Subscript, ctx: Context
) -> tuple[str, str, tuple[str, ...], list[ast.expr]]:
    """(name, "param" or "variable", the sets it is over, the index expressions) of a
    subscript, checked: an indexed param or variable given one index per set."""
    if not isinstance(node.value, ast.Name):
        msg = "only a param or variable name can be subscripted"
        raise ctx.error(msg, node)
    name = node.value.id
    spec = ctx.spec
    if name in spec.params:
        decl_over = spec.params[name].over
        kind = "param"
    elif name in spec.variables:
        decl_over = spec.variables[name].over
        kind = "variable"
    else:
        _compile_name(node.value, ctx)  # raises the right error
        msg = "cannot subscript this"
        raise ctx.error(msg, node)  # pragma: no cover
    items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    if not decl_over:
        msg = f"{kind} '{name}' is not indexed"
        raise ctx.error(msg, node)
    if len(items) != len(decl_over):
        msg = (
            f"{kind} '{name}' takes {len(decl_over)} index(es) ({', '.join(decl_over)}), "
            f"got {len(items)}"
        )
        raise ctx.error(
            msg,
            node,
        )
    return name, kind, decl_over, items


def _index_function(fns: list[Callable]) -> Callable[[dict], tuple]:
    """env -> the index tuple, from one function per position."""
    # one variable reference is evaluated per term of every row: avoid a generator there
    if len(fns) == 1:
        (f0,) = fns

        def index_of(env: dict) -> tuple:
            return (f0(env),)

    elif len(fns) == 2:
        f0, f1 = fns

        def index_of(env: dict) -> tuple:
            return (f0(env), f1(env))

    else:

        def index_of(env: dict) -> tuple:
            return tuple(fn(env) for fn in fns)

    return index_of


def _off_table(
    name: str, kind: str, sets: list[frozenset], text: str, where: Location
) -> tuple[Callable[[tuple], bool], Callable[[tuple, float | None, str], float]]:
    """``outside(idx)``: is an index outside the sets of ``name``; ``missing(idx, initial,
    what)``: the value of an index with no entry (``initial`` outside the sets), or the
    error that there is none (``what`` says why, inside the sets)."""

    def outside(idx: tuple) -> bool:
        return any(m not in members for m, members in zip(idx, sets, strict=True))

    def missing(idx: tuple, initial: float | None, what: str) -> float:
        label = f"{name}[{','.join(map(str, idx))}]"
        if outside(idx):
            if initial is None:
                raise BuildError.at(
                    where,
                    f"{label} (in `{text}`) is outside its sets and {kind} '{name}' declares "
                    "no `initial` value",
                )
            return initial
        raise BuildError.at(where, f"{label} (in `{text}`): {what}")

    return outside, missing


def _param_node(
    name: str,
    p: ParamSpec,
    index_of: Callable[[dict], tuple],
    outside: Callable[[tuple], bool],
    missing: Callable[[tuple, float | None, str], float],
    position: Callable[[Frame], tuple[np.ndarray, np.ndarray]] | None = None,
) -> Node:
    """A param's value at the index: its entry, else its default inside its sets."""
    values, default, initial = p.values, p.default, p.initial

    def param_fn(env: dict) -> float:
        idx = index_of(env)
        v = values.get(idx)
        if v is not None:
            return v
        if default is not None and not outside(idx):
            return default
        return missing(idx, initial, f"param '{name}' has no value for this index")

    def param_vec(fr: Frame) -> np.ndarray:
        flat, inside = position(fr)
        keys, table = fr.context.param_table(p)
        at = np.minimum(np.searchsorted(keys, flat), max(keys.size - 1, 0))
        found = inside & (keys[at] == flat) if keys.size else np.zeros(fr.n, dtype=bool)
        out = np.where(found, table[at] if keys.size else 0.0, np.nan)
        if found.all():
            return out
        if default is not None:
            out[~found & inside] = default
        elif not (found | ~inside).all():
            raise NotVectorizable
        if not inside.all():
            if initial is None:
                raise NotVectorizable
            out[~inside] = initial
        return out

    return Node(Kind.NUMBER, param_fn, vec=param_vec if position else None)


def _variable_node(
    name: str,
    initial: float | None,
    index_of: Callable[[dict], tuple],
    missing: Callable[[tuple, float | None, str], float],
    position: Callable[[Frame], tuple[np.ndarray, np.ndarray]] | None = None,
) -> Node:
    """A variable's term at the index (a constant, its ``initial``, outside its sets)."""

    def var_fn(env: dict, acc: Linear, f: float) -> None:
        idx = index_of(env)
        key = env["__vars__"][name].get(idx)
        if key is None:
            acc.constant += f * missing(idx, initial, "no such variable")
        else:
            acc.add_term(key, f)

    def var_vec(fr: Frame, acc: Terms, f: np.ndarray) -> None:
        flat, inside = position(fr)
        first, _ = fr.context.columns[name]
        if inside.all():
            acc.add_terms(np.arange(fr.n), first + flat, f)
            return
        if initial is None:
            raise NotVectorizable
        at = np.flatnonzero(inside)
        acc.add_terms(at, first + flat[at], f[at])
        out = np.flatnonzero(~inside)
        acc.add_constant(out, f[out] * initial)

    return Node(Kind.LINEAR, var_fn, vec=var_vec if position else None)


def as_linear(node: Node) -> Callable:
    """A ``fn(env, acc, factor)`` accumulating ``node`` into a linear form, for any kind."""
    if node.kind == Kind.LINEAR:
        return node.fn
    fn = node.fn

    def const(env, acc, f):
        acc.constant += f * fn(env)

    return const


def as_linear_vec(node: Node) -> Callable | None:
    """:func:`as_linear` over a frame: ``vec(frame, terms, factors)``, or None."""
    if node.kind == Kind.LINEAR or node.vec is None:
        return node.vec
    vec = node.vec

    def const_vec(fr: Frame, acc: Terms, f: np.ndarray) -> None:
        acc.add_constant(np.arange(fr.n), f * vec(fr))

    return const_vec


def _compile_binop(node: ast.BinOp, ctx: Context) -> Node:
    op = node.op
    if not isinstance(op, ast.Add | ast.Sub | ast.Mult | ast.Div):
        what = "`**`" if isinstance(op, ast.Pow) else "this operator"
        msg = f"{what} is not allowed (use + - * and / by a constant)"
        raise ctx.error(msg, node)
    left, right = compile_node(node.left, ctx), compile_node(node.right, ctx)
    for side, ast_side in ((left, node.left), (right, node.right)):
        if side.kind != Kind.LINEAR:
            require_number(side, ast_side, ctx)
    if left.kind != Kind.LINEAR and right.kind != Kind.LINEAR:
        lf, rf = left.fn, right.fn
        lv, rv = left.vec, right.vec
        vectorized = _all(lv, rv) and not left.codes and not right.codes
        integer = left.integer and right.integer and not isinstance(op, ast.Div)
        kind = (
            Kind.INDEX
            if (left.kind == Kind.INDEX or right.kind == Kind.INDEX) and integer
            else Kind.NUMBER
        )
        # integers stay exact as Python's, or the evaluation goes back to the scalar path
        if isinstance(op, ast.Add):
            vec = (vectorized and (lambda fr: exact(lv(fr) + rv(fr)))) or None
            return Node(kind, lambda env: lf(env) + rf(env), integer, vec)
        if isinstance(op, ast.Sub):
            vec = (vectorized and (lambda fr: exact(lv(fr) - rv(fr)))) or None
            return Node(kind, lambda env: lf(env) - rf(env), integer, vec)
        if isinstance(op, ast.Mult):
            vec = (vectorized and (lambda fr: product(lv(fr), rv(fr)))) or None
            return Node(kind, lambda env: lf(env) * rf(env), integer, vec)
        div, div_vec = _divider(lf, rf, node, ctx, lv if vectorized else None, rv)
        return Node(Kind.NUMBER, div, vec=div_vec)
    if isinstance(op, ast.Add | ast.Sub):
        lf, rf = as_linear(left), as_linear(right)
        lv, rv = as_linear_vec(left), as_linear_vec(right)
        sign = 1.0 if isinstance(op, ast.Add) else -1.0

        def add(env, acc, f):
            lf(env, acc, f)
            rf(env, acc, sign * f)

        def add_vec(fr, acc, f):
            lv(fr, acc, f)
            rv(fr, acc, sign * f)

        return Node(Kind.LINEAR, add, vec=add_vec if _all(lv, rv) else None)
    if isinstance(op, ast.Mult):
        if left.kind == Kind.LINEAR and right.kind == Kind.LINEAR:
            msg = "non-linear: a product of two variable terms"
            raise ctx.error(msg, node)
        lin, num = (left, right) if left.kind == Kind.LINEAR else (right, left)
        lfn, nfn = lin.fn, num.fn
        lv, nv = lin.vec, num.vec
        return Node(
            Kind.LINEAR,
            lambda env, acc, f: lfn(env, acc, f * nfn(env)),
            vec=(lambda fr, acc, f: lv(fr, acc, f * nv(fr))) if _all(lv, nv) else None,
        )
    # division
    if right.kind == Kind.LINEAR:
        msg = (
            "division by an expression with variables is allowed only as a ratio at the top "
            "of a KPI"
        )
        raise ctx.error(
            msg,
            node,
        )
    lfn, lv = left.fn, left.vec
    divisor, divisor_vec = _divider(
        lambda env: 1.0, right.fn, node, ctx, lambda fr: fr.full(1.0), right.vec
    )
    return Node(
        Kind.LINEAR,
        lambda env, acc, f: lfn(env, acc, f * divisor(env)),
        vec=(lambda fr, acc, f: lv(fr, acc, f * divisor_vec(fr)))
        if _all(lv, divisor_vec)
        else None,
    )


def _divider(
    lf: Callable,
    rf: Callable,
    node: ast.AST,
    ctx: Context,
    lv: Callable | None = None,
    rv: Callable | None = None,
) -> tuple[Callable, Callable | None]:
    """``lf / rf`` with a located error on a zero divisor, and the same over a frame (a
    zero divisor there leaves it to the scalar evaluator)."""
    text = ctx.segment(node)
    where = ctx.where

    def div(env):
        d = rf(env)
        if d == 0:
            raise BuildError.at(where, f"division by zero in `{text}`")
        return lf(env) / d

    def div_vec(fr: Frame) -> np.ndarray:
        d = rv(fr)
        if (d == 0).any():
            raise NotVectorizable
        return lv(fr) / d

    return div, div_vec if _all(lv, rv) else None


@dataclass(frozen=True)
class Condition:
    """A compiled condition on indices and data: ``cond(env)``, and ``vec(frame)`` giving
    it at every binding (None: scalar only)."""

    fn: Callable[[dict], bool]
    vec: Callable[[Frame], np.ndarray] | None = None

    def __call__(self, env: dict) -> bool:
        """The condition at the bindings ``env``."""
        return self.fn(env)


def _compile_generators(generators: list[ast.comprehension], ctx: Context) -> list[Loop]:
    loops = []
    for gen in generators:
        if not isinstance(gen.target, ast.Name):
            msg = "a sum must bind one plain index name per `for`"
            raise ctx.error(msg, gen.target)
        if not isinstance(gen.iter, ast.Name) or gen.iter.id not in ctx.spec.sets:
            named = gen.iter.id if isinstance(gen.iter, ast.Name) else None
            suffix = did_you_mean(named, ctx.spec.sets) if named else ""
            msg = f"`for ... in` must name a set{suffix}"
            raise ctx.error(msg, gen.iter)
        if gen.is_async:
            msg = "async comprehensions are not allowed"
            raise ctx.error(msg, gen.target)
        name = gen.target.id
        if name in ctx.bound or name in ctx.spec.params or name in ctx.spec.variables:
            msg = f"index name '{name}' is already in use"
            raise ctx.error(msg, gen.target)
        if name in ctx.spec.sets:
            msg = f"index name '{name}' is the name of a set"
            raise ctx.error(msg, gen.target)
        ctx.bound[name] = gen.iter.id
        conds = tuple(compile_condition(cond, ctx) for cond in gen.ifs)
        set_name = gen.iter.id
        loops.append(Loop(name, set_name, ctx.spec.sets[set_name].members, conds))
    return loops


def iterate(loops: list[Loop], env: dict) -> Iterator[None]:
    """Bind ``env`` to every admissible combination in turn (nested loops, in order)."""
    if not loops:
        yield None
        return
    loop, rest = loops[0], loops[1:]
    try:
        for m in loop.members:
            env[loop.name] = m
            if all(c(env) for c in loop.conditions):
                yield from iterate(rest, env)
    finally:
        env.pop(loop.name, None)


def _compile_sum(node: ast.Call, ctx: Context) -> Node:
    if not isinstance(node.func, ast.Name) or node.func.id != "sum":
        msg = "function calls are not allowed (only sum(... for i in set))"
        raise ctx.error(msg, node)
    if node.keywords or len(node.args) != 1 or not isinstance(node.args[0], ast.GeneratorExp):
        msg = "sum takes one generator: sum(expr for i in set [if ...])"
        raise ctx.error(msg, node)
    gen = node.args[0]
    saved, saved_iterations = dict(ctx.bound), ctx.iterations
    try:
        loops = _compile_generators(gen.generators, ctx)
        ctx.iterations *= math.prod(len(loop.members) for loop in loops)
        if ctx.iterations > ctx.spec.max_size:
            msg = (
                f"evaluating this sum takes {ctx.iterations:,} index combinations (an upper "
                f"bound, with its enclosing loops); the limit is {ctx.spec.max_size:,} "
                "(raise it with --max-size)"
            )
            raise ctx.error(msg, node)
        body = compile_node(gen.elt, ctx)
    finally:
        ctx.bound, ctx.iterations = saved, saved_iterations
    vectorized = all(loop.vectorized for loop in loops) and body.vec is not None
    if body.kind == Kind.LINEAR:
        bfn, bvec = body.fn, body.vec

        def sum_lin_vec(fr: Frame, acc: Terms, f: np.ndarray) -> None:
            inner, parent = expand(fr, loops)
            terms = Terms()
            bvec(inner, terms, f[parent])
            terms.regroup(parent, acc)

        vec = sum_lin_vec if vectorized else None
        if len(loops) == 1 and not loops[0].conditions:
            name, members = loops[0].name, loops[0].members

            def sum_lin_1(env, acc, f):
                for m in members:
                    env[name] = m
                    bfn(env, acc, f)
                env.pop(name, None)

            return Node(Kind.LINEAR, sum_lin_1, vec=vec)

        def sum_lin(env, acc, f):
            for _ in iterate(loops, env):
                bfn(env, acc, f)

        return Node(Kind.LINEAR, sum_lin, vec=vec)
    require_number(body, gen.elt, ctx)
    bfn, bvec = body.fn, body.vec

    def sum_num(env):
        # added in order from 0 (not Python's sum, whose float summation changed in 3.12):
        # the vectorized evaluator's bincount adds the same way
        total = 0.0
        for _ in iterate(loops, env):
            total += bfn(env)
        return total

    def sum_num_vec(fr: Frame) -> np.ndarray:
        inner, parent = expand(fr, loops)
        values = np.asarray(bvec(inner), dtype=float)
        return np.bincount(parent, weights=values, minlength=fr.n)[: fr.n]

    return Node(Kind.NUMBER, sum_num, vec=sum_num_vec if vectorized else None)


_COMPARE = {
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
}


def compile_condition(node: ast.expr, ctx: Context) -> Condition:
    """A condition on indices and data: comparisons joined by and/or/not."""
    if isinstance(node, ast.BoolOp):
        parts = [compile_condition(v, ctx) for v in node.values]
        vecs = [p.vec for p in parts]
        conjunction = isinstance(node.op, ast.And)

        def short_circuit(fr: Frame) -> np.ndarray:
            # each part only on the bindings the parts before left undecided, as Python's
            # and/or: a part that would fail where the result is already known does no harm
            out = np.full(fr.n, conjunction)
            undecided = np.arange(fr.n)
            for vec in vecs:
                if not undecided.size:
                    break
                held = vec(fr.subset(undecided))
                decided = ~held if conjunction else held
                out[undecided[decided]] = not conjunction
                undecided = undecided[~decided]
            return out

        return Condition(
            (lambda env: all(p(env) for p in parts))
            if conjunction
            else (lambda env: any(p(env) for p in parts)),
            short_circuit if _all(*vecs) else None,
        )
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = compile_condition(node.operand, ctx)
        iv = inner.vec
        return Condition(lambda env: not inner(env), iv and (lambda fr: ~iv(fr)))
    if isinstance(node, ast.Compare):
        compiled = [_compile_operand(x, ctx) for x in (node.left, *node.comparators)]
        operands = [fn for fn, _, _ in compiled]
        ops = []
        for op in node.ops:
            if type(op) not in _COMPARE:
                msg = "only < <= > >= == != are allowed in a condition"
                raise ctx.error(msg, node)
            ops.append(_COMPARE[type(op)])

        text, where = ctx.segment(node), ctx.where

        def compare(env):
            values = [fn(env) for fn in operands]
            try:
                return all(op(values[i], values[i + 1]) for i, op in enumerate(ops))
            except TypeError:  # a member that is a string against a number: `p < 3`
                shown = ", ".join(repr(v) for v in values)
                msg = f"cannot compare {shown} in `{text}`"
                raise BuildError.at(where, msg) from None

        # codes (non-integer members) compare only for (in)equality, and only with codes
        vecs = [vec for _, vec, _ in compiled]
        codes = {c for _, _, c in compiled}
        equality = all(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops)
        vectorized = _all(*vecs) and (codes == {False} or (codes == {True} and equality))

        def compare_vec(fr: Frame) -> np.ndarray:
            values = [vec(fr) for vec in vecs]
            out = np.ones(fr.n, dtype=bool)
            for i, op in enumerate(ops):
                out &= op(values[i], values[i + 1])
            return out

        return Condition(compare, compare_vec if vectorized else None)
    msg = "a condition must be a comparison on indices (e.g. t > 1)"
    raise ctx.error(msg, node)


def _compile_operand(node: ast.expr, ctx: Context) -> tuple[Callable, Callable | None, bool]:
    """(fn, vectorized fn or None, are its values codes) of a condition's operand."""
    if isinstance(node, ast.Name) and node.id not in ctx.bound and node.id not in ctx.spec.params:
        # a bare set member, as in `p == premium`
        member = node.id
        if any(not s.integer and member in s.member_set for s in ctx.spec.sets.values()):
            return (
                (lambda env: member),
                (lambda fr: fr.full(fr.context.members.of(member))),
                True,
            )
    compiled = compile_node(node, ctx)
    if compiled.kind == Kind.LINEAR:
        msg = "a condition cannot depend on variables"
        raise ctx.error(msg, node)
    return compiled.fn, compiled.vec, compiled.codes
