"""Worker processes: a phase's own processes end with the phase; the run's stay."""

from __future__ import annotations

import os

from cleaner import Cleaner, CleanerConfig
from cleaner.workers import Workers


def _pid_of(cleaner: Cleaner, chunk: int) -> tuple[int, int]:
    return chunk, os.getpid()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_phase_has_processes_of_its_own_ended_with_it() -> None:
    workers = Workers(CleanerConfig(), 2)
    try:
        with workers.phase() as signing:
            assert signing is not workers
            # Work kept in this process starts no process at all.
            assert list(signing.map(_pid_of, [1], here=True)) == [(1, os.getpid())]
            assert workers._pool is None and signing._pool is None
            done = list(signing.map(_pid_of, range(8)))
            # The run's processes were started before the phase's own.
            assert workers._pool is not None and len(workers._pool._processes) == 2
            own = set(workers._pool._processes)
            assert [chunk for chunk, _ in done] == list(range(8))  # in input order
            helpers = {pid for _, pid in done}
            assert helpers and not helpers & own and all(map(_alive, helpers))
        assert signing._pool is None and not any(map(_alive, helpers))
        # The run's processes do the rest of its work.
        assert {pid for _, pid in workers.map(_pid_of, range(8))} <= own
        assert all(map(_alive, own))
    finally:
        workers.close()


def test_one_process_has_no_phase_of_its_own() -> None:
    workers = Workers(CleanerConfig(), 1)
    with workers.phase() as signing:
        assert signing is workers
        assert list(signing.map(_pid_of, [3])) == [(3, os.getpid())]
    assert workers._pool is None
