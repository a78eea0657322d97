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
import itertools
import keyword
import math
import re
import tokenize
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import BuildError, Location
from .sources import closest
from .spec import ModelSpec

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
        self.terms[key] = self.terms.get(key, 0.0) + coef

    def nonzero_terms(self) -> dict[Any, float]:
        return {k: v for k, v in self.terms.items() if v != 0.0}


class _Ctx:
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
        if node is not None:
            message = f"{message}: `{_short(self.segment(node))}`"
        return BuildError.at(self.where, message)

    def segment(self, node: ast.AST) -> str:
        """The source text of ``node``.  ``ast.get_source_segment`` splits the whole text
        on every call, which is quadratic over the terms of a long sum."""
        if self._lines is None:
            self._lines = [line.encode("utf-8") for line in _source_lines(self.text)]
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
        s = self.spec
        return [*s.sets, *s.params, *s.variables, *self.bound]


@dataclass(frozen=True)
class _Node:
    kind: str  # "idx" | "num" | "lin"
    fn: Callable
    integer: bool = False  # for idx: an integer-valued index (arithmetic allowed)


#: brackets deeper than this are refused: no model needs them, and Python's parser and
#: this compiler both recurse once per level
MAX_NESTING = 100
#: an expression of more tokens than this is parsed piece by piece (see :func:`_parse_long`)
_LONG = 200
#: a text of at most this many characters goes to Python's parser whole
_SHORT = 1000


def _parse(text: str, where: Location) -> ast.expr:
    if not isinstance(text, str) or not text.strip():
        raise BuildError.at(where, "expected a non-empty expression")
    text = text.strip()
    if len(text) <= _SHORT:
        return _parse_short(text, where)
    try:
        tokens = _tokens(text)
    except (tokenize.TokenError, SyntaxError) as exc:
        msg = exc.args[0] if exc.args else "invalid syntax"
        raise BuildError.at(where, f"invalid expression syntax ({msg}): `{_short(text)}`") from None
    try:
        depth = _max_nesting(tokens)
    except SyntaxError as exc:
        raise BuildError.at(
            where, f"invalid expression syntax ({exc.msg}): `{_short(text)}`"
        ) from None
    if depth > MAX_NESTING:
        raise BuildError.at(
            where,
            f"brackets nested {depth} deep (at most {MAX_NESTING}): `{_short(text)}`",
        )
    try:
        return _parse_long(text, tokens, 0, len(tokens))
    except SyntaxError as exc:
        raise BuildError.at(
            where, f"invalid expression syntax ({exc.msg}): `{_short(text)}`"
        ) from None
    except (RecursionError, MemoryError):
        raise BuildError.at(
            where, f"the expression is nested too deeply to parse: `{_short(text)}`"
        ) from None


def _parse_short(text: str, where: Location) -> ast.expr:
    """``ast.parse`` as it is: a text this short cannot make a chain Python's parser
    refuses, and its own bracket limit (200) answers a deep nesting with a SyntaxError."""
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise BuildError.at(where, f"invalid expression syntax ({exc.msg}): `{text}`") from None
    except (RecursionError, MemoryError):
        raise BuildError.at(
            where, f"the expression is nested too deeply to parse: `{_short(text)}`"
        ) from None


def _short(text: str, limit: int = 120) -> str:
    """``text`` for an error line: one line, at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else f"{flat[: limit - 20]} … {flat[-15:]}"


@dataclass(frozen=True)
class _Token:
    type: int
    string: str
    start: int  # offsets into the text
    end: int
    line: int  # 0-based line of the start
    col: int  # character column of the start
    end_line: int  # 0-based line of the end
    end_col: int  # character column of the end


_LINE_BREAK = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _source_lines(text: str) -> list[str]:
    """``text`` split into lines as Python's parser counts them (at \\n, \\r\\n and \\r
    only; ``str.splitlines`` also breaks at form feeds and other separators)."""
    return _LINE_BREAK.findall(text)


def _tokens(text: str) -> list[_Token]:
    """The significant tokens of ``text`` with their character offsets."""
    lines = _source_lines(text)
    line_starts = [0]
    for line in lines:
        line_starts.append(line_starts[-1] + len(line))
    skip = (tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT)
    out: list[_Token] = []
    ended = False  # a logical line ended: only its own end may follow
    for tok in tokenize.generate_tokens(iter(lines).__next__):
        if tok.type in skip:
            continue
        if tok.type == tokenize.NEWLINE:
            ended = True
            continue
        if ended:
            msg = "a line break outside brackets"
            raise SyntaxError(msg)
        if tok.type == tokenize.ERRORTOKEN:
            if tok.string.isspace():  # a lone \r: a line break to Python's own parser
                continue
            msg = f"unexpected character {tok.string!r}"
            raise SyntaxError(msg)
        start = line_starts[tok.start[0] - 1] + tok.start[1]
        end = line_starts[tok.end[0] - 1] + tok.end[1]
        out.append(
            _Token(
                tok.type,
                tok.string,
                start,
                end,
                tok.start[0] - 1,
                tok.start[1],
                tok.end[0] - 1,
                tok.end[1],
            )
        )
    return out


_OPEN, _CLOSE = "([{", ")]}"


def _max_nesting(tokens: list[_Token]) -> int:
    """The deepest bracket level; unbalanced brackets are a syntax error."""
    depth = deepest = 0
    for tok in tokens:
        if tok.type == tokenize.OP and tok.string in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif tok.type == tokenize.OP and tok.string in _CLOSE:
            depth -= 1
            if depth < 0:
                msg = f"unmatched '{tok.string}'"
                raise SyntaxError(msg)
    if depth:
        msg = "unclosed bracket"
        raise SyntaxError(msg)
    return deepest


_COMPARISONS = {"<=", ">=", "==", "<", ">", "!="}
_OPERAND_END = {")", "]", "}"}


def _is_operand_end(tok: _Token) -> bool:
    if tok.type in (tokenize.NUMBER, tokenize.STRING):
        return True
    if tok.type == tokenize.NAME:
        return not keyword.iskeyword(tok.string) or tok.string in ("True", "False", "None")
    return tok.type == tokenize.OP and tok.string in _OPERAND_END


def _parse_long(text: str, tokens: list[_Token], lo: int, hi: int) -> ast.expr:
    """Parse ``tokens[lo:hi]`` without handing Python's parser a long chain.

    Python's parser builds ``a + b + c + …`` as a left-deep tree and gives up at a few
    thousand terms; a generated model's objective can have tens of thousands.  So a long
    span is split at its outermost operators (comparisons, then binary ``+``/``-``, then
    ``*``/``/``), each piece is parsed on its own, and the terms of a sum are joined as a
    balanced tree.  Node positions are shifted to ``text``, so error messages quote the
    right part of it.  Short pieces go to :func:`ast.parse` as they are.
    """
    if hi - lo <= _LONG:
        return _parse_piece(text, tokens[lo], tokens[hi - 1])
    depth = 0
    compares: list[int] = []
    adds: list[int] = []
    mults: list[int] = []
    for i in range(lo, hi):
        tok = tokens[i]
        if tok.type != tokenize.OP:
            continue
        if tok.string in _OPEN:
            depth += 1
        elif tok.string in _CLOSE:
            depth -= 1
        elif depth == 0 and i > lo:
            if tok.string in _COMPARISONS:
                compares.append(i)
            elif tok.string in "+-" and _is_operand_end(tokens[i - 1]):
                adds.append(i)
            elif tok.string in _MULT_OPS:
                mults.append(i)
    if compares:
        bounds = [lo, *compares, hi]
        sides = [_parse_long(text, tokens, a + (a != lo), b) for a, b in itertools.pairwise(bounds)]
        ops = [_COMPARE_OPS[tokens[i].string]() for i in compares]
        return _span(ast.Compare(sides[0], ops, sides[1:]), text, tokens[lo], tokens[hi - 1])
    if adds:
        # terms as (first token, end); a term after a binary operator starts at the operator,
        # so that "- b" parses as the unary -b and consecutive terms can share one parse
        spans = list(itertools.pairwise([lo, *adds, hi]))
        groups: list[ast.expr] = []
        start = None
        for a, b in spans:
            if b - a > _LONG:  # a long term of its own (a long bracket): recurse
                if start is not None:
                    groups.append(_parse_piece(text, tokens[start], tokens[a - 1]))
                    start = None
                if a == lo:
                    groups.append(_parse_long(text, tokens, a, b))
                else:
                    term = _parse_long(text, tokens, a + 1, b)
                    op = ast.USub() if tokens[a].string == "-" else ast.UAdd()
                    groups.append(_span(ast.UnaryOp(op, term), text, tokens[a], tokens[b - 1]))
                continue
            if start is not None and b - start > _LONG:
                groups.append(_parse_piece(text, tokens[start], tokens[a - 1]))
                start = None
            if start is None:
                start = a
        if start is not None:
            groups.append(_parse_piece(text, tokens[start], tokens[hi - 1]))
        return _span(_balanced_sum(groups), text, tokens[lo], tokens[hi - 1])
    if mults:
        bounds = [lo, *mults, hi]
        factors = [
            _parse_long(text, tokens, a + (a != lo), b) for a, b in itertools.pairwise(bounds)
        ]
        node = factors[0]
        ends = [*[m - 1 for m in mults[1:]], hi - 1]
        for i, factor, end in zip(mults, factors[1:], ends, strict=True):
            node = _span(
                ast.BinOp(node, _MULT_OPS[tokens[i].string](), factor),
                text,
                tokens[lo],
                tokens[end],
            )
        return node
    first, last = tokens[lo], tokens[hi - 1]
    if first.string == "(" and last.string == ")" and _matching(tokens, lo) == hi - 1:
        return _parse_long(text, tokens, lo + 1, hi - 1)
    if first.type == tokenize.OP and first.string in "+-":
        inner = _parse_long(text, tokens, lo + 1, hi)
        op = ast.USub() if first.string == "-" else ast.UAdd()
        return _span(ast.UnaryOp(op, inner), text, first, last)
    return _parse_piece(text, first, last)


_MULT_OPS: dict[str, type[ast.operator]] = {
    "*": ast.Mult,
    "/": ast.Div,
    "//": ast.FloorDiv,
    "%": ast.Mod,
    "@": ast.MatMult,
}

_COMPARE_OPS = {
    "<=": ast.LtE,
    ">=": ast.GtE,
    "==": ast.Eq,
    "<": ast.Lt,
    ">": ast.Gt,
    "!=": ast.NotEq,
}


def _matching(tokens: list[_Token], i: int) -> int:
    """The index of the bracket closing the one at ``tokens[i]``."""
    depth = 0
    for j in range(i, len(tokens)):
        s = tokens[j].string
        if tokens[j].type == tokenize.OP and s in _OPEN:
            depth += 1
        elif tokens[j].type == tokenize.OP and s in _CLOSE:
            depth -= 1
            if depth == 0:
                return j
    return -1


def _balanced_sum(terms: list[ast.expr]) -> ast.expr:
    while len(terms) > 1:
        paired = [
            _located(ast.BinOp(terms[k], ast.Add(), terms[k + 1]), terms[k], terms[k + 1])
            for k in range(0, len(terms) - 1, 2)
        ]
        if len(terms) % 2:
            paired.append(terms[-1])
        terms = paired
    return terms[0]


def _span(node: ast.expr, text: str, first: _Token, last: _Token) -> ast.expr:
    """Give a synthesized node the source span from token ``first`` to token ``last``."""
    node.lineno, node.end_lineno = first.line + 1, last.end_line + 1
    node.col_offset = _byte_col(text, first.start, first.col)
    node.end_col_offset = _byte_col(text, last.end, last.end_col)
    return node


def _byte_col(text: str, offset: int, col: int) -> int:
    """The UTF-8 byte column (ast's unit) of character ``offset``, at character ``col``."""
    if text.isascii():
        return col
    return len(text[offset - col : offset].encode("utf-8"))


def _located(node: ast.expr, first: ast.expr, last: ast.expr) -> ast.expr:
    """Give a synthesized node the source span from ``first`` to ``last``."""
    node.lineno, node.col_offset = first.lineno, first.col_offset
    node.end_lineno, node.end_col_offset = last.end_lineno, last.end_col_offset
    return node


def _parse_piece(text: str, first: _Token, last: _Token) -> ast.expr:
    """``ast.parse`` of the text from token ``first`` to ``last``, with node positions
    shifted into ``text``."""
    # in brackets, as it stands in the whole text, a piece may run over several lines
    body = ast.parse(f"({text[first.start : last.end]})", mode="eval").body
    line0 = first.line
    col0 = _byte_col(text, first.start, first.col) - 1  # the added bracket shifts line 1
    for node in ast.walk(body):
        if not hasattr(node, "lineno"):
            continue
        if node.lineno == 1:
            node.col_offset += col0
        if node.end_lineno == 1:
            node.end_col_offset += col0
        node.lineno += line0
        node.end_lineno += line0
    return body


# --------------------------------------------------------------------------------------
# walking the tree


def _compile(node: ast.expr, ctx: _Ctx) -> _Node:
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
        return _Node("num", lambda env: v, integer=isinstance(value, int))
    if isinstance(node, ast.Name):
        return _compile_name(node, ctx)
    if isinstance(node, ast.Subscript):
        return _compile_subscript(node, ctx)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub | ast.UAdd):
            inner = _compile(node.operand, ctx)
            sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
            if inner.kind == "lin":
                fn = inner.fn
                return _Node("lin", lambda env, acc, f: fn(env, acc, sign * f))
            ifn = inner.fn
            _require_number(inner, node.operand, ctx)
            if sign > 0:
                return _Node("num", ifn, inner.integer)
            return _Node("num", lambda env: -ifn(env), inner.integer)
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


def _require_number(node: _Node, ast_node: ast.AST, ctx: _Ctx) -> None:
    if node.kind == "idx" and not node.integer:
        msg = "a non-numeric index cannot be used as a number"
        raise ctx.error(msg, ast_node)


def _compile_name(node: ast.Name, ctx: _Ctx) -> _Node:
    name = node.id
    spec = ctx.spec
    if name in ctx.bound:
        s = spec.sets[ctx.bound[name]]
        return _Node("idx", lambda env: env[name], integer=s.integer)
    if name in spec.params:
        p = spec.params[name]
        if p.over:
            msg = f"param '{name}' is indexed over {list(p.over)}: subscript it"
            raise ctx.error(msg, node)
        value = p.values[()]
        return _Node("num", lambda env: value)
    if name in spec.variables:
        v = spec.variables[name]
        if v.over:
            msg = f"variable '{name}' is indexed over {list(v.over)}: subscript it"
            raise ctx.error(msg, node)

        def scalar_var(env, acc, f, _n=name):
            acc.add_term(env["__vars__"][_n][()], f)

        return _Node("lin", scalar_var)
    if name in spec.sets:
        msg = f"set '{name}' can only be iterated (for i in {name})"
        raise ctx.error(msg, node)
    if name == "sum":
        msg = "sum must be called as sum(... for i in set)"
        raise ctx.error(msg, node)
    hint = closest(name, ctx.names())
    suffix = f" (did you mean '{hint}'?)" if hint else ""
    msg = f"unknown name '{name}'{suffix}"
    raise ctx.error(msg, node)


def _compile_index(node: ast.expr, set_name: str, ctx: _Ctx) -> tuple[Callable, bool]:
    """Compile one subscript position; returns (fn(env) -> member, uses_arithmetic)."""
    s = ctx.spec.sets[set_name]
    if isinstance(node, ast.Name) and node.id not in ctx.bound and node.id not in ctx.spec.params:
        # a bare member of the set at this position, e.g. price[premium]
        if node.id in s.member_set:
            member = node.id
            return (lambda env: member), False
        hint = closest(node.id, [*ctx.bound, *map(str, s.members)])
        suffix = f" (did you mean '{hint}'?)" if hint else ""
        msg = f"unknown index name '{node.id}' for set '{set_name}'{suffix}"
        raise ctx.error(msg, node)
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
    ):
        value = node.value
        return (lambda env: value), False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        msg = "strings are not allowed in an expression"
        raise ctx.error(msg, node)
    arithmetic = not isinstance(node, ast.Name)
    if arithmetic and not s.integer:
        msg = f"index arithmetic needs an integer set, and '{set_name}' is not one"
        raise ctx.error(msg, node)
    inner = _compile(node, ctx)
    if inner.kind == "lin":
        msg = "a variable cannot be used as an index"
        raise ctx.error(msg, node)
    if inner.kind == "num" and not inner.integer:
        msg = "an index must be a set member or integer index arithmetic"
        raise ctx.error(msg, node)
    return inner.fn, arithmetic


def _compile_subscript(node: ast.Subscript, ctx: _Ctx) -> _Node:
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
    compiled = [
        _compile_index(item, set_name, ctx) for item, set_name in zip(items, decl_over, strict=True)
    ]
    fns = [fn for fn, _ in compiled]
    sets = [spec.sets[s].member_set for s in decl_over]
    text = ctx.segment(node)
    where = ctx.where

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

    if kind == "param":
        p = spec.params[name]
        values, default, initial = p.values, p.default, p.initial

        def param_fn(env: dict) -> float:
            idx = index_of(env)
            v = values.get(idx)
            if v is not None:
                return v
            if default is not None and not outside(idx):
                return default
            return missing(idx, initial, f"param '{name}' has no value for this index")

        return _Node("num", param_fn)

    initial = spec.variables[name].initial

    def var_fn(env: dict, acc: Linear, f: float) -> None:
        idx = index_of(env)
        key = env["__vars__"][name].get(idx)
        if key is None:
            acc.constant += f * missing(idx, initial, "no such variable")
        else:
            acc.add_term(key, f)

    return _Node("lin", var_fn)


def _as_lin(node: _Node) -> Callable:
    if node.kind == "lin":
        return node.fn
    fn = node.fn

    def const(env, acc, f):
        acc.constant += f * fn(env)

    return const


def _compile_binop(node: ast.BinOp, ctx: _Ctx) -> _Node:
    op = node.op
    if not isinstance(op, ast.Add | ast.Sub | ast.Mult | ast.Div):
        what = "`**`" if isinstance(op, ast.Pow) else "this operator"
        msg = f"{what} is not allowed (use + - * and / by a constant)"
        raise ctx.error(msg, node)
    left, right = _compile(node.left, ctx), _compile(node.right, ctx)
    for side, ast_side in ((left, node.left), (right, node.right)):
        if side.kind != "lin":
            _require_number(side, ast_side, ctx)
    if left.kind != "lin" and right.kind != "lin":
        lf, rf = left.fn, right.fn
        integer = left.integer and right.integer and not isinstance(op, ast.Div)
        kind = "idx" if (left.kind == "idx" or right.kind == "idx") and integer else "num"
        if isinstance(op, ast.Add):
            return _Node(kind, lambda env: lf(env) + rf(env), integer)
        if isinstance(op, ast.Sub):
            return _Node(kind, lambda env: lf(env) - rf(env), integer)
        if isinstance(op, ast.Mult):
            return _Node(kind, lambda env: lf(env) * rf(env), integer)
        return _Node("num", _divider(lf, rf, node, ctx))
    if isinstance(op, ast.Add | ast.Sub):
        lf, rf = _as_lin(left), _as_lin(right)
        sign = 1.0 if isinstance(op, ast.Add) else -1.0

        def add(env, acc, f):
            lf(env, acc, f)
            rf(env, acc, sign * f)

        return _Node("lin", add)
    if isinstance(op, ast.Mult):
        if left.kind == "lin" and right.kind == "lin":
            msg = "non-linear: a product of two variable terms"
            raise ctx.error(msg, node)
        lin, num = (left, right) if left.kind == "lin" else (right, left)
        lfn, nfn = lin.fn, num.fn
        return _Node("lin", lambda env, acc, f: lfn(env, acc, f * nfn(env)))
    # division
    if right.kind == "lin":
        msg = (
            "division by an expression with variables is allowed only as a ratio at the top "
            "of a KPI"
        )
        raise ctx.error(
            msg,
            node,
        )
    lfn = left.fn
    divisor = _divider(lambda env: 1.0, right.fn, node, ctx)
    return _Node("lin", lambda env, acc, f: lfn(env, acc, f * divisor(env)))


def _divider(lf: Callable, rf: Callable, node: ast.AST, ctx: _Ctx) -> Callable:
    text = ctx.segment(node)
    where = ctx.where

    def div(env):
        d = rf(env)
        if d == 0:
            raise BuildError.at(where, f"division by zero in `{text}`")
        return lf(env) / d

    return div


def _compile_generators(
    generators: list[ast.comprehension], ctx: _Ctx
) -> list[tuple[str, tuple, list[Callable]]]:
    loops = []
    for gen in generators:
        if not isinstance(gen.target, ast.Name):
            msg = "a sum must bind one plain index name per `for`"
            raise ctx.error(msg, gen.target)
        if not isinstance(gen.iter, ast.Name) or gen.iter.id not in ctx.spec.sets:
            hint = (
                closest(getattr(gen.iter, "id", ""), ctx.spec.sets)
                if isinstance(gen.iter, ast.Name)
                else None
            )
            suffix = f" (did you mean '{hint}'?)" if hint else ""
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
        conds = [_compile_condition(cond, ctx) for cond in gen.ifs]
        loops.append((name, ctx.spec.sets[gen.iter.id].members, conds))
    return loops


def _iterate(loops: list[tuple[str, tuple, list[Callable]]], env: dict) -> Iterator[None]:
    """Bind ``env`` to every admissible combination in turn (nested loops, in order)."""
    if not loops:
        yield None
        return
    (name, members, conds), rest = loops[0], loops[1:]
    try:
        for m in members:
            env[name] = m
            if all(c(env) for c in conds):
                yield from _iterate(rest, env)
    finally:
        env.pop(name, None)


def _compile_sum(node: ast.Call, ctx: _Ctx) -> _Node:
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
        ctx.iterations *= math.prod(len(members) for _, members, _ in loops)
        if ctx.iterations > ctx.spec.max_size:
            msg = (
                f"evaluating this sum takes {ctx.iterations:,} index combinations (an upper "
                f"bound, with its enclosing loops); the limit is {ctx.spec.max_size:,} "
                "(raise it with --max-size)"
            )
            raise ctx.error(msg, node)
        body = _compile(gen.elt, ctx)
    finally:
        ctx.bound, ctx.iterations = saved, saved_iterations
    if body.kind == "lin":
        bfn = body.fn
        if len(loops) == 1 and not loops[0][2]:
            name, members, _ = loops[0]

            def sum_lin_1(env, acc, f):
                for m in members:
                    env[name] = m
                    bfn(env, acc, f)
                env.pop(name, None)

            return _Node("lin", sum_lin_1)

        def sum_lin(env, acc, f):
            for _ in _iterate(loops, env):
                bfn(env, acc, f)

        return _Node("lin", sum_lin)
    _require_number(body, gen.elt, ctx)
    bfn = body.fn

    def sum_num(env):
        return sum(bfn(env) for _ in _iterate(loops, env))

    return _Node("num", sum_num)


_COMPARE = {
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
}


def _compile_condition(node: ast.expr, ctx: _Ctx) -> Callable[[dict], bool]:
    """A condition on indices and data: comparisons joined by and/or/not."""
    if isinstance(node, ast.BoolOp):
        parts = [_compile_condition(v, ctx) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: all(p(env) for p in parts)
        return lambda env: any(p(env) for p in parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _compile_condition(node.operand, ctx)
        return lambda env: not inner(env)
    if isinstance(node, ast.Compare):
        operands = [_compile_operand(x, ctx) for x in (node.left, *node.comparators)]
        ops = []
        for op in node.ops:
            if type(op) not in _COMPARE:
                msg = "only < <= > >= == != are allowed in a condition"
                raise ctx.error(msg, node)
            ops.append(_COMPARE[type(op)])

        def compare(env):
            values = [fn(env) for fn in operands]
            return all(op(values[i], values[i + 1]) for i, op in enumerate(ops))

        return compare
    msg = "a condition must be a comparison on indices (e.g. t > 1)"
    raise ctx.error(msg, node)


def _compile_operand(node: ast.expr, ctx: _Ctx) -> Callable:
    if isinstance(node, ast.Name) and node.id not in ctx.bound and node.id not in ctx.spec.params:
        # a bare set member, as in `p == premium`
        for s in ctx.spec.sets.values():
            if not s.integer and node.id in s.member_set:
                member = node.id
                return lambda env: member
    compiled = _compile(node, ctx)
    if compiled.kind == "lin":
        msg = "a condition cannot depend on variables"
        raise ctx.error(msg, node)
    return compiled.fn


# --------------------------------------------------------------------------------------
# public entry points


@dataclass(frozen=True)
class LinearTemplate:
    """A compiled linear expression; :meth:`evaluate` gives its form at one index binding."""

    text: str
    where: Location
    fn: Callable
    has_variables: bool

    def evaluate(self, env: dict, variables: VariableTable) -> Linear:
        acc = Linear()
        env["__vars__"] = variables
        try:
            self.fn(env, acc, 1.0)
        finally:
            env.pop("__vars__", None)
        return acc

    def accumulate(self, env: dict, variables: VariableTable, acc: Linear, factor: float) -> None:
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
                where, f"the expression is nested too deeply to compile: `{_short(str(text))}`"
            ) from None

    return wrapper


@_depth_guarded
def compile_linear(
    spec: ModelSpec, text: str, where: Location, bound: Mapping[str, str] | None = None
) -> LinearTemplate:
    """Compile a linear expression (an objective, a ``uses`` entry, a non-ratio KPI)."""
    ctx = _Ctx(spec, text, where, dict(bound or {}))
    tree = _parse(text, where)
    node = _compile(tree, ctx)
    _require_number(node, tree, ctx)
    return LinearTemplate(text, where, _as_lin(node), node.kind == "lin")


@dataclass(frozen=True)
class CompiledKpi:
    """A KPI: ``numerator`` alone, or the ratio ``numerator / denominator``."""

    numerator: LinearTemplate
    denominator: LinearTemplate | None

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None


@_depth_guarded
def compile_kpi(spec: ModelSpec, text: str, where: Location) -> CompiledKpi:
    """Compile a KPI; a division at the top whose divisor has variables is a ratio."""
    tree = _parse(text, where)
    ctx = _Ctx(spec, text, where, {})
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Div):
        right = _compile(tree.right, _Ctx(spec, text, where, {}))
        if right.kind == "lin":
            left = _compile(tree.left, ctx)
            _require_number(left, tree.left, ctx)
            num = LinearTemplate(text, where, _as_lin(left), left.kind == "lin")
            den = LinearTemplate(text, where, right.fn, True)
            return CompiledKpi(num, den)
    node = _compile(tree, ctx)
    _require_number(node, tree, ctx)
    if node.kind != "lin":
        raise BuildError.at(where, f"a KPI must depend on decision variables: `{text.strip()}`")
    return CompiledKpi(LinearTemplate(text, where, node.fn, True), None)


@dataclass(frozen=True)
class Bindings:
    """The ``for:`` of a constraint: index names, their sets and an optional condition."""

    names: tuple[str, ...]
    sets: tuple[str, ...]
    loops: tuple

    def __iter__(self) -> Iterator[dict]:
        env: dict = {}
        for _ in _iterate(list(self.loops), env):
            yield dict(env)

    @property
    def bound(self) -> dict[str, str]:
        return dict(zip(self.names, self.sets, strict=True))


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
            hint = closest(set_name, spec.sets)
            suffix = f" (did you mean '{hint}'?)" if hint else ""
            raise BuildError.at(where, f"unknown set '{set_name}'{suffix}")
        if name in names or name in spec.params or name in spec.variables or name in spec.sets:
            raise BuildError.at(where, f"index name '{name}' is already in use")
        names.append(name)
        sets.append(set_name)
    loops = [(n, spec.sets[s].members, []) for n, s in zip(names, sets, strict=True)]
    size = math.prod(len(members) for _, members, _ in loops)
    if size > spec.max_size:
        raise BuildError.at(
            where,
            f"`for: {_short(text)}` makes {size:,} rows (an upper bound); the limit is "
            f"{spec.max_size:,} (raise it with --max-size)",
        )
    if condition is not None:
        ctx = _Ctx(spec, condition, where, dict(zip(names, sets, strict=True)))
        try:
            cond_tree = ast.parse(condition.strip(), mode="eval").body
            loops[-1] = (loops[-1][0], loops[-1][1], [_compile_condition(cond_tree, ctx)])
        except SyntaxError as exc:
            raise BuildError.at(where, f"invalid condition ({exc.msg}): `{condition}`") from None
        except (RecursionError, MemoryError):
            msg = f"the condition is nested too deeply: `{_short(condition)}`"
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


_SENSES = {ast.LtE: "<=", ast.GtE: ">=", ast.Eq: "=="}


@_depth_guarded
def compile_constraint(
    spec: ModelSpec, text: str, where: Location, bound: Mapping[str, str]
) -> CompiledConstraint:
    tree = _parse(text, where)
    ctx = _Ctx(spec, text, where, dict(bound))
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
    left = _compile(tree.left, ctx)
    right = _compile(tree.comparators[0], ctx)
    for side, ast_side in ((left, tree.left), (right, tree.comparators[0])):
        _require_number(side, ast_side, ctx)
    if left.kind != "lin" and right.kind != "lin":
        raise BuildError.at(
            where, f"a constraint must contain a decision variable: `{text.strip()}`"
        )
    sense = _SENSES[op]
    if left.kind != "lin":  # keep the variables on the left: `cap >= x` is `x <= cap`
        left, right = right, left
        sense = {"<=": ">=", ">=": "<=", "==": "=="}[sense]
    return CompiledConstraint(
        LinearTemplate(text, where, _as_lin(left), left.kind == "lin"),
        LinearTemplate(text, where, _as_lin(right), right.kind == "lin"),
        sense,
    )
