"""Tests generated from the rule files: every rule's own examples, and the files' form."""

from __future__ import annotations

import pytest

from cleaner.model import Category
from cleaner.rules import Rule, RuleError, load_rules, parse_rule_file, rule_files

RULES = load_rules().rules


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


def test_every_category_but_duplicates_has_a_rule_file() -> None:
    covered = {rule.category for rule in RULES}
    assert covered == set(Category) - {Category.DUPLICATE_IN_DOCUMENT}
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
        ('category = "tags"\n[[rules]]\nid = "x"\npattern = "a"\nremove = ["a"]\nwhre = "head"\n',
         "unknown key"),
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
