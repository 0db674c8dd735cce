"""The benchmarks' metric functions on a hand-made three-page example. No timings asserted."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

if str(Path(__file__).resolve().parents[1]) not in sys.path:  # benchmarks/ is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import naeb_text
from benchmarks.common import (
    C4_DATATROVE,
    C4_TFDS,
    Confusion,
    LineRemoval,
    Page,
    label_lines,
    removals_per_line,
    score_lines,
    survives_elsewhere,
    text_lines,
)

# Three pages: extracted text, gold body, and which lines a system removed.
TOY = [
    (
        "Home / World / Europe\n"
        "The council met on Monday and voted to extend the ferry service.\n"
        "Advertisement\n"
        "Residents had asked for the change for years, the mayor said.\n",
        "The council met on Monday and voted to extend the ferry service.\n\n"
        "Residents had asked for the change for years, the mayor said.",
        [True, False, True, True],  # two boilerplate lines removed, one content line lost
    ),
    (
        "AP\n"
        "The storm reached the coast late on Tuesday, the AP reported.\n"
        "Power was cut to thousands of homes along the shore.\n",
        "The storm reached the coast late on Tuesday, the AP reported.\n\n"
        "Power was cut to thousands of homes along the shore.",
        [False, False, False],  # "AP" is in the gold only as part of a sentence: boilerplate, kept
    ),
    (
        "Prices rose by three percent in the year to October.\n"
        "Prices rose by three percent in the year to October.\n"
        "Economists had expected a smaller rise.\n",
        "Prices rose by three percent in the year to October.\n\n"
        "Economists had expected a smaller rise.",
        [False, True, False],  # the second copy is boilerplate and removed
    ),
]

EXPECTED_LABELS = [
    ["boilerplate", "content", "boilerplate", "content"],
    ["boilerplate", "content", "content"],
    ["content", "boilerplate", "content"],
]


def _toy_pages() -> list[tuple[Page, str, list[bool]]]:
    return [
        (Page(f"page{i}", "", "example.org", "", gold, Path("/nonexistent")), text, removed)
        for i, (text, gold, removed) in enumerate(TOY)
    ]


def test_labels_follow_the_documented_rules() -> None:
    for (text, gold, _), expected in zip(TOY, EXPECTED_LABELS, strict=True):
        labels = label_lines(text_lines(text), gold)
        assert [line.label for line in labels] == expected


def test_precision_recall_and_loss_on_three_pages() -> None:
    total = Confusion()
    for text, gold, removed in TOY:
        total.merge(score_lines(label_lines(text_lines(text), gold), removed))
    assert (total.tp, total.fp, total.fn, total.tn) == (3, 1, 1, 5)
    assert total.precision == pytest.approx(3 / 4)
    assert total.recall == pytest.approx(3 / 4)
    lost = len("Residents had asked for the change for years, the mayor said.")
    content = sum(
        len(line.text)
        for text, gold, _ in TOY
        for line in label_lines(text_lines(text), gold)
        if not line.is_boilerplate
    )
    assert total.gold_char_loss == pytest.approx(lost / content)


def test_nothing_removed_has_no_precision() -> None:
    confusion = score_lines(label_lines(["Advertisement"], "Body text."), [False])
    assert confusion.precision is None
    assert confusion.recall == 0.0


def test_the_script_scores_systems_the_same_way() -> None:
    def fixed(verdicts: Sequence[bool]) -> naeb_text.System:
        def run(_text: str, _lines: Sequence[str]) -> naeb_text.SystemOutput:
            return naeb_text.SystemOutput(
                [
                    LineRemoval(1.0 if gone else 0.0, "toy.rule" if gone else None)
                    for gone in verdicts
                ],
                {"toy.rule": "teaser"},
            )

        return run

    results = []
    errors: list[dict[str, str]] = []
    for page, text, removed in _toy_pages():
        results.append(naeb_text.evaluate_page(page, text, {"toy": fixed(removed)}, errors))
    scores = naeb_text.system_scores(results, "toy")
    assert not errors
    assert scores["total"]["precision"] == 0.75
    assert scores["total"]["recall"] == 0.75
    assert scores["by_category"]["teaser"]["fp"] == 1
    assert scores["pages_with_false_positive"] == 1
    fps = naeb_text.false_positives(results, "toy")
    assert [fp["text"] for fp in fps] == [
        "Residents had asked for the change for years, the mayor said."
    ]


def test_removal_spans_map_back_to_lines() -> None:
    lines = ["First line here", "Second line here", "Third line"]
    normalised = "First line here\n\nSecond line here\nThird line\n"
    start = normalised.index("Second")
    verdicts, unmapped = removals_per_line(
        lines, normalised, [(start, start + len("Second line here\n"), "rule.a")]
    )
    assert [v.removed for v in verdicts] == [False, True, False]
    assert verdicts[1].tag == "rule.a"
    assert unmapped == 0
    # A span inside a line removes part of it only.
    end = normalised.index(" here")
    verdicts, _ = removals_per_line(lines, normalised, [(0, end, "rule.b")])
    assert 0 < verdicts[0].share < 1 and verdicts[0].removed


def test_removal_mapping_survives_a_line_the_normaliser_split() -> None:
    lines = ["Alpha beta", "Gamma delta\u2028epsilon", "Zeta eta"]
    normalised = "Alpha beta\nGamma delta\nepsilon\nZeta eta\n"
    start = normalised.index("Zeta")
    verdicts, unmapped = removals_per_line(lines, normalised, [(start, len(normalised), "r")])
    assert [v.removed for v in verdicts] == [False, False, True]
    assert unmapped == 0


def test_removed_copies_whose_text_stays_are_told_apart() -> None:
    same = "Same sentence in two places here."
    lines = [same, "Other text.", same]
    assert survives_elsewhere(lines, [False, False, True]) == [False, False, True]
    assert survives_elsewhere(lines, [True, False, True]) == [False, False, False]


def test_c4_line_rules() -> None:
    reasons = [
        C4_TFDS.line_reason(line)
        for line in (
            "This sentence has enough words to stay.",
            "Click here",
            "Too short to stay.",
            "Please enable JavaScript in your browser now.",
            "Read our privacy policy before you go on.",
            "He said it ended with a quote that curls.”",
        )
    ]
    assert reasons == [
        None,
        "no_terminal_punct",
        "too_few_words",
        "javascript",
        "policy",
        "no_terminal_punct",
    ]
    assert C4_DATATROVE.line_reason("Too short to stay.") is None
    page = ["A sentence that is long enough here.", "function() { return 1; }."]
    assert C4_TFDS.apply(page).page_reason == "curly_bracket"
    assert C4_TFDS.apply(["One good sentence with five words."]).page_reason == "too_few_sentences"


def test_the_compiled_loops_benchmark_runs_both_ways_and_writes_them(tmp_path: Path) -> None:
    # No timing asserted: the script checks both ways clean alike, takes turns and writes
    # one result per mode and way.
    pytest.importorskip("numba")
    import json

    from benchmarks import compiled_loops
    from cleaner import duplicates, minhash

    seeds = Path(__file__).resolve().parents[1] / "fixtures" / "seeds" / "input"
    output = tmp_path / "loops.json"
    argv = ["--docs", "40", "--step", "16", "--seeds-dir", str(seeds),
            "--naeb-dir", str(tmp_path / "none"), "--output", str(output)]  # fmt: skip
    assert compiled_loops.main(argv) == 0
    results = json.loads(output.read_text())["results"]
    assert [(r["mode"], r["way"]) for r in results] == [
        (mode, way) for mode in ("clean", "clean_batch") for way in compiled_loops.WAYS
    ]
    assert all(r["docs"] == 40 and r["cpu_seconds"] > 0 for r in results)
    # The loop choice is given back after each turn.
    assert minhash.loop_for is duplicates.loop_for
    with compiled_loops.way(compiled_loops.WAYS[0]):
        assert minhash.loop_for("window_hashes", 10, None) is None
    assert minhash.loop_for("window_hashes", 10, None) is not None


def test_the_taking_turns_benchmark_times_a_revision_and_the_tree(tmp_path: Path) -> None:
    # No timing asserted: one round times the checked-out revision and the working tree in
    # child processes of their own, writes both, and takes its worktree away again.
    import json
    import subprocess

    from benchmarks import ab

    seeds = Path(__file__).resolve().parents[1] / "fixtures" / "seeds" / "input"
    output = tmp_path / "ab.json"
    argv = ["HEAD", "--rounds", "1", "--docs", "10", "--warmup", "2", "--seeds-dir",
            str(seeds), "--naeb-dir", str(tmp_path / "none"), "--output", str(output)]  # fmt: skip
    assert ab.main(argv) == 0
    result = json.loads(output.read_text())
    assert len(result["us_per_article"]["base"]) == len(result["us_per_article"]["head"]) == 1
    assert result["base"]["median"] > 0 and result["head"]["median"] > 0
    worktrees = subprocess.run(
        ["git", "worktree", "list"], cwd=ab.REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "cleaner-ab-" not in worktrees


def test_speed_rounds_report_the_median_run_and_each_rounds_ratio_to_ftfy() -> None:
    from benchmarks import speed

    def run(system: str, number: int, rate: float) -> dict[str, object]:
        return {"system": system, "round": number, "articles_per_s": rate}

    rounds = {
        "cleaner": [run("cleaner", n, rate) for n, rate in enumerate([1500.0, 1000.0, 1800.0])],
        "ftfy": [run("ftfy", n, rate) for n, rate in enumerate([500.0, 400.0, 450.0])],
    }
    chosen = speed.median_run(rounds["cleaner"])
    assert chosen["round"] == 0 and chosen["articles_per_s_by_round"] == [1500.0, 1000.0, 1800.0]
    assert speed.median_run(rounds["cleaner"][:2])["articles_per_s"] == 1000.0  # the lower one
    assert speed.round_ratios(rounds) == {"cleaner": [3.0, 2.5, 4.0]}
    assert speed.round_ratios({"cleaner": rounds["cleaner"]}) == {}
