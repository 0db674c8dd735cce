"""The shortcuts of the hot path give exactly what the plain computations give.

Each test sets a fast path (folding, the rule index, the word scan, the near-duplicate
pre-filter, segmentation) beside the slow, obvious way of computing the same thing.
"""

from __future__ import annotations

import itertools
import random
import re
import string
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner import core as core_module
from cleaner import corpus as corpus_module
from cleaner.config import DEFAULT_CONFIG
from cleaner.core import Cleaner
from cleaner.corpus import ArticleCorpus, PassageIndex, band_candidates, text_digest
from cleaner.duplicates import (
    ShingleCache,
    _agreeing_pairs,
    _banded_candidates,
    _candidate_pairs,
    _may_pair_within,
    _screened_hashes,
    prepare_caches,
)
from cleaner.minhash import (
    compiled_loop,
    fold_forms,
    fold_texts,
    jaccard,
    shingle_hashes,
    shingle_text,
)
from cleaner.model import Block, Category, Repair, Verdict
from cleaner.repair import repair_text
from cleaner.rules import MatchObject, Rule, RuleSet, load_rules
from cleaner.rules.first import start_prefixes
from cleaner.segment import _looks_hard_wrapped, segment_blocks

RULESET = load_rules()
RULES = RULESET.rules
_EXAMPLES = [e for rule in RULES for e in (*rule.remove_examples, *rule.keep_examples)]
_LINES = [
    line.strip()
    for path in sorted((Path(__file__).parent.parent / "fixtures").rglob("*.txt"))
    for line in path.read_text(encoding="utf-8").splitlines()
    if line.strip()
]
# Characters whose case folding or case-insensitive matching is not ASCII's: the Kelvin sign
# matches "k", "ſ" matches "s", "İ" folds to two characters, "ß" and "ﬁ" fold to two.
_TRICKY = "KkſsSİiIıßﬁ\x00\n\t \u00a0’“”–—«»›→>éÉ&;:-|/©#@(0123456789"


def _variants(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, text.upper(), text.lower(), text.swapcase(), text.title()])


_BLOCK_TEXT = st.one_of(
    st.sampled_from(_EXAMPLES + _LINES).flatmap(_variants),
    st.text(max_size=120),
    st.text(alphabet=_TRICKY + "abcdefghijklmnopqrstuvwxyz ", max_size=60),
    st.tuples(st.text(alphabet=_TRICKY, max_size=3), st.sampled_from(_EXAMPLES)).map(
        lambda p: p[0] + p[1]
    ),
    st.tuples(st.sampled_from(_EXAMPLES), st.text(alphabet=_TRICKY, max_size=4)).map(
        lambda p: p[0] + p[1]
    ),
)


def _has_a_needed_word(rule: Rule, text: str) -> bool:
    """A rule's words, looked for one by one: one character as written, a word in lower case
    in the case-folded text, another word as written."""
    if not rule.needs:
        return True
    return any(
        (word in text.casefold()) if len(word) > 1 and word == word.casefold() else word in text
        for word in rule.needs
    )


def _brute_force(text: str) -> list[tuple[str, tuple[int, int]]]:
    found: list[tuple[Rule, MatchObject | None]] = [
        (rule, rule.find(text) if _has_a_needed_word(rule, text) else None) for rule in RULES
    ]
    return [(rule.rule_id, match.span()) for rule, match in found if match is not None]


@settings(max_examples=300, deadline=None)
@given(st.lists(_BLOCK_TEXT, max_size=8))
def test_matching_many_texts_at_once_finds_what_each_rule_finds_in_each(texts: list[str]) -> None:
    # The words that rules need are looked for in all texts joined: none may leak across.
    found = RULESET.matches_all(texts)
    assert len(found) == len(texts)
    for text, matches in zip(texts, found, strict=True):
        assert [(rule.rule_id, match.span()) for rule, match in matches] == _brute_force(text)


# Every word a rule needs, with its spaces made other whitespace or doubled and its hyphens
# and straight quotes made typographic: a compared form holds the word, the case-folded
# text does not.
_NEEDED = sorted({w for rule in RULES for w in rule.needs if len(w) > 1})
_SPACING = st.sampled_from([" ", "  ", "\n", "\t", "\u00a0", " \n "])
_LOOKALIKE = st.sampled_from(["-", "–", "—", "‑", "'", "’", '"', "”"])


def _disguised(word: str, spacing: str, dash: str) -> str:
    return word.replace(" ", spacing).replace("-", dash).replace("'", dash)


_FORM_TEXT = st.one_of(
    _BLOCK_TEXT,
    st.tuples(st.sampled_from(_NEEDED), _SPACING, _LOOKALIKE).map(lambda p: _disguised(*p)),
    st.tuples(st.sampled_from(_EXAMPLES), _SPACING, _LOOKALIKE).map(lambda p: _disguised(*p)),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_FORM_TEXT, max_size=8))
def test_matching_with_the_compared_forms_finds_what_matching_the_texts_finds(
    texts: list[str],
) -> None:
    # The in-document pass hands the rules each block's compared form, to look for the
    # words in: the matches must be those found from the texts alone.
    rules = load_rules()  # a rule set of its own: no matches kept from other tests
    with_forms = rules.matches_all(texts, fold_forms(texts))
    assert [[(r.rule_id, m.span()) for r, m in hits] for hits in with_forms] == [
        _brute_force(text) for text in texts
    ]


def test_the_checked_words_are_the_ones_a_form_can_make() -> None:
    # "sign\nup" folds to "sign up": such a word is confirmed in the case-folded text; a
    # word without spaces, hyphens or quotes needs no confirmation.
    checks = set(RULESET._form_checks.values())  # type: ignore[attr-defined]
    assert {"sign up", "fact-checked", "subscriber-only"} <= checks
    assert not checks & {"cookie", "subscribe", "moderat"}
    assert RULESET._forms_hold_words  # type: ignore[attr-defined]
    texts = ["Sign\nup for our newsletter", "Sign up for our newsletter"]
    forms = fold_forms(texts)
    assert forms[0] == forms[1]
    assert RULESET._unlocked(texts, forms) == RULESET._unlocked(texts)


def test_a_word_only_the_compared_form_holds_unlocks_no_rule() -> None:
    # Patterns looser than their words: the word decides, with forms as without.
    def rule(name: str, pattern: str, needs: tuple[str, ...]) -> Rule:
        return Rule(Category.SUBSCRIPTION, name, re.compile(pattern, re.I), needs=needs)

    rules = RuleSet((
        rule("sign_up", r"sign\s+up", ("sign up",)),
        rule("checked", r"fact.checked", ("fact-checked",)),
        rule("quoted", r"don.t miss", ("don't miss",)),
        rule("cookies", r"cookies?", ("cookie",)),
    ))  # fmt: skip
    texts = ["Sign\nup now", "Sign  up now", "Sign up now", "Fact–checked by us",
             "Fact-checked", "Don’t miss it", "Don't miss it", "COOKIES", "A biscuit"]  # fmt: skip
    def found(forms: list[str] | None) -> list[list[tuple[str, tuple[int, int]]]]:
        return [[(r.id, m.span()) for r, m in hits] for hits in rules.matches_all(texts, forms)]

    with_forms = found(fold_forms(texts))
    assert [[name for name, _ in hits] for hits in with_forms] == [
        [], [], ["sign_up"], [], ["checked"], [], ["quoted"], ["cookies"], []
    ]
    rules._memo.clear()  # type: ignore[attr-defined]
    assert with_forms == found(None)
    # A word with a curly quote is not in the form ("don't"): then the forms are not used.
    curly = RuleSet((rule("curly", r"don.t miss", ("don’t miss",)),))
    assert not curly._forms_hold_words  # type: ignore[attr-defined]
    assert [len(hits) for hits in curly.matches_all(texts, fold_forms(texts))] == [
        0, 0, 0, 0, 0, 1, 0, 0, 0
    ]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(_BLOCK_TEXT)
def test_a_rule_matching_at_the_start_begins_with_one_of_its_prefixes(text: str) -> None:
    start = text[:3]
    if not start.isascii():
        return  # the prefixes are only used on texts that begin in ASCII
    for rule in RULES:
        if rule.match == "search":
            continue
        prefixes = start_prefixes(rule.pattern.pattern)
        if prefixes is None:
            continue
        if rule.pattern.match(text) is not None:
            assert any(start.lower().startswith(p) for p in prefixes), (rule.rule_id, text)


def test_prefixes_of_simple_patterns() -> None:
    assert start_prefixes("(?:read more|related)") == frozenset({"rea", "rel"})
    assert start_prefixes("AA|AFP") == frozenset({"aa", "afp"})
    assert start_prefixes(r"\d+ shares") == frozenset("0123456789")
    assert start_prefixes(r"(?:by\s+)?x") == frozenset({"by\t", "by\n", "by\x0b", "by\x0c",
                                                        "by\r", "by\x1c", "by\x1d", "by\x1e",
                                                        "by\x1f", "by ", "x"})  # fmt: skip
    assert start_prefixes("©|x") == frozenset({"x"})  # "©" matches no ASCII character
    assert start_prefixes("\u212a") == frozenset({"k"})  # the Kelvin sign matches "k"
    assert start_prefixes(r"\w+") == frozenset("0123456789_abcdefghijklmnopqrstuvwxyz")
    assert start_prefixes("a?") is None  # may match nothing: any text
    assert start_prefixes(".b") is None
    # A negated set: every ASCII character but those it leaves out, lowered ("A" too: the
    # pattern may be case-sensitive).
    left_in = [*map(chr, range(97)), "z", *map(chr, range(123, 128))]
    assert start_prefixes("[^a-y]b") == {c.lower() + "b" for c in left_in}
    # A `regex` property, by the ASCII characters it matches.
    capitals_and_digits = itertools.product(string.ascii_lowercase, string.digits)
    assert start_prefixes(r"\p{Lu}\p{Nd}") == {a + d for a, d in capitals_and_digits}
    assert start_prefixes(r"\p{Han}|x") == frozenset({"\x00", "x"})


_ALPHABET = "abxAzZkK sS09_-'|([]^\x00\x1c\x7f"
_ASCII_TEXTS = ["".join(p) for n in (1, 2, 3) for p in itertools.product(_ALPHABET, repeat=n)]


@pytest.mark.parametrize(
    "pattern",
    [
        r"\p{Lu}[\p{Ll}'’-]+", r"[^\p{Lu}]a", r"\P{Lu}x", r"[^\P{Ll}]", r"[\W_]+",
        r"[^\w]", r"[^a]b", r"[^]a]", r"[]a]b", r"[^\d\s]z", r"[\p{Lu}\d]k", r"\p{Han}|s",
        r"[^\x00-\x40]", r"[^k-\u017f]", r"\D-", r"[\[\]]a",
    ],
)  # fmt: skip
@pytest.mark.parametrize("ignore_case", [False, True])
def test_prefixes_hold_for_every_short_ascii_text(pattern: str, ignore_case: bool) -> None:
    # Sets, negated sets and properties, tried on every text of up to three characters
    # drawn from letters (both cases, the Kelvin sign's "k", "ſ"'s "s"), digits,
    # punctuation and "\x1c" (re's \s takes it, regex's does not): a text the pattern
    # matches at its start begins with a prefix.
    prefixes = start_prefixes(pattern)
    assert prefixes is not None
    compiled = regex.compile(pattern, regex.IGNORECASE if ignore_case else 0)  # as rules are
    matched = [text for text in _ASCII_TEXTS if compiled.match(text)]
    assert matched  # the pattern is tried on texts it matches
    for text in matched:
        assert {text.lower()[:k] for k in (1, 2, 3)} & prefixes, text
    # And the prefixes are narrow: some texts are left out.
    assert any(not {t.lower()[:k] for k in (1, 2, 3)} & prefixes for t in _ASCII_TEXTS)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=40),
            st.text(
                alphabet=" \t\n\r\x0b\x1c\x1f\u00a0\u2003\u2028ßSſİiAaKk’‘“”–—«»x\x00",
                max_size=20,
            ),
            st.text(alphabet=" \tAa’x", max_size=12),
        ),
        max_size=6,
    )
)
def test_folding_forms_in_bulk_equals_folding_each_text(texts: list[str]) -> None:
    assert fold_forms(texts) == [shingle_text(text) for text in texts]


def _edited(text: str, edits: list[tuple[int, str]]) -> str:
    words = text.split()
    for position, word in edits:
        if words:
            words[position % len(words)] = word
    return " ".join(words)


_PARAGRAPH = st.sampled_from([line for line in _LINES if len(line) >= 100] or ["x" * 120])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            _PARAGRAPH,
            st.tuples(
                _PARAGRAPH,
                st.lists(
                    st.tuples(st.integers(0, 60), st.sampled_from(["the", "a", "Trump"])),
                    max_size=4,
                ),
            ).map(lambda p: _edited(*p)),
            st.text(alphabet="abc de", min_size=100, max_size=140),
        ),
        min_size=2,
        max_size=10,
    )
)
def test_the_near_duplicate_prefilter_keeps_every_pair_that_reaches_the_threshold(
    texts: list[str],
) -> None:
    blocks = [Block(i, 0, 0, 0, text) for i, text in enumerate(texts)]
    cache = ShingleCache(DEFAULT_CONFIG)
    cache.fold(blocks)
    indices = sorted(cache.hashes)
    if len(indices) < 2:
        return  # a lone paragraph is never hashed: it has nothing to be a copy of
    possible = cache._may_pair(indices)
    screened = cache._screened  # what hashing them found, which near_duplicates reads
    assert screened is not None
    threshold = DEFAULT_CONFIG.duplicate_threshold
    for a, b in itertools.combinations(indices, 2):
        shingles_a, shingles_b = set(cache.hashes[a].tolist()), set(cache.hashes[b].tolist())
        plain = len(shingles_a & shingles_b) / len(shingles_a | shingles_b)
        assert plain == jaccard(cache.hashes[a], cache.hashes[b])
        if plain >= threshold:
            assert a in possible and b in possible, (a, b, plain)
            assert a in screened and b in screened, (a, b, plain)
    # And the pairs found are those found without the pre-filter.
    unfiltered = ShingleCache(DEFAULT_CONFIG)
    unfiltered.fold(blocks)
    assert cache.near_duplicates(indices) == [
        (indices.index(a), indices.index(b), similarity)
        for a, b, similarity in unfiltered._compute_pairs(indices)
    ]
    # Signed where the batch of hashes holds them, or copied out block by block (as when
    # blocks were hashed in two batches): the same pairs.
    copied = ShingleCache(DEFAULT_CONFIG)
    copied.fold(blocks)
    copied._batch = None
    assert copied._compute_pairs(indices) == unfiltered._compute_pairs(indices)


_DOCUMENT = st.lists(
    st.one_of(
        _PARAGRAPH,
        st.tuples(
            _PARAGRAPH,
            st.lists(
                st.tuples(st.integers(0, 60), st.sampled_from(["the", "a", "Trump"])), max_size=4
            ),
        ).map(lambda p: _edited(*p)),
        st.sampled_from(_EXAMPLES),
        st.text(alphabet="abc de", min_size=100, max_size=140),
    ),
    max_size=10,
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_DOCUMENT, max_size=6))
def test_preparing_many_documents_at_once_finds_each_ones_pairs(
    documents: list[list[str]],
) -> None:
    blocks = [[Block(i, 0, 0, 0, text) for i, text in enumerate(texts)] for texts in documents]
    for prepared, own in zip(prepare_caches(blocks, DEFAULT_CONFIG), blocks, strict=True):
        alone = ShingleCache(DEFAULT_CONFIG)
        alone.fold(own)
        assert prepared.keys == alone.keys
        indices = sorted(alone.hashes)  # every paragraph-long block, when there are two
        if len(indices) > 1:
            assert prepared.near_duplicates(indices) == alone.near_duplicates(indices)
            # The prepared pairs are those of every long block: any subset gets its own.
            subset = indices[::2]
            fresh = ShingleCache(DEFAULT_CONFIG)
            fresh.fold([own[i] for i in subset])
            assert prepared.near_duplicates(subset) == fresh.near_duplicates(subset)


@settings(max_examples=100, deadline=None)
@given(st.lists(_DOCUMENT, min_size=1, max_size=6))
def test_the_prefilter_over_many_documents_keeps_every_pair_within_each(
    documents: list[list[str]],
) -> None:
    texts = [t for texts in documents for t in texts]
    owner = np.array([d for d, texts in enumerate(documents) for _ in texts], dtype=np.int64)
    if not texts:
        return
    hashes, offsets = shingle_hashes(fold_texts(texts), DEFAULT_CONFIG.shingle_size)
    threshold = DEFAULT_CONFIG.duplicate_threshold
    possible = _may_pair_within(hashes, offsets, owner, threshold, compiled=False)
    if compiled_loop("may_pair_within") is not None:  # numba's loop: the same answer
        compiled = _may_pair_within(hashes, offsets, owner, threshold, compiled=True)
        assert compiled.tolist() == possible.tolist()
    sets = [set(hashes[offsets[n] : offsets[n + 1]].tolist()) for n in range(len(texts))]
    for a, b in itertools.combinations(range(len(texts)), 2):
        union = sets[a] | sets[b]
        if owner[a] == owner[b] and union and len(sets[a] & sets[b]) / len(union) >= threshold:
            assert possible[a] and possible[b], (a, b)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.lists(st.integers(0, 40), max_size=30), min_size=1, max_size=6),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from([0.3, 0.5, 0.8, 1.0]),
)
def test_the_compiled_prefilter_gives_numpys_answer(
    documents: list[list[list[int]]], threshold: float
) -> None:
    # Few distinct hash values, so buckets collide within and across blocks; empty blocks.
    pytest.importorskip("numba")
    blocks = [block for document in documents for block in document]
    if not any(blocks):
        return  # only empty blocks: never asked (ShingleCache._may_pair answers itself)
    owner = np.array([d for d, document in enumerate(documents) for _ in document])
    hashes = np.array([h * 0x9E3779B1 % 2**32 for b in blocks for h in b], dtype=np.uint32)
    offsets = np.concatenate(([0], np.cumsum([len(b) for b in blocks]))).astype(np.int64)
    by_numpy = _may_pair_within(hashes, offsets, owner, threshold, compiled=False)
    by_loop = _may_pair_within(hashes, offsets, owner, threshold, compiled=True)
    assert by_loop.dtype == by_numpy.dtype and by_loop.tolist() == by_numpy.tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.text(alphabet="abc de’", max_size=60), _PARAGRAPH), max_size=8),
    st.sampled_from([0.3, 0.7, 1.0]),
)
def test_hashing_and_screening_at_once_gives_the_two_steps_answers(
    texts: list[str], threshold: float
) -> None:
    folded = fold_texts(texts)
    lengths = np.diff(folded.offsets)
    size = DEFAULT_CONFIG.shingle_size
    hashes, offsets = shingle_hashes(folded, size, compiled=False)
    one_document = np.zeros(len(texts), dtype=np.int64)
    if len(hashes):
        possible = _may_pair_within(hashes, offsets, one_document, threshold, compiled=False)
    else:  # only empty texts: every one may pair (ShingleCache._may_pair's answer)
        possible = np.ones(len(texts), dtype=np.bool_)
    ways = [False] if compiled_loop("screened_windows") is None else [False, True]
    for compiled in ways:
        got = _screened_hashes(folded.codes, lengths, size, threshold, compiled=compiled)
        assert got[0].dtype == np.uint32 and got[0].tolist() == hashes.tolist()
        assert got[1].tolist() == offsets.tolist()
        assert got[2].dtype == np.bool_ and got[2].tolist() == possible.tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 40).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.sampled_from([1, 2, 5, 32]),
            st.lists(st.integers(0, 3), min_size=n * 32, max_size=n * 32),
        )
    )
)
def test_candidate_pairs_every_way_are_the_pairs_that_share_a_band(
    case: tuple[int, int, list[int]],
) -> None:
    # Values of 0 to 3, so that many pairs share a band and some share none.
    count, width, values = case
    signatures = np.array(values[: count * width], dtype=np.uint32).reshape(count, width)
    expected = [
        (i, j, int((signatures[i] == signatures[j]).sum()))
        for i, j in itertools.combinations(range(count), 2)
        if any((signatures[i, b : b + 2] == signatures[j, b : b + 2]).all()
               for b in range(0, width - 1, 2))
    ]  # fmt: skip

    def found(rows: np.ndarray, cols: np.ndarray, agree: np.ndarray) -> list[tuple[int, ...]]:
        return list(zip(rows.tolist(), cols.tolist(), agree.tolist(), strict=True))

    assert found(*_agreeing_pairs(signatures)) == expected
    rows, cols = _banded_candidates(signatures)
    assert found(rows, cols, (signatures[rows] == signatures[cols]).sum(axis=1)) == expected
    assert found(*_candidate_pairs(signatures, compiled=False)) == expected
    if compiled_loop("agreeing_pairs") is not None:
        assert found(*_candidate_pairs(signatures, compiled=True)) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(_DOCUMENT.map("\n".join), max_size=5))
def test_cleaning_a_batch_equals_cleaning_each(texts: list[str]) -> None:
    cleaner = Cleaner()
    assert cleaner.clean_batch([(t, None) for t in texts]) == [cleaner.clean(t) for t in texts]


class _EveryPass(Cleaner):
    """Runs the decision passes until one finds nothing, as before they stopped early."""

    _settle = False


def _fixture_texts() -> list[str]:
    root = Path(__file__).resolve().parents[1] / "fixtures"
    paths = [*(root / "seeds").rglob("*.txt"), *(root / "negative").rglob("*.txt")]
    return [p.read_text("utf-8") for p in sorted(paths)]


def _shuffled_paragraphs(texts: list[str], seed: int) -> list[str]:
    """The fixtures' paragraphs dealt into new documents: boilerplate away from its
    usual place, head and tail rules' matches just outside their windows."""
    paragraphs = [p for text in texts for p in text.split("\n") if p.strip()]
    rng = random.Random(seed)
    return ["\n".join(rng.sample(paragraphs, min(len(paragraphs), rng.randrange(3, 30))))
            for _ in range(60)]  # fmt: skip


def test_stopping_the_passes_early_decides_as_running_them_all() -> None:
    texts = _fixture_texts()
    assert len(texts) >= 5
    texts += _shuffled_paragraphs(texts, 1)
    early, every = Cleaner(), _EveryPass()
    for text in texts:
        assert early.clean(text) == every.clean(text)
    for cleaner in (early, every):  # and the guard's passes over what it gives back
        cleaner.config = cleaner.config.with_(max_removed_share=0.05, guard_min_chars=0)
    for text in texts:
        assert early.clean(text) == every.clean(text)


def test_a_match_held_back_by_its_place_is_judged_again_among_fewer_blocks() -> None:
    # A head (tail) rule's match just past its window, behind (before) a run of blocks
    # that strong rules remove wherever they are: only the second pass removes it.
    rules = load_rules()
    anywhere = [
        r.remove_examples[0] for r in rules.rules
        if r.where == "anywhere" and r.strong and not r.requires_neighbour
        and r.scope == "block" and not r.carry and not r.anchors_tail and r.remove_examples
    ]  # fmt: skip
    prose = [p for t in _fixture_texts() for p in t.split("\n") if len(p) > 200][:40]
    placed = [
        r for r in rules.rules
        if r.where != "anywhere" and r.strong and not r.requires_neighbour
        and r.scope == "block" and r.remove_examples
    ]  # fmt: skip
    assert placed and len(anywhere) > max(r.within for r in placed) and len(prose) >= 20
    for rule in placed:
        pad = anywhere[: rule.within]
        example = rule.remove_examples[0]
        blocks = [*pad, example, *prose] if rule.where == "head" else [*prose, example, *pad]
        text = "\n".join(blocks)
        early = Cleaner().clean(text)
        assert early == _EveryPass().clean(text)
        assert rule.rule_id in {r.rule_id for r in early.removals}, rule.rule_id


@settings(max_examples=150, deadline=None)
@given(_DOCUMENT.map("\n".join))
def test_stopping_the_passes_early_decides_as_running_them_all_on_made_up_texts(
    text: str,
) -> None:
    assert Cleaner().clean(text) == _EveryPass().clean(text)


# Texts that repair changes (mojibake, an entity, no-break and trailing spaces, "\r") and
# texts it leaves alone, as str and as bytes.
_REPAIRED_OR_NOT = st.one_of(
    _DOCUMENT.map("\n".join),
    st.text(alphabet="ab é’\u00c3\u00a9\u00e2\u0080\u0099&amp;#39;\u00a0\r\n\t\u200b", max_size=80),
    st.text(max_size=60),
    st.binary(max_size=60),
)


@settings(max_examples=80, deadline=None)
@given(_REPAIRED_OR_NOT, st.booleans())
def test_a_text_with_its_corpus_digest_is_cleaned_as_without(
    data: str | bytes, with_verdict: bool
) -> None:
    # The corpus pass's digest of the normalised text lets cleaning skip repairing a text
    # that is that normalised text: the result is what repairing it gives.
    cleaner = Cleaner()
    normalised = cleaner.normalise(data)[2]
    verdicts = {0: Verdict(Category.SITE_BOILERPLATE, "site_boilerplate.exact", "test")}
    has_block = bool(segment_blocks(normalised))  # the corpus decides on blocks there are
    corpus = ArticleCorpus(verdicts if with_verdict and has_block else {}, (),
                           text_digest(normalised))  # fmt: skip
    plain = ArticleCorpus(corpus.verdicts, ())
    assert cleaner.clean(data, corpus) == cleaner.clean(data, plain)
    assert cleaner.clean_batch([(data, corpus)]) == [cleaner.clean(data, plain)]
    # The normalised text itself (a file cleaned between the two passes) has that digest and
    # is taken as it is: what repairing it again gives, as repair is idempotent.
    assert cleaner.clean(normalised, corpus) == cleaner.clean(normalised, plain)


def test_only_a_text_with_the_corpus_digest_skips_repair(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counted(text: str) -> tuple[str, list[Repair]]:
        calls.append(text)
        return repair_text(text)

    monkeypatch.setattr(core_module, "repair_text", counted)
    cleaner = Cleaner()
    clean_text = "A paragraph that needs no repair.\nAnd a second one, just as clean."
    broken = "Caf\u00c3\u00a9 prices &amp; more.\nA second line."
    for text in (clean_text, broken):
        normalised = cleaner.normalise(text)[2]
        calls.clear()
        result = cleaner.clean(text, ArticleCorpus({}, (), text_digest(normalised)))
        assert calls == ([] if text == normalised else [text])
        assert result.text == normalised and not result.notes
    # A text that changed since the corpus pass is repaired, and its decisions set aside.
    calls.clear()
    verdicts = {0: Verdict(Category.SITE_BOILERPLATE, "site_boilerplate.exact", "test")}
    result = cleaner.clean(broken, ArticleCorpus(verdicts, (), text_digest(clean_text)))
    assert calls == [broken] and not result.removals
    assert [n.code for n in result.notes] == ["corpus"]
    assert "changed since the corpus pass" in result.notes[0].message


def test_cleaning_every_fixture_in_one_batch_equals_cleaning_each() -> None:
    cleaner = Cleaner()
    paths = sorted((Path(__file__).parent.parent / "fixtures").rglob("*.txt"))
    texts = [path.read_bytes() for path in paths]
    assert list(cleaner.clean_many(texts)) == [cleaner.clean(t) for t in texts]


def _segment_line_by_line(text: str) -> list[Block]:
    """segment_blocks as first written: split at "\\n", strip each line."""
    paragraphs: list[list[tuple[int, int]]] = []
    position = 0
    blank_since = True
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            if blank_since:
                paragraphs.append([])
            start = position + line.index(stripped[0])
            paragraphs[-1].append((start, start + len(stripped)))
            blank_since = False
        else:
            blank_since = True
        position += len(line) + 1
    spans: list[tuple[int, int]] = []
    for lines in paragraphs:
        if len(lines) > 1 and _looks_hard_wrapped([text[s:e] for s, e in lines]):
            spans.append((lines[0][0], lines[-1][1]))
        else:
            spans.extend(lines)
    return [
        Block(i, start, end, spans[i + 1][0] if i + 1 < len(spans) else len(text), text[start:end])
        for i, (start, end) in enumerate(spans)
    ]


_WRAPPED = (
    "the committee met on tuesday and agreed that the proposal should go\n"
    "forward to the full assembly, where it is expected to pass without much\n"
    "debate, although several members said they had concerns about the cost."
)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=80),
        st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x1f\x85\u00a0\u2028\u3000ab.C", max_size=40),
        st.lists(
            st.sampled_from([_WRAPPED, "Title", "", "  ", "\t", "A line.", *_LINES[:20]]),
            max_size=8,
        ).map("\n".join),
    )
)
def test_segmentation_equals_splitting_and_stripping_each_line(text: str) -> None:
    assert segment_blocks(text) == _segment_line_by_line(text)


def test_segmentation_on_every_fixture() -> None:
    for path in sorted((Path(__file__).parent.parent / "fixtures").rglob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert segment_blocks(text) == _segment_line_by_line(text), path
    assert len(segment_blocks(_WRAPPED)) == 1


def _band_candidates_by_sorting_everything(
    keys: np.ndarray, rank: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """band_candidates as first written: every member ordered by (key, rank)."""
    heads, others = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for key in keys:
        if not len(key):
            continue
        order = np.lexsort((rank, key))
        ordered = key[order]
        new = np.concatenate(([True], ordered[1:] != ordered[:-1]))
        head = order[np.maximum.accumulate(np.where(new, np.arange(len(order)), 0))]
        heads.append(head[~new])
        others.append(order[~new])
    return np.concatenate(heads), np.concatenate(others)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 4),
    st.integers(0, 40),
    st.integers(1, 50),
    st.randoms(use_true_random=False),
)
def test_lsh_candidates_from_repeated_keys_only_equal_sorting_every_key(
    bands: int, members: int, distinct: int, rng: random.Random
) -> None:
    values = [rng.randrange(2**64) for _ in range(distinct)]
    keys = np.array(
        [[rng.choice(values) for _ in range(members)] for _ in range(bands)], dtype=np.uint64
    ).reshape(bands, members)
    rank = np.array(rng.sample(range(10 * members + 1), members), dtype=np.int64)
    heads, others = band_candidates(keys, rank)
    expected = _band_candidates_by_sorting_everything(keys, rank)
    assert heads.tolist() == expected[0].tolist() and others.tolist() == expected[1].tolist()


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(2, 60))
def test_lsh_edges_found_a_band_at_a_time_equal_all_bands_at_once(
    rng: random.Random, count: int
) -> None:
    # Signatures in families of near copies (a share of values changed), so that some
    # candidates verify and some do not; the threshold sits between them.
    num_perm = 64
    base = [[rng.randrange(2**32) for _ in range(num_perm)] for _ in range(max(1, count // 5))]
    rows = []
    for _ in range(count):
        row = list(rng.choice(base))
        for i in rng.sample(range(num_perm), rng.choice([0, 8, 20, 40])):
            row[i] = rng.randrange(2**32)
        rows.append(row)
    index = PassageIndex(num_perm=num_perm)
    signatures = corpus_module._Chunked(np.uint32, num_perm)
    signatures.append(np.array(rows, dtype=np.uint32))
    members = np.arange(count, dtype=np.int64)
    rank = np.array(rng.sample(range(3 * count), count), dtype=np.int64)
    every = index._similar(signatures, members, members, rank, 0.6)
    old, corpus_module._KEY_BYTES = corpus_module._KEY_BYTES, 1  # one band a step
    old_step, corpus_module._PAIR_STEP = corpus_module._PAIR_STEP, 3  # a few pairs a task
    try:
        banded = index._similar(signatures, members, members, rank, 0.6)
        # In threads: the band keys and the pairs' checks.
        threaded = PassageIndex(num_perm=num_perm, threads=2)
        in_threads = threaded._similar(signatures, members, members, rank, 0.6)
        corpus_module._KEY_BYTES = old
        all_bands_in_threads = threaded._similar(signatures, members, members, rank, 0.6)
    finally:
        corpus_module._KEY_BYTES = old
        corpus_module._PAIR_STEP = old_step
    for found in (banded, in_threads, all_bands_in_threads):
        assert every[0].tolist() == found[0].tolist() and every[1].tolist() == found[1].tolist()
    # And every edge they find is a candidate pair (a band in common) at the threshold.
    keys = corpus_module.band_keys(signatures.joined(), members, *index.config.lsh_params())
    expected = set()
    for a, b in itertools.combinations(range(count), 2):
        if (keys[:, a] == keys[:, b]).any():
            agree = (signatures.joined()[a] == signatures.joined()[b]).mean()
            if agree >= 0.6:
                expected.add((a, b) if rank[a] < rank[b] else (b, a))
    assert set(zip(every[0].tolist(), every[1].tolist(), strict=True)) <= expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=200), st.booleans())
def test_the_sorted_unique_is_numpys(values: list[int], small: bool) -> None:
    """minhash.distinct (a sort, where numpy 2.3+ hashes) gives np.unique's values."""
    from cleaner.minhash import distinct

    array = np.array([v % 7 for v in values] if small else values, dtype=np.int64)
    assert np.array_equal(distinct(array), np.unique(array))
    assert distinct(array).dtype == array.dtype


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 300), st.sampled_from([(10, 6), (16, 4), (1, 64), (3, 5)]),
    st.integers(1, 4), st.data(),
)  # fmt: skip
def test_compiled_band_keys_are_numpys(
    count: int, shape: tuple[int, int], pieces: int, data: st.DataObject
) -> None:
    """The compiled band keys (cleaner._compiled.band_keys) are the numpy ones, for rows
    spread over several chunks, in any order, with repeats and equal rows."""
    if compiled_loop("band_keys") is None:
        pytest.skip("numba is not installed")
    bands, rows = shape
    seed = data.draw(st.integers(0, 2**32 - 1))
    generator = np.random.default_rng(seed)
    signatures = generator.integers(0, 2**32, (count, 64), dtype=np.uint64).astype(np.uint32)
    signatures[count // 2 :: 3] = signatures[0]  # equal rows give equal keys
    chunked = corpus_module._Chunked(np.uint32, 64)
    cuts = sorted(set(generator.integers(0, count, pieces - 1).tolist()) | {0, count})
    for lo, hi in itertools.pairwise(cuts):
        chunked.append(signatures[lo:hi])
    members = generator.integers(0, count, data.draw(st.integers(1, 200))).astype(np.int32)
    compiled = corpus_module._band_keys_of(chunked, members, bands, rows, compiled=True)
    plain = corpus_module._band_keys_of(chunked, members, bands, rows, compiled=False)
    assert compiled.dtype == plain.dtype == np.uint64
    assert np.array_equal(compiled, plain)
    assert np.array_equal(plain, corpus_module.band_keys(signatures, members, bands, rows))


def test_each_does_every_item_in_threads_drawing_items_as_threads_come_free() -> None:
    threads = 3
    drawn: list[int] = []
    done: list[int] = []
    lock = threading.Lock()
    started = threading.Barrier(threads, timeout=10)  # breaks unless 3 run at once

    def items() -> Iterator[int]:
        for i in range(40):
            drawn.append(i)
            yield i

    def work(i: int) -> None:
        with lock:
            # Drawn but not done: those running and the one waiting for a thread.
            assert len(drawn) - len(done) <= threads + 1
        if i < threads:
            started.wait()
        with lock:
            done.append(i)

    corpus_module._each(work, items(), threads)
    assert sorted(done) == list(range(40))
    done.clear()
    drawn.clear()
    corpus_module._each(done.append, items(), 1)
    assert done == list(range(40))  # one thread: in order, here


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("bad", [7, 19])
def test_each_raises_the_error_of_the_work(threads: int, bad: int) -> None:
    def work(i: int) -> None:
        if i == bad:
            raise ValueError(f"item {i}")

    with pytest.raises(ValueError, match=f"item {bad}"):
        corpus_module._each(work, range(20), threads)


_PIECES = ["a", "word", " ", "  ", "\n", "\t", "\u3000", "é", " \n "]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=200).map("".join), st.sampled_from([1, 5, 60]))
def test_evidence_quotes_read_only_a_long_blocks_head_and_give_the_same(
    text: str, limit: int
) -> None:
    from cleaner.boilerplate import _quote

    folded = " ".join(text.split())
    expected = folded if len(folded) <= limit else folded[: limit - 1] + "…"
    assert _quote(text, limit) == repr(expected)
