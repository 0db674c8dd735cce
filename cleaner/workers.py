"""Where a run's slow work is done: :class:`Workers`, in this process or in worker
processes, each with one :class:`~cleaner.core.Cleaner` (``cleaner.dask_engine`` has the same
interface on a Dask cluster)."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from itertools import islice
from typing import Any, TypeVar

from cleaner.config import CleanerConfig
from cleaner.core import Cleaner
from cleaner.corpus import CandidateFinder

C = TypeVar("C")
R = TypeVar("R")

# The Cleaner of a worker process, made once when the process starts (loading the rules per
# chunk of lines would cost more than some chunks take to clean).
_worker_cleaner: Cleaner | None = None
#: The run's main process, seen from a worker (None in the main process).
_worker_parent: int | None = None


#: Held while a worker works on a chunk: the watchdog ends an orphaned worker only between
#: chunks, so the file at hand is finished (in place, it is replaced whole or not at all).
_working = threading.Lock()
#: How often a worker looks whether its run is still alive, in seconds.
_WATCH_SECONDS = 0.5
#: A worker's first garbage-collection threshold (Python's default is 700 allocations):
#: cleaning makes many small objects and few cycles, and the default threshold's
#: collections took 9% of a worker's time on a generated dump (6% at this one).
WORKER_GC_THRESHOLD = 20_000


def _start_worker(config: CleanerConfig) -> None:
    global _worker_cleaner, _worker_parent
    gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])
    _worker_cleaner = Cleaner(config)
    _worker_parent = os.getppid()
    threading.Thread(target=_watch_parent, name="cleaner-watchdog", daemon=True).start()


def _watch_parent() -> None:
    """End this worker once its run has died. A killed run cannot tell its workers, and they
    would wait for work forever (each holds the work queue open for the others)."""
    while True:
        time.sleep(_WATCH_SECONDS)
        if orphaned() and _working.acquire(blocking=False):
            os._exit(0)


def orphaned() -> bool:
    """Whether this is a worker whose run has died (killed: its workers are left to run)."""
    return _worker_parent is not None and os.getppid() != _worker_parent


def _in_worker(work: Callable[..., R], args: tuple[Any, ...], chunk: Any) -> R:
    assert _worker_cleaner is not None
    with _working:
        if orphaned():  # work queued before the run died: nobody waits for it
            os._exit(0)
        return work(_worker_cleaner, *args, chunk)


class Workers:
    """Where a run's slow work is done: in this process with one job, else in processes that
    are started at the first work that needs them and shared by every file of the run, each
    with one :class:`Cleaner`.

    :meth:`map` hands out chunks of work and gives their results back in input order, with
    only a few chunks in flight at once, so memory stays flat however much there is, and the
    results do not depend on the number of processes.
    """

    #: JSON Lines chunks are this many times the command line's chunk size.
    chunk_scale = 1
    #: Chunks handed out per process before the first result is taken: enough that a
    #: process finds the next chunk waiting while the results are taken in input order.
    in_flight = 2
    #: Whether the processes read JSON Lines chunks from the files themselves (given where
    #: the chunk is) rather than being sent the lines: workers of another machine may not
    #: see the run's paths, and sending lines down a pipe costs the local engine little.
    reads_files = False

    def __init__(self, config: CleanerConfig, processes: int) -> None:
        self.config = config
        self.processes = processes
        #: How the corpus pass finds LSH candidates (None: in this process).
        self.candidates: CandidateFinder | None = None
        self._pool: ProcessPoolExecutor | None = None
        #: Called before this Workers starts its processes (see :meth:`phase`).
        self._before_start: Callable[[], None] | None = None
        self._cleaner: Cleaner | None = None

    def parts(self) -> str | None:
        """A folder for the workers to write large results into, for this process to read
        (None: results come back as they are). The local engine's results come down a
        pipe, cheaply: None."""
        return None

    @property
    def cleaner(self) -> Cleaner:
        """The Cleaner of this process, for work done here."""
        if self._cleaner is None:
            self._cleaner = Cleaner(self.config)
        return self._cleaner

    def map(
        self, work: Callable[..., R], chunks: Iterable[C], *args: Any, here: bool = False
    ) -> Iterator[R]:
        """``work(cleaner, *args, chunk)`` for each chunk, in order. ``work`` must be a
        module-level function (it is sent to the processes by name); ``here`` keeps the work
        in this process."""
        if self.processes <= 1 or here:
            for chunk in chunks:
                yield work(self.cleaner, *args, chunk)
            return
        pool = self._started()
        chunks = iter(chunks)
        window: deque[Future[R]] = deque(
            pool.submit(_in_worker, work, args, chunk)
            for chunk in islice(chunks, self.processes * self.in_flight)
        )
        try:
            while window:
                done = window.popleft().result()
                for chunk in islice(chunks, 1):
                    window.append(pool.submit(_in_worker, work, args, chunk))
                yield done
        finally:  # a caller that stops early (a broken file) leaves no work queued
            for future in window:
                future.cancel()

    @contextmanager
    def phase(self) -> Iterator[Workers]:
        """Workers for a phase after which this process works alone for a while (the corpus
        pass signs, then decides): processes of their own, ended when the phase ends, so
        that what they hold (numba's compiled code, about 140 MiB a process) is let go of
        while this process decides. This Workers' own processes are started first, while
        this process is still small: started later, they would be forked from the
        decisions (and a forked child's RSS counts its parent's pages)."""
        if self.processes <= 1:
            yield self
            return
        helpers = Workers(self.config, self.processes)
        # Only if the phase starts processes at all (a single file is signed here).
        helpers._before_start = self._start_all
        try:
            yield helpers
        finally:
            helpers.close()

    def _start_all(self) -> None:
        pool = self._started()
        for started in [pool.submit(os.getpid) for _ in range(self.processes)]:
            started.result()  # every process of the pool is running now

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            if self._before_start is not None:
                self._before_start()
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes, initializer=_start_worker, initargs=(self.config,)
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
