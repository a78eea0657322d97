"""Expression text -> Python ``ast``: short texts by Python's parser, long ones (a sum of
tens of thousands of terms) piece by piece, with brackets and line breaks checked."""

from __future__ import annotations

import ast
import itertools
import keyword
import re
import tokenize
from dataclasses import dataclass

from ..errors import BuildError, Location

#: brackets deeper than this are refused: no model needs them, and Python's parser and
#: this compiler both recurse once per level
MAX_NESTING = 100
#: an expression of more tokens than this is parsed piece by piece (see :func:`_parse_long`)
_LONG = 200
#: a text of at most this many characters goes to Python's parser whole
_SHORT = 1000


def parse(text: str, where: Location) -> ast.expr:
    """``text`` as a Python expression tree: Python's parser for short texts, piece by piece
    for long ones (a sum of tens of thousands of terms); errors located at ``where``."""
    if not isinstance(text, str) or not text.strip():
        raise BuildError.at(where, "expected a non-empty expression")
    text = text.strip()
    if len(text) <= _SHORT:
        return _parse_short(text, where)
    try:
        tokens = _tokens(text)
    except (tokenize.TokenError, SyntaxError) as exc:
        msg = exc.args[0] if exc.args else "invalid syntax"
        raise BuildError.at(
            where, f"invalid expression syntax ({msg}): `{shorten(text)}`"
        ) from None
    try:
        depth = _max_nesting(tokens)
    except SyntaxError as exc:
        raise BuildError.at(
            where, f"invalid expression syntax ({exc.msg}): `{shorten(text)}`"
        ) from None
    if depth > MAX_NESTING:
        raise BuildError.at(
            where,
            f"brackets nested {depth} deep (at most {MAX_NESTING}): `{shorten(text)}`",
        )
    try:
        return _parse_long(text, tokens, 0, len(tokens))
    except SyntaxError as exc:
        raise BuildError.at(
            where, f"invalid expression syntax ({exc.msg}): `{shorten(text)}`"
        ) from None
    except (RecursionError, MemoryError):
        raise BuildError.at(
            where, f"the expression is nested too deeply to parse: `{shorten(text)}`"
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
            where, f"the expression is nested too deeply to parse: `{shorten(text)}`"
        ) from None


def shorten(text: str, limit: int = 120) -> str:
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


def source_lines(text: str) -> list[str]:
    """``text`` split into lines as Python's parser counts them (at \\n, \\r\\n and \\r
    only; ``str.splitlines`` also breaks at form feeds and other separators)."""
    return _LINE_BREAK.findall(text)


def _tokens(text: str) -> list[_Token]:
    """The significant tokens of ``text`` with their character offsets."""
    lines = source_lines(text)
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


# the recursion stays in this one function (helpers return before it recurses), so a
# nesting costs the stack frames it did and "nested too deeply" is refused where it was
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
    compares, adds, mults = _outer_operators(tokens, lo, hi)
    if compares:
        bounds = [lo, *compares, hi]
        sides = [_parse_long(text, tokens, a + (a != lo), b) for a, b in itertools.pairwise(bounds)]
        ops = [_COMPARE_OPS[tokens[i].string]() for i in compares]
        return _span(ast.Compare(sides[0], ops, sides[1:]), text, tokens[lo], tokens[hi - 1])
    if adds:
        groups: list[ast.expr] = []
        for is_long, a, b in _sum_groups(lo, hi, adds):
            if not is_long:
                groups.append(_parse_piece(text, tokens[a], tokens[b - 1]))
            elif a == lo:  # a long term of its own (a long bracket): recurse
                groups.append(_parse_long(text, tokens, a, b))
            else:
                term = _parse_long(text, tokens, a + 1, b)
                op = ast.USub() if tokens[a].string == "-" else ast.UAdd()
                groups.append(_span(ast.UnaryOp(op, term), text, tokens[a], tokens[b - 1]))
        return _span(_balanced_sum(groups), text, tokens[lo], tokens[hi - 1])
    if mults:
        bounds = [lo, *mults, hi]
        factors = [
            _parse_long(text, tokens, a + (a != lo), b) for a, b in itertools.pairwise(bounds)
        ]
        return _fold_product(text, tokens, lo, hi, mults, factors)
    first, last = tokens[lo], tokens[hi - 1]
    if first.string == "(" and last.string == ")" and _matching(tokens, lo) == hi - 1:
        return _parse_long(text, tokens, lo + 1, hi - 1)
    if first.type == tokenize.OP and first.string in "+-":
        inner = _parse_long(text, tokens, lo + 1, hi)
        op = ast.USub() if first.string == "-" else ast.UAdd()
        return _span(ast.UnaryOp(op, inner), text, first, last)
    return _parse_piece(text, first, last)


def _outer_operators(
    tokens: list[_Token], lo: int, hi: int
) -> tuple[list[int], list[int], list[int]]:
    """The positions of the operators outside brackets in ``tokens[lo:hi]``: comparisons,
    binary ``+``/``-`` (after an operand; a sign is not one) and ``*``/``/``-like ones."""
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
    return compares, adds, mults


def _sum_groups(lo: int, hi: int, adds: list[int]) -> list[tuple[bool, int, int]]:
    """The terms of the sum ``tokens[lo:hi]`` (split at ``adds``) in groups to parse:
    ``(False, a, b)`` is a run of short terms ``tokens[a:b]`` for one :func:`ast.parse`
    (at most ``_LONG`` tokens, unless its only term is longer); ``(True, a, b)`` a long term
    of its own, to parse piece by piece.  A term after a binary operator starts at the
    operator, so that "- b" parses as the unary -b and consecutive terms can share a parse."""
    groups: list[tuple[bool, int, int]] = []
    start = None
    for a, b in itertools.pairwise([lo, *adds, hi]):
        if b - a > _LONG:
            if start is not None:
                groups.append((False, start, a))
                start = None
            groups.append((True, a, b))
            continue
        if start is not None and b - start > _LONG:
            groups.append((False, start, a))
            start = None
        if start is None:
            start = a
    if start is not None:
        groups.append((False, start, hi))
    return groups


def _fold_product(
    text: str, tokens: list[_Token], lo: int, hi: int, mults: list[int], factors: list[ast.expr]
) -> ast.expr:
    """``factors`` joined left to right by the operators at ``mults``."""
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
