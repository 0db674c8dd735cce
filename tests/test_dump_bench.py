"""benchmarks/dump_bench.py on a 200-article generated dump: cleaner's output and report
mapped to the truth, the peers' outputs scored the same way, the ratios. Nothing is timed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

if str(Path(__file__).resolve().parents[1]) not in sys.path:  # benchmarks/ is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import dump_bench
from benchmarks.dump_bench import (
    UNATTRIBUTED,
    attribute_removals,
    compare,
    connected,
    read_clusters,
    run_child,
    run_cleaner,
    score_clusters,
    score_peer_output,
)
from benchmarks.dump_truth import cluster_pairs, iter_truth, truth_pairs
from benchmarks.generate_dump import DumpConfig, write_dump

ARTICLES = 200


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dump")
    write_dump(out, DumpConfig(articles=ARTICLES, seed=3, shard_size=80))
    return out


@pytest.fixture(scope="module")
def cleaner_run(dump: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_cleaner(dump, tmp_path_factory.mktemp("work"), jobs=1)


def test_removal_records_are_matched_to_truth_lines_in_order() -> None:
    texts = ["Cookies help us.", "Body text here.", "Share this", "Body again.", "Share this"]
    removed = [True, False, True, False, True]
    removals = [
        {"text": "Cookies help us.\n", "category": "cookie_banner"},
        {"text": "\nShare this", "category": "share_prompt"},
        {"text": "\nShare this", "category": "duplicate_in_document"},
    ]
    assert attribute_removals(texts, removed, removals) == [
        "cookie_banner", None, "share_prompt", None, "duplicate_in_document",
    ]  # fmt: skip
    # A removed line that no record names (the output lost it some other way) is counted apart.
    assert attribute_removals(["a line", "gone"], [False, True], []) == [None, UNATTRIBUTED]


def test_clusters_are_connected_components() -> None:
    assert connected([("b", "c"), ("a", "b"), ("x", "y")]) == [["a", "b", "c"], ["x", "y"]]
    assert connected([]) == []


def test_cleaner_run_is_scored_against_the_truth(dump: Path, cleaner_run: dict[str, Any]) -> None:
    manifest = json.loads((dump / "manifest.json").read_text("utf-8"))
    lines = cleaner_run["lines"]
    assert cleaner_run["articles"] == lines["articles"] == ARTICLES
    # Every planted line is a positive, counted once, in its category.
    planted = manifest["planted_lines"]
    assert {k: v["lines"] for k, v in lines["categories"].items()} == planted
    assert lines["tp"] + lines["fn"] == sum(planted.values())
    # Every line the output lost is named by a removal record of the report.
    named = cleaner_run["cleaner_categories"]
    assert UNATTRIBUTED not in named
    assert sum(v["removed"] for v in named.values()) == lines["removed"]
    assert sum(v["boilerplate"] for v in named.values()) == lines["tp"]
    assert lines["precision"] > 0.9 and lines["recall"] > 0.8
    pairs = cleaner_run["pairs"]
    assert pairs["planted"] == len(truth_pairs(iter_truth(dump))[0]) > 0
    assert pairs["recall"] > 0.5 and pairs["precision"] > 0.9
    assert cleaner_run["peak_tree_rss_mib"] > 0 and cleaner_run["text_bytes"] > 0
    assert any(line.startswith("corpus pass:") for line in cleaner_run["summary"])


@pytest.mark.parametrize("name", ["c4", "trafilatura"])
def test_line_peers_are_scored_on_the_dump_lines(dump: Path, tmp_path: Path, name: str) -> None:
    stats = run_child(name, dump, 120, tmp_path)
    assert "lines" in stats["stage_seconds"]
    score, size = score_peer_output(dump, tmp_path / "output.jsonl", 120)
    assert score.articles == size.articles == 120
    c = score.confusion
    assert c.tp + c.fn + c.fp + c.tn == sum(len(t["lines"]) for t in list(iter_truth(dump))[:120])
    assert c.removed > 0


@pytest.mark.parametrize("name", ["datasketch", "cleaner_corpus"])
def test_duplicate_peers_find_the_planted_pairs(dump: Path, tmp_path: Path, name: str) -> None:
    run_child(name, dump, None, tmp_path)
    clusters = read_clusters(tmp_path / "clusters.jsonl")
    score = score_clusters(dump, clusters)
    assert score.planted > 0 and score.recall is not None and score.recall > 0.5
    assert score.precision == 1.0
    # A sample's truth names only its own articles; clusters are cut to them.
    half = score_clusters(dump, clusters, ARTICLES // 2)
    truths = list(iter_truth(dump))[: ARTICLES // 2]
    assert half.planted == len(truth_pairs(truths)[0])
    ids = {t["id"] for t in truths}
    assert half.predicted == len({p for p in cluster_pairs(clusters) if set(p) <= ids})


def test_ratios_are_per_article_against_cleaner() -> None:
    def system(articles: int, seconds: float, cpu: float, **extra: Any) -> dict[str, Any]:
        return {"articles": articles, "seconds": seconds, "cpu_seconds": cpu, **extra}

    results = {
        "cleaner": system(1000, 10.0, 18.0),
        "c4": system(500, 25.0, 25.0),
        "cleaner_corpus": system(
            500, 3.0, 3.0, stage_seconds={"duplicates": 1.0}, pairs={"recall": 0.9}
        ),
        "datasketch": system(
            500, 30.0, 30.0, stage_seconds={"duplicates": 20.0}, pairs={"recall": 0.8}
        ),
    }
    ratios = compare(results, 1000)
    assert ratios["c4"]["cleaner_speedup_wall"] == 5.0
    assert ratios["c4"]["cleaner_speedup_cpu"] == round(0.05 / 0.018, 2)
    assert ratios["c4"]["extrapolated"] and ratios["c4"]["seconds_at_dump_size"] == 50.0
    stage = ratios["datasketch"]["duplicate_stage"]
    assert stage["cleaner_speedup"] == 20.0 and stage["goal_10x_at_equal_recall"]
    assert stage["seconds_at_dump_size"] == 40.0


def test_results_file_keeps_the_other_mode(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    dump_bench._update_results(path, "bench", {"a": 1})
    dump_bench._update_results(path, "scaling", {"b": 2})
    dump_bench._update_results(path, "bench", {"a": 3})
    assert json.loads(path.read_text("utf-8")) == {"bench": {"a": 3}, "scaling": {"b": 2}}


def test_engines_take_turns_and_are_compared_within_their_round(tmp_path: Path) -> None:
    """``--rounds 2 --engines local,dask``: local, dask, local, dask; each Dask run against
    the local run just before it, and the same output in every run."""
    pytest.importorskip("distributed")
    write_dump(tmp_path / "dump-120", DumpConfig(articles=120, seed=5, shard_size=60))
    work = tmp_path / "work"
    work.mkdir()
    data = dump_bench.scaling([120], tmp_path, work, 2, False, ("local", "dask"), rounds=2)
    runs = data["runs"]
    assert [(r["engine"], r["round"]) for r in runs] == [
        ("local", 1), ("dask", 1), ("local", 2), ("dask", 2)
    ]  # fmt: skip
    for local, dask in (runs[0:2], runs[2:4]):
        assert "seconds_vs_local" not in local
        assert dask["seconds_vs_local"] == round(dask["seconds"] / local["seconds"], 2)
        assert dask["same_output_as_local"] is True
    assert len({r["output_digest"] for r in runs}) == 1
    assert all(r["steal_seconds"] is None or r["steal_seconds"] >= 0 for r in runs)
