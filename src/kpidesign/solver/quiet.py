"""Silencing what C libraries write to the process's stdout and stderr."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

__all__ = ["silenced_fds"]

_FD_LOCK = threading.Lock()


@contextlib.contextmanager
def silenced_fds() -> Iterator[None]:
    """Point file descriptors 1 and 2 at ``/dev/null`` for the duration of the block.

    HiGHS (1.16 and likely later) writes its banner with C's stdio when a ``Highs`` object
    is constructed, before ``output_flag`` can be switched off; Python's ``sys.stdout``
    never sees it, so only the descriptors can be redirected.  The descriptors are
    process-wide, hence the lock; Python's own buffers are flushed first so nothing of
    ours is swallowed.
    """
    with _FD_LOCK:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        saved: list[tuple[int, int]] = []
        try:
            null = os.open(os.devnull, os.O_WRONLY)
        except OSError:  # pragma: no cover - no /dev/null: nothing we can do
            yield
            return
        try:
            for fd in (1, 2):
                with contextlib.suppress(OSError):  # a closed descriptor stays closed
                    saved.append((fd, os.dup(fd)))
                    os.dup2(null, fd)
            yield
        finally:
            _flush_c_stdio()
            for fd, copy in saved:
                os.dup2(copy, fd)
                os.close(copy)
            os.close(null)


def _flush_c_stdio() -> None:
    """Flush C's stdio buffers, so text HiGHS buffered goes to ``/dev/null``, not later to
    the restored descriptor (stdout is block-buffered when it is a pipe)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).fflush(None)
