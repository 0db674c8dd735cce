"""Decide which blocks are boilerplate: rule matches first, then the context around them.

Patterns alone are not enough. A comment policy or a cookie notice is several sentences of
ordinary prose behind one tell-tale line, and a teaser heading is followed by another
article's headline and lead. So the engine works in passes, each recorded in the rule id:

1. *match*: a block matched by a strong rule at an allowed position is removed.
2. *carry*: a rule with ``carry = N`` takes the N short blocks after it (``<id>.carried``).
3. *tail*: a rule with ``anchors_tail`` in the article's tail takes every block up to the
   last block of the same category (``<id>.tail``): the prose between a comment policy's
   heading and its "Report this comment" is the policy.
4. *context*: weak rules, and rules that need a neighbour, fire next to removed blocks,
   repeatedly, so a run grows from its strong core.
5. *sandwich*: one or two short blocks between two removed blocks of the same category go
   with them (``<category>.sandwiched``).

Each pass only adds; nothing here removes a block that no strong match anchors.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Mapping, Sequence

from cleaner.model import Block, Category, Removal, Verdict
from cleaner.rules import MatchObject, Rule, RuleSet

#: The longest gap block the sandwich pass takes, and how many of them.
SANDWICH_MAX_CHARS = 400
SANDWICH_MAX_BLOCKS = 2
#: Categories that come as regions of several blocks (a consent dialog, a comment policy,
#: a photo's caption and credit). A lone "|" or a date line marks no region: what stands
#: between two of them is not theirs.
SANDWICH_CATEGORIES = frozenset(
    {
        Category.COOKIE_BANNER, Category.COMMENT_POLICY, Category.SUBSCRIPTION,
        Category.SHARE_PROMPT, Category.CAPTION, Category.DISCLOSURE,
    }
)  # fmt: skip


def _quote(text: str, limit: int = 60) -> str:
    """The text with its whitespace runs made single spaces, cut to ``limit`` characters
    (with "…"), as a repr: the evidence of a record."""
    # Of a long block only the head is read: its folded form is a prefix of the whole's
    # (a word cut at the end stays a prefix of that word), so when it is already longer
    # than the limit, the cut is the same.
    head = " ".join(text[: 4 * limit].split())
    if len(head) > limit:
        return repr(head[: limit - 1] + "…")
    text = head if len(text) <= 4 * limit else " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _position_ok(rule: Rule, index: int, count: int) -> bool:
    if rule.where == "head":
        return index < rule.within
    if rule.where == "tail":
        return index >= count - rule.within
    return True


def _has_category(rules: Sequence[Rule], category: Category) -> bool:
    return any(rule.category is category for rule in rules)


def _span_removal(block: Block, rule: Rule, start: int, end: int, text: str) -> Removal:
    # Take the spaces on one side with the span, so "Text. Read more" leaves "Text.".
    lo, hi = block.start + start, block.start + end
    while hi < block.end and text[hi] in " \t":
        hi += 1
    if hi == block.end or lo == block.start:
        while lo > block.start and text[lo - 1] in " \t":
            lo -= 1
    return Removal(
        lo, hi, text[lo:hi], rule.category, rule.rule_id,
        f"matched {_quote(text[block.start + start : block.start + end])}", block.index,
    )  # fmt: skip


MatchCache = dict[int, list[tuple[Rule, MatchObject]]]
#: A block's index (its first field).
_INDEX = operator.itemgetter(0)


def find_boilerplate(
    blocks: Sequence[Block],
    rules: RuleSet,
    text: str | None = None,
    cache: MatchCache | None = None,
    infer: bool = True,
    forms: Mapping[int, str] | None = None,
    held: set[int] | None = None,
) -> tuple[dict[int, Verdict], list[Removal]]:
    """Block verdicts (block index -> category, rule id, evidence) and span removals.

    ``blocks`` are the blocks still kept, in order: head, tail and neighbours are judged
    among them, so that cleaning a cleaned text finds nothing more. ``text`` is the
    normalised text the blocks come from; it is needed only for span rules. ``cache`` keeps
    each block's rule matches (which do not depend on position) between calls. With
    ``infer`` off, only the rules' own matches count (passes 2 to 5 are skipped).
    ``forms``, by block index, are the blocks' compared forms if they are known (the
    in-document pass makes them): they spare the rules case folding the blocks again
    (:meth:`cleaner.rules.RuleSet.matches_all`). ``held``, when given, gets the indices
    of the blocks with a match that its rule's place (head or tail) kept from counting:
    the only blocks that a pass over fewer blocks could judge otherwise.
    """
    if cache is None:
        cache = {}
    todo = [block for block in blocks if block.index not in cache]
    if todo:
        indices = list(map(_INDEX, todo))
        folded = None if forms is None else list(map(forms.__getitem__, indices))
        found = rules.matches_all([block.text for block in todo], folded)
        cache.update(zip(indices, found, strict=True))
    matches = list(map(cache.__getitem__, map(_INDEX, blocks)))
    decided, spans = _decide(blocks, matches, text, infer, held)
    return {blocks[p].index: verdict for p, verdict in decided.items()}, spans


def _decide(
    blocks: Sequence[Block],
    matches: Sequence[list[tuple[Rule, MatchObject]]],
    text: str | None,
    infer: bool,
    held: set[int] | None = None,
) -> tuple[dict[int, Verdict], list[Removal]]:
    """As :func:`find_boilerplate`, with verdicts keyed by position in ``blocks`` (and
    ``held`` filled with block indices)."""
    count = len(blocks)
    decided: dict[int, Verdict] = {}
    spans: list[Removal] = []
    # Every rule that accepts a block, by block, in rule-file order.
    # By position, of the blocks that some rule accepts (most accept none).
    hits: dict[int, list[Rule]] = {}
    strong_rule: dict[int, Rule] = {}

    for position in itertools.compress(range(count), matches):
        block = blocks[position]
        for rule, found in matches[position]:
            if not _position_ok(rule, position, count):
                if held is not None:
                    held.add(block.index)
                continue
            if rule.scope == "span":
                if text is not None and rule.strong and not rule.requires_neighbour:
                    spans.append(_span_removal(block, rule, found.start(), found.end(), text))
                continue
            hits.setdefault(position, []).append(rule)
            if rule.strong and not rule.requires_neighbour and position not in decided:
                decided[position] = Verdict(
                    rule.category, rule.rule_id, f"matched {_quote(found.group())}"
                )
                strong_rule[position] = rule

    if not infer:
        return decided, spans

    # Carry: a teaser heading takes the other article's headline and lead.
    for index, rule in sorted(strong_rule.items()):
        taken = 0
        nxt = index + 1
        while taken < rule.carry and nxt < count:
            block = blocks[nxt]
            if nxt in decided or len(block.text) > rule.carry_max_chars:
                break
            decided[nxt] = Verdict(
                rule.category, f"{rule.rule_id}.carried",
                f"follows {_quote(blocks[index].text)} ({rule.rule_id})", inferred=True,
            )  # fmt: skip
            taken += 1
            nxt += 1

    # Tail anchors: from the anchor to the last block of its category, when both are in the
    # article's tail and a second block confirms the category.
    for index, rule in sorted(strong_rule.items()):
        if not rule.anchors_tail or index < count - rule.within:
            continue
        same = (
            j for j in range(count - 1, index, -1) if _has_category(hits.get(j, ()), rule.category)
        )
        last = next(same, None)
        if last is None:
            continue
        inside = [j for j in range(index + 1, last) if j not in decided]
        if not inside:
            continue
        tail_id = f"{rule.rule_id}.tail"
        between = f"between {_quote(blocks[index].text, 40)} and {_quote(blocks[last].text, 40)}"
        for j in inside:
            decided[j] = Verdict(rule.category, tail_id, between, inferred=True)

    # Context: weak evidence and neighbour-bound rules next to removed blocks, to a fixpoint.
    # Only blocks that such a rule matched can change.
    waiting = [
        i for i, rules in hits.items()
        if rules and i not in decided and any(r.requires_neighbour or not r.strong for r in rules)
    ]  # fmt: skip
    changed = bool(waiting)
    while changed:
        changed = False
        for i in waiting:
            if i in decided:
                continue
            around = [decided[j].category for j in (i - 1, i + 1) if j in decided]
            if not around:
                continue
            for rule in hits[i]:
                if rule.requires_neighbour:
                    fits = any(c in rule.requires_neighbour for c in around)
                else:
                    fits = not rule.strong and rule.category in around
                if fits:
                    decided[i] = Verdict(
                        rule.category, rule.rule_id,
                        f"matched next to a removed {'/'.join(sorted(set(around)))} block",
                        inferred=True,
                    )  # fmt: skip
                    changed = True
                    break

    # Sandwich: short blocks between two removed blocks of one category that spans a region.
    ordered = sorted(decided)
    for a, b in itertools.pairwise(ordered):
        gap = range(a + 1, b)
        category = decided[a].category
        if not 0 < len(gap) <= SANDWICH_MAX_BLOCKS or decided[b].category is not category:
            continue
        if category not in SANDWICH_CATEGORIES:
            continue
        if any(len(blocks[j].text) > SANDWICH_MAX_CHARS for j in gap):
            continue
        for j in gap:
            decided[j] = Verdict(
                category, f"{category.value}.sandwiched",
                f"between two {category.value} blocks ({decided[a].rule_id}, {decided[b].rule_id})",
                inferred=True,
            )  # fmt: skip

    return decided, spans
