"""Paragraphs that an article repeats: the first copy stays, later copies go.

Candidates come from MinHash signatures over character n-grams (a one-sentence paragraph
has too few word 5-grams for a stable estimate) and are verified by exact Jaccard, so the
signature only saves comparisons and never decides alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from cleaner.config import CleanerConfig
from cleaner.minhash import Signer, jaccard, shingle_hashes, shingle_text
from cleaner.model import Block, Category

Verdict = tuple[Category, str, str]

#: Categories whose blocks mark the metadata around a photo: a short passage repeated next
#: to them is the photo's alt text and caption, so every copy of it goes.
_PHOTO_CONTEXT = frozenset({Category.CAPTION, Category.BYLINE, Category.TIMESTAMP})
#: Estimated similarity below which a pair is not even verified (the estimate's error with
#: 64 permutations is about 0.06, so this keeps pairs whose true Jaccard may reach 0.7).
_ESTIMATE_SLACK = 0.2


@lru_cache(maxsize=8)
def _signer(num_perm: int) -> Signer:
    return Signer(num_perm=num_perm)


def _near_duplicates(
    texts: Sequence[str], config: CleanerConfig
) -> list[tuple[int, int, float]]:
    """Pairs ``(earlier, later, jaccard)`` of texts at or above the threshold."""
    hashes, offsets = shingle_hashes(texts, config.shingle_size)
    signatures = _signer(config.num_perm).signatures(hashes, offsets)
    estimate = (signatures[:, None, :] == signatures[None, :, :]).mean(axis=2)
    rows, cols = np.nonzero(np.triu(estimate >= config.duplicate_threshold - _ESTIMATE_SLACK, 1))
    pairs = []
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        similarity = jaccard(hashes[offsets[i] : offsets[i + 1]], hashes[offsets[j] : offsets[j + 1]])
        if similarity >= config.duplicate_threshold:
            pairs.append((i, j, similarity))
    return pairs


def find_duplicate_blocks(
    blocks: Sequence[Block], config: CleanerConfig, decided: Mapping[int, Verdict]
) -> dict[int, Verdict]:
    """Verdicts for blocks that repeat an earlier kept block (and for captions shown twice)."""
    kept = [b for b in blocks if b.index not in decided]
    folded = [shingle_text(b.text) for b in kept]
    copy_of: dict[int, tuple[int, float]] = {}

    first_seen: dict[str, int] = {}
    for block, text in zip(kept, folded, strict=True):
        if text in first_seen:
            copy_of[block.index] = (first_seen[text], 1.0)
        else:
            first_seen[text] = block.index

    long = [
        (block, text)
        for block, text in zip(kept, folded, strict=True)
        if len(text) >= config.duplicate_min_chars and block.index not in copy_of
    ]
    if len(long) > 1:
        for i, j, similarity in _near_duplicates([t for _, t in long], config):
            later = long[j][0].index
            if later not in copy_of:
                copy_of[later] = (long[i][0].index, similarity)

    verdicts: dict[int, Verdict] = {}
    for later, (first, similarity) in sorted(copy_of.items()):
        # Follow chains so the evidence names the copy that stays.
        while first in copy_of:
            first = copy_of[first][0]
        kind = "exact" if similarity == 1.0 else "near"
        verdicts[later] = (
            Category.DUPLICATE_IN_DOCUMENT,
            f"duplicate_in_document.{kind}",
            f"{kind} copy of block {first} (jaccard {similarity:.2f})",
        )
        # A caption shown twice: next to itself or on both sides of a photo credit, amid
        # the photo's metadata. Then the first copy is a caption too.
        if later - first <= 2:
            around = [first - 1, later + 1] + list(range(first + 1, later))
            context = [decided[k][0] for k in around if k in decided]
            if any(c in _PHOTO_CONTEXT for c in context):
                verdicts[first] = (
                    Category.CAPTION,
                    "caption.repeated",
                    f"shown again as block {later}, next to photo metadata",
                )
    return verdicts
