"""Inner loops compiled with numba: shingle hashes, MinHash minima and the in-document
pre-filter of near-duplicate paragraphs.

Imported only when numba is installed (``pip install 'cleaner[fast]'``) and a call is large
enough to be worth it, or the process has done enough work for loading them to pay (see
:func:`cleaner.minhash.loop_for`); otherwise :mod:`cleaner.minhash` and
:mod:`cleaner.duplicates` compute the same values with numpy. For the minima, each passage's
64 running minima stay in registers while its shingles stream past once, where numpy writes
and reads back a (permutations × shingles) array. The compiled code is cached on disk
(``cache=True``), so a process after the first loads it instead of compiling it again.
"""

from __future__ import annotations

import numba
import numpy as np

_F1 = np.uint32(0x85EBCA6B)
_F2 = np.uint32(0xC2B2AE35)
_S16 = np.uint32(16)
_S13 = np.uint32(13)


@numba.njit(cache=True, nogil=True)
def affine_minima(
    hashes: np.ndarray,
    offsets: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    sample: np.uint32,
    out: np.ndarray,
) -> None:
    """``out[i, p] = min((a[p] * fmix32(h) + b[p]) mod 2**32)`` over the hashes ``h`` of
    passage ``i`` (``hashes[offsets[i]:offsets[i + 1]]``) that have the bits of ``sample``
    clear; a passage with none has its row left as it is.

    murmur3's fmix32 is applied here, shingle by shingle, and the sample is skipped here,
    where numpy makes a copy, a mask and five passes first; and each minimum is taken
    without a branch, so that the loop over permutations runs on vector registers (1.7
    times quicker at 32 permutations)."""
    minima = np.empty(a.shape[0], dtype=np.uint32)
    for i in range(offsets.shape[0] - 1):
        if _passage_minima(hashes, offsets[i], offsets[i + 1], a, b, sample, minima):
            out[i, :] = minima


@numba.njit(cache=True, nogil=True)
def chosen_minima(
    hashes: np.ndarray,
    offsets: np.ndarray,
    chosen: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    sample: np.uint32,
    out: np.ndarray,
) -> None:
    """:func:`affine_minima` of some passages: row ``n`` of ``out`` is passage
    ``chosen[n]``'s, read where it lies, not copied out first."""
    minima = np.empty(a.shape[0], dtype=np.uint32)
    for n in range(chosen.shape[0]):
        i = chosen[n]
        if _passage_minima(hashes, offsets[i], offsets[i + 1], a, b, sample, minima):
            out[n, :] = minima


@numba.njit(cache=True, nogil=True, inline="always")
def _passage_minima(
    hashes: np.ndarray,
    lo: int,
    hi: int,
    a: np.ndarray,
    b: np.ndarray,
    sample: np.uint32,
    minima: np.ndarray,
) -> bool:
    """The minima of one passage (``hashes[lo:hi]``) into ``minima``; whether it has a
    shingle in the sample."""
    minima[:] = 0xFFFFFFFF
    seen = False
    for k in range(lo, hi):
        h = hashes[k]
        if h & sample:
            continue
        seen = True
        h ^= h >> _S16
        h = np.uint32(h * _F1)
        h ^= h >> _S13
        h = np.uint32(h * _F2)
        h ^= h >> _S16
        for p in range(a.shape[0]):
            minima[p] = min(minima[p], np.uint32(a[p] * h + b[p]))
    return seen


_BASE = np.uint64(0x100000001B3)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_LOW32 = np.uint64(0xFFFFFFFF)


@numba.njit(cache=True, nogil=True)
def window_hashes(
    codes: np.ndarray, starts: np.ndarray, offsets: np.ndarray, size: int, out: np.ndarray
) -> None:
    """:func:`cleaner.minhash.shingle_hashes` into ``out``: text ``i`` is
    ``codes[starts[i]:starts[i + 1]]``, its hashes go to ``out[offsets[i]:offsets[i + 1]]``.
    Each window's polynomial over its code points (wrapping at 2**64; a text shorter than
    ``size`` is one window of its own length), mixed by murmur3's fmix64, low 32 bits.

    The polynomial rolls: the next window's is this one's without its first code point's
    term, times the base, plus the new code point (the same value modulo 2**64 as summing
    the window afresh, in two multiplications instead of ``size``: 2.2 times quicker)."""
    top = np.uint64(1)  # the first code point's factor in a full window: base ** (size - 1)
    for _ in range(size - 1):
        top *= _BASE
    for i in range(starts.shape[0] - 1):
        start = starts[i]
        length = starts[i + 1] - start
        if length == 0:
            continue
        at = offsets[i]
        h = np.uint64(0)
        for k in range(min(length, size)):
            h = h * _BASE + np.uint64(codes[start + k])
        for w in range(max(length - size + 1, 1)):
            if w > 0:
                h = (h - np.uint64(codes[start + w - 1]) * top) * _BASE
                h += np.uint64(codes[start + w + size - 1])
            x = h ^ (h >> _S33)
            x *= _M1
            x ^= x >> _S33
            x *= _M2
            x ^= x >> _S33
            out[at + w] = np.uint32(x & _LOW32)


@numba.njit(cache=True, nogil=True)
def shingle_windows(
    codes: np.ndarray, starts: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cleaner.minhash.shingle_hashes`: the hashes of every text's windows (see
    :func:`window_hashes`) and the offsets where each text's hashes start, counted here, not
    in the half-dozen numpy calls that cost more than hashing an article's paragraphs."""
    texts = starts.shape[0] - 1
    offsets = np.empty(texts + 1, dtype=np.int64)
    offsets[0] = 0
    for i in range(texts):
        length = starts[i + 1] - starts[i]
        offsets[i + 1] = offsets[i] + (max(length - size + 1, 1) if length > 0 else 0)
    out = np.empty(offsets[texts], dtype=np.uint32)
    window_hashes(codes, starts, offsets, size, out)
    return out, offsets


@numba.njit(cache=True, nogil=True)
def may_pair_within(
    hashes: np.ndarray, offsets: np.ndarray, document: np.ndarray, threshold: float, out: np.ndarray
) -> None:
    """:func:`cleaner.duplicates._may_pair_within` into ``out`` (bool per block): the same
    buckets (a power of two per document, at least 4 per shingle and 16 in all, the hash's
    low bits) and the same test, one document at a time in a table of counts that stays in
    cache and is cleared after each document."""
    blocks = offsets.shape[0] - 1
    table = np.zeros(16, dtype=np.uint8)
    first = 0
    while first < blocks:
        last = first + 1
        while last < blocks and document[last] == document[first]:
            last += 1
        lo, hi = offsets[first], offsets[last]
        size = 16
        while size < 4 * (hi - lo):
            size *= 2
        if table.shape[0] < size:
            table = np.zeros(size, dtype=np.uint8)
        mask = np.uint32(size - 1)
        # Without branches: a bucket counts 0, 1, 2 (two or more), and 2 >> 1 is 1. With a
        # test per shingle and the buckets cleared one by one, this took 2.4 times as long
        # on the naeb-dev texts.
        for k in range(lo, hi):
            slot = hashes[k] & mask
            count = table[slot]
            table[slot] = count + (count < 2)
        for n in range(first, last):
            common = 0
            for k in range(offsets[n], offsets[n + 1]):
                common += table[hashes[k] & mask] >> 1
            out[n] = common + 1 >= threshold * (offsets[n + 1] - offsets[n])
        table[:size] = 0  # only these buckets were used
        first = last


@numba.njit(cache=True, nogil=True)
def screened_windows(
    codes: np.ndarray, lengths: np.ndarray, size: int, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One document's paragraphs (text ``i`` is the next ``lengths[i]`` code points of
    ``codes``): their shingle hashes and offsets (:func:`shingle_windows`) and which of
    them may pair (:func:`may_pair_within`, all of them one document), in one call where
    the two calls and the numpy between them cost more than an article's hashing."""
    texts = lengths.shape[0]
    starts = np.empty(texts + 1, dtype=np.int64)
    offsets = np.empty(texts + 1, dtype=np.int64)
    starts[0] = 0
    offsets[0] = 0
    for i in range(texts):
        length = lengths[i]
        starts[i + 1] = starts[i] + length
        offsets[i + 1] = offsets[i] + (max(length - size + 1, 1) if length > 0 else 0)
    out = np.empty(offsets[texts], dtype=np.uint32)
    window_hashes(codes, starts, offsets, size, out)
    possible = np.empty(texts, dtype=np.bool_)
    may_pair_within(out, offsets, np.zeros(texts, dtype=np.int64), threshold, possible)
    return out, offsets, possible


_FNV = np.uint64(0x100000001B3)
_S29 = np.uint64(29)


@numba.njit(cache=True, nogil=True)
def band_keys(
    signatures: np.ndarray, members: np.ndarray, bands: int, rows: int, out: np.ndarray,
    columns: np.ndarray,
) -> None:  # fmt: skip
    """:func:`cleaner.corpus.band_keys` into ``out``: the key of band ``b`` of row
    ``members[j]`` goes to ``out[b, columns[j]]``. One pass over each row's values, where
    numpy gathers every band's columns of all rows and makes a temporary array per step."""
    for j in range(members.shape[0]):
        row = members[j]
        column = columns[j]
        for band in range(bands):
            key = np.uint64(0)
            for r in range(rows):
                key = (key * _FNV) ^ np.uint64(signatures[row, band * rows + r])
                key ^= key >> _S29
            out[band, column] = key


@numba.njit(cache=True, nogil=True)
def agreeing_pairs(
    signatures: np.ndarray, rows: int, first: np.ndarray, second: np.ndarray, agree: np.ndarray
) -> int:
    """:func:`cleaner.duplicates._agreeing_pairs` into ``first``, ``second`` and ``agree``
    (each room for every pair); returns how many pairs there are. A pair's bands are
    compared until one agrees on all its rows (most pairs differ on a band's first row),
    and only a candidate's rows are all counted."""
    count, width = signatures.shape
    bands = width // rows
    found = 0
    for i in range(count):
        for j in range(i + 1, count):
            candidate = False
            for band in range(bands):
                same = True
                for r in range(band * rows, band * rows + rows):
                    if signatures[i, r] != signatures[j, r]:
                        same = False
                        break
                if same:
                    candidate = True
                    break
            if candidate:
                equal = 0
                for k in range(width):
                    if signatures[i, k] == signatures[j, k]:
                        equal += 1
                first[found] = i
                second[found] = j
                agree[found] = equal
                found += 1
    return found


@numba.njit(cache=True, nogil=True)
def exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """:func:`cleaner.minhash.jaccard`: both arrays sorted, then one walk that counts the
    distinct values of each and those they share (1.0 for two empty arrays)."""
    sa, sb = np.sort(a), np.sort(b)
    i, j, na, nb, common = 0, 0, 0, 0, 0
    while i < sa.shape[0] or j < sb.shape[0]:
        if j == sb.shape[0] or (i < sa.shape[0] and sa[i] < sb[j]):
            value = sa[i]
            na += 1
        elif i == sa.shape[0] or sb[j] < sa[i]:
            value = sb[j]
            nb += 1
        else:
            value = sa[i]
            na += 1
            nb += 1
            common += 1
        while i < sa.shape[0] and sa[i] == value:
            i += 1
        while j < sb.shape[0] and sb[j] == value:
            j += 1
    if na + nb == 0:
        return 1.0
    return common / (na + nb - common)
