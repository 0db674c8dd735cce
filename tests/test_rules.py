"""Tests generated from the rule files: every rule's own examples, and the files' form."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.model import Category
from cleaner.rules import Rule, RuleError, load_rules, parse_rule_file, rule_files

RULESET = load_rules()
RULES = RULESET.rules


def _cases(kind: str) -> list[tuple[Rule, str]]:
    return [
        (rule, example)
        for rule in RULES
        for example in (rule.remove_examples if kind == "remove" else rule.keep_examples)
    ]


@pytest.mark.parametrize(
    ("rule", "example"), _cases("remove"), ids=lambda x: x.rule_id if isinstance(x, Rule) else ""
)
def test_rule_removes_its_examples(rule: Rule, example: str) -> None:
    assert rule.find(example) is not None, f"{rule.rule_id} should match {example!r}"


@pytest.mark.parametrize(
    ("rule", "example"), _cases("keep"), ids=lambda x: x.rule_id if isinstance(x, Rule) else ""
)
def test_rule_keeps_its_examples(rule: Rule, example: str) -> None:
    assert rule.find(example) is None, f"{rule.rule_id} should not match {example!r}"


def test_every_category_but_repeated_passages_has_a_rule_file() -> None:
    covered = {rule.category for rule in RULES}
    repeated = {
        Category.DUPLICATE_IN_DOCUMENT, Category.SITE_BOILERPLATE, Category.CORPUS_BOILERPLATE,
        Category.SHARED_PASSAGE,
    }  # fmt: skip
    assert covered == set(Category) - repeated
    assert len(rule_files()) == len(covered)


def test_rule_ids_are_unique_and_every_rule_explains_itself() -> None:
    ids = [rule.rule_id for rule in RULES]
    assert len(ids) == len(set(ids))
    assert all(rule.why for rule in RULES)


def test_loading_only_some_categories() -> None:
    only = load_rules([Category.TAGS]).rules
    assert only and all(rule.category is Category.TAGS for rule in only)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('category = "nope"\n', "'category'"),
        ('category = "tags"\n[[rules]]\nid = "x"\npattern = "("\nremove = ["a"]\n', "bad pattern"),
        ('category = "tags"\n[[rules]]\nid = "x"\npattern = "a"\n', "'remove' examples"),
        (
            'category = "tags"\n[[rules]]\nid = "x"\npattern = "a"\nremove = ["a"]\nwhre = 1\n',
            "unknown key",
        ),
        (
            'category = "tags"\n[[rules]]\nid = "Bad Id"\npattern = "a"\nremove = ["a"]\n',
            "snake_case",
        ),
        ("category = \n", "broken.toml"),
    ],
)
def test_malformed_rule_files_name_the_file_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=r"broken\.toml") as caught:
        parse_rule_file(text, "broken.toml")
    assert message in str(caught.value)


def _brute_force(text: str) -> list[tuple[str, tuple[int, int]]]:
    found = [(rule, rule.find(text)) for rule in RULES]
    return [(rule.rule_id, match.span()) for rule, match in found if match is not None]


def _fast(text: str) -> list[tuple[str, tuple[int, int]]]:
    return [(rule.rule_id, match.span()) for rule, match in RULESET.matches(text)]


_EXAMPLES = [e for rule in RULES for e in (*rule.remove_examples, *rule.keep_examples)]
_LINES = [
    line.strip()
    for path in sorted((Path(__file__).parent.parent / "fixtures").rglob("*.txt"))
    for line in path.read_text(encoding="utf-8").splitlines()
    if line.strip()
]


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.sampled_from(_EXAMPLES + _LINES),
        st.text(max_size=120),
        st.tuples(st.sampled_from(_EXAMPLES), st.text(max_size=8)).map(lambda p: p[1] + p[0]),
        st.tuples(st.sampled_from(_EXAMPLES), st.text(max_size=8)).map(lambda p: p[0] + p[1]),
    )
)
def test_the_indexed_lookup_finds_exactly_what_every_rule_finds(text: str) -> None:
    assert _fast(text) == _brute_force(text)


def test_the_indexed_lookup_on_every_example_and_fixture_line() -> None:
    for text in _EXAMPLES + _LINES:
        assert _fast(text) == _brute_force(text), text


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(_EXAMPLES + _LINES[:200]), min_size=1, max_size=40), st.data())
def test_kept_matches_are_what_matching_again_finds(texts: list[str], data: st.DataObject) -> None:
    """The matches kept for repeated block texts (RuleSet.matches_all) are those found
    afresh, also after the kept ones were forgotten for want of room."""
    import cleaner.rules as rules_module

    rules = load_rules()
    entries = data.draw(st.sampled_from([rules_module.MEMO_ENTRIES, 3]))
    original = rules_module.MEMO_ENTRIES
    rules_module.MEMO_ENTRIES = entries
    memo = rules._memo  # type: ignore[attr-defined]
    try:
        for text in texts:  # one at a time: with room for 3, the kept ones are forgotten
            rules.matches_all([text])
            assert len(memo) <= entries
        for _ in range(2):  # from what was kept, but for what was forgotten; then all kept
            found = rules.matches_all(texts)
            assert [[(r.rule_id, m.span()) for r, m in hits] for hits in found] == [
                _brute_force(text) for text in texts
            ]
        assert len(memo) < entries + len(set(texts))
    finally:
        rules_module.MEMO_ENTRIES = original

