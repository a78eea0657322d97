"""Fuzz the loader: mutated shipped models, scenarios and test models through the CLI.

Every case copies the repository's model layout (``models/``, ``scenarios/``,
``tests/models/``) into a fresh directory, mutates one file (its parsed YAML re-dumped with
ruamel, and/or its raw text) and runs ``kpidesign validate`` on the case's entry file, plus
``kpidesign solve --format json`` for the small test models.  The contract checked: exit 0,
or exit 2 with every stderr line ``error: FILE...`` naming a file of the case; never exit 1
("internal error"), never a traceback, never a Python warning, never a hang.

The normal run is reproducible (``derandomize=True``) with 200 examples; set
``KPIDESIGN_FUZZ_EXAMPLES=5000`` for a longer run.  ``KPIDESIGN_FUZZ_TIMEOUT`` (seconds,
default 10) is the per-command hang guard; ``KPIDESIGN_FUZZ_SHRINK=1`` lets Hypothesis shrink a
failure (slow: minutes).
"""

from __future__ import annotations

import io
import math
import os
import re
import signal
import tempfile
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import TESTS
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

REPO = TESTS.parent
MAX_EXAMPLES = int(os.environ.get("KPIDESIGN_FUZZ_EXAMPLES", "200"))
CASE_TIMEOUT = float(os.environ.get("KPIDESIGN_FUZZ_TIMEOUT", "10"))
#: shrinking a failure re-runs the CLI hundreds of times (minutes); the failure message
#: already holds the mutated file and the mutations, so CI skips it unless asked
SHRINK = os.environ.get("KPIDESIGN_FUZZ_SHRINK", "") not in ("", "0")
PHASES = [p for p in Phase if SHRINK or p is not Phase.shrink]

# --------------------------------------------------------------------------------------
# the inputs: every file of the layout, kept in memory and copied into each case


def _layout() -> dict[str, bytes]:
    patterns = ("models/*.yaml", "models/data/*", "scenarios/*.yaml", "tests/models/**/*")
    out: dict[str, bytes] = {}
    for pattern in patterns:
        for path in sorted(REPO.glob(pattern)):
            if path.is_file() and path.suffix in {".yaml", ".csv", ".xlsx"}:
                out[path.relative_to(REPO).as_posix()] = path.read_bytes()
    return out


LAYOUT = _layout()
SEEDS = sorted(rel for rel in LAYOUT if rel.endswith(".yaml"))
MODEL = "models/manufacturer.yaml"
#: the scenarios' variants (a case may pass one, or an unknown one)
VARIANTS = {
    rel: [m.group(1) for m in re.finditer(r"^  (\w+):", LAYOUT[rel].decode(), re.MULTILINE)]
    for rel in SEEDS
    if rel.startswith("scenarios/") and b"\nvariants:" in LAYOUT[rel]
}


def _is_small(rel: str) -> bool:
    return rel.startswith("tests/models/")


# --------------------------------------------------------------------------------------
# values and texts the mutations draw from

ODD_STRINGS = [
    "",
    " ",
    "x",
    "1..3",
    "period",
    "product",
    "sum(",
    "1e3",
    "nan",
    "-inf",
    "yes",
    "null",
    "t in period",
    "a: b",
    "[1, 2]",
    "{a: 1}",
    "dept.kpi",
    "ünïcödé",
    "\u202eevil",
    "a\nb",
    "\t",
    "😀",
    "data/nosuch.csv",
    "../models/manufacturer.yaml",
    "data",
    "1; 2",
    "%s %d {0}",
    "[red]markup[/red]",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 120),
    st.sampled_from([0, -1, 10**30, 2**63, -(2**64)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(ODD_STRINGS),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(
        st.sampled_from(["a", "max", "min", "over", "file", "default", "1", "x y", "expr"]),
        SCALARS,
        max_size=3,
    ),
)
ODD_KEYS = [
    "x",
    "period",
    "sum",
    "for",
    "t",
    "p",
    "None",
    "lambda",
    "__import__",
    "__class__",
    "1abc",
    "a b",
    "x.y",
    "",
    "Ünï",
    "_",
    "A",
    1,
    True,
    None,
    "kpidesign",
    "objective",
    "max",
    "min",
]
RANGES = [
    "5..1",
    "1..0",
    "0..0",
    "a..b",
    "1..1e3",
    "1..100",
    "-3..3",
    "1 .. 4",
    "1...4",
    "..5",
    "1..",
    "..",
    "1..2..3",
    "01..03",
    "+1..+3",
    "1_0..2_0",
    "١..٣",
    "𝟏..𝟑",
    " 1..2 ",
    "1..2\n",
    "1.5..3",
    "0x1..0x3",
    "1..-1",
    "-1..1",
    "1..1",
    "2..12",
]
EXTREMES = [math.inf, -math.inf, math.nan, 1e308, -1e308, 1e-320, -0.0, 0, 2**63, 10**400]
ODD_SETS = [[], [1, 1], ["1", 1], [1, "01"], [True], [1.5], [[1]], [None], ["a", 1], ["", " "]]
EXPR_INSERTS = [
    "+",
    "-",
    "*",
    "/",
    "**",
    "(",
    ")",
    "[",
    "]",
    ",",
    " for ",
    " if ",
    "==",
    "<=",
    ">=",
    "<",
    "!=",
    ".",
    "'",
    '"',
    ":",
    "@",
    "%",
    "//",
    "|",
    "~",
    "not ",
    "lambda: ",
    "0",
    "1e309",
    "__",
    "\\",
    "#",
    " and ",
    "=",
    ":=",
    "...",
    "\x00",
]
EXPR_APPENDS = [
    "**2",
    " ** 2",
    ".real",
    ".__class__",
    "()",
    "[0]",
    "[t]",
    "[t-1]",
    "[t+1000]",
    " / 0",
    " / 0.0",
    " / x",
    " * x",
    " == 0",
    " <= 0",
    " >= 1e9",
    " < 1",
    ")",
    "(",
    " +",
    " if t else 0",
    " for t in period",
    " - 1e309",
    " * 1e308 * 1e308",
]
EXPR_WHOLE = [
    "__import__('os')",
    "__import__('os').system('true')",
    "x.__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 1",
    "[x for x in period]",
    "{1: 2}",
    "{1}",
    "'a'",
    "b'x'",
    "f'{1}'",
    "1j",
    "...",
    "None",
    "True",
    "x if y else z",
    "(yield)",
    "await x",
    "(x := 1)",
    "*x",
    "x[1:2]",
    "x[...]",
    "sum()",
    "sum(1, 2)",
    "sum(start=1)",
    "sum(x for x in nosuch)",
    "sum(t for t in period)",
    "sum(1 for t in period for t in period)",
    "sum(sum(1 for t in period) for t in period)",
    "sum(1 for t in period if t)",
    "sum(1 for t in period if t > 'a')",
    "sum(1 for t in period if t == t == t)",
    "sum(1 for (a, b) in period)",
    "sum(1 async for t in period)",
    "1/0",
    "0/0",
    "1e309",
    "-1e309 * 0",
    "9" * 400,
    "(" * 300 + "1" + ")" * 300,
    "-" * 3000 + "1",
    "1 + " * 3000 + "1",
    "x < y < z",
    "1 == 1",
    "1 <= 2 <= 3",
    "",
    " ",
    "#",
    "\n",
    "1\n+1",
    "period",
    "sum",
    "sum[1]",
    "t",
    "t in period",
    "p in product, t in period if t > 1",
    "t in period, t in period",
    "t in nosuch",
    "t in 1..3",
    "x in period for y in period",
    "1 in period",
    "t in period if",
    "t in period if __import__('os')",
    "t in period if t - 1",
]


# --------------------------------------------------------------------------------------
# mutations of the parsed YAML


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True
    yaml.width = 4096
    return yaml


Entry = tuple[tuple, Any, Any]  # (key path, container, key)


def _entries(root: Any) -> list[Entry]:
    out: list[Entry] = []

    def walk(node: Any, path: tuple) -> None:
        if isinstance(node, CommentedMap):
            for key in list(node):
                out.append(((*path, key), node, key))
                walk(node[key], (*path, key))
        elif isinstance(node, CommentedSeq):
            for i in range(len(node)):
                out.append(((*path, i), node, i))
                walk(node[i], (*path, i))

    walk(root, ())
    return out


def _set_key(mapping: CommentedMap, old: Any, new: Any) -> None:
    """Rename ``old`` to ``new`` in place, keeping the order (``new`` may already exist)."""
    items = [(new if k == old else k, v) for k, v in mapping.items()]
    mapping.clear()
    for k, v in items:
        mapping[k] = v


def _corrupt(text: str, draw: Callable) -> str:
    how = draw(st.sampled_from(["drop", "insert", "append", "whole", "wrap", "unbalance", "deep"]))
    if how == "deep":  # long or deeply nested texts: recursion limits of ast and the compiler
        deep = draw(st.sampled_from(["sum", "plus", "minus", "parens"]))
        return {
            "sum": text + " + 0" * 600,
            "plus": "1 + " * 3000 + text,
            "minus": "-" * 3000 + "(" + text + ")",
            "parens": "(" * 150 + text + ")" * 150,
        }[deep]
    if how == "drop" and text:
        i = draw(st.integers(0, len(text) - 1))
        return text[:i] + text[i + 1 :]
    if how == "insert":
        i = draw(st.integers(0, len(text)))
        return text[:i] + draw(st.sampled_from(EXPR_INSERTS)) + text[i:]
    if how == "append":
        return text + draw(st.sampled_from(EXPR_APPENDS))
    if how == "wrap":
        return draw(st.sampled_from(["(", "-(", "sum(", "2 * ("])) + text + ")"
    if how == "unbalance":
        return text.replace(")", "", 1) if ")" in text else "(" + text
    return draw(st.sampled_from(EXPR_WHOLE))


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _mutate_data(root: CommentedMap, draw: Callable, log: list[str]) -> None:
    entries = _entries(root)
    if not entries:
        return
    how = draw(
        st.sampled_from(
            ["delete", "retype", "rename", "swap", "expr", "expr", "range", "set", "number"]
        )
    )
    if how == "number":
        numbers = [e for e in entries if _is_number(e[1][e[2]])]
        if numbers:
            path, node, key = draw(st.sampled_from(numbers))
            node[key] = draw(st.sampled_from(EXTREMES))
            log.append(f"number {path}: {node[key]!r}"[:300])
            return
        how = "retype"
    if how == "expr":
        strings = [e for e in entries if isinstance(e[1][e[2]], str)]
        if strings:
            path, node, key = draw(st.sampled_from(strings))
            node[key] = _corrupt(node[key], draw)
            log.append(f"expr {path}: {node[key][:200]!r}")
            return
        how = "retype"
    if how in ("range", "set"):
        sets = [e for e in entries if len(e[0]) == 2 and e[0][0] == "sets"]
        sets += [e for e in entries if isinstance(e[0][-1], str) and e[0][-1].startswith("sets.")]
        if sets:
            path, node, key = draw(st.sampled_from(sets))
            pool = RANGES if how == "range" else ODD_SETS
            node[key] = draw(st.sampled_from(pool))
            log.append(f"{how} {path}: {node[key]!r}")
            return
        how = "retype"
    if how in ("rename", "swap"):
        maps = [e for e in entries if isinstance(e[1], CommentedMap)]
        path, node, key = draw(st.sampled_from(maps))
        siblings = [k for k in node if k != key]
        if how == "swap" and siblings:
            other = draw(st.sampled_from(siblings))
            items = [(other if k == key else key if k == other else k, v) for k, v in node.items()]
            node.clear()
            for k, v in items:
                node[k] = v
            log.append(f"swap {path} <-> {other!r}")
            return
        new = draw(st.sampled_from([*ODD_KEYS, *siblings]))
        _set_key(node, key, new)
        log.append(f"rename {path} -> {new!r}")
        return
    path, node, key = draw(st.sampled_from(entries))
    if how == "delete":
        del node[key]
        log.append(f"delete {path}")
        return
    node[key] = draw(VALUES)
    log.append(f"retype {path}: {node[key]!r}")


def _dump(root: Any) -> bytes:
    buf = io.StringIO()
    _yaml().dump(root, buf)
    return buf.getvalue().encode("utf-8", "surrogatepass")


# --------------------------------------------------------------------------------------
# mutations of the raw text (bytes: a truncation may cut a UTF-8 sequence)

INSERTS = [
    "\x00",
    "\x01",
    "\x1b[31m",
    "\t",
    "\r",
    "\r\n",
    "\u200f",
    "\u202e",
    "\ufeff",
    "\u2028",
    "\u0085",
    "\u00a0",
    "😀",
    "é",
    "ｘ",
    "١",
    "\\ud800",
    '"\\ud800"',
    '"\\udcff x"',
    "\\x00",
    '"\\0"',
    "\n",
    ": ",
    "- ",
    "#",
    "&a ",
    "*a ",
    "!!binary ",
    "!!python/object:os.system ",
    "!!set ",
    "!!omap ",
    "!!timestamp ",
    "!!float ",
    "!!int ",
    "!!bool ",
    "!!null ",
    "!!str ",
    "!custom ",
    "? ",
    "---\n",
    "...\n",
    "%YAML 1.1\n---\n",
    "<<: ",
    "{",
    "}",
    "[",
    "]",
    "'",
    '"',
    "|",
    ">",
]
RAW_BYTES = [b"\xff", b"\xed\xa0\x80", b"\xc3", b"\xe2\x80", b"\xfe\xff"]
YAML_FEATURES = [
    "extra: &a [1, *a]\n",
    "extra: &a {k: *a}\n",
    "x: 2020-01-01\n",
    "x: 12:30:00\n",
    "x: !!python/name:os.system ''\n",
    "x: !!float 1\n",
    "x: !!float abc\n",
    "x: !!float ''\n",
    "x: !!int 1.5\n",
    "x: !!int 0x\n",
    "x: !!bool maybe\n",
    "x: !!timestamp 2020-13-45\n",
    "x: !!binary '@@@'\n",
    "x: !!set 1\n",
    "x: &b 1\ny: &b 2\n",
    "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
    "x: {<<: {a: 1}, b: 2}\n",
    "x: !!int '3'\n",
    "x: !!set {a, b}\n",
    "x: !!omap [a: 1]\n",
    "x: 0o17\n",
    "x: 0x1F\n",
    "x: 1_000\n",
    "x: .nan\n",
    "x: ~\n",
    "? [a, b]\n: 1\n",
    "? {a: 1}\n: 1\n",
    "---\nkpidesign: 1\n",
]


def _mutate_raw(raw: bytes, draw: Callable, log: list[str]) -> bytes:
    how = draw(st.sampled_from(["truncate", "insert", "bytes", "dup", "rename", "swap", "feature"]))
    if how == "truncate":
        i = draw(st.integers(0, len(raw)))
        log.append(f"truncate at byte {i}")
        return raw[:i]
    if how == "bytes":
        i = draw(st.integers(0, len(raw)))
        junk = draw(st.sampled_from(RAW_BYTES))
        log.append(f"bytes {junk!r} at byte {i}")
        return raw[:i] + junk + raw[i:]
    text = raw.decode("utf-8", "surrogateescape")
    if how == "insert":
        i = draw(st.integers(0, len(text)))
        ins = draw(st.sampled_from(INSERTS))
        log.append(f"insert {ins!r} at char {i}")
        text = text[:i] + ins + text[i:]
    elif how == "dup":
        keyed = [
            m for m in re.finditer(r"^[ \t]*[\w.]+:.*$|[{,] *\w+: *[^,}]+", text, re.MULTILINE)
        ]
        if keyed:
            m = draw(st.sampled_from(keyed))
            line = m.group(0)
            dup = "\n" + line if line.lstrip()[:1] not in "{," else line
            text = text[: m.end()] + dup + text[m.end() :]
            log.append(f"duplicate key {line.strip()!r}")
    elif how in ("rename", "swap"):
        words = sorted(set(re.findall(r"\b[a-z_][a-z0-9_]*\b", text)))
        if words:
            a = draw(st.sampled_from(words))
            if how == "swap":
                b = draw(st.sampled_from(words))
                swap = {a: b, b: a}
                text = re.sub(rf"\b(?:{a}|{b})\b", lambda m: swap[m.group(0)], text)
                log.append(f"swap names {a!r} <-> {b!r} everywhere")
            else:
                b = draw(st.sampled_from([k for k in ODD_KEYS if isinstance(k, str)]))
                text = re.sub(rf"\b{a}\b", b, text)
                log.append(f"rename {a!r} -> {b!r} everywhere")
    else:
        feature = draw(st.sampled_from(YAML_FEATURES))
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(0, len(lines)))
        lines.insert(i, feature)
        text = "".join(lines)
        log.append(f"insert line {i + 1}: {feature!r}")
    return text.encode("utf-8", "surrogateescape")


# --------------------------------------------------------------------------------------
# running a case


class CaseTimeout(BaseException):
    """Raised by the hang guard; a BaseException so the CLI's handlers let it through."""


@contextmanager
def hang_guard(seconds: float) -> Iterator[None]:
    """Raise :class:`CaseTimeout` in the main thread after ``seconds`` (no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def ring(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


#: one mutation in most cases (so that many get past the parser), else two or three
MUTATIONS = st.integers(0, 99).map(lambda i: 1 if i < 70 else 2 if i < 90 else 3)


def make_case(draw: Callable) -> tuple[str, str, bytes, list[str], str | None]:
    """(entry file, mutated file, its bytes, mutation log, variant) for one case."""
    seed = draw(st.sampled_from(SEEDS))
    target = seed
    if seed.startswith("scenarios/") and draw(st.integers(0, 3)) == 0:
        target = MODEL  # break the model a scenario reads
    variant = None
    if seed in VARIANTS:
        variant = draw(st.sampled_from([None, *VARIANTS[seed], "nosuch"]))
    log: list[str] = []
    raw = LAYOUT[target]
    # mostly one mutation, so that many cases get past the parser to the later stages
    kinds = [draw(st.sampled_from(["data", "data", "raw"])) for _ in range(draw(MUTATIONS))]
    n_data, n_raw = kinds.count("data"), kinds.count("raw")
    if n_data:
        root = _yaml().load(raw.decode("utf-8"))
        for _ in range(n_data):
            _mutate_data(root, draw, log)
        raw = _dump(root)
    for _ in range(n_raw):
        raw = _mutate_raw(raw, draw, log)
    return seed, target, raw, log, variant


def check_case(run_cli: Callable, root: Path, seed: str, variant: str | None) -> list[str]:
    """Run the commands of one case; return what broke the contract (empty: all fine)."""
    entry = root / seed
    commands = [["validate", entry]]
    if _is_small(seed):
        commands.append(["solve", "--format", "json", "--time-limit", "5", entry])
    problems = []
    for command in commands:
        args = [*command, *(["--variant", variant] if variant else [])]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                with hang_guard(CASE_TIMEOUT):
                    result = run_cli(*args)
            except CaseTimeout as exc:
                problems.append(f"{command[0]}: hang: {exc}")
                continue
        what = f"{command[0]} (exit {result.exit_code})"
        for w in caught:
            problems.append(f"{what}: warning on stderr: {w.category.__name__}: {w.message}")
        exc = result.exception
        if exc is not None and not isinstance(exc, SystemExit):
            tb = "".join(traceback.format_exception(exc)[-6:])
            problems.append(f"{what}: exception escaped the CLI:\n{tb}")
        if "Traceback" in result.output or "internal error" in result.output:
            problems.append(f"{what}: traceback or internal error:\n{result.stderr[-2000:]}")
        if result.exit_code not in (0, 2):
            problems.append(f"{what}: exit status {result.exit_code}:\n{result.stderr[-2000:]}")
        if result.exit_code == 2:
            # one error per "\n"-terminated line (str.splitlines would also cut at U+2028 …)
            lines = result.stderr.rstrip("\n").split("\n") if result.stderr else []
            if not lines:
                problems.append(f"{what}: no error message")
            for line in lines:
                if not line.startswith("error: "):
                    problems.append(f"{what}: stderr line without 'error: ': {line[:300]!r}")
                elif command[0] == "validate" and not _located(line, root):
                    problems.append(f"{what}: error line names no file: {line[:300]!r}")
        if result.exit_code != 0:
            break  # solve only what validates
    return problems


def _located(line: str, root: Path) -> bool:
    """``error: FILE...`` where FILE is a file of the case (absolute, or relative to cwd)."""
    rest = line[len("error: ") :]
    if rest.startswith(str(root)):
        return True
    try:
        rel = root.relative_to(Path.cwd())
    except ValueError:
        return False
    return rest.startswith(str(rel))


def write_layout(root: Path, target: str, raw: bytes) -> None:
    for rel, content in LAYOUT.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw if rel == target else content)


def describe(seed: str, target: str, raw: bytes, log: list[str], variant: str | None) -> str:
    text = raw.decode("utf-8", "backslashreplace")
    head = f"seed {seed}, mutated {target}, variant {variant}\nmutations: {log}\n"
    return head + f"--- {target} ---\n{text[:4000]}"


@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=PHASES,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,  # run_cli holds no state between examples
    ],
)
@given(data=st.data())
def test_mutated_files_fail_cleanly(run_cli, data):
    seed, target, raw, log, variant = make_case(data.draw)
    with tempfile.TemporaryDirectory(prefix="kpifuzz") as tmp:
        root = Path(tmp).resolve()
        write_layout(root, target, raw)
        problems = check_case(run_cli, root, seed, variant)
        assert not problems, (
            describe(seed, target, raw, log, variant) + "\n\n" + "\n".join(problems)
        )
