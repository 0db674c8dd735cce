"""`cleaner clean --engine dask` on a real local Dask cluster (a scheduler and two worker
processes, started for this module and closed after it): the same output, report and summary
as the local engine, byte for byte; and the cluster's LSH candidates equal the local ones."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

if str(Path(__file__).resolve().parents[1]) not in sys.path:  # benchmarks/ is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cleaner.cli
import cleaner.dask_engine
from benchmarks.generate_dump import DumpConfig, write_dump
from cleaner.cli import main
from cleaner.corpus import band_candidates
from cleaner.dask_engine import DaskCandidates, link_buckets

distributed = pytest.importorskip("distributed")

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def client(scheduler: str) -> Iterator[object]:
    with distributed.Client(scheduler) as c:
        yield c


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated dump of 400 articles in 3 shards (planted boilerplate, recycled
    paragraphs, shared quotes, near-duplicate articles), without its truth files."""
    out = tmp_path_factory.mktemp("dump") / "dump"
    write_dump(out, DumpConfig(articles=400, seed=11, shard_size=150))
    for truth in out.glob("truth-*"):
        truth.unlink()
    (out / "manifest.json").unlink()
    return out


def _run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def test_dask_engine_writes_what_the_local_engine_writes(
    dump: Path, scheduler: str, tmp_path: Path
) -> None:
    runs = {}
    for name, engine in (("local", ["--jobs", "1"]),
                         ("dask", ["--engine", "dask", "--scheduler", scheduler])):  # fmt: skip
        out, report = tmp_path / name, tmp_path / f"{name}.jsonl"
        result = _run("clean", dump, "--format", "jsonl", "-o", out, "--report", report,
                      "--drop-duplicates", *engine)  # fmt: skip
        assert result.exit_code == 0, result.output
        runs[name] = (_files(out), report.read_bytes(), result.stderr)
    local, dask = runs["local"], runs["dask"]
    assert dask[0] == local[0]
    assert dask[1] == local[1]
    assert dask[2] == local[2]
    # The run had work for every stage of the corpus pass.
    kinds = {json.loads(line).get("kind") for line in local[1].splitlines()}
    categories = {json.loads(line).get("category") for line in local[1].splitlines()}
    assert "duplicate_article" in kinds
    assert {"site_boilerplate", "duplicate_in_document"} <= categories


def test_dask_engine_cleans_text_files_in_place_like_the_local_engine(
    scheduler: str, tmp_path: Path
) -> None:
    for name in ("local", "dask"):
        shutil.copytree(SEEDS / "input", tmp_path / name)
    local = _run("clean", tmp_path / "local", "--in-place", "--jobs", "2")
    dask = _run("clean", tmp_path / "dask", "--in-place", "--engine", "dask",
                "--scheduler", scheduler)  # fmt: skip
    assert local.exit_code == dask.exit_code == 0, dask.output
    assert _files(tmp_path / "dask") == _files(tmp_path / "local")
    expected = {p.name: p.read_bytes() for p in (SEEDS / "expected").glob("*.txt")}
    assert _files(tmp_path / "dask") == expected


def test_workers_on_this_machine_are_told_apart_from_remote_ones() -> None:
    from cleaner.dask_engine import _on_this_machine

    assert _on_this_machine("tcp://127.0.0.1:8786")
    assert _on_this_machine("inproc://10.1.2.3/1234/1")
    assert _on_this_machine(f"tcp://{socket.gethostname()}:8786")
    assert not _on_this_machine("tcp://192.0.2.7:8786")  # TEST-NET-1: never this machine
    assert not _on_this_machine("tcp://worker-7.example.invalid:8786")


@pytest.mark.parametrize("on_this_machine", [True, False], ids=["read-there", "lines-sent"])
def test_workers_that_read_their_chunks_write_what_the_local_engine_writes(
    dump: Path,
    scheduler: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    on_this_machine: bool,
) -> None:
    """The cluster's workers are on this machine, so they read their chunks of a JSON Lines
    file themselves (where the chunk is goes to them, not its lines); a compressed shard's
    lines are still sent, as are all lines to workers taken for another machine's. Blank
    lines, CRLF endings, a line that is not JSON and a last line without a newline are
    numbered, cleaned and reported as by the local engine either way."""
    from cleaner.config import DEFAULT_CONFIG
    from cleaner.dask_engine import DaskWorkers

    if not on_this_machine:
        monkeypatch.setattr(cleaner.dask_engine, "_on_this_machine", lambda address: False)
    workers = DaskWorkers(DEFAULT_CONFIG, scheduler, 2)
    try:
        assert workers.reads_files is on_this_machine
    finally:
        workers.client.close()
    folder = tmp_path / "in"
    folder.mkdir()
    shard = sorted(dump.glob("*.jsonl"))[0].read_bytes().splitlines(keepends=True)
    mixed = [*shard[:40], b"\n", b"  \r\n", b"{not json\n"]
    mixed += [line.replace(b"\n", b"\r\n") for line in shard[40:80]]
    (folder / "mixed.jsonl").write_bytes(b"".join(mixed) + shard[80].rstrip(b"\n"))
    (folder / "packed.jsonl.gz").write_bytes(gzip.compress(b"".join(shard[81:140])))
    monkeypatch.setattr(cleaner.cli, "CHUNK_LINES", 7)  # chunks of 7 lines, 28 on Dask
    # Workers on this machine write each chunk's output and report lines to a file of the
    # run's temporary folder, which the run reads, and removes when it ends.
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    read: list[str] = []
    read_part = cleaner.cli._read_part
    monkeypatch.setattr(cleaner.cli, "_read_part",
                        lambda done: read.append(done[2]) or read_part(done))  # fmt: skip
    runs = {}
    for name, engine in (("local", ["--jobs", "2"]),
                         ("dask", ["--engine", "dask", "--scheduler", scheduler])):  # fmt: skip
        out, report = tmp_path / name, tmp_path / f"{name}.jsonl"
        result = _run("clean", folder, "--format", "jsonl", "-o", out, "--report", report,
                      *engine)  # fmt: skip
        assert result.exit_code == 1, result.output  # the line that is not JSON
        runs[name] = (_files(out), report.read_bytes(), result.stderr)
    assert runs["dask"] == runs["local"]
    assert bool(read) is on_this_machine and all(Path(p).parent.parent == temp for p in read)
    assert list(temp.iterdir()) == []
    assert "mixed.jsonl:43:" in runs["dask"][2]
    assert len(runs["local"][0]["mixed.jsonl"].splitlines()) == 81


@pytest.mark.parametrize("n, distinct", [(2, 1), (500, 40), (20_000, 9_000)])
def test_cluster_candidates_equal_the_local_ones(client: object, n: int, distinct: int) -> None:
    rng = np.random.default_rng(n)
    keys = rng.integers(0, distinct, size=(6, n)).astype(np.uint64)
    rank = rng.permutation(n)
    found = DaskCandidates(client, partitions=3)(keys, rank)
    expected = band_candidates(keys, rank)
    assert sorted(zip(*found, strict=True)) == sorted(zip(*expected, strict=True))


def test_link_buckets_links_each_bucket_to_its_lowest_rank() -> None:
    import pandas as pd

    frame = pd.DataFrame({
        "band": np.array([0, 0, 0, 1, 1], dtype=np.int32),
        "key": np.array([7, 7, 7, 7, 3], dtype=np.uint64),
        "rank": np.array([5, 2, 9, 1, 0], dtype=np.int64),
        "row": np.array([0, 1, 2, 3, 4], dtype=np.int64),
    })  # fmt: skip
    links = link_buckets(frame)
    # Band 0, key 7: rows 0 and 2 link to row 1 (rank 2); band 1 has no bucket of two.
    assert sorted(zip(links["head"], links["other"], strict=True)) == [(1, 0), (1, 2)]


def test_scheduler_needs_the_dask_engine(tmp_path: Path) -> None:
    result = _run("clean", SEEDS / "input", "-o", tmp_path / "o", "--scheduler", "tcp://x:1")
    assert result.exit_code == 2
    assert "--scheduler ADDRESS: only with --engine dask" in result.output
