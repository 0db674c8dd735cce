"""Bulk signatures equal datasketch's own, and in-document duplicates behave as promised."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner import Category, clean_and_explain
from cleaner.minhash import (
    COMPILED_MIN_SHINGLES,
    Signer,
    compiled_loop,
    fold_texts,
    jaccard,
    shingle_hashes,
    shingle_text,
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(max_size=80), min_size=1, max_size=8),
    st.integers(2, 6),
    st.one_of(st.none(), st.integers(1, 100)),
    st.sampled_from([False, True] if compiled_loop("affine_minima") is not None else [False]),
    st.sampled_from([0, 1, 3]),
)
def test_bulk_signatures_equal_datasketch_update_batch(
    texts: list[str], size: int, chunk: int | None, compiled: bool, sample: int
) -> None:
    hashes, offsets = shingle_hashes(texts, size)
    signer = Signer(num_perm=32, seed=7)
    # chunk: shingles signed per step by numpy; compiled: numba's loop instead; sample:
    # only the shingles whose hash has those bits clear are signed
    rows = signer.signatures(hashes, offsets, chunk, compiled, sample=sample)
    for i in range(len(texts)):
        mine = [int(h) for h in hashes[offsets[i] : offsets[i + 1]] if not h & sample]
        reference = MinHash(num_perm=32, seed=7, hashfunc=lambda value: int(value))
        reference.update_batch(mine)  # none: datasketch's row is all ones, as ours is
        assert np.array_equal(rows[i], reference.hashvalues)
        assert signer.to_minhash(rows[i]).jaccard(signer.to_minhash(rows[i])) == 1.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(max_size=80), min_size=1, max_size=8),
    st.data(),
    st.sampled_from([False, True] if compiled_loop("chosen_minima") is not None else [False]),
    st.sampled_from([0, 3]),
)
def test_signing_chosen_passages_gives_their_rows_of_signing_all(
    texts: list[str], data: st.DataObject, compiled: bool, sample: int
) -> None:
    # Any passages, in any order, repeated or none: each row is the passage's row when
    # every passage is signed (numba's loop reads them in place, numpy copies them out).
    hashes, offsets = shingle_hashes(texts, 3)
    chosen = np.array(data.draw(st.lists(st.integers(0, len(texts) - 1), max_size=10)), np.int64)
    signer = Signer(num_perm=32, seed=7)
    every = signer.signatures(hashes, offsets, compiled=False, sample=sample)
    rows = signer.signatures(hashes, offsets, compiled=compiled, sample=sample, chosen=chosen)
    assert rows.shape == (len(chosen), 32)
    assert np.array_equal(rows, every[chosen])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=8), st.integers(1, 6))
def test_compiled_shingle_hashes_equal_numpy_ones(texts: list[str], size: int) -> None:
    # Empty texts, texts shorter than a shingle, characters beyond the BMP; both as
    # strings and as a folded batch.
    pytest.importorskip("numba")
    for given_texts in (texts, fold_texts(texts)):
        hashes, offsets = shingle_hashes(given_texts, size, compiled=False)
        compiled, compiled_offsets = shingle_hashes(given_texts, size, compiled=True)
        assert np.array_equal(compiled_offsets, offsets)
        assert compiled.dtype == hashes.dtype and np.array_equal(compiled, hashes)


def test_the_compiled_loop_and_numpy_give_the_same_rows_on_a_large_batch() -> None:
    # numba is in the test extras: without it this test says so rather than passing.
    pytest.importorskip("numba")
    rng = np.random.default_rng(5)
    lengths = rng.integers(0, 300, 600)
    lengths[[0, 7, 599]] = 0  # empty passages: their rows stay all ones
    hashes = rng.integers(0, 2**32, int(lengths.sum()), dtype=np.uint64).astype(np.uint32)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    assert len(hashes) >= COMPILED_MIN_SHINGLES  # the size at which the loop is chosen
    signer = Signer(num_perm=64, seed=1)
    by_numpy = signer.signatures(hashes, offsets, compiled=False)
    assert np.array_equal(signer.signatures(hashes, offsets, compiled=True), by_numpy)
    assert np.array_equal(signer.signatures(hashes, offsets), by_numpy)
    assert (by_numpy[[0, 7, 599]] == np.iinfo(np.uint32).max).all()
    # Shingle hashes of a batch this large: the compiled loop when not told, equal to numpy's.
    points = rng.integers(32, 0xD000, int(lengths.sum()))
    points[points >= 0xC000] += 0x10000  # some beyond the BMP (no surrogates)
    text = "".join(map(chr, points.tolist()))
    ends = np.cumsum(lengths).tolist()
    texts = [text[e - n : e] for e, n in zip(ends, lengths.tolist(), strict=True)]
    assert sum(map(len, texts)) >= COMPILED_MIN_SHINGLES
    by_default, offsets = shingle_hashes(texts, 5)
    assert np.array_equal(by_default, shingle_hashes(texts, 5, compiled=False)[0])


def test_shingles_do_not_cross_texts_and_are_stable() -> None:
    a, _ = shingle_hashes(["abcdef"], 3)
    b, offsets = shingle_hashes(["xy", "abcdef", "z"], 3)
    assert np.array_equal(b[offsets[1] : offsets[2]], a)
    assert offsets.tolist() == [0, 1, 5, 6]
    assert a.tolist() == shingle_hashes(["abcdef"], 3)[0].tolist()


def test_folding_makes_quote_styles_and_case_equal() -> None:
    assert shingle_text("Russia’s  “offer”") == shingle_text('russia\'s "offer"')


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=40),
            st.text(alphabet=" \t\n\u00a0\u2003ßSſİiAa’“”–—«»x", max_size=20),
        ),
        max_size=6,
    )
)
def test_batch_folding_equals_folding_each_text(texts: list[str]) -> None:
    folded = fold_texts(texts)
    assert len(folded) == len(texts)
    for i, text in enumerate(texts):
        assert folded.key(i).decode("utf-32-le") == shingle_text(text)
        assert folded.size(i) == len(shingle_text(text))


def test_exact_jaccard() -> None:
    a, offsets = shingle_hashes(["the quick brown fox", "the quick brown cat"], 3)
    j = jaccard(a[: offsets[1]], a[offsets[1] :])
    assert 0.6 < j < 0.9


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 12), max_size=40),
    st.lists(st.integers(0, 12), max_size=40),
    st.sampled_from([0, 2**31, 2**32 - 13]),
)
def test_exact_jaccard_is_that_of_the_sets_every_way(
    a: list[int], b: list[int], offset: int
) -> None:
    # Few values, so the arrays repeat values and share some; near 2**32 as well as 0.
    left = np.array([v + offset for v in a], dtype=np.uint32)
    right = np.array([v + offset for v in b], dtype=np.uint32)
    union = set(left.tolist()) | set(right.tolist())
    expected = len(set(left.tolist()) & set(right.tolist())) / len(union) if union else 1.0
    assert jaccard(left, right, compiled=False) == expected
    if compiled_loop("exact_jaccard") is not None:
        assert jaccard(left, right, compiled=True) == expected


PARAGRAPH = (
    "US intelligence agencies concluded in 2016 that Russia was behind an effort to tip the "
    "scale of the US election against Hillary Clinton, with a state-authorized campaign."
)
QUOTE = "“That’s gonna be special!” said the intelligence chief."


def test_a_near_copy_goes_and_the_first_stays() -> None:
    edited = PARAGRAPH.replace("the US election", "the election")
    text = f"{PARAGRAPH}\nSomething else happened in between, said officials.\n{edited}\n"
    result = clean_and_explain(text)
    assert [r.category for r in result.removals] == [Category.DUPLICATE_IN_DOCUMENT]
    assert result.removals[0].text.strip() == edited
    assert PARAGRAPH in result.text


def test_a_short_quote_inside_a_longer_paragraph_is_not_a_duplicate() -> None:
    text = f"{QUOTE}\nDan Coats said: {QUOTE} He laughed, and the audience laughed with him.\n"
    assert clean_and_explain(text).removals == ()


def test_short_lines_that_recur_apart_are_structure_not_copies() -> None:
    card = "\n".join(
        f"Bout {i}: fighter {i} against fighter {i + 10}, five rounds.\nNext fight: TBA"
        for i in range(4)
    )
    assert clean_and_explain(card).removals == ()


def test_candidates_find_nearly_every_near_copy_of_real_paragraphs() -> None:
    # Real paragraphs from the naeb-dev gold texts, each paired with a copy edited the way
    # sites recycle text (words swapped or dropped). The sampled, 32-permutation candidates
    # must find the pairs whose exact Jaccard reaches the threshold.
    import json
    import random
    from pathlib import Path

    from cleaner.config import DEFAULT_CONFIG
    from cleaner.duplicates import ShingleCache
    from cleaner.model import Block

    naeb = Path(__file__).parent.parent.parent / "shared" / "data" / "naeb-dev"
    bodies = json.loads((naeb / "articles.json").read_text(encoding="utf-8")).values()
    paragraphs = [p for b in bodies for p in b["articleBody"].split("\n") if 120 <= len(p) <= 600]
    rng = random.Random(5)
    found = expected = 0
    for paragraph in rng.sample(paragraphs, 300):
        words = paragraph.split()
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(words))
            if rng.random() < 0.5:
                del words[i]
            else:
                words[i] = rng.choice(["the", "President", "Donald", "said", "new"])
        edited = " ".join(words)
        blocks = [Block(0, 0, 0, 0, paragraph), Block(1, 0, 0, 0, edited)]
        cache = ShingleCache(DEFAULT_CONFIG)
        cache.fold(blocks)
        if jaccard(cache.hashes[0], cache.hashes[1]) >= DEFAULT_CONFIG.duplicate_threshold:
            expected += 1
            found += bool(cache.near_duplicates([0, 1]))
    assert expected > 100
    assert found / expected >= 0.99, f"recall {found}/{expected}"
