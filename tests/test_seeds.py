"""Golden fixtures: the five seed articles and the negative cases, cleaned end to end.

The expected files were checked by hand. After a deliberate change, rewrite them with
``UPDATE_GOLDEN=1 pytest tests/test_seeds.py`` and read the diff before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cleaner import Category, clean_and_explain

FIXTURES = Path(__file__).parent.parent / "fixtures"
SEEDS = sorted((FIXTURES / "seeds" / "input").glob("*.txt"))
NEGATIVE = sorted((FIXTURES / "negative").glob("*.txt"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _records(path: Path) -> list[dict[str, str]]:
    result = clean_and_explain(path.read_bytes())
    return [
        {"category": r.category.value, "rule_id": r.rule_id, "text": r.text.strip()}
        for r in result.removals
    ]


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem[:3])
def test_seed_output_and_records_match_the_hand_checked_files(path: Path) -> None:
    expected_text = FIXTURES / "seeds" / "expected" / f"{path.stem}.txt"
    expected_records = FIXTURES / "seeds" / "expected" / f"{path.stem}.removals.json"
    result = clean_and_explain(path.read_bytes())
    records = _records(path)
    if UPDATE:
        expected_text.write_text(result.text, encoding="utf-8")
        expected_records.write_text(
            json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    assert result.text == expected_text.read_text(encoding="utf-8")
    assert records == json.loads(expected_records.read_text(encoding="utf-8"))


def test_seeds_lose_no_content_block() -> None:
    # Every kept block of every seed is in its expected output, and every removal is either
    # boilerplate by category or a recycled copy of a block that stays.
    for path in SEEDS:
        result = clean_and_explain(path.read_bytes())
        removed = {r.block for r in result.removals}
        for block in result.blocks:
            if block.index not in removed:
                assert block.text in result.text
        for removal in result.removals:
            if removal.category is Category.DUPLICATE_IN_DOCUMENT:
                assert "copy of block" in removal.evidence


def test_seed_004_keeps_the_first_of_each_recycled_paragraph() -> None:
    path = next(p for p in SEEDS if p.name.startswith("004"))
    result = clean_and_explain(path.read_bytes())
    copies = [r for r in result.removals if r.category is Category.DUPLICATE_IN_DOCUMENT]
    assert len(copies) == 3
    assert any(r.rule_id.endswith(".near") for r in copies)  # "President Trump" / "Donald Trump"
    for copy in copies:
        first = int(copy.evidence.split("block ")[1].split()[0])
        assert first < copy.block  # type: ignore[operator]
        assert result.blocks[first].text in result.text


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.stem)
def test_real_prose_survives_whole(path: Path) -> None:
    result = clean_and_explain(path.read_bytes())
    assert result.removals == ()
    assert result.text == result.normalised
