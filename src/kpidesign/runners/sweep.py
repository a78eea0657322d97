"""A sweep: every point's spec resolved and validated before any solving, the points run
in fixed chunks on this process, a process pool or a Dask cluster, finished chunks kept in
``--out`` so that an interrupted sweep resumes where it stopped, and the rows put back in
point order, so that the output is the same whatever ran it."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..spec import ModelSpec
from ..spec.load import CachedReader, load
from ..spec.scenario import Overlay
from .plan import CHUNK, Point, chunks, fingerprint
from .points import SweepTask, run_chunk

__all__ = ["ENGINES", "MAX_ERRORS", "SweepInterrupted", "map_chunks", "point_specs", "run_chunks"]

ENGINES = ("local", "dask")
#: point errors shown at most (each is one line; a bad range can make thousands)
MAX_ERRORS = 50


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: the finished chunks are kept where ``--out`` said (its
    message says where, and how to continue)."""

    def __init__(self, done: int, total: int, kept: Path | None):
        where = (
            f"kept in {kept}; continue with --resume {kept}"
            if kept is not None
            else "not kept (give --out DIR to keep finished points)"
        )
        super().__init__(f"interrupted: {done} of {total} points finished, {where}")


def _label(point: Point) -> str:
    values = ", ".join(f"{k}={v}" for k, v in point.labels().items())
    variant = f"variant {point.variant}, " if point.variant else ""
    return f"sweep point {point.index} ({variant}{values})"


def point_specs(
    file: Path, points: list[Point], max_size: int, reader: CachedReader | None = None
) -> list[ModelSpec]:
    """Each point's spec, through the same loader as a scenario's ``set`` and ``scale``
    (each YAML file read once); every point's errors, one line each, before any solving."""
    reader = reader or CachedReader()
    specs, errors = [], []
    for p in points:
        overlay = Overlay(p.sets(), p.scales(), _label(p))
        try:
            specs.append(load(file, p.variant, max_size=max_size, overlay=overlay, reader=reader))
        except SpecError as exc:
            errors.extend(exc.messages)
    if errors:
        more = len(errors) - MAX_ERRORS
        raise SpecError(errors[:MAX_ERRORS] + ([f"... and {more} more"] if more > 0 else []))
    return specs


# -- where finished chunks are kept -------------------------------------------------------


class _Store:
    """Finished chunks as ``DIR/.sweep/chunk-NNNNN.json``, with the sweep's fingerprint in
    ``DIR/.sweep/sweep.json``: a resumed sweep reuses only chunks of the same sweep."""

    def __init__(self, root: Path | None, key: str, resume: bool):
        self.dir = None if root is None else root / ".sweep"
        if self.dir is None:
            return
        stamp = self.dir / "sweep.json"
        if resume:
            if not stamp.is_file():
                msg = f"--resume {root}: no sweep was started there"
                raise SpecError(msg)
            if json.loads(stamp.read_text()).get("fingerprint") != key:
                msg = (
                    f"--resume {root}: the sweep kept there is another one (other files, "
                    "paths, values, analysis or options)"
                )
                raise SpecError(msg)
        else:
            if self.dir.exists():
                for old in self.dir.glob("chunk-*.json"):
                    old.unlink()
            self.dir.mkdir(parents=True, exist_ok=True)
            stamp.write_text(json.dumps({"fingerprint": key}) + "\n")

    def _path(self, i: int) -> Path:
        assert self.dir is not None
        return self.dir / f"chunk-{i:05d}.json"

    def load(self, i: int) -> list[dict] | None:
        """Chunk ``i``'s rows if it finished before."""
        if self.dir is None or not self._path(i).is_file():
            return None
        return json.loads(self._path(i).read_text())

    def keep(self, i: int, rows: list[dict]) -> None:
        """Write chunk ``i``'s rows (whole, or not at all: written aside, then renamed)."""
        if self.dir is None:
            return
        aside = self._path(i).with_suffix(".part")
        aside.write_text(json.dumps(rows))
        aside.replace(self._path(i))


# -- engines -------------------------------------------------------------------------------


def _local(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes, spawned (never forked: HiGHS may hold threads),
    each ignoring Ctrl-C (see :func:`_ignore_ctrl_c`)."""
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_ignore_ctrl_c)


@contextlib.contextmanager
def _dask_client(workers: int, scheduler: str | None, verbose: bool) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the installed extras
        msg = "--engine dask needs Dask: pip install 'kpidesign[dask]'"
        raise SpecError(msg) from None
    quiet = logging.WARNING if verbose else logging.CRITICAL
    for name in ("distributed", "distributed.scheduler", "distributed.worker", "tornado"):
        logging.getLogger(name).setLevel(quiet)
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":8787" if verbose else None,
            silence_logs=quiet,
        ) as cluster,
        Client(cluster) as client,
    ):
        # a terminal's Ctrl-C reaches the whole process group: the sweep, not each worker
        # (which would print its own traceback), decides what happens
        client.run(_ignore_ctrl_c)
        yield client


def _ignore_ctrl_c() -> None:
    """SIGINT ignored in this process (run on each worker of a LocalCluster and of the
    process pool, in its main thread)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_chunks(
    task: SweepTask,
    work: list[tuple[Point, ModelSpec]],
    *,
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    out: Path | None = None,
    resume: bool = False,
    key: str = "",
    verbose: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Every point's row, in point order: chunks of ``CHUNK[analysis]`` points (the same
    whatever the number of workers) run serially (``workers`` 1), on a process pool, or on
    Dask (a cluster at ``scheduler``, else a LocalCluster of ``workers`` processes); chunks kept
    in ``out`` are not run again when ``resume``. Ctrl-C raises :class:`SweepInterrupted`
    after the finished chunks are kept. ``progress(done, total)`` hears of every chunk."""
    if engine not in ENGINES:
        msg = f"engine must be one of {', '.join(ENGINES)}, not {engine!r}"
        raise ValueError(msg)
    parts = chunks(work, CHUNK[task.analysis])
    store = _Store(out, key or fingerprint(task.analysis), resume)
    done: dict[int, list[dict]] = {}
    for i in range(len(parts)):
        rows = store.load(i)
        if rows is not None:
            done[i] = rows
    report = progress or (lambda _done, _total: None)
    report(sum(len(r) for r in done.values()), len(work))
    todo = [i for i in range(len(parts)) if i not in done]

    def finished(i: int, rows: list[dict]) -> None:
        store.keep(i, rows)
        done[i] = rows
        report(sum(len(r) for r in done.values()), len(work))

    try:
        map_chunks(
            functools.partial(run_chunk, task),
            {i: parts[i] for i in todo},
            finished,
            workers=workers,
            engine=engine,
            scheduler=scheduler,
            verbose=verbose,
        )
    except KeyboardInterrupt:
        n = sum(len(r) for r in done.values())
        raise SweepInterrupted(n, len(work), out) from None
    return [row for i in range(len(parts)) for row in done[i]]


def map_chunks(
    fn: Callable[[Any], Any],
    chunks: dict[int, Any],
    finished: Callable[[int, Any], None],
    *,
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    verbose: bool = False,
) -> None:
    """``fn`` of every chunk, each result handed to ``finished(i, result)`` as it comes
    (in chunk order among those done together): serially (``workers`` 1), on a spawned
    process pool, or on Dask (a cluster at ``scheduler``, else a LocalCluster of
    ``workers`` processes). ``fn`` must be picklable (a module function or a partial of
    one). A failure or Ctrl-C cancels what has not run."""
    if engine not in ENGINES:
        msg = f"engine must be one of {', '.join(ENGINES)}, not {engine!r}"
        raise ValueError(msg)
    todo = sorted(chunks)
    if engine == "local" and (workers <= 1 or len(todo) <= 1):
        for i in todo:
            finished(i, fn(chunks[i]))
    elif engine == "local":
        with _local(min(workers, len(todo))) as pool:
            futures = {pool.submit(fn, chunks[i]): i for i in todo}
            try:
                pending = set(futures)
                while pending:
                    ready, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in sorted(ready, key=futures.__getitem__):
                        finished(futures[f], f.result())
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
    else:
        from distributed import as_completed

        with _dask_client(workers, scheduler, verbose) as client:
            futures = {client.submit(fn, chunks[i], pure=False): i for i in todo}
            try:
                for f in as_completed(list(futures)):
                    finished(futures[f], f.result())
            except BaseException:
                client.cancel(list(futures))
                raise


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
