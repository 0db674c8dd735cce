"""The cleaning pipeline: decode, repair, segment, decide, cut. Pure: no files, no printing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cleaner.boilerplate import MatchCache, find_boilerplate
from cleaner.config import DEFAULT_CONFIG, CleanerConfig
from cleaner.decode import decode_bytes
from cleaner.duplicates import ShingleCache, find_duplicate_blocks
from cleaner.model import Block, Category, Note, Removal, Result, apply_removals
from cleaner.repair import repair_text
from cleaner.rules import RuleSet, load_rules
from cleaner.segment import removals_for_blocks, segment_blocks

Verdict = tuple[Category, str, str]

#: Decision passes at most; each pass only removes, so this bounds a chain of reveals.
_MAX_PASSES = 4


class Cleaner:
    """Cleans documents with one immutable config and one rule set, loaded once."""

    def __init__(self, config: CleanerConfig | None = None, rules: RuleSet | None = None) -> None:
        self.config = config or DEFAULT_CONFIG
        self.rules = rules if rules is not None else load_rules(self.config.categories)

    def clean(self, data: str | bytes) -> Result:
        """Clean one document given as text or as bytes of any common charset."""
        encoding = None
        if isinstance(data, bytes):
            decoded = decode_bytes(data)
            text, encoding = decoded.text, decoded.encoding
        else:
            text = data
        if self.config.repair:
            normalised, repairs = repair_text(text)
        else:
            normalised, repairs = text, []
        blocks = segment_blocks(normalised)

        decided, spans = self._decide(blocks, normalised)

        notes: list[Note] = []
        removals = removals_for_blocks(normalised, blocks, decided)
        removals.extend(spans)
        removed = sum(r.end - r.start for r in removals)
        content = sum(b.end - b.start for b in blocks)
        if (
            content >= self.config.guard_min_chars
            and removed > self.config.max_removed_share * content
        ):
            notes.append(
                Note(
                    "guard",
                    f"the rules would remove {removed} of {content} characters "
                    f"({removed / content:.0%}, above {self.config.max_removed_share:.0%}); "
                    "kept the article whole",
                )
            )
            removals = []
        removals.sort(key=lambda r: r.start)
        return Result(
            text=apply_removals(normalised, removals),
            normalised=normalised,
            decoded=text,
            blocks=tuple(blocks),
            removals=tuple(removals),
            repairs=tuple(repairs),
            notes=tuple(notes),
            encoding=encoding,
        )

    def _decide(
        self, blocks: list[Block], normalised: str
    ) -> tuple[dict[int, Verdict], list[Removal]]:
        """Block verdicts and span removals, repeated on the kept blocks until none is new.

        Positions (head, tail, neighbours) are judged among the blocks that remain, so a
        second pass sees what cleaning the cleaned text would see: the fixpoint makes
        cleaning idempotent.
        """
        decided: dict[int, Verdict] = {}
        spans: dict[tuple[int, int], Removal] = {}
        matches: MatchCache = {}
        shingles = ShingleCache(self.config)
        for _ in range(_MAX_PASSES):
            kept = [b for b in blocks if b.index not in decided]
            new: dict[int, Verdict] = {}
            if self.config.boilerplate:
                new, found = find_boilerplate(kept, self.rules, normalised, matches)
                for removal in found:
                    spans.setdefault((removal.start, removal.end), removal)
            if self.config.dedup_in_document:
                copies = find_duplicate_blocks(kept, self.config, new, shingles)
                for index, verdict in copies.items():
                    new.setdefault(index, verdict)
            if not new:
                break
            decided.update(new)
        return decided, [r for r in spans.values() if r.block not in decided]

    def clean_many(self, documents: Iterable[str | bytes]) -> Iterator[Result]:
        """Clean a stream of documents lazily, one at a time."""
        for document in documents:
            yield self.clean(document)


_default_cleaner: Cleaner | None = None


def _cleaner_for(config: CleanerConfig | None, overrides: dict[str, Any]) -> Cleaner:
    global _default_cleaner
    if config is None and not overrides:
        # The rule set is immutable, so one default Cleaner can be shared safely.
        if _default_cleaner is None:
            _default_cleaner = Cleaner()
        return _default_cleaner
    return Cleaner((config or DEFAULT_CONFIG).with_(**overrides))


def clean_and_explain(
    data: str | bytes, config: CleanerConfig | None = None, **overrides: Any
) -> Result:
    """Clean one document and return the result with every repair and removal record."""
    return _cleaner_for(config, overrides).clean(data)


def clean(data: str | bytes, config: CleanerConfig | None = None, **overrides: Any) -> str:
    """Clean one document and return the cleaned text."""
    return clean_and_explain(data, config, **overrides).text
