"""The API and the guard: config, streams, and never eating an article."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaner import Category, Cleaner, CleanerConfig, clean, clean_and_explain

SEEDS = sorted((Path(__file__).parent.parent / "fixtures" / "seeds" / "input").glob("*.txt"))
PROSE = (
    "The council voted on Tuesday to close the bridge for repairs that will last a year, "
    "after engineers found cracks in two of its supports."
)


def test_clean_returns_the_text_of_clean_and_explain() -> None:
    text = SEEDS[0].read_text(encoding="utf-8")
    assert clean(text) == clean_and_explain(text).text


def test_config_overrides_and_unknown_options() -> None:
    text = SEEDS[1].read_text(encoding="utf-8")
    kept = clean_and_explain(text, boilerplate=False)
    assert all(r.category is Category.DUPLICATE_IN_DOCUMENT for r in kept.removals)
    with pytest.raises(TypeError, match="unknown config option"):
        CleanerConfig().with_(colour="red")


def test_only_chosen_categories_fire() -> None:
    cleaner = Cleaner(CleanerConfig(categories=frozenset({Category.TAGS})))
    result = cleaner.clean(SEEDS[0].read_bytes())
    assert {r.category for r in result.removals} <= {
        Category.TAGS, Category.DUPLICATE_IN_DOCUMENT, Category.CAPTION,
    }  # fmt: skip
    assert any(r.category is Category.TAGS for r in result.removals)


def test_clean_many_is_lazy_and_matches_clean() -> None:
    cleaner = Cleaner()
    texts = [p.read_text(encoding="utf-8") for p in SEEDS]
    stream = cleaner.clean_many(iter(texts))
    assert next(stream).text == cleaner.clean(texts[0]).text
    assert [r.text for r in stream] == [cleaner.clean(t).text for t in texts[1:]]


def test_a_caption_kept_once_is_the_copy_its_next_repeat_is_compared_with() -> None:
    # A short caption (no closing stop) at the top, again far below, and a third time
    # right after a photo credit: the third is a copy of the second, shown around the
    # photo, so one of those two goes; the one at the top, far from any photo, stays.
    caption = "Protesters gather outside the parliament building in Ankara"
    body = [
        PROSE,
        "Opposition parties said the plan did not go far enough and called for a vote.",
        "Economists were divided over whether the measures would slow inflation at all.",
    ]
    blocks = [caption, body[0], body[1], caption, "/ AFP PHOTO / Adem Altan", caption, body[2]]
    result = clean_and_explain("\n\n".join(blocks) + "\n")
    assert result.text.count(caption) == 1 and result.text.startswith(caption)
    assert all(part in result.text for part in body)
    assert Category.DUPLICATE_IN_DOCUMENT in {r.category for r in result.removals}


def test_guard_gives_back_inferred_removals_first() -> None:
    # Consent-dialog headings (certain) with a sentence between each two (only sandwiched):
    # together most of the text, so the sentences come back and the headings still go.
    lines = []
    for i in range(8):
        lines += ["Cookie Settings", f"Paragraph {i} of a story about the bridge that closed."]
    text = "\n".join([*lines, "Cookie Settings", PROSE]) + "\n"
    result = clean_and_explain(text)
    assert [n.code for n in result.notes] == ["guard"]
    assert "context" in result.notes[0].message
    assert {r.rule_id for r in result.removals} == {"cookie_banner.policy_heading"}
    assert "Paragraph 3 of a story" in result.text
    assert clean_and_explain(result.text).text == result.text


def test_guard_still_finds_copies_in_what_it_gives_back() -> None:
    # Lone separators do not mark a region, and copies go whatever the guard decides.
    paragraph = PROSE + " The mayor said the work would start in the spring."
    text = f"|\n{paragraph}\n{paragraph}\n|\n"
    result = clean_and_explain(text)
    assert result.text.count(paragraph) == 1
    assert clean_and_explain(result.text).text == result.text


def test_guard_keeps_an_article_that_certain_matches_would_eat() -> None:
    text = "\n".join([f"#tag{i}" for i in range(60)] + [PROSE]) + "\n"
    result = clean_and_explain(text)
    assert result.removals == ()
    assert result.text == result.normalised
    assert "own matches alone; kept it whole" in result.notes[0].message


def test_guard_leaves_short_texts_alone() -> None:
    result = clean_and_explain("Accept cookies\n#news\n")
    assert len(result.removals) == 2 and result.text.strip() == ""
