"""Paragraphs that an article repeats: the first copy stays, later copies go.

Candidates come from MinHash signatures over character n-grams (a one-sentence paragraph
has too few word 5-grams for a stable estimate) and are verified by exact Jaccard, so the
signature only saves comparisons and never decides alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from cleaner.config import CleanerConfig
from cleaner.minhash import Signer, fold_texts, jaccard, shingle_hashes
from cleaner.model import Block, Category, Verdict

#: Categories whose blocks mark the metadata around a photo: a short passage repeated next
#: to them is the photo's alt text and caption, so every copy of it goes.
_PHOTO_CONTEXT = frozenset({Category.CAPTION, Category.BYLINE, Category.TIMESTAMP})
#: Estimated similarity below which a pair is not even verified. The estimate (32
#: permutations over a half sample of shingles) errs by about 0.1 on a paragraph, so this
#: keeps pairs whose true Jaccard may reach the threshold; tests/test_minhash.py measures it.
_ESTIMATE_SLACK = 0.25
#: How a sentence ends, in the folded form that quotes are compared in.
_SENTENCE_END = frozenset(".!?…\"')")


@lru_cache(maxsize=8)
def _signer(num_perm: int) -> Signer:
    return Signer(num_perm=num_perm)


class ShingleCache:
    """Each block's compared form, shingle hashes and signature, computed once per document
    (in one numpy batch) and reused by every decision pass."""

    def __init__(self, config: CleanerConfig) -> None:
        self.config = config
        #: Per block: the compared form as bytes (equal exactly when the forms are), its
        #: length and its last character.
        self.keys: dict[int, bytes] = {}
        self.sizes: dict[int, int] = {}
        self.last: dict[int, str] = {}
        self.hashes: dict[int, np.ndarray] = {}
        self.signatures: dict[int, np.ndarray] = {}
        # Near-duplicate pairs (by block index) among the blocks of the first call; later
        # passes look at fewer blocks, so they only filter these.
        self._pairs: list[tuple[int, int, float]] | None = None
        self._paired: frozenset[int] = frozenset()

    def fold(self, blocks: Sequence[Block]) -> None:
        """Compare forms for all blocks; shingles and signatures for paragraph-long ones."""
        todo = [b for b in blocks if b.index not in self.keys]
        if not todo:
            return
        folded = fold_texts([b.text for b in todo])
        indices = [b.index for b in todo]
        sizes = folded.sizes()
        self.keys.update(zip(indices, folded.keys(), strict=True))
        self.sizes.update(zip(indices, sizes, strict=True))
        self.last.update(zip(indices, folded.lasts(), strict=True))
        long = [k for k, size in enumerate(sizes) if size >= self.config.duplicate_min_chars]
        if not long:
            return
        hashes, offsets = shingle_hashes(folded.select(long), self.config.shingle_size)
        # Sign a sample of each block's shingles: those whose hash is even. The sample is
        # chosen by value, so two copies keep the same shingles and their estimate holds;
        # it halves the signing work, and exact Jaccard on the full sets still decides.
        even = (hashes & np.uint32(3)) == 0
        sampled = np.concatenate(([0], np.cumsum(even)))[offsets]
        rows = _signer(self.config.num_perm).signatures(hashes[even], sampled)
        bounds = offsets.tolist()
        for n, k in enumerate(long):
            self.hashes[indices[k]] = hashes[bounds[n] : bounds[n + 1]]
            self.signatures[indices[k]] = rows[n]

    def near_duplicates(self, indices: Sequence[int]) -> list[tuple[int, int, float]]:
        """Pairs ``(earlier, later, jaccard)`` of positions in ``indices`` at or above the
        threshold: candidates by signature, verified by exact Jaccard."""
        if self._pairs is None or not self._paired.issuperset(indices):
            self._pairs = self._compute_pairs(indices)
            self._paired = frozenset(indices)
        position = {index: p for p, index in enumerate(indices)}
        return [
            (position[a], position[b], similarity)
            for a, b, similarity in self._pairs
            if a in position and b in position
        ]

    def _compute_pairs(self, indices: Sequence[int]) -> list[tuple[int, int, float]]:
        signatures = np.stack([self.signatures[i] for i in indices])
        rows, cols = _banded_candidates(signatures)
        # Of those, the pairs whose signatures agree often enough to be worth verifying.
        agree = (signatures[rows] == signatures[cols]).sum(axis=1)
        floor = (self.config.duplicate_threshold - _ESTIMATE_SLACK) * self.config.num_perm
        keep = agree >= floor
        pairs = []
        for i, j in zip(rows[keep].tolist(), cols[keep].tolist(), strict=True):
            similarity = jaccard(self.hashes[indices[i]], self.hashes[indices[j]])
            if similarity >= self.config.duplicate_threshold:
                pairs.append((indices[i], indices[j], similarity))
        return pairs


def _banded_candidates(signatures: np.ndarray, rows: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)``, i < j, whose signatures agree on every row of at least one band:
    LSH banding, O(n log n) where comparing all pairs is O(n²). With bands of two rows of
    32, a pair of Jaccard 0.5 becomes a candidate with probability 0.99."""
    count, width = signatures.shape
    bands = width // rows
    keys = signatures[:, : bands * rows].astype(np.uint64).reshape(count, bands, rows)
    keyed = (keys[:, :, 0] << np.uint64(32)) | keys[:, :, 1 % rows]
    # One sort for all bands: order by (band, key); equal neighbours share a bucket.
    band = np.broadcast_to(np.arange(bands), (count, bands)).ravel()
    block = np.broadcast_to(np.arange(count)[:, None], (count, bands)).ravel()
    flat = keyed.ravel()
    order = np.lexsort((block, flat, band))
    same = (flat[order][1:] == flat[order][:-1]) & (band[order][1:] == band[order][:-1])
    if not same.any():
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    found: set[tuple[int, int]] = set()
    members = block[order]
    starts = np.flatnonzero(np.diff(np.concatenate(([0], same.astype(np.int8)))) == 1)
    ends = np.flatnonzero(np.diff(np.concatenate((same.astype(np.int8), [0]))) == -1) + 1
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        bucket = members[start : end + 1].tolist()
        found.update(itertools.combinations(bucket, 2))
    pairs = np.array(sorted(found), dtype=np.int64)
    return pairs[:, 0], pairs[:, 1]


def find_duplicate_blocks(
    blocks: Sequence[Block],
    config: CleanerConfig,
    decided: Mapping[int, Verdict],
    cache: ShingleCache | None = None,
    infer: bool = True,
) -> dict[int, Verdict]:
    """Verdicts for blocks that repeat an earlier kept block (and for captions shown twice).

    ``blocks`` are the blocks still kept, in order; ``decided`` holds this pass's boilerplate
    verdicts by block index, which are not compared but give the photo context. With
    ``infer`` off, a short repeat counts only as a recycled sentence, not as a caption
    shown twice (that is read from context).
    """
    if cache is None:
        cache = ShingleCache(config)
    cache.fold(blocks)
    # Positions in ``blocks`` (adjacency is judged among kept blocks) and their verdicts.
    context = {p: decided[b.index] for p, b in enumerate(blocks) if b.index in decided}
    kept = [p for p in range(len(blocks)) if p not in context]
    size = {p: cache.sizes[blocks[p].index] for p in kept}
    copy_of: dict[int, tuple[int, float]] = {}

    first_seen: dict[bytes, int] = {}
    for p in kept:
        key = cache.keys[blocks[p].index]
        first = first_seen.get(key)
        if first is None:
            first_seen[key] = p
        elif _is_recycled(size[p], cache.last[blocks[p].index], config) or (
            infer and _frames_photo(first, p, context)
        ):
            copy_of[p] = (first, 1.0)
        else:
            first_seen[key] = p  # the next repeat is compared with this copy

    long = [p for p in kept if size[p] >= config.duplicate_min_chars and p not in copy_of]
    if len(long) > 1:
        for i, j, similarity in cache.near_duplicates([blocks[p].index for p in long]):
            if long[j] not in copy_of:
                copy_of[long[j]] = (long[i], similarity)

    verdicts: dict[int, Verdict] = {}
    for later, (first, similarity) in sorted(copy_of.items()):
        # Follow chains so the evidence names the copy that stays.
        while first in copy_of:
            first = copy_of[first][0]
        kind = "exact" if similarity == 1.0 else "near"
        verdicts[blocks[later].index] = Verdict(
            Category.DUPLICATE_IN_DOCUMENT,
            f"duplicate_in_document.{kind}",
            f"{kind} copy of block {blocks[first].index} (jaccard {similarity:.2f})",
        )
        if infer and _frames_photo(first, later, context):
            verdicts[blocks[first].index] = Verdict(
                Category.CAPTION,
                "caption.repeated",
                f"shown again as block {blocks[later].index}, next to photo metadata",
                inferred=True,
            )
    return verdicts


def _is_recycled(size: int, last: str, config: CleanerConfig) -> bool:
    """Whether a repeated block is a recycled passage rather than repeated structure.

    Long blocks are; a short one only if it is a sentence. List items, table cells and
    sub-headings (no closing punctuation) recur legitimately, a table of contents repeats
    the headings below it.
    """
    if size >= config.duplicate_min_chars:
        return True
    return size >= config.exact_min_chars and last in _SENTENCE_END


def _frames_photo(first: int, later: int, context: Mapping[int, Verdict]) -> bool:
    """A caption shown twice: next to itself or on both sides of a photo credit, amid the
    photo's metadata (credits, bylines, stamps). Then the first copy is a caption too."""
    if later - first > 2:
        return False
    around = [first - 1, later + 1, *range(first + 1, later)]
    return any(context[k].category in _PHOTO_CONTEXT for k in around if k in context)
