"""User errors on the command line: one red ``error:`` line each and exit status 2, never
a traceback (``kpidesign --debug`` shows one)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from ..errors import KpiDesignError

__all__ = ["handle_errors", "one_line"]

_err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(messages: list[str]) -> None:
    for line in messages:
        _err.print(f"[red]error:[/red] {escape(one_line(line))}", markup=True, highlight=False)


def one_line(text: str) -> str:
    """``text`` as one printable line: line breaks, escape sequences and other control or
    format characters (a user's file may hold any) shown as escapes, never acted on."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def handle_errors(fn: Callable) -> Callable:
    """Turn user errors into one red line each and exit status 2; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return fn(*args, **kwargs)
        except KpiDesignError as exc:
            if debug:
                raise
            _fail(exc.messages)
            sys.exit(2)
        except click.ClickException:
            raise  # a usage error: click prints it with the usage line (exit status 2)
        except KeyboardInterrupt as exc:  # a sweep's says what it kept
            _fail([str(exc) or "interrupted"])
            sys.exit(130)
        except Exception as exc:
            if debug:
                raise
            _fail([f"internal error ({type(exc).__name__}): {exc} (run with --debug for details)"])
            sys.exit(1)

    return wrapper
