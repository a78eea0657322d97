"""Reading YAML files into plain Python data while remembering where each key came from.

A :class:`SourceMap` maps key paths (tuples of keys and list indices) to the file and line
they were written at.  Scenario overlays replace parts of a model's data; the source map is
updated alongside, so an error in an overridden value points at the scenario file.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import stat
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.tokens import TagToken

from ..errors import Location, SpecError

__all__ = [
    "MAX_YAML_BYTES",
    "KeyPath",
    "Locate",
    "SourceMap",
    "check_regular_file",
    "format_path",
    "read_text",
    "read_yaml",
]

KeyPath = tuple[str | int, ...]
#: a key path -> where it is written (:meth:`SourceMap.locate`)
Locate = Callable[[KeyPath], Location]


def format_path(path: Iterable[str | int]) -> str:
    """``("sets", "product", 1)`` -> ``sets.product[1]``."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out = f"{out}.{key}" if out else str(key)
    return out


@dataclass
class SourceMap:
    """Key path -> (file, 1-based line) for every key read from a file."""

    entries: dict[KeyPath, tuple[Path, int]] = field(default_factory=dict)
    default_file: Path | None = None

    def locate(self, path: Iterable[str | int]) -> Location:
        """The location of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        for cut in range(len(path), -1, -1):
            hit = self.entries.get(path[:cut])
            if hit is not None:
                return Location(hit[0], hit[1], format_path(path))
        return Location(self.default_file, None, format_path(path))

    def replace(self, path: KeyPath, other: SourceMap, other_root: KeyPath) -> None:
        """Replace everything under ``path`` with ``other``'s entries under ``other_root``."""
        for key in [k for k in self.entries if k[: len(path)] == path]:
            del self.entries[key]
        n = len(other_root)
        for key, hit in other.entries.items():
            if key[:n] == other_root:
                self.entries[path + key[n:]] = hit


#: the largest YAML file read: ruamel's round-trip loader (the one that keeps line numbers)
#: reads about 0.2 MB a second, and bulk data belongs in CSV files (``{file: x.csv}``)
MAX_YAML_BYTES = 1_000_000
#: nesting deeper than this is refused; a model file needs fewer than ten levels
MAX_YAML_DEPTH = 50
#: values (after YAML aliases are expanded) a file may hold: a billion-laughs file of a few
#: lines expands to billions
MAX_YAML_VALUES = 500_000


class _Budget:
    """Counts the values :func:`_plain` produces, so that aliases cannot expand without
    limit."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.left = MAX_YAML_VALUES

    def spend(self, path: KeyPath, entries: dict) -> None:
        self.left -= 1
        if self.left < 0:
            msg = (
                f"{_where(self.file, path, entries)}: the file expands to more than "
                f"{MAX_YAML_VALUES:,} values (YAML aliases repeating aliases?); refused"
            )
            raise SpecError(msg)


def _where(file: Path, path: KeyPath, entries: dict) -> str:
    """``FILE:LINE: key.path`` of ``path`` (its nearest located ancestor's line)."""
    return SourceMap(entries, file).locate(path).prefix()


def _plain(
    node: Any,
    path: KeyPath,
    file: Path,
    entries: dict,
    budget: _Budget,
    open_nodes: frozenset[int] = frozenset(),
) -> Any:
    """Convert ruamel's round-trip nodes to plain dict/list/scalars, recording lines.

    Aliases are expanded into copies (within ``budget``); an alias to one of its own
    ancestors, or nesting deeper than :data:`MAX_YAML_DEPTH`, is refused.
    """
    budget.spend(path, entries)
    if isinstance(node, CommentedMap | CommentedSeq):
        if id(node) in open_nodes:
            msg = f"{_where(file, path, entries)}: a YAML alias refers to itself; refused"
            raise SpecError(msg)
        if len(path) >= MAX_YAML_DEPTH:
            msg = f"{_where(file, path, entries)}: nested deeper than {MAX_YAML_DEPTH} levels"
            raise SpecError(msg)
        open_nodes = open_nodes | {id(node)}
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            child = (*path, str(key))
            try:
                line = node.lc.key(key)[0] + 1
            except (KeyError, TypeError, AttributeError):
                line = None
            if line is not None:
                entries[child] = (file, line)
            out[str(key)] = _plain(value, child, file, entries, budget, open_nodes)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, value in enumerate(node):
            child = (*path, i)
            with contextlib.suppress(KeyError, TypeError, AttributeError, IndexError):
                entries[child] = (file, node.lc.item(i)[0] + 1)
            out_list.append(_plain(value, child, file, entries, budget, open_nodes))
        return out_list
    if isinstance(node, TaggedScalar):
        msg = (
            f"{_where(file, path, entries)}: YAML tag {node.tag.value!s} is not supported "
            "(kpidesign files use plain YAML)"
        )
        raise SpecError(msg)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def read_yaml(path: Path) -> tuple[Any, SourceMap]:
    """Read ``path`` into plain data and its :class:`SourceMap`.

    Raises :class:`SpecError` (``FILE:LINE: message``) for a missing file, a YAML syntax
    error, a duplicate key or an empty file.
    """
    text = read_text(path, MAX_YAML_BYTES, "a YAML file")
    deep = _too_deep_line(text)
    if deep is not None:
        msg = f"{path}:{deep}: nested too deeply to read (at most {MAX_YAML_DEPTH} levels)"
        raise SpecError(msg)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            node = yaml.load(text)
    except (RecursionError, MemoryError):
        msg = f"{path}: nested too deeply to read (at most {MAX_YAML_DEPTH} levels)"
        raise SpecError(msg) from None
    except ReaderError as exc:  # a character YAML does not allow (NUL, other controls)
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        msg = f"{path}:{line}: YAML error: character U+{code:04X} is not allowed"
        raise SpecError(msg) from None
    except (ValueError, KeyError, IndexError, AttributeError, TypeError, OverflowError) as exc:
        # ruamel's constructors raise plain errors for a tag they cannot apply (!!float abc)
        msg = (
            f"{path}:{_first_tag_line(yaml, text)}: YAML error: a tagged value could not be "
            f"read ({type(exc).__name__}: {' '.join(str(exc).split())[:100]}); kpidesign files "
            "use plain YAML, without tags such as !!float"
        )
        raise SpecError(msg) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        what = " ".join(what.split())
        msg = f"{path}{line}: YAML syntax error: {what}"
        raise SpecError(msg) from None
    except YAMLError as exc:
        msg = f"{path}: YAML error: {' '.join(str(exc).split())}"
        raise SpecError(msg) from None
    for warning in caught:  # a duplicate anchor, say: refused rather than printed
        what = " ".join(str(warning.message).split())
        lines = re.findall(r"line:? (\d+)", what)
        at = f":{lines[-1]}" if lines else ""
        head = what.split(' in "')[0].split(" first occurrence")[0].strip()
        msg = f"{path}{at}: YAML error: {head}"
        raise SpecError(msg)
    if node is None:
        msg = f"{path}: the file is empty"
        raise SpecError(msg)
    if not isinstance(node, CommentedMap):
        msg = f"{path}:1: the file must be a mapping of keys (kpidesign: 1, ...)"
        raise SpecError(msg)
    entries: dict[KeyPath, tuple[Path, int]] = {(): (path, 1)}
    data = _plain(node, (), path, entries, _Budget(path))
    return data, SourceMap(entries, path)


_BRACKET = re.compile(r"[\[\]{}]")


def _too_deep_line(text: str) -> int | None:
    """The line where collections nest deeper than :data:`MAX_YAML_DEPTH`, found quickly
    where flow brackets are to blame; None otherwise (deep block nesting, if any, is
    refused while the nodes are converted).  ruamel's scanner looks up to 1,024
    characters ahead for each open flow collection, so 20,000 ``[`` took 7 s of CPU to end
    in a RecursionError.  The brackets are counted first, as if each opened or closed a
    collection (cheap; brackets inside quotes only add to the count, and a closing one
    there can only hide depth, which the load still refuses, slowly); only where that
    count exceeds the limit are YAML's own events read, up to the limit (a syntax error
    there is left to the load to report)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    if deepest <= MAX_YAML_DEPTH:
        return None
    depth = 0
    with contextlib.suppress(YAMLError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for event in YAML(typ="rt").parse(text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    return event.start_mark.line + 1
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    return None


def _first_tag_line(yaml: YAML, text: str) -> int:
    """The line of the first explicit tag (``!!float``) in ``text``; 1 if none is found."""
    with contextlib.suppress(Exception):
        for token in yaml.scan(text):
            if isinstance(token, TagToken):
                return token.start_mark.line + 1
    return 1


def check_regular_file(path: Path, what: str = "file") -> int:
    """The size of ``path``; a :class:`SpecError` unless it is a regular file.

    Checked before opening: opening a FIFO for reading blocks until a writer comes, and a
    directory or a device is no model.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        msg = f"{path}: {what} not found"
        raise SpecError(msg) from None
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror or exc}"
        raise SpecError(msg) from None
    if stat.S_ISDIR(st.st_mode):
        msg = f"{path}: is a directory, not a file"
        raise SpecError(msg)
    if not stat.S_ISREG(st.st_mode):
        msg = f"{path}: is not a regular file (a pipe, socket or device); give a file"
        raise SpecError(msg)
    return st.st_size


def read_text(path: Path, max_bytes: int, what: str) -> str:
    """The UTF-8 text of the regular file ``path``, refused above ``max_bytes``."""
    size = check_regular_file(path)
    if size > max_bytes:
        msg = (
            f"{path}: {size:,} bytes; {what} may have at most {max_bytes:,} "
            "(put bulk data in CSV files: {file: data.csv})"
        )
        raise SpecError(msg)
    try:
        with path.open("rb") as fh:  # read no more than allowed, whatever stat said
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror or exc}"
        raise SpecError(msg) from None
    if len(raw) > max_bytes:
        msg = f"{path}: more than {max_bytes:,} bytes; {what} may have at most that"
        raise SpecError(msg)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        msg = f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); is this a binary file?"
        raise SpecError(msg) from None


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name`` (for "did you mean …"), if any is close."""
    hits = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return hits[0] if hits else None


def did_you_mean(name: str, candidates: Iterable[str], otherwise: str = "") -> str:
    """`` (did you mean 'x'?)`` for the candidate closest to ``name``, or ``otherwise``
    where none is close: the suffix of an "unknown name" message."""
    hint = closest(name, candidates)
    return f" (did you mean '{hint}'?)" if hint else otherwise
