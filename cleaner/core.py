"""The cleaning pipeline: decode, repair, segment, decide, cut. Pure: no files, no printing."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from cleaner.boilerplate import MatchCache, find_boilerplate
from cleaner.config import DEFAULT_CONFIG, CleanerConfig
from cleaner.corpus import ArticleCorpus, text_digest
from cleaner.decode import decode_bytes
from cleaner.duplicates import ShingleCache, find_duplicate_blocks, prepare_caches
from cleaner.minhash import fold_forms
from cleaner.model import Block, Note, Removal, Repair, Result, Verdict, apply_removals
from cleaner.repair import repair_text
from cleaner.rules import RuleSet, load_rules
from cleaner.segment import removals_for_blocks, segment_blocks

#: What every decision pass of one document shares: each block's rule matches, and its
#: shingles and signature.
_Caches = tuple[MatchCache, ShingleCache]

#: Documents cleaned together by :meth:`Cleaner.clean_many`: enough that numpy's cost per
#: call is shared, few enough that the arrays stay in the processor's cache.
BATCH_DOCUMENTS = 16

#: A block's index, start and end (its first three fields).
_INDEX = operator.itemgetter(0)
_START = operator.itemgetter(1)
_END = operator.itemgetter(2)

#: Decision passes at most; each pass only removes, so this bounds a chain of reveals.
_MAX_PASSES = 4


class Cleaner:
    """Cleans documents with one immutable config and one rule set, loaded once."""

    #: Stop the decision passes as soon as the next one could find nothing new (see
    #: :meth:`_decide`); off, every pass runs until one finds nothing (the tests compare).
    _settle = True

    def __init__(self, config: CleanerConfig | None = None, rules: RuleSet | None = None) -> None:
        self.config = config or DEFAULT_CONFIG
        self.rules = rules if rules is not None else load_rules(self.config.categories)

    def clean(self, data: str | bytes, corpus: ArticleCorpus | None = None) -> Result:
        """Clean one document given as text or as bytes of any common charset.

        ``corpus`` is what the corpus pass decided about this document's blocks (see
        :meth:`cleaner.corpus.CorpusDecisions.for_article`): its verdicts join the rules'
        where no rule removes the block, and its notes join the result's. When it carries a
        digest that is not the normalised text's (the text changed since it was indexed),
        it is set aside with a note.
        """
        normalisation = self._normalise(data, corpus)
        blocks = segment_blocks(normalisation[2])
        return self._clean(*normalisation, blocks, corpus, ShingleCache(self.config))

    def clean_batch(
        self, documents: Sequence[tuple[str | bytes, ArticleCorpus | None]]
    ) -> list[Result]:
        """:meth:`clean` of each (document, corpus), the same results, made quicker by
        finding the candidates for in-document copies of all the documents in one pass
        (:func:`cleaner.duplicates.prepare_caches`). An error in one document raises for
        the batch: clean it alone to know which."""
        normalised = [self._normalise(data, corpus) for data, corpus in documents]
        blocks = [segment_blocks(n[2]) for n in normalised]
        texts = [block.text for mine in blocks for block in mine]
        forms = None
        if self.config.dedup_in_document:
            forms = fold_forms(texts)
            caches = prepare_caches(blocks, self.config, forms)
        else:
            caches = [ShingleCache(self.config) for _ in blocks]
        if self.config.boilerplate:
            # Every block's rule matches, for all the documents in one matches_all (one
            # pass of its word scans, not one per document): what find_boilerplate would
            # find for each, since a block's matches depend on its text alone.
            found = iter(self.rules.matches_all(texts, forms))
            # zip stops at the document's last block, having taken as many matches.
            matches = [dict(zip(map(_INDEX, mine), found, strict=False)) for mine in blocks]
        else:
            matches = [{} for _ in blocks]
        return [
            self._clean(*n, b, corpus, cache, found)
            for n, b, (_, corpus), cache, found in zip(normalised, blocks, documents, caches,
                                                        matches, strict=True)
        ]  # fmt: skip

    def _clean(
        self,
        text: str,
        encoding: str | None,
        normalised: str,
        repairs: list[Repair],
        current: bool,
        blocks: list[Block],
        corpus: ArticleCorpus | None,
        shingles: ShingleCache,
        matches: MatchCache | None = None,
    ) -> Result:
        notes: list[Note] = []
        verdicts: dict[int, Verdict] = {}
        if corpus is not None:
            if current:
                verdicts = corpus.verdicts
                notes.extend(corpus.notes)
            else:
                notes.append(Note("corpus", "the text changed since the corpus pass read it; "
                                  "its decisions were not applied"))  # fmt: skip

        caches: _Caches = ({} if matches is None else matches, shingles)
        decided, spans = self._decide(blocks, normalised, caches, corpus=verdicts)
        removals, guarded = self._guard(normalised, blocks, decided, spans, caches, verdicts)
        removals.sort(key=lambda r: r.start)
        return Result(
            text=apply_removals(normalised, removals),
            normalised=normalised,
            decoded=text,
            blocks=tuple(blocks),
            removals=tuple(removals),
            repairs=tuple(repairs),
            notes=(*guarded, *notes),
            encoding=encoding,
        )

    def normalise(self, data: str | bytes) -> tuple[str, str | None, str, list[Repair]]:
        """(decoded text, charset or None, normalised text, repairs): the text that blocks,
        removals and the corpus pass refer to."""
        text, encoding, normalised, repairs, _ = self._normalise(data, None)
        return text, encoding, normalised, repairs

    def _normalise(
        self, data: str | bytes, corpus: ArticleCorpus | None
    ) -> tuple[str, str | None, str, list[Repair], bool]:
        """:meth:`normalise`, and whether ``corpus`` was decided on this normalised text
        (its digest is the text's, or it has none).

        A decoded text whose digest is the corpus's is the normalised text the corpus pass
        read, which repair leaves as it is (repair is idempotent: tests/test_repair.py), so
        it is not repaired again: the corpus pass repaired every article already, and most
        need nothing (a tenth of a cleaning's time went to finding that out twice)."""
        encoding = None
        if isinstance(data, bytes):
            decoded = decode_bytes(data)
            text, encoding = decoded.text, decoded.encoding
        else:
            text = data
        digest = corpus.digest if corpus is not None else None
        if not self.config.repair:
            return text, encoding, text, [], digest is None or digest == text_digest(text)
        if digest is not None and digest == text_digest(text):
            return text, encoding, text, [], True
        normalised, repairs = repair_text(text)
        current = digest is None or (normalised != text and digest == text_digest(normalised))
        return text, encoding, normalised, repairs, current

    def _guard(
        self,
        normalised: str,
        blocks: list[Block],
        decided: dict[int, Verdict],
        spans: list[Removal],
        caches: _Caches,
        corpus: dict[int, Verdict],
    ) -> tuple[list[Removal], list[Note]]:
        """Removal spans, unless they would take most of the article.

        Then the decisions are made again from the rules' own matches only, giving back
        what context inferred; that is kept if it takes no more than the limit and is
        stable (cleaning its output again would remove nothing, so cleaning stays
        idempotent). Otherwise nothing is removed. Either way a note says so.
        """
        def spans_for(verdicts: dict[int, Verdict], found: list[Removal]) -> list[Removal]:
            return removals_for_blocks(normalised, blocks, verdicts) + found

        def chars(removals: list[Removal]) -> int:
            return sum(len(r.text.strip()) for r in removals)

        removals = spans_for(decided, spans) if decided else spans
        if not removals:
            return removals, []
        content = sum(map(operator.sub, map(_END, blocks), map(_START, blocks)))
        limit = self.config.max_removed_share * content
        removed = chars(removals)
        if content < self.config.guard_min_chars or removed <= limit:
            return removals, []
        share = f"{removed / content:.0%} of {content} characters"
        above = f"above {self.config.max_removed_share:.0%}"
        certain, certain_spans = self._decide(blocks, normalised, caches, False, corpus)
        removals = spans_for(certain, certain_spans)
        if chars(removals) > limit:
            why = "even from their own matches alone"
        else:
            left = [b for b in blocks if b.index not in certain]
            again, _ = self._decide(left, normalised, caches)
            if not again:
                gave_back = len(set(decided) - set(certain))
                note = f"the rules would remove {share}, {above}; kept the {gave_back} blocks "
                note += "that only context marked"
                return removals, [Note("guard", note)]
            why = "and cleaning what their own matches leave would remove more"
        return [], [Note("guard", f"the rules would remove {share}, {above}, {why}; kept it whole")]

    def _decide(
        self,
        blocks: list[Block],
        normalised: str,
        caches: _Caches,
        infer: bool = True,
        corpus: dict[int, Verdict] | None = None,
    ) -> tuple[dict[int, Verdict], list[Removal]]:
        """Block verdicts and span removals, repeated on the kept blocks until none is new.

        Positions (head, tail, neighbours) are judged among the blocks that remain, so a
        second pass sees what cleaning the cleaned text would see: the fixpoint makes
        cleaning idempotent. With ``infer`` off only the rules' own matches and verified
        copies count. The ``corpus`` verdicts join in the first pass, after the rules (a
        rule's category says more than "repeated elsewhere") and before the in-document
        copies (a block that other articles hold is not this article's copy).
        """
        matches, shingles = caches
        decided: dict[int, Verdict] = {}
        spans: dict[tuple[int, int], Removal] = {}
        held: set[int] = set()
        for _ in range(_MAX_PASSES):
            kept = [b for b in blocks if b.index not in decided] if decided else blocks
            new: dict[int, Verdict] = {}
            held.clear()
            if self.config.dedup_in_document:
                shingles.fold(kept)  # the compared forms, which the rules can use too
            if self.config.boilerplate:
                forms = shingles.keys if self.config.dedup_in_document else None
                new, found = find_boilerplate(
                    kept, self.rules, normalised, matches, infer, forms, held
                )
                for removal in found:
                    spans.setdefault((removal.start, removal.end), removal)
            if corpus:
                for index, verdict in corpus.items():
                    new.setdefault(index, verdict)
                corpus = None
            if self.config.dedup_in_document:
                copies = find_duplicate_blocks(kept, self.config, new, shingles, infer)
                for index, verdict in copies.items():
                    new.setdefault(index, verdict)
            if not new:
                break
            decided.update(new)
            if self._settle and not held.difference(new):
                # What a pass over fewer blocks can judge otherwise is a block's place among
                # them (a head or tail rule's match, held back here): every other decision
                # it would make needs a new rule verdict first, and the copies it would find
                # are copies of blocks this pass compared already. No block is held, so the
                # next pass would find nothing new (tests/test_fast_paths.py runs it to check).
                break
        return decided, [r for r in spans.values() if r.block not in decided]

    def clean_many(self, documents: Iterable[str | bytes]) -> Iterator[Result]:
        """Clean a stream of documents lazily, a few at a time (:meth:`clean_batch`)."""
        documents = iter(documents)
        while batch := list(itertools.islice(documents, BATCH_DOCUMENTS)):
            yield from self.clean_batch([(document, None) for document in batch])


_default_cleaner: Cleaner | None = None


def cleaner_for(config: CleanerConfig | None, overrides: dict[str, Any]) -> Cleaner:
    """The Cleaner for a config and keyword overrides: one shared default when neither is
    given (its rules load once per process), a new one otherwise."""
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
    return cleaner_for(config, overrides).clean(data)


def clean(data: str | bytes, config: CleanerConfig | None = None, **overrides: Any) -> str:
    """Clean one document and return the cleaned text."""
    return clean_and_explain(data, config, **overrides).text
