"""Reading YAML files into plain Python data while remembering where each key came from.

A :class:`SourceMap` maps key paths (tuples of keys and list indices) to the file and line
they were written at.  Scenario overlays replace parts of a model's data; the source map is
updated alongside, so an error in an overridden value points at the scenario file.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import Location, SpecError

__all__ = ["KeyPath", "SourceMap", "format_path", "read_yaml"]

KeyPath = tuple[str | int, ...]


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


def _plain(node: Any, path: KeyPath, file: Path, entries: dict) -> Any:
    """Convert ruamel's round-trip nodes to plain dict/list/scalars, recording lines."""
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
            out[str(key)] = _plain(value, child, file, entries)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, value in enumerate(node):
            child = (*path, i)
            with contextlib.suppress(KeyError, TypeError, AttributeError, IndexError):
                entries[child] = (file, node.lc.item(i)[0] + 1)
            out_list.append(_plain(value, child, file, entries))
        return out_list
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
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{path}: file not found"
        raise SpecError(msg) from None
    except IsADirectoryError:
        msg = f"{path}: is a directory, not a file"
        raise SpecError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read: {exc}"
        raise SpecError(msg) from None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        node = yaml.load(text)
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
    if node is None:
        msg = f"{path}: the file is empty"
        raise SpecError(msg)
    if not isinstance(node, CommentedMap):
        msg = f"{path}:1: the file must be a mapping of keys (kpidesign: 1, ...)"
        raise SpecError(msg)
    entries: dict[KeyPath, tuple[Path, int]] = {(): (path, 1)}
    data = _plain(node, (), path, entries)
    return data, SourceMap(entries, path)


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name`` (for "did you mean …"), if any is close."""
    hits = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return hits[0] if hits else None
