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

import bisect
import itertools
import operator
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, TypeAlias, cast

import ahocorasick_rs
import regex

from cleaner.minhash import FOLD_MAKES, FOLD_REPLACES
from cleaner.model import Category
from cleaner.rules.first import first_chars, start_prefixes

Match = Literal["full", "start", "search"]
Where = Literal["anywhere", "head", "tail"]
Scope = Literal["block", "span"]

_MATCHES = ("full", "start", "search")
_WHERES = ("anywhere", "head", "tail")
#: How many first characters of a block choose the anchored rules tried on it.
_START = 3


#: Block texts up to this long have their matches kept (:meth:`RuleSet.matches_all`), and
#: this many of them at most.
MEMO_MAX_CHARS = 1000
MEMO_ENTRIES = 1 << 16


#: A compiled rule pattern: the standard library's where it can parse the pattern (it is
#: about twice as fast), the `regex` module's for Unicode properties such as \p{Lu}.
Pattern: TypeAlias = re.Pattern[str] | regex.Pattern[str]
MatchObject: TypeAlias = re.Match[str] | regex.Match[str]


def compile_pattern(pattern: str, ignore_case: bool) -> Pattern:
    """Compile with the standard library, or with `regex` for what only it understands."""
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error:
        return regex.compile(pattern, regex.IGNORECASE if ignore_case else regex.V0)


#: A rule as the hot loop of RuleSet.matches reads it: the shortest block it takes, its
#: match method, its place in the rule files, the rule, and a span rule's length limits.
_Step: TypeAlias = tuple[int, Callable[[str], Any], int, "Rule", tuple[int, int] | None]


class RuleError(ValueError):
    """A rule file is malformed; the message names the file and the rule."""


@dataclass(frozen=True, slots=True)
class Rule:
    category: Category
    id: str
    pattern: Pattern
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
    #: Words of which the block must contain one before the pattern is tried: a cheap test
    #: that spares prose the cost of costly patterns. A word in lower case is looked for in
    #: the case-folded block, a word with capitals ("AFP") as it is written.
    needs: tuple[str, ...] = ()
    why: str = ""
    remove_examples: tuple[str, ...] = ()
    keep_examples: tuple[str, ...] = ()

    @property
    def rule_id(self) -> str:
        return f"{self.category.value}.{self.id}"

    def find(self, text: str) -> MatchObject | None:
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


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        # The hot loop's tables, built once. A rule with needs is tried on a block only if
        # one of its words occurs in the block (one Aho-Corasick pass finds them all); a
        # rule without, only if the block's first characters can start its match (where
        # cleaner.rules.first can tell).
        plain: list[tuple[int, frozenset[str] | None]] = []
        by_word: dict[str, list[int]] = {}
        by_char_needs: list[tuple[int, bytes, Callable[[str], object], int]] = []
        for order, rule in enumerate(self.rules):
            if not rule.needs:
                plain.append((order, _rule_first_chars(rule)))
                continue
            for word in rule.needs:
                if "\x00" in word:  # texts are joined by NUL to be scanned at once
                    raise RuleError(f"{rule.rule_id}: a word in 'needs' holds a NUL")
                if len(word) > 1:
                    by_word.setdefault(word, []).append(order)
            single = "".join(w for w in rule.needs if len(w) == 1)
            if single:
                # Every byte but NUL and those of the characters' UTF-8 (see _char_unlocked).
                kept = set("\x00".join(single).encode("utf-8"))
                dropped = bytes(b for b in range(256) if b not in kept)
                search = re.compile("[" + "".join(map(re.escape, single)) + "]").search
                by_char_needs.append((_limits(rule)[1], dropped, search, order))
        chars = set().union(*(f for _, f in plain if f is not None))
        entries = [(*_limits(r), _matcher(r), r) for r in self.rules]
        # What the hot loop needs of a rule, in one tuple: the shortest block it takes, how
        # to match, its place in the rule files, the rule, and for a span rule the span's
        # length limits (Rule.find, inlined: the block's length limits are the bisection's).
        steps = [
            (low, matcher, order, rule, (rule.min_chars, rule.max_chars))
            if rule.scope == "span"
            else (low, matcher, order, rule, None)
            for order, (low, _high, matcher, rule) in enumerate(entries)
        ]
        # Under each character, the rules by the longest block they take, so that one
        # bisection leaves out every rule a block is too long for.
        def by_length(orders: Iterable[int]) -> tuple[list[int], list[_Step]]:
            ranked = sorted(orders, key=lambda o: entries[o][1])
            return [entries[o][1] for o in ranked], [steps[o] for o in ranked]

        by_char = {
            c: by_length(o for o, f in plain if f is None or c in f) for c in sorted(chars)
        }
        # Sharper for a block that begins with three ASCII characters (nearly every block):
        # the strings an anchored rule's match can begin with (cleaner.rules.first), looked
        # up by the block's first three characters, in a table filled as blocks come.
        starts = [
            (order, first, start_prefixes(self.rules[order].pattern.pattern))
            if self.rules[order].match != "search"
            else (order, first, None)
            for order, first in plain
        ]
        object.__setattr__(self, "_starts", starts)
        object.__setattr__(self, "_by_start", {})
        object.__setattr__(self, "_memo", {})
        object.__setattr__(self, "_by_orders", {})
        object.__setattr__(self, "_by_length", by_length)
        folded = {w: o for w, o in by_word.items() if w == w.casefold()}
        exact = {w: o for w, o in by_word.items() if w != w.casefold()}
        object.__setattr__(self, "_entries", entries)
        object.__setattr__(self, "_steps", steps)
        object.__setattr__(self, "_by_char", by_char)
        object.__setattr__(self, "_anywhere", by_length(o for o, f in plain if f is None))
        object.__setattr__(self, "_char_needs", tuple(by_char_needs))
        # Each automaton with the longest block any rule it unlocks takes: longer blocks
        # need not be scanned for its words at all.
        def longest(words: dict[str, list[int]]) -> int:
            return max((entries[o][1] for orders in words.values() for o in orders), default=0)

        scans = [
            (_automaton(folded), longest(folded), True),
            (_automaton(exact), longest(exact), False),
        ]
        object.__setattr__(
            self,
            "_word_scans",
            tuple((*found, most, fold) for found, most, fold in scans if found is not None),
        )
        # The folded words that a text's compared form may hold where its case-folded text
        # does not (see _unlocked): those with a space or a character that folding makes.
        checks = {n: w for n, w in enumerate(folded) if _form_may_make(w)}
        object.__setattr__(self, "_form_checks", checks)
        object.__setattr__(self, "_forms_hold_words", all(map(_form_keeps, folded)))

    def matches(self, text: str) -> list[tuple[Rule, MatchObject]]:
        """Every rule that accepts this block text, with its match, in rule-file order.

        The same verdicts as calling :meth:`Rule.find` for every rule (tests/test_rules.py
        checks this); this is the hot loop of cleaning, so rules that cannot fire are not
        visited at all.
        """
        return self.matches_all([text])[0]

    def matches_all(
        self, texts: Sequence[str], forms: Sequence[str] | None = None
    ) -> list[list[tuple[Rule, MatchObject]]]:
        """:meth:`matches` of each text; the words that rules need are looked for in all
        the texts in one pass. ``forms``, when given, are the texts' compared forms
        (:func:`cleaner.minhash.fold_forms`, which the in-document pass makes anyway): the
        words are then looked for in them instead of in case-folded copies, with the same
        result.

        A text of at most :data:`MEMO_MAX_CHARS` is matched once per process and its
        matches are kept (up to :data:`MEMO_ENTRIES` texts, then forgotten all at once):
        the lines a site repeats on every page (footers, share prompts, bylines, captions)
        are four in ten of a dump's blocks. The lists returned are shared: read them, do
        not change them.
        """
        memo = self._memo  # type: ignore[attr-defined]
        found: list[list[tuple[Rule, MatchObject]] | None] = list(map(memo.get, texts))
        todo = [i for i, hit in enumerate(found) if hit is None]
        if not todo:
            return found  # type: ignore[return-value]
        if len(memo) >= MEMO_ENTRIES:
            memo.clear()
        every = len(todo) == len(texts)
        fresh = texts if every else [texts[i] for i in todo]
        fresh_forms = forms if every or forms is None else [forms[i] for i in todo]
        matched = list(map(self._matches, fresh, self._unlocked(fresh, fresh_forms)))
        short = map(MEMO_MAX_CHARS.__ge__, map(len, fresh))
        memo.update(itertools.compress(zip(fresh, matched, strict=True), short))
        if every:
            return matched
        for i, hits in zip(todo, matched, strict=True):
            found[i] = hits
        return found  # type: ignore[return-value]

    def _unlocked(
        self, texts: Sequence[str], forms: Sequence[str] | None = None
    ) -> list[set[int] | None]:
        """For each text, the rules with words that one of their words unlocks, and those
        with characters that it holds (:meth:`_char_unlocked`); None: none.

        Each automaton runs once over the texts it may unlock a rule for (case folded, for
        the words in lower case), joined by NUL: no word holds one, so none is found across
        two texts, and where a word starts tells whose it is.

        With ``forms`` (each text's compared form: case folded, its whitespace runs made
        one space and its ends stripped, curly quotes and dashes made ASCII), the words in
        lower case are looked for in the forms, which saves case folding every text again.
        A word found in the case-folded text is in the form too: only whitespace and
        quote and dash characters change, and none is in a word but for single inner
        spaces (``_forms_hold_words``, checked as the rules load). The other way holds for
        a word with no space, straight quote or hyphen (each character of the form's match
        was that character in the case-folded text, and no whitespace stood between two of
        them); a word with one of those (``_form_checks``) is confirmed in the case-folded
        text of the block it was found in, which few blocks need.
        """
        triggered: list[set[int] | None] = [None] * len(texts)
        checks: dict[int, str] = self._form_checks  # type: ignore[attr-defined]
        sizes = list(map(len, texts))
        most = max(sizes, default=0)
        for automaton, unlocks, longest, fold in self._word_scans:  # type: ignore[attr-defined]
            # Every text, when none is too long (an empty one finds nothing), else those
            # that are not.
            chosen: Sequence[int] = (
                range(len(texts)) if longest >= most
                else [i for i, size in enumerate(sizes) if 0 < size <= longest]
            )  # fmt: skip
            if not chosen:
                continue
            in_forms = fold and forms is not None and self._forms_hold_words  # type: ignore[attr-defined]
            pieces: Sequence[str]
            if in_forms and forms is not None and longest >= most:
                pieces = forms
            elif in_forms and forms is not None:
                pieces = [forms[i] for i in chosen]
            else:
                pieces = [texts[i].casefold() if fold else texts[i] for i in chosen]
            # Where each piece ends in the joined text (at its NUL): a match starting at s
            # is in the piece with as many ends at or before s as its position.
            lengths = itertools.accumulate(map(len, pieces))
            ends = list(map(operator.add, lengths, itertools.count()))
            for word, start, _ in automaton.find("\x00".join(pieces)):
                i = chosen[bisect.bisect_right(ends, start)]
                if in_forms and word in checks and checks[word] not in texts[i].casefold():
                    continue
                orders = triggered[i]
                if orders is None:
                    triggered[i] = set(unlocks[word])
                else:
                    orders.update(unlocks[word])
        self._char_unlocked(texts, sizes, triggered)
        return triggered

    def _char_unlocked(
        self, texts: Sequence[str], sizes: list[int], triggered: list[set[int] | None]
    ) -> None:
        """Add to ``triggered`` the rules whose needs are single characters (a digit, "›")
        where a text holds one and is short enough for the rule.

        The texts short enough are joined by NUL in UTF-8, and every byte but NUL and the
        characters' own is deleted (bytes.translate): a text's piece is empty when it holds
        none of them. An ASCII byte left is one of the characters (the bytes of a longer
        sequence are all above 127); a piece with others is confirmed in the text. A few
        C calls, where a search in each short text costs a call each.
        """
        for longest, dropped, search, order in self._char_needs:  # type: ignore[attr-defined]
            chosen = list(itertools.compress(range(len(texts)), map(longest.__ge__, sizes)))
            if not chosen:
                continue
            joined = "\x00".join(map(texts.__getitem__, chosen))
            raw = joined.encode("utf-8", "surrogatepass")
            pieces = raw.translate(None, dropped).split(b"\x00")
            if len(pieces) != len(chosen):  # a text with a NUL of its own: one by one
                pieces = [b"?" if search(texts[i]) else b"" for i in chosen]
            for n in itertools.compress(range(len(chosen)), pieces):
                i = chosen[n]
                if pieces[n].isascii() or search(texts[i]):
                    orders = triggered[i]
                    if orders is None:
                        triggered[i] = {order}
                    else:
                        orders.add(order)

    def _matches(self, text: str, triggered: set[int] | None) -> list[tuple[Rule, MatchObject]]:
        if not text:
            return []
        size = len(text)
        # Rules with words unlock no rule of the character's list: they are not anchored.
        found: list[tuple[int, Rule, MatchObject]] = []
        table = self._by_start.get(text[:_START])  # type: ignore[attr-defined]
        if table is None:
            start = text[:_START]
            if start.isascii():
                table = self._start_table(start)
            else:
                table = self._by_char.get(text[0], self._anywhere)  # type: ignore[attr-defined]
        limits, ranked = table
        for low, matcher, order, rule, span in ranked[bisect.bisect_left(limits, size) :]:
            if size >= low and (match := matcher(text)) is not None:
                start, end = match.span()
                if start != end and (span is None or span[0] <= end - start <= span[1]):
                    found.append((order, rule, match))
        if triggered:
            entries = self._entries  # type: ignore[attr-defined]
            every = self._steps  # type: ignore[attr-defined]
            for order in triggered:
                low, high, matcher, rule = entries[order]
                if low <= size <= high and (match := matcher(text)) is not None:
                    start, end = match.span()
                    span = every[order][4]
                    if start != end and (span is None or span[0] <= end - start <= span[1]):
                        found.append((order, rule, match))
        if not found:
            return []
        if len(found) > 1:
            found.sort(key=lambda item: item[0])
        return [(rule, match) for _, rule, match in found]

    def _start_table(self, start: str) -> tuple[list[int], list[_Step]]:
        """The anchored and unindexed rules that may match a block beginning with ``start``
        (ASCII), by the longest block they take; made once per beginning."""
        lowered = start.lower()
        # What a prefix (at most three characters, see first.start_prefixes) must be.
        heads = {lowered[:1], lowered[:2], lowered}
        orders = tuple(
            order
            for order, first, prefixes in self._starts  # type: ignore[attr-defined]
            if (first is None or start[0] in first)
            and (prefixes is None or not prefixes.isdisjoint(heads))
        )
        table = self._by_orders.get(orders)  # type: ignore[attr-defined]
        if table is None:
            table = self._by_orders[orders] = self._by_length(orders)  # type: ignore[attr-defined]
        self._by_start[start] = table  # type: ignore[attr-defined]
        return table  # type: ignore[no-any-return]


def _form_may_make(word: str) -> bool:
    """Whether a compared form may hold ``word`` where the case-folded text does not: the
    word has whitespace, or a character that folding makes of others (a straight quote or
    hyphen, from curly quotes and dashes)."""
    return any(c.isspace() or c in FOLD_MAKES for c in word)


def _form_keeps(word: str) -> bool:
    """Whether a compared form holds ``word`` wherever the case-folded text does: the word
    has no character that folding replaces, and no whitespace but single inner spaces."""
    return (
        not any(c in FOLD_REPLACES or (c.isspace() and c != " ") for c in word)
        and word == word.strip()
        and "  " not in word
    )


class _WordScan:
    """Aho-Corasick automata over some words: one for text, and one over the words' UTF-8
    for a text that is ASCII (a third quicker there: the text automaton maps its byte
    offsets back to characters). Both number the words alike."""

    __slots__ = ("_bytes", "_text")

    def __init__(self, words: list[str]) -> None:
        kind = ahocorasick_rs.MatchKind.Standard
        self._text = ahocorasick_rs.AhoCorasick(words, matchkind=kind)
        self._bytes = ahocorasick_rs.BytesAhoCorasick([w.encode() for w in words], matchkind=kind)

    def find(self, text: str) -> list[tuple[int, int, int]]:
        """(word, start, end) of every occurrence of every word, overlapping ones too."""
        if text.isascii():
            return self._bytes.find_matches_as_indexes(text.encode("ascii"), overlapping=True)
        return self._text.find_matches_as_indexes(text, overlapping=True)


def _automaton(
    words: dict[str, list[int]],
) -> tuple[_WordScan, tuple[tuple[int, ...], ...]] | None:
    """An Aho-Corasick scan for the words, and for each word the rules it unlocks."""
    if not words:
        return None
    return _WordScan(list(words)), tuple(tuple(orders) for orders in words.values())


def _limits(rule: Rule) -> tuple[int, int]:
    """The block lengths a rule may look at (any, for a span rule: it limits the span)."""
    return (rule.min_chars, rule.max_chars) if rule.scope == "block" else (0, 1 << 62)


def _rule_first_chars(rule: Rule) -> frozenset[str] | None:
    if rule.match == "search":
        return None
    return first_chars(rule.pattern.pattern, bool(rule.pattern.flags & re.IGNORECASE))


def _matcher(rule: Rule) -> Callable[[str], object]:
    methods = {"full": "fullmatch", "start": "match", "search": "search"}
    return cast(Callable[[str], object], getattr(rule.pattern, methods[rule.match]))


_KEYS = frozenset(
    {
        "id", "pattern", "match", "where", "scope", "within", "min_chars", "max_chars",
        "strength", "carry", "carry_max_chars", "anchors_tail", "requires_neighbour",
        "case_sensitive", "needs", "why", "remove", "keep",
    }
)  # fmt: skip


class _Table:
    """Typed access to one ``[[rules]]`` table; a wrong type is a RuleError naming the rule."""

    def __init__(self, table: dict[str, Any], where: str) -> None:
        self.table, self.where = table, where

    def _get(self, key: str, kind: type, default: Any) -> Any:
        value = self.table.get(key, default)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise RuleError(f"{self.where}: {key!r} must be {kind.__name__}")
        return value

    def text(self, key: str, default: str = "") -> str:
        return cast(str, self._get(key, str, default))

    def number(self, key: str, default: int) -> int:
        return cast(int, self._get(key, int, default))

    def flag(self, key: str, default: bool = False) -> bool:
        return cast(bool, self._get(key, bool, default))

    def strings(self, key: str) -> tuple[str, ...]:
        values = self._get(key, list, [])
        if not all(isinstance(v, str) for v in values):
            raise RuleError(f"{self.where}: {key!r} must be a list of strings")
        return tuple(values)

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in allowed:
            raise RuleError(f"{self.where}: {key!r} is one of {allowed}")
        return value


def _rule_from_table(category: Category, table: dict[str, Any], source: str) -> Rule:
    rule_id = table.get("id")
    where_am_i = f"{source}: rule {rule_id!r}"
    if not isinstance(rule_id, str) or not re.fullmatch(r"[a-z0-9_]+", rule_id):
        raise RuleError(f"{where_am_i}: 'id' must be snake_case")
    unknown = set(table) - _KEYS
    if unknown:
        raise RuleError(f"{where_am_i}: unknown key(s) {sorted(unknown)}")
    get = _Table(table, where_am_i)
    pattern = get.text("pattern")
    if not pattern:
        raise RuleError(f"{where_am_i}: 'pattern' is required")
    # The `regex` module, for Unicode properties such as \p{Lu} in name patterns.
    try:
        compiled = compile_pattern(pattern, ignore_case=not get.flag("case_sensitive"))
    except (re.error, regex.error) as exc:
        raise RuleError(f"{where_am_i}: bad pattern: {exc}") from exc
    match = get.choice("match", "search", _MATCHES)
    scope = get.choice("scope", "block", ("block", "span"))
    if scope == "span" and match == "full":
        raise RuleError(f"{where_am_i}: a span rule cannot match the full block")
    remove = get.strings("remove")
    if not remove:
        raise RuleError(f"{where_am_i}: a rule needs 'remove' examples")
    try:
        neighbours = frozenset(Category(c) for c in get.strings("requires_neighbour"))
    except ValueError as exc:
        raise RuleError(f"{where_am_i}: 'requires_neighbour' names a category: {exc}") from exc
    return Rule(
        category=category,
        id=rule_id,
        pattern=compiled,
        match=cast(Match, match),
        where=cast(Where, get.choice("where", "anywhere", _WHERES)),
        scope=cast(Scope, scope),
        within=get.number("within", 10),
        min_chars=get.number("min_chars", 0),
        max_chars=get.number("max_chars", 10_000),
        strong=get.choice("strength", "strong", ("strong", "weak")) == "strong",
        carry=get.number("carry", 0),
        carry_max_chars=get.number("carry_max_chars", 300),
        anchors_tail=get.flag("anchors_tail"),
        requires_neighbour=neighbours,
        needs=get.strings("needs"),
        why=get.text("why"),
        remove_examples=remove,
        keep_examples=get.strings("keep"),
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
