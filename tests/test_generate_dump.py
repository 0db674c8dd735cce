"""The dump generator (benchmarks/generate_dump.py) and the scoring of its ground truth
(benchmarks/dump_truth.py), on a 300-article dump. Nothing here is timed."""

from __future__ import annotations

import json
import sys
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import ftfy
import pytest

if str(Path(__file__).resolve().parents[1]) not in sys.path:  # benchmarks/ is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import generate_dump
from benchmarks.dump_truth import (
    article_jaccard,
    iter_truth,
    jaccard,
    read_jsonl,
    removed_from_cleaned,
    score_lines,
    score_pairs,
    shard_paths,
    shingles,
)
from benchmarks.generate_dump import DumpConfig, DumpGenerator, Sources, load_sources, write_dump
from cleaner.model import Category

REPO = Path(__file__).resolve().parents[1]
ARTICLES = 300
CONFIG = DumpConfig(articles=ARTICLES, seed=7, shard_size=120)


@pytest.fixture(scope="module")
def sources() -> Sources:
    return load_sources()


@pytest.fixture(scope="module")
def dump(sources: Sources, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dump")
    write_dump(out, CONFIG, sources)
    return out


@pytest.fixture(scope="module")
def records(dump: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    texts = [r for path in shard_paths(dump, "dump") for r in read_jsonl(path)]
    truths = list(iter_truth(dump))
    assert len(texts) == len(truths) == ARTICLES
    return list(zip(texts, truths, strict=True))


def test_same_seed_same_bytes_other_seed_other_bytes(
    dump: Path, sources: Sources, tmp_path: Path
) -> None:
    again, other = tmp_path / "again", tmp_path / "other"
    write_dump(again, CONFIG, sources)
    write_dump(other, DumpConfig(articles=ARTICLES, seed=8, shard_size=120), sources)
    names = sorted(p.name for p in dump.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    assert len([n for n in names if n.startswith("dump-")]) == 3
    for name in names:
        assert (dump / name).read_bytes() == (again / name).read_bytes(), name
    assert (dump / "dump-00000.jsonl").read_bytes() != (other / "dump-00000.jsonl").read_bytes()


def test_records_have_the_dump_fields_and_urls_on_the_site(records: list[Any]) -> None:
    ids = set()
    for dump_record, truth in records:
        assert set(dump_record) == {"id", "url", "site", "text"}
        assert dump_record["url"].startswith(f"https://{dump_record['site']}/")
        assert dump_record["site"].endswith(".example")
        assert truth["id"] == dump_record["id"] and truth["site"] == dump_record["site"]
        ids.add(dump_record["id"])
    assert len(ids) == ARTICLES


def test_every_category_is_planted_at_the_head_between_and_at_the_tail(
    records: list[Any],
) -> None:
    planted: set[str] = set()
    places: dict[str, set[str]] = defaultdict(set)
    for _, truth in records:
        categories = [line["category"] for line in truth["lines"]]
        content = [k for k, c in enumerate(categories) if c is None]
        for k, category in enumerate(categories):
            if category is None:
                continue
            planted.add(category)
            place = "head" if k < content[0] else "tail" if k > content[-1] else "between"
            places[place].add(category)
    # Shared passages are article text (the truth marks them "shared", category None).
    assert planted == {c.value for c in Category} - {Category.SHARED_PASSAGE.value}
    assert {"breadcrumb", "byline", "timestamp"} <= places["head"]
    assert {"advertisement", "teaser", "duplicate_in_document"} <= places["between"]
    assert {"tags", "copyright", "comment_policy", "site_boilerplate"} <= places["tail"]


def test_truth_lines_are_the_lines_of_the_text_and_clean_is_what_stays(
    records: list[Any],
) -> None:
    spans = 0
    for dump_record, truth in records:
        text = dump_record["text"]
        lines = [(line["start"], line["end"]) for line in truth["lines"]]
        pos = 0
        expected = []
        for raw in text.split("\n"):
            if raw.strip():
                expected.append((pos, pos + len(raw)))
            pos += len(raw) + 1
        assert lines == expected, truth["id"]
        source = truth["source"] if truth["mojibake"] else text
        repaired = [s for s in source.split("\n") if s.strip()]
        kept = []
        for line, line_text in zip(truth["lines"], repaired, strict=True):
            if line["category"] is None:
                for start, end, category, source in line.get("spans", ()):
                    assert category == "byline" and text[start:end].startswith("(Reporting by ")
                    if source.startswith("rule:"):  # the credit of one of the rule's examples
                        examples = _rule_examples()[source.removeprefix("rule:")]
                        assert any(e.endswith(text[start:end]) for e in examples)
                    line_text = line_text[: start - line["start"]].rstrip()
                    spans += 1
                kept.append(line_text)
        assert truth["clean"] == "\n".join(kept)
    assert spans > 0


def _rule_examples() -> dict[str, set[str]]:
    examples: dict[str, set[str]] = {}
    for path in (REPO / "cleaner" / "rules").glob("*.toml"):
        data = tomllib.loads(path.read_text("utf-8"))
        for rule in data["rules"]:
            examples[f"{data['category']}.{rule['id']}"] = set(rule.get("remove", ()))
    return examples


def test_truth_spans_point_at_exactly_the_planted_strings(
    records: list[Any], sources: Sources
) -> None:
    """The articles generated again in memory: each planted line is where the truth says,
    verbatim (or in mojibake that ftfy gives back), and strings said to come from a rule or a
    seed page are that rule's must-remove example or a line of that page."""
    examples = _rule_examples()
    seeds = {p.stem: p.read_text("utf-8") for p in (REPO / "fixtures/seeds/input").glob("*.txt")}
    sourced = {"rule": 0, "seed": 0, "template": 0}
    generator = DumpGenerator(CONFIG, sources)
    for article, (dump_record, truth) in zip(generator.articles(), records, strict=True):
        text = dump_record["text"]
        assert article.id == truth["id"] and len(article.lines) == len(truth["lines"])
        for line, entry in zip(article.lines, truth["lines"], strict=True):
            found = text[entry["start"] : entry["end"]]
            if truth["mojibake"] and found != line.text:
                assert ftfy.fix_text(found, uncurl_quotes=False) == line.text
            else:
                assert found == line.text
            assert entry["category"] == line.category
            if line.category is None or line.category == "duplicate_in_document":
                continue
            kind, _, name = entry["source"].partition(":")
            sourced[kind] += 1
            if kind == "rule":
                assert line.text in examples[name], (name, line.text)
            elif kind == "seed":
                assert line.text in seeds[name]
    assert all(sourced.values()), sourced


def test_recycled_copies_point_back_at_an_earlier_paragraph(records: list[Any]) -> None:
    copies = 0
    for dump_record, truth in records:
        text = dump_record["text"] if not truth["mojibake"] else truth["source"]
        lines = truth["lines"]
        for k, line in enumerate(lines):
            if line["category"] != "duplicate_in_document":
                continue
            copies += 1
            original = lines[line["copy_of"]]
            assert line["copy_of"] < k - 1 and original["category"] is None
            assert 1 <= line["edits"] <= 5
            if truth["mojibake"]:
                continue  # offsets refer to the mojibake; the test above covers those
            a = text[original["start"] : original["end"]]
            b = text[line["start"] : line["end"]]
            assert a != b
            assert round(jaccard(shingles(a), shingles(b)), 4) == line["jaccard"]
    assert copies >= 10


def test_shared_quotes_run_on_different_sites_and_are_article_text(records: list[Any]) -> None:
    quotes: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for dump_record, truth in records:
        text = truth["source"] if truth["mojibake"] else dump_record["text"]
        for line in truth["lines"]:
            if "shared" in line:
                assert line["category"] is None
                quotes[line["shared"]].add((truth["site"], text[line["start"] : line["end"]]))
    assert len(quotes) >= 3
    for carriers in quotes.values():
        assert len({text for _, text in carriers}) == 1
        assert len({site for site, _ in carriers}) >= 2
        assert len(next(iter(carriers))[1]) >= 200


def test_near_duplicates_reach_the_threshold(records: list[Any]) -> None:
    by_id = {d["id"]: (d, t) for d, t in records}
    position = {d["id"]: k for k, (d, _) in enumerate(records)}
    pairs = 0
    for dump_record, truth in records:
        for other in truth["near_duplicates"]:
            pairs += 1
            earlier, _ = by_id[other["id"]]
            assert position[other["id"]] < position[truth["id"]]
            score = article_jaccard(dump_record["text"], earlier["text"])
            assert round(score, 4) == other["jaccard"]
            if other["id"] == truth["cluster"]:
                assert score >= 0.8
                assert dump_record["text"] != earlier["text"]
    assert pairs >= 5


def test_mojibake_articles_differ_and_ftfy_restores_them(records: list[Any]) -> None:
    broken = [(d, t) for d, t in records if t["mojibake"]]
    assert broken
    for dump_record, truth in broken:
        assert dump_record["text"] != truth["source"]
        assert ftfy.fix_text(dump_record["text"], uncurl_quotes=False) == truth["source"]
        assert ftfy.fix_text(dump_record["text"]) == ftfy.fix_text(truth["source"])
        assert "â€" in dump_record["text"] or "Ã" in dump_record["text"]


def test_the_command_line_refuses_a_folder_that_holds_a_dump(dump: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        generate_dump.main(["--out", str(dump), "--articles", "10"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        generate_dump.main(["--out", str(REPO / "out-dump"), "--articles", "10"])
    assert not (REPO / "out-dump").exists()


# --------------------------------------------------------------------------------------------
# Scoring, on a hand-made truth


def _truth(
    article_id: str, lines: list[tuple[str, str | None]], **extra: Any
) -> tuple[dict[str, Any], str]:
    text = "\n".join(t for t, _ in lines)
    entries = []
    pos = 0
    for line_text, category in lines:
        entries.append({"start": pos, "end": pos + len(line_text), "category": category})
        pos += len(line_text) + 1
    return {"id": article_id, "lines": entries, "mojibake": False, **extra}, text


PARA_ONE = "The council voted on Monday to extend the ferry service for another year."
PARA_TWO = "Residents had asked for the change for years, the mayor said."
RECYCLED = "Residents had asked for the change for many years, the mayor said."
QUOTE = "“We will not stop until the last ferry runs on time,” the union leader said."
LAST = "The service starts in May. (Reporting by Jane Doe; Editing by Tom Roe)"


def test_line_scores_on_a_hand_made_example() -> None:
    first, first_text = _truth(
        "a",
        [
            ("Home / News / Ferries", "breadcrumb"),
            (PARA_ONE, None),
            ("Advertisement", "advertisement"),
            (PARA_TWO, None),
            (RECYCLED, "duplicate_in_document"),
            ("© 2024 The Riverton Herald. All rights reserved.", "copyright"),
        ],
    )
    second, second_text = _truth("b", [(QUOTE, None), (LAST, None)])
    second["lines"][0]["shared"] = "q000001"
    span_start = second["lines"][1]["start"] + LAST.index("(")
    second["lines"][1]["spans"] = [[span_start, second["lines"][1]["end"], "byline", "t"]]
    # The first cleaner output removes the breadcrumb and the ad (right), the second paragraph
    # (wrong), and keeps the recycled copy and the copyright line (misses); the second cuts the
    # wire credit out of the last line, which stays.
    cleaned_first = "\n".join(
        [PARA_ONE, RECYCLED, "© 2024 The Riverton Herald. All rights reserved."]
    )
    cleaned_second = f"{QUOTE}\n\nThe service starts in May."
    assert removed_from_cleaned([first_text.split("\n")[i] for i in range(6)], cleaned_first) == [
        True,
        False,
        True,
        True,
        False,
        False,
    ]

    score = score_lines([(first, first_text, cleaned_first), (second, second_text, cleaned_second)])
    c = score.confusion
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 1, 2, 3)
    assert c.precision == pytest.approx(2 / 3) and c.recall == pytest.approx(2 / 4)
    content = len(PARA_ONE) + len(PARA_TWO) + len(QUOTE) + len("The service starts in May. ")
    assert c.content_chars == content
    assert c.gold_char_loss == pytest.approx(len(PARA_TWO) / content)
    assert score.categories["duplicate_in_document"] == [1, 0]
    assert score.categories["advertisement"] == [1, 1]
    assert score.shared == [1, 1]

    # The same verdicts given as removed lines score the same.
    by_lines = score_lines(
        [
            (first, first_text, [True, False, True, True, False, False]),
            (second, second_text, [False, False]),
        ]
    )
    assert by_lines.to_json() == score.to_json()


def test_pair_scores_on_a_hand_made_example() -> None:
    truths: list[dict[str, Any]] = [
        {"id": "x", "near_duplicates": []},
        {"id": "y", "near_duplicates": [{"id": "x", "jaccard": 0.9}]},
        # z copies x; z and y are in one cluster but below the threshold: neither right nor wrong
        {
            "id": "z",
            "near_duplicates": [{"id": "x", "jaccard": 0.85}, {"id": "y", "jaccard": 0.75}],
        },
    ]
    found = score_pairs(truths, [["x", "y", "z"], ["p", "q"]])
    assert (found.planted, found.predicted, found.correct, found.ignored) == (2, 4, 2, 1)
    assert found.precision == pytest.approx(2 / 3) and found.recall == 1.0
    missed = score_pairs(truths, [["x", "y"]])
    assert missed.precision == 1.0 and missed.recall == 0.5
    assert score_pairs(truths, []).precision is None


def test_the_manifest_counts_what_the_truth_holds(dump: Path, records: list[Any]) -> None:
    manifest = json.loads((dump / "manifest.json").read_text("utf-8"))
    counts: dict[str, int] = defaultdict(int)
    for _, truth in records:
        for line in truth["lines"]:
            if line["category"] is not None:
                counts[line["category"]] += 1
    assert manifest["planted_lines"] == dict(counts)
    assert manifest["articles"] == ARTICLES
    assert manifest["near_duplicate_pairs"] == sum(len(t["near_duplicates"]) for _, t in records)


def test_gzip_shards_hold_the_same_records(sources: Sources, tmp_path: Path) -> None:
    small = DumpConfig(articles=40, seed=3, shard_size=25)
    write_dump(tmp_path / "plain", small, sources)
    write_dump(tmp_path / "gz", DumpConfig(articles=40, seed=3, shard_size=25, gzip=True), sources)
    names = sorted(p.name for p in (tmp_path / "gz").iterdir())
    assert names[:2] == ["dump-00000.jsonl.gz", "dump-00001.jsonl.gz"]
    assert list(iter_truth(tmp_path / "gz")) == list(iter_truth(tmp_path / "plain"))
    plain = [r for p in shard_paths(tmp_path / "plain", "dump") for r in read_jsonl(p)]
    assert [r for p in shard_paths(tmp_path / "gz", "dump") for r in read_jsonl(p)] == plain
