"""Paragraphs that an article repeats: the first copy stays, later copies go.

Candidates come from MinHash signatures over character n-grams (a one-sentence paragraph
has too few word 5-grams for a stable estimate) and are verified by exact Jaccard, so the
signature only saves comparisons and never decides alone.
"""

from __future__ import annotations

import itertools
import operator
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache

import numpy as np

from cleaner.config import CleanerConfig
from cleaner.minhash import Folded, Signer, fold_forms, jaccard, loop_for, shingle_hashes
from cleaner.model import Block, Category, Verdict

#: Categories whose blocks mark the metadata around a photo: a short passage repeated next
#: to them is the photo's alt text and caption, so every copy of it goes.
_PHOTO_CONTEXT = frozenset({Category.CAPTION, Category.BYLINE, Category.TIMESTAMP})
#: The shingles signed: those whose hash has these bits clear (a quarter of them).
_SAMPLE = 3
#: Estimated similarity below which a pair is not even verified. The estimate (32
#: permutations over a quarter of the shingles) errs by about 0.1 on a paragraph, so this
#: keeps pairs whose true Jaccard may reach the threshold; tests/test_minhash.py measures it.
_ESTIMATE_SLACK = 0.25
#: How a sentence ends, in the folded form that quotes are compared in.
_SENTENCE_END = frozenset(".!?…\"')")
#: Up to this many signatures, candidates come from comparing every pair at once.
_ALL_PAIRS_MAX = 12
#: Rows of a signature in one LSH band of the in-document pass.
_BAND_ROWS = 2
#: Up to this many signatures, the compiled loop compares every pair (room for 130,816
#: pairs: 3 MiB).
_COMPILED_PAIRS_MAX = 512
_S32 = np.uint64(32)
#: Which of the two 32-bit halves of a uint64 holds its low bits.
_LOW = 0 if sys.byteorder == "little" else 1
#: A block's index and its text (its first and last fields).
_INDEX = operator.itemgetter(0)
_TEXT = operator.itemgetter(4)


@lru_cache(maxsize=8)
def _signer(num_perm: int) -> Signer:
    return Signer(num_perm=num_perm)


class BlockHashes(Mapping[int, np.ndarray]):
    """Each hashed block's shingle hashes, by block index: a slice of the array its batch
    was hashed into, made when first asked for. Most blocks' hashes are only screened
    (:func:`_screened_hashes`), never read one by one, and a slice per block cost more
    than the screen's bookkeeping."""

    __slots__ = ("_made", "_where")

    def __init__(self) -> None:
        # Block index -> (the batch's hashes, their offsets, the block's place in it).
        self._where: dict[int, tuple[np.ndarray, list[int], int]] = {}
        self._made: dict[int, np.ndarray] = {}

    def add(
        self, indices: Sequence[int], hashes: np.ndarray, bounds: list[int], first: int = 0
    ) -> None:
        """Block ``indices[n]`` is ``hashes[bounds[first + n] : bounds[first + n + 1]]``."""
        places = range(first, first + len(indices))
        batch = itertools.repeat(hashes), itertools.repeat(bounds)
        self._where.update(zip(indices, zip(*batch, places, strict=False), strict=True))

    def __getitem__(self, index: int) -> np.ndarray:
        made = self._made.get(index)
        if made is None:
            hashes, bounds, n = self._where[index]
            made = self._made[index] = hashes[bounds[n] : bounds[n + 1]]
        return made

    def __contains__(self, index: object) -> bool:
        return index in self._where

    def __iter__(self) -> Iterator[int]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


class ShingleCache:
    """Each block's compared form, shingle hashes and signature, computed once per document
    and reused by every decision pass.

    Most documents repeat no paragraph, so the MinHash work is kept for the blocks that could
    be in a pair at all: a block whose shingles are mostly its own (see :meth:`_may_pair`)
    has no copy, and only the others are signed and banded. Every step that decides a pair
    (banding, the signature estimate, exact Jaccard) looks at the two blocks alone, so the
    pairs are the same as when every paragraph is signed.
    """

    def __init__(self, config: CleanerConfig) -> None:
        self.config = config
        #: Per block: the compared form (equal exactly when the forms are).
        self.keys: dict[int, str] = {}
        self.hashes = BlockHashes()
        self.signatures: dict[int, np.ndarray] = {}
        # Compared forms of paragraph-long blocks not hashed yet.
        self._unhashed: dict[int, str] = {}
        # All hashes as one batch (hashes, offsets, block indices), while there is one:
        # then every block hashed is in it.
        self._batch: tuple[np.ndarray, np.ndarray, list[int]] | None = None
        # Near-duplicate pairs (by block index) among the blocks of the first call; later
        # passes look at fewer blocks, so they only filter these.
        self._pairs: list[tuple[int, int, float]] | None = None
        # The blocks of the one batch hashed that may pair with another of them (a superset
        # of those that may pair among any of its blocks); None when unknown.
        self._screened: frozenset[int] | None = None
        self._paired: frozenset[int] = frozenset()

    def fold(self, blocks: Sequence[Block]) -> None:
        """Compare forms for all blocks; shingles for paragraph-long ones (once two exist)."""
        keys = self.keys
        todo = [b for b in blocks if b.index not in keys] if keys else blocks
        if not todo:
            return
        indices = list(map(_INDEX, todo))
        forms = fold_forms(list(map(_TEXT, todo)))
        long = self._add_forms(indices, forms)
        unhashed = self._unhashed
        pairs = zip(map(indices.__getitem__, long), map(forms.__getitem__, long), strict=True)
        unhashed.update(pairs)
        # A lone paragraph has nothing to be a copy of: it is never hashed.
        if unhashed and len(unhashed) + len(self.hashes) > 1:
            self._hash(unhashed)

    def _add_forms(self, indices: list[int], forms: Sequence[str]) -> list[int]:
        """Keep each block's compared form; returns the positions (in ``indices``) of the
        paragraph-long ones."""
        self.keys.update(zip(indices, forms, strict=True))
        long_enough = map(self.config.duplicate_min_chars.__le__, map(len, forms))
        return list(itertools.compress(range(len(forms)), long_enough))

    def _hash(self, forms: dict[int, str]) -> None:
        texts = list(forms.values())
        codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        config = self.config
        hashes, offsets, possible = _screened_hashes(
            codes, lengths, config.shingle_size, config.duplicate_threshold
        )
        indices = list(forms)
        if self.hashes:  # a second batch: its screen did not see the first one's shingles
            self._batch = None
            self._screened = None
        else:
            self._batch = (hashes, offsets, indices)
            self._screened = frozenset(indices[k] for k in np.flatnonzero(possible).tolist())
        self.hashes.add(indices, hashes, offsets.tolist())
        forms.clear()

    def _sign(self, indices: Sequence[int]) -> None:
        todo = [i for i in indices if i not in self.signatures]
        if not todo:
            return
        hashes, offsets = _joined([self.hashes[i] for i in todo])
        # Sign a quarter of each block's shingles, chosen by value (see Signer.signatures);
        # exact Jaccard on the full sets still decides.
        rows = _signer(self.config.num_perm).signatures(hashes, offsets, sample=_SAMPLE)
        for n, index in enumerate(todo):
            self.signatures[index] = rows[n]

    def near_duplicates(self, indices: Sequence[int]) -> list[tuple[int, int, float]]:
        """Pairs ``(earlier, later, jaccard)`` of positions in ``indices`` at or above the
        threshold: candidates by signature, verified by exact Jaccard."""
        if self._pairs is None or not self._paired.issuperset(indices):
            if self._unhashed:
                self._hash(self._unhashed)
            screened = self._screened
            possible = self._may_pair(indices) if screened is None else screened
            self._pairs = self._compute_pairs([i for i in indices if i in possible])
            self._paired = frozenset(indices)
        if not self._pairs:
            return []
        position = {index: p for p, index in enumerate(indices)}
        return [
            (position[a], position[b], similarity)
            for a, b, similarity in self._pairs
            if a in position and b in position
        ]

    def _may_pair(self, indices: Sequence[int]) -> frozenset[int]:
        """The blocks of ``indices`` that may have a Jaccard at or above the threshold with
        another of them (and so with another block of any subset of them): see
        :func:`_may_pair_within`. Only the blocks compared count: an exact copy, or a block
        a rule removed, is not one, so it does not make its original a candidate. Asked
        only when the blocks were hashed in more than one batch: otherwise the screen made
        with their hashes (``_screened``, over all of them: a superset) answers.
        """
        batch = self._batch
        if batch is not None and batch[2] == list(indices):
            hashes, offsets = batch[0], batch[1]
        else:
            hashes, offsets = _joined([self.hashes[i] for i in indices])
        if len(hashes) == 0:  # only empty texts (with duplicate_min_chars 0)
            return frozenset(indices)
        document = np.zeros(len(indices), dtype=np.int64)
        possible = _may_pair_within(hashes, offsets, document, self.config.duplicate_threshold)
        return frozenset(indices[k] for k in np.flatnonzero(possible).tolist())

    def _compute_pairs(self, indices: Sequence[int]) -> list[tuple[int, int, float]]:
        if len(indices) < 2:
            return []
        batch = self._batch
        if batch is not None and not self.signatures:
            # The first blocks signed, all in the one batch hashed: signed where the batch
            # holds them (copying out each block's hashes and stacking its row cost more
            # than signing).
            hashes, offsets, batched = batch
            place = dict(zip(batched, itertools.count()))
            chosen = np.fromiter(map(place.__getitem__, indices), np.int64, len(indices))
            signer = _signer(self.config.num_perm)
            signatures = signer.signatures(hashes, offsets, sample=_SAMPLE, chosen=chosen)
            self.signatures.update(zip(indices, signatures, strict=True))
        else:
            self._sign(indices)
            signatures = np.stack([self.signatures[i] for i in indices])
        return _verified_pairs(indices, signatures, self.hashes, self.config)


def _verified_pairs(
    indices: Sequence[int],
    signatures: np.ndarray,
    hashes: Mapping[int, np.ndarray],
    config: CleanerConfig,
) -> list[tuple[int, int, float]]:
    """Pairs ``(earlier, later, jaccard)`` of blocks (``indices``, in text order, with their
    signature rows) that LSH makes candidates and exact Jaccard confirms, in text order."""
    rows, cols, agree = _candidate_pairs(signatures)
    # Of those, the pairs whose signatures agree often enough to be worth verifying.
    floor = (config.duplicate_threshold - _ESTIMATE_SLACK) * config.num_perm
    keep = agree >= floor
    pairs = []
    for i, j in zip(rows[keep].tolist(), cols[keep].tolist(), strict=True):
        similarity = jaccard(hashes[indices[i]], hashes[indices[j]])
        if similarity >= config.duplicate_threshold:
            pairs.append((indices[i], indices[j], similarity))
    return pairs


def prepare_caches(
    documents: Sequence[Sequence[Block]],
    config: CleanerConfig,
    forms: Sequence[str] | None = None,
) -> list[ShingleCache]:
    """A :class:`ShingleCache` for each document, made for many documents at once: every
    block folded, and the near-duplicate pairs among all of a document's paragraph-long
    blocks found, with one numpy pass per step for all the documents instead of one per
    document (each pass costs a few microseconds however little it does). ``forms``, when
    given, are every block's compared form (:func:`fold_forms` of all the blocks' texts,
    document after document).

    Every step that decides a pair looks at the two blocks alone, so the pairs among any
    blocks a decision pass compares are these pairs restricted to them: cleaning with these
    caches gives what cleaning with empty ones gives.
    """
    caches = [ShingleCache(config) for _ in documents]
    if forms is None:
        forms = fold_forms([block.text for blocks in documents for block in blocks])
    # Paragraph-long blocks of the documents that have two or more: (document, block).
    owners: list[tuple[int, int]] = []
    owned: list[tuple[int, list[int]]] = []  # each such document's blocks, in that order
    long_forms: list[str] = []
    position = 0
    for d, (cache, blocks) in enumerate(zip(caches, documents, strict=True)):
        mine_forms = forms[position : position + len(blocks)]
        position += len(blocks)
        indices = list(map(_INDEX, blocks))
        long = cache._add_forms(indices, mine_forms)
        mine = [indices[n] for n in long]
        cache._pairs = []
        cache._paired = frozenset(mine)
        if len(mine) > 1:
            owners.extend(zip(itertools.repeat(d), mine))
            owned.append((d, mine))
            long_forms.extend(mine_forms[n] for n in long)
    if not owners:
        return caches
    codes = np.frombuffer("".join(long_forms).encode("utf-32-le", "surrogatepass"), np.uint32)
    lengths = np.fromiter(map(len, long_forms), dtype=np.int64, count=len(long_forms))
    batch = Folded(codes, np.concatenate(([0], np.cumsum(lengths))))
    hashes, offsets = shingle_hashes(batch, config.shingle_size)
    bounds = offsets.tolist()
    first = 0
    for d, mine in owned:
        caches[d].hashes.add(mine, hashes, bounds, first)
        first += len(mine)
    document = np.array([d for d, _ in owners], dtype=np.int64)
    possible = _may_pair_within(hashes, offsets, document, config.duplicate_threshold)
    chosen = np.flatnonzero(possible)
    # Documents with two or more blocks that may pair: sign those blocks all at once.
    per_document = np.bincount(document[chosen], minlength=len(documents))
    chosen = chosen[per_document[document[chosen]] > 1]
    if not len(chosen):
        return caches
    rows = _signer(config.num_perm).signatures(hashes, offsets, sample=_SAMPLE, chosen=chosen)
    picked = document[chosen]
    starts = np.flatnonzero(np.concatenate(([True], picked[1:] != picked[:-1])))
    ends = [*starts[1:].tolist(), len(chosen)]
    for start, end in zip(starts.tolist(), ends, strict=True):
        cache = caches[int(picked[start])]
        indices = [owners[n][1] for n in chosen[start:end].tolist()]
        for row, index in zip(rows[start:end], indices, strict=True):
            cache.signatures[index] = row
        cache._pairs = _verified_pairs(indices, rows[start:end], cache.hashes, config)
    return caches


def _may_pair_within(
    hashes: np.ndarray,
    offsets: np.ndarray,
    document: np.ndarray,
    threshold: float,
    compiled: bool | None = None,
) -> np.ndarray:
    """Whether each block may reach Jaccard ``threshold`` with another block of its own
    document (block ``n`` is ``hashes[offsets[n]:offsets[n + 1]]``, of ``document[n]``; a
    document's blocks are consecutive). Never False for a block that does.

    If ``J(A, B) >= t`` then ``|A ∩ B| >= t |A ∪ B| >= t |A|``: at least a share ``t`` of
    A's distinct shingles occur in another block. Here each shingle falls into one of a
    document's buckets (its hash's low bits; 4 or more buckets a shingle), and a shingle
    counts as shared when its bucket holds two or more of the document's shingles: another
    block's, the same block's again, or a collision. Counting every shingle of A with its
    repeats (n of them), at most as many as A's unshared distinct shingles are left
    uncounted, so a block that may pair has at least ``t n - 1`` counted: the test below.
    Only bincounts, no sort; in prose nearly every paragraph that is not a copy fails it.
    With numba (see :func:`cleaner.minhash.loop_for`) a compiled loop gives the same
    answer, a document at a time in a table of counts that stays in cache.
    """
    loop = loop_for("may_pair_within", len(hashes), compiled)
    if loop is not None:
        out = np.empty(len(offsets) - 1, dtype=np.bool_)
        loop(hashes, np.asarray(offsets, dtype=np.int64), document, threshold, out)
        return out
    lengths = np.diff(offsets)
    if len(document) and document[0] == document[-1]:
        # One document (the in-document pass's case): one table, no per-document offsets.
        total = int(lengths.sum())
        size = max(16, 1 << (4 * total - 1).bit_length()) if total else 16
        bucket = (hashes & np.uint32(size - 1)).astype(np.intp)
        shared = np.bincount(bucket, minlength=size)[bucket] > 1
    else:
        per_document = np.bincount(document, weights=lengths, minlength=0).astype(np.int64)
        # Buckets per document: a power of two, at least 4 per shingle (with 2 the test
        # keeps a few more paragraphs that are not copies, with 8 clearing the counts
        # costs more).
        bits = np.maximum(np.ceil(np.log2(np.maximum(per_document, 1) * 4)), 4).astype(np.int64)
        sizes = np.left_shift(1, bits)
        base = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        owner_document = np.repeat(document, lengths)
        masks = (sizes - 1).astype(np.uint32)
        bucket = (hashes & masks[owner_document]).astype(np.int64) + base[owner_document]
        counts = np.bincount(bucket, minlength=int(sizes.sum()))
        shared = counts[bucket] > 1
    starts = offsets[:-1]
    nonempty = lengths > 0
    common = np.zeros(len(lengths), dtype=np.int64)
    if nonempty.any():
        common[nonempty] = np.add.reduceat(shared, starts[nonempty])
    # One shingle of slack keeps the test safe from rounding.
    return common + 1 >= threshold * lengths


def _screened_hashes(
    codes: np.ndarray,
    lengths: np.ndarray,
    size: int,
    threshold: float,
    compiled: bool | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One document's paragraphs (text ``i`` is the next ``lengths[i]`` code points of
    ``codes``): :func:`cleaner.minhash.shingle_hashes` and :func:`_may_pair_within` of them
    all, in one compiled call when the loops are used (see
    :func:`cleaner.minhash.loop_for`)."""
    loop = loop_for("screened_windows", len(codes), compiled)
    if loop is not None:
        return loop(codes, lengths, size, threshold)  # type: ignore[no-any-return]
    starts = np.concatenate(([0], np.cumsum(lengths)))
    hashes, offsets = shingle_hashes(Folded(codes, starts), size, compiled=False)
    if len(hashes) == 0:  # only empty texts (with duplicate_min_chars 0)
        return hashes, offsets, np.ones(len(lengths), dtype=np.bool_)
    document = np.zeros(len(lengths), dtype=np.int64)
    return hashes, offsets, _may_pair_within(hashes, offsets, document, threshold, False)


def _joined(parts: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Arrays end to end, and the offsets where each starts (and the last ends)."""
    lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    return np.concatenate(parts), np.concatenate(([0], np.cumsum(lengths)))


def _candidate_pairs(
    signatures: np.ndarray, compiled: bool | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs ``(i, j)``, i < j, in that order, of signatures that agree on every row of
    at least one band (:func:`_banded_candidates`), and on how many rows each agrees.

    Up to :data:`_COMPILED_PAIRS_MAX` signatures with numba's loop when it is loaded or
    ``compiled`` is True (see :func:`cleaner.minhash.loop_for`): a few microseconds where
    each numpy way costs 70 or more; else every pair at once with numpy for a few, banding
    for more."""
    count, width = signatures.shape
    pairs = count * (count - 1) // 2
    if count <= _COMPILED_PAIRS_MAX:
        loop = loop_for("agreeing_pairs", pairs * width, compiled)
        if loop is not None:
            first, second = np.empty(pairs, np.int64), np.empty(pairs, np.int64)
            agree = np.empty(pairs, np.int64)
            found = loop(np.ascontiguousarray(signatures), _BAND_ROWS, first, second, agree)
            return first[:found], second[:found], agree[:found]
    if count <= _ALL_PAIRS_MAX:
        return _agreeing_pairs(signatures)
    rows, cols = _banded_candidates(signatures)
    return rows, cols, (signatures[rows] == signatures[cols]).sum(axis=1)


def _agreeing_pairs(
    signatures: np.ndarray, rows: int = _BAND_ROWS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What :func:`_banded_candidates` finds, by comparing every pair at once (quicker for a
    few dozen signatures): the pairs ``(i, j)``, i < j, in that order, that agree on every
    row of at least one band, and on how many rows each agrees."""
    count, width = signatures.shape
    bands = width // rows
    equal = signatures[:, None, :] == signatures[None, :, :]
    banded = equal[:, :, : bands * rows].reshape(count, count, bands, rows).all(axis=3)
    candidate = np.triu(banded.any(axis=2), 1)
    first, second = np.nonzero(candidate)
    return first, second, equal[first, second].sum(axis=1)


def _banded_candidates(
    signatures: np.ndarray, rows: int = _BAND_ROWS
) -> tuple[np.ndarray, np.ndarray]:
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
    indices = list(map(_INDEX, blocks))
    context = {p: decided[i] for p, i in enumerate(indices) if i in decided} if decided else {}
    keys = cache.keys
    minimum = config.duplicate_min_chars
    copy_of: dict[int, tuple[int, float]] = {}

    compared: Sequence[int]
    if context:
        compared = list(itertools.filterfalse(context.__contains__, range(len(blocks))))
        forms = [keys[indices[p]] for p in compared]
    else:
        compared = range(len(blocks))
        forms = list(map(keys.__getitem__, indices))
    long_enough = map(minimum.__le__, map(len, forms))
    # Positions of paragraph-long blocks, for near copies.
    long = list(itertools.compress(compared, long_enough))
    if len(set(forms)) != len(forms):
        # Some compared form repeats: each later copy, in order, goes or becomes the copy
        # the next repeat is compared with. (Found with C-level maps: each form's first
        # position, and the positions that are not their form's first.)
        first_seen = dict(zip(reversed(forms), reversed(compared), strict=True))
        firsts = map(first_seen.__getitem__, forms)
        pairs = zip(compared, forms, strict=True)
        repeats = itertools.compress(pairs, map(operator.ne, firsts, compared))
        for p, key in repeats:
            first = first_seen[key]
            if _is_recycled(len(key), key[-1:], config) or (
                infer and _frames_photo(first, p, context)
            ):
                copy_of[p] = (first, 1.0)
            else:
                first_seen[key] = p  # the next repeat is compared with this copy
        if copy_of:
            long = [p for p in long if p not in copy_of]

    if len(long) > 1:
        for i, j, similarity in cache.near_duplicates([indices[p] for p in long]):
            if long[j] not in copy_of:
                copy_of[long[j]] = (long[i], similarity)
    if not copy_of:
        return {}

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
