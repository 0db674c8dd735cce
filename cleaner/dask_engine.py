"""The Dask engine (``cleaner clean --engine dask``): the run's work on a Dask cluster.

The pipeline is the local engine's, step for step, so the output is the same bytes:

- Partitions: the files of a run, and JSON Lines shards cut into partitions of lines (at most
  1,024 lines or 16 MiB, numbered as in the file), go to the cluster's workers as tasks. Each
  worker process keeps one :class:`~cleaner.core.Cleaner` per config, made at its first task.
- The corpus pass: each partition is read and its articles signed there (MinHash of every
  passage and of the whole article); the compact signatures come back to this process, which
  holds the index, as with local worker processes.
- LSH: the band keys of the passages (and of the articles) become a Dask DataFrame, shuffled
  by key across the cluster; each partition links every bucket (band, key) to its
  lowest-ranked member (:func:`link_buckets`), the same candidate pairs as
  :func:`cleaner.corpus.band_candidates`. The candidates are verified against the threshold
  and grouped by connected components here, on numpy arrays (as the local engine does).
- Cleaning: each partition is cleaned on the cluster with the corpus pass's verdicts; this
  process writes the outputs and the report in input order, so nothing depends on which
  worker finished first.

A remote cluster (``--scheduler tcp://HOST:PORT``) must see the run's paths: text files and
HTML pages are read and written by the workers. JSON Lines files are written here; workers
on this machine read their chunks of them themselves (told where each chunk is), workers on
other machines are sent the lines.
"""

from __future__ import annotations

import ipaddress
import pickle
import shutil
import socket
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any, TypeVar
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from cleaner.config import CleanerConfig
from cleaner.core import Cleaner
from cleaner.workers import Workers

C = TypeVar("C")
R = TypeVar("R")

#: The Cleaners of a Dask worker process, by config: made at the first task that needs one.
_cleaners: dict[CleanerConfig, Cleaner] = {}


def _cleaner_for(config: CleanerConfig) -> Cleaner:
    cleaner = _cleaners.get(config)
    if cleaner is None:
        cleaner = _cleaners[config] = Cleaner(config)
    return cleaner


def _on_this_machine(address: str) -> bool:
    """Whether a worker's address (``tcp://HOST:PORT``, ``inproc://...``) is this machine."""
    parts = urlsplit(address)
    if parts.scheme == "inproc":
        return True
    host = parts.hostname
    if host is None:
        return False
    if host in ("localhost", socket.gethostname()):
        return True
    try:
        if ipaddress.ip_address(host).is_loopback:
            return True
        return host in {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
    except (OSError, ValueError):  # a host name, or one this machine cannot resolve
        return False


def _run_task(config: CleanerConfig, task: bytes) -> bytes:
    """One partition's work on a Dask worker: ``work(cleaner, *args, chunk)``, given and
    returned pickled (see :meth:`DaskWorkers.map`)."""
    work, args, chunk = pickle.loads(task)
    return pickle.dumps(work(_cleaner_for(config), *args, chunk), pickle.HIGHEST_PROTOCOL)


def _pickled(work: Callable[..., Any], args: tuple[Any, ...], chunk: Any) -> bytes:
    return pickle.dumps((work, args, chunk), pickle.HIGHEST_PROTOCOL)


class DaskWorkers(Workers):
    """The run's workers on a Dask cluster, with the local engine's interface (:meth:`map`
    in input order, a few partitions in flight at once).

    ``scheduler``: the address of a running scheduler; None starts a local cluster of
    ``workers`` single-threaded worker processes for the run (closed by :meth:`close`).
    """

    #: A task costs the scheduler and the client milliseconds of their own: partitions of
    #: 1,024 lines (16 MiB) rather than the local engine's 256.
    chunk_scale = 4
    #: A worker waits on the scheduler between tasks: with six queued per thread rather than
    #: two it always has the next one (100,000 articles on 2 cores, 2026-12-03, one run each
    #: on a machine whose speed varies: 255 s against 340 s). The client holds at most
    #: threads x 6 chunks and their results.
    in_flight = 6

    def __init__(self, config: CleanerConfig, scheduler: str | None, workers: int) -> None:
        from distributed import Client, LocalCluster

        self._cluster: Any = None
        if scheduler is None:
            import dask

            # The workers' statistical profiler samples every task's stack 100 times a
            # second: a tenth of their time on this pipeline (a cluster of the user's own
            # keeps its own settings).
            with dask.config.set({"distributed.worker.profile.enabled": False}):
                self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=workers, threads_per_worker=1, processes=True,
                    dashboard_address=None,
                )  # fmt: skip
            self.client: Any = Client(self._cluster)  # type: ignore[no-untyped-call]
        else:
            self.client = Client(scheduler)  # type: ignore[no-untyped-call]
        nthreads = self.client.nthreads()
        threads = sum(nthreads.values())
        #: Tasks that run at once (the local engine's processes): sizes the partitions.
        super().__init__(config, max(2, threads))
        self.candidates = DaskCandidates(self.client, partitions=max(2, threads))
        #: Workers of this machine see its paths: each reads its chunk of a JSON Lines file
        #: itself, instead of the lines going from here through the scheduler to it, and
        #: writes what cleaning it gave to a file for this process to read (:meth:`parts`).
        self.reads_files = bool(nthreads) and all(map(_on_this_machine, nthreads))
        self._parts: str | None = None

    def map(
        self, work: Callable[..., R], chunks: Iterable[C], *args: Any, here: bool = False
    ) -> Iterator[R]:
        """``work(cleaner, *args, chunk)`` for each chunk, in order, on the cluster (``here``:
        in this process)."""
        if here:
            for chunk in chunks:
                yield work(self.cleaner, *args, chunk)
            return

        # Each task's work, arguments and chunk go as one pickled string, and its result
        # comes back as one: Dask moves the bytes as they are. Given the objects, it walks
        # them looking for tasks, and its scheduler (in this process, for a local cluster)
        # unpickles and pickles them again on their way to the worker.
        def submit(chunk: C) -> Any:
            task = _pickled(work, args, chunk)
            return self.client.submit(_run_task, self.config, task, pure=False)

        chunks = iter(chunks)
        window: deque[Any] = deque(
            submit(chunk) for chunk in islice(chunks, self.processes * self.in_flight)
        )
        try:
            while window:
                done: R = pickle.loads(window.popleft().result())
                for chunk in islice(chunks, 1):
                    window.append(submit(chunk))
                yield done
        finally:  # a caller that stops early leaves no work queued
            for future in window:
                future.cancel()

    def parts(self) -> str | None:
        """A temporary folder of the run, when the workers are on this machine (removed by
        :meth:`close`): a chunk's cleaned lines and report lines, megabytes, then go from
        worker to client through the page cache rather than through both event loops."""
        if self.reads_files and self._parts is None:
            self._parts = tempfile.mkdtemp(prefix="cleaner-parts-")
        return self._parts

    @contextmanager
    def phase(self) -> Iterator[Workers]:
        """The cluster itself: its workers are not this machine's to end between phases."""
        yield self

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        if self._parts is not None:
            shutil.rmtree(self._parts, ignore_errors=True)
            self._parts = None


_LINKS_META = pd.DataFrame({"head": np.zeros(0, dtype=np.int64),
                            "other": np.zeros(0, dtype=np.int64)})  # fmt: skip


def _band_frame(band: int, keys: np.ndarray, rank: np.ndarray) -> pd.DataFrame:
    """One band's rows: (band, key, rank, row)."""
    return pd.DataFrame({
        "band": np.full(len(keys), band, dtype=np.int32),
        "key": keys,
        "rank": rank,
        "row": np.arange(len(keys), dtype=np.int64),
    })  # fmt: skip


def link_buckets(frame: pd.DataFrame) -> pd.DataFrame:
    """Within a partition of rows shuffled by key: each bucket (band, key) links its rows to
    its lowest-ranked row, as (head, other) row pairs."""
    if frame.empty:
        return _LINKS_META.copy()
    band = frame["band"].to_numpy()
    key = frame["key"].to_numpy()
    order = np.lexsort((frame["rank"].to_numpy(), key, band))
    band, key, row = band[order], key[order], frame["row"].to_numpy()[order]
    new = np.concatenate(([True], (band[1:] != band[:-1]) | (key[1:] != key[:-1])))
    head = row[np.maximum.accumulate(np.where(new, np.arange(len(row)), 0))]
    linked = ~new
    return pd.DataFrame({"head": head[linked], "other": row[linked]})


class DaskCandidates:
    """A :data:`cleaner.corpus.CandidateFinder` on a Dask cluster: the band keys as a Dask
    DataFrame, shuffled by key, each partition's buckets linked by :func:`link_buckets`."""

    def __init__(self, client: Any, partitions: int) -> None:
        self.client = client
        self.partitions = partitions

    def __call__(self, keys: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import dask.dataframe as dd

        empty = np.zeros(0, dtype=np.int64)
        bands = len(keys)
        if not bands or keys.shape[1] < 2:
            return empty, empty
        rank = np.asarray(rank, dtype=np.int64)
        meta = _band_frame(0, keys[0][:0], rank[:0])
        frame = dd.from_map(  # type: ignore[no-untyped-call]
            _band_frame, range(bands), [keys[b] for b in range(bands)], [rank] * bands, meta=meta
        )
        shuffled = frame.shuffle(on="key", npartitions=self.partitions * 2, shuffle_method="tasks")
        links = shuffled.map_partitions(link_buckets, meta=_LINKS_META)
        found = self.client.compute(links).result()
        return found["head"].to_numpy(), found["other"].to_numpy()
