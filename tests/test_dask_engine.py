"""`cleaner clean --engine dask` on a real local Dask cluster (a scheduler and two worker
processes, started for this module and closed after it): the same output, report and summary
as the local engine, byte for byte; and the cluster's LSH candidates equal the local ones."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

if str(Path(__file__).resolve().parents[1]) not in sys.path:  # benchmarks/ is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
