"""Boilerplate rules as data: one TOML file per category, each rule with its own examples.

A rule file looks like this::

    category = "teaser"
    about = "Links to other articles: a heading, then the other article's headline and lead."

    [[rules]]
    id = "check_also"                  # stable; reports say "teaser.check_also"
    pattern = '(check also|related( articles| stories)?|read more)\\s*:?'
    match = "full"                     # full: the whole block; start: a prefix; search: anywhere
    where = "anywhere"                 # head / tail (the first or last `within` blocks) / anywhere
    max_chars = 40                     # the longest block the rule may remove
    carry = 2                          # also remove up to 2 following blocks ...
    carry_max_chars = 300              # ... each at most this long (the headline and the lead)
    why = "A heading that introduces links to other articles."
    remove = ["Check Also", "Related articles:"]
    keep = ["Readers should check also the small print of the contract."]

`strength = "weak"` marks a pattern that is only evidence: it removes a block only next to a
block that a strong rule of the same category removed (a cookie banner's second paragraph,
a comment policy's rules). See ``cleaner.boilerplate`` for how context is applied.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import regex

from cleaner.model import Category

Match = Literal["full", "start", "search"]
Where = Literal["anywhere", "head", "tail"]
Scope = Literal["block", "span"]

_MATCHES = ("full", "start", "search")
_WHERES = ("anywhere", "head", "tail")


class RuleError(ValueError):
    """A rule file is malformed; the message names the file and the rule."""


@dataclass(frozen=True, slots=True)
class Rule:
    category: Category
    id: str
    pattern: regex.Pattern[str]
    match: Match = "search"
    where: Where = "anywhere"
    #: "span" removes only the matched text (with the spaces around it), not the whole block.
    scope: Scope = "block"
    within: int = 10
    min_chars: int = 0
    max_chars: int = 10_000
    strong: bool = True
    #: Remove this many following blocks with it (a teaser's headline and lead).
    carry: int = 0
    carry_max_chars: int = 300
    #: From this block to the last block of the same category in the article's tail, all goes
    #: (a comment policy or a cookie notice is many sentences of ordinary prose).
    anchors_tail: bool = False
    #: Fire only next to a block removed for one of these categories.
    requires_neighbour: frozenset[Category] = frozenset()
    why: str = ""
    remove_examples: tuple[str, ...] = ()
    keep_examples: tuple[str, ...] = ()

    @property
    def rule_id(self) -> str:
        return f"{self.category.value}.{self.id}"

    def find(self, text: str) -> regex.Match[str] | None:
        """The match in this block text, if the pattern and length limits accept it.

        For span rules the length limits apply to the matched span; for block rules, to the
        block. Position and context are the engine's business (``cleaner.boilerplate``).
        """
        if self.scope == "block" and not self.min_chars <= len(text) <= self.max_chars:
            return None
        if self.match == "full":
            found = self.pattern.fullmatch(text)
        elif self.match == "start":
            found = self.pattern.match(text)
        else:
            found = self.pattern.search(text)
        if found is None or found.end() == found.start():
            return None
        if self.scope == "span" and not self.min_chars <= len(found.group()) <= self.max_chars:
            return None
        return found


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[Rule, ...]

    def for_category(self, category: Category) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.category is category)


def _rule_from_table(category: Category, table: dict[str, object], source: str) -> Rule:
    rule_id = table.get("id")
    where_am_i = f"{source}: rule {rule_id!r}"
    if not isinstance(rule_id, str) or not re.fullmatch(r"[a-z0-9_]+", rule_id):
        raise RuleError(f"{where_am_i}: 'id' must be snake_case")
    known = {
        "id", "pattern", "match", "where", "scope", "within", "min_chars", "max_chars", "strength",
        "carry", "carry_max_chars", "anchors_tail", "requires_neighbour", "case_sensitive",
        "why", "remove", "keep",
    }  # fmt: skip
    unknown = set(table) - known
    if unknown:
        raise RuleError(f"{where_am_i}: unknown key(s) {sorted(unknown)}")
    pattern = table.get("pattern")
    if not isinstance(pattern, str):
        raise RuleError(f"{where_am_i}: 'pattern' is required")
    # The `regex` module, for Unicode properties such as \p{Lu} in name patterns.
    flags = regex.V0 if table.get("case_sensitive") else regex.IGNORECASE
    try:
        compiled = regex.compile(pattern, flags)
    except regex.error as exc:
        raise RuleError(f"{where_am_i}: bad pattern: {exc}") from exc
    match = table.get("match", "search")
    where = table.get("where", "anywhere")
    if match not in _MATCHES or where not in _WHERES:
        raise RuleError(f"{where_am_i}: 'match' is one of {_MATCHES}, 'where' of {_WHERES}")
    scope = table.get("scope", "block")
    if scope not in ("block", "span") or (scope == "span" and match == "full"):
        raise RuleError(f"{where_am_i}: 'scope' is 'block' or 'span' (a span rule cannot match full)")
    strength = table.get("strength", "strong")
    if strength not in ("strong", "weak"):
        raise RuleError(f"{where_am_i}: 'strength' is 'strong' or 'weak'")
    remove = tuple(str(x) for x in table.get("remove", ()))  # type: ignore[attr-defined]
    keep = tuple(str(x) for x in table.get("keep", ()))  # type: ignore[attr-defined]
    if not remove:
        raise RuleError(f"{where_am_i}: a rule needs 'remove' examples")
    neighbours = frozenset(
        Category(c)
        for c in table.get("requires_neighbour", ())  # type: ignore[attr-defined]
    )
    return Rule(
        category=category,
        id=rule_id,
        pattern=compiled,
        match=match,  # type: ignore[arg-type]
        where=where,  # type: ignore[arg-type]
        scope=scope,  # type: ignore[arg-type]
        within=int(table.get("within", 10)),  # type: ignore[call-overload]
        min_chars=int(table.get("min_chars", 0)),  # type: ignore[call-overload]
        max_chars=int(table.get("max_chars", 10_000)),  # type: ignore[call-overload]
        strong=strength == "strong",
        carry=int(table.get("carry", 0)),  # type: ignore[call-overload]
        carry_max_chars=int(table.get("carry_max_chars", 300)),  # type: ignore[call-overload]
        anchors_tail=bool(table.get("anchors_tail", False)),
        requires_neighbour=neighbours,
        why=str(table.get("why", "")),
        remove_examples=remove,
        keep_examples=keep,
    )


def parse_rule_file(text: str, source: str) -> list[Rule]:
    """Parse one category's rule file; errors name the file and the rule."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{source}: {exc}") from exc
    try:
        category = Category(data["category"])
    except (KeyError, ValueError) as exc:
        raise RuleError(f"{source}: 'category' must be one of the categories") from exc
    rules = [_rule_from_table(category, t, source) for t in data.get("rules", [])]
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise RuleError(f"{source}: duplicate rule ids")
    return rules


def rule_files() -> list[str]:
    """The names of the rule files shipped with the package."""
    root = resources.files(__name__)
    return sorted(p.name for p in root.iterdir() if p.name.endswith(".toml"))


def load_rules(categories: Iterable[Category] | None = None) -> RuleSet:
    """Load the shipped rules, optionally only those of some categories."""
    wanted = set(categories) if categories is not None else None
    root = resources.files(__name__)
    rules: list[Rule] = []
    for name in rule_files():
        for rule in parse_rule_file(root.joinpath(name).read_text("utf-8"), name):
            if wanted is None or rule.category in wanted:
                rules.append(rule)
    return RuleSet(tuple(rules))
