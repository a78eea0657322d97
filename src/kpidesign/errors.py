"""Errors a user can cause, each located as ``FILE:LINE: key.path: message``.

One base class, :class:`KpiDesignError`; the CLI turns any of them into red lines and exit
status 2.  Errors in a user's file are collected (:class:`ErrorCollector`) so that one run
reports all of them, not just the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .types import Diagnosis, Status

__all__ = [
    "BuildError",
    "ErrorCollector",
    "KpiDesignError",
    "Location",
    "SolveError",
    "SpecError",
]


@dataclass(frozen=True)
class Location:
    """Where something is in a user's file: file, 1-based line (if known) and key path."""

    file: Path | None
    line: int | None = None
    path: str = ""

    def prefix(self) -> str:
        """``FILE:LINE: key.path`` (the parts that are known)."""
        parts = []
        if self.file is not None:
            parts.append(str(self.file) if self.line is None else f"{self.file}:{self.line}")
        if self.path:
            parts.append(self.path)
        return ": ".join(parts)

    def child(self, key: str | int, line: int | None = None) -> Location:
        """The location of ``key`` below this one (at ``line`` if given)."""
        path = f"{self.path}.{key}" if self.path else str(key)
        return Location(self.file, line if line is not None else self.line, path)


def _format(location: Location | None, message: str) -> str:
    prefix = location.prefix() if location is not None else ""
    return f"{prefix}: {message}" if prefix else message


class KpiDesignError(Exception):
    """Base class of every error a user can cause.  ``messages`` holds one line per error."""

    def __init__(self, messages: str | Iterable[str]):
        self.messages: list[str] = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))

    @classmethod
    def at(cls, location: Location | None, message: str) -> KpiDesignError:
        """The error ``message`` at ``location``."""
        return cls(_format(location, message))


class SpecError(KpiDesignError):
    """A model or scenario file is malformed or inconsistent."""


class BuildError(KpiDesignError):
    """An expression or constraint cannot be turned into a linear model."""


class SolveError(KpiDesignError):
    """The solver could not produce the result an analysis needs (infeasible, unbounded …).

    Analyses raise it internally and return its :attr:`diagnosis` as a value: a result
    whose status is not optimal.
    """

    def __init__(
        self,
        message: str,
        status: Status = Status.ERROR,
        *,
        conflict: Iterable[str] = (),
        ray: Iterable[str] = (),
    ):
        super().__init__(message)
        self.diagnosis = Diagnosis(status, message, tuple(conflict), tuple(ray))

    @classmethod
    def of(cls, diagnosis: Diagnosis) -> SolveError:
        """The error that carries ``diagnosis``."""
        return cls(
            diagnosis.message, diagnosis.status, conflict=diagnosis.conflict, ray=diagnosis.ray
        )


class ErrorCollector:
    """Collects located errors so a file reports all of its problems at once."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, location: Location | None, message: str) -> None:
        """Record ``message`` at ``location`` (once)."""
        line = _format(location, message)
        if line not in self.messages:
            self.messages.append(line)

    def extend(self, error: KpiDesignError) -> None:
        """Record every line of ``error`` (once each)."""
        for line in error.messages:
            if line not in self.messages:
                self.messages.append(line)

    def __bool__(self) -> bool:
        return bool(self.messages)

    def raise_if_any(self, cls: type[KpiDesignError] = SpecError) -> None:
        """Raise ``cls`` with every recorded message, if there is any."""
        if self.messages:
            raise cls(self.messages)
