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


@numba.njit(cache=True, nogil=True)
def affine_minima(
    hashes: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray
) -> None:
    """``out[i, p] = min((a[p] * h + b[p]) mod 2**32)`` over the hashes ``h`` of passage
    ``i`` (``hashes[offsets[i]:offsets[i + 1]]``); an empty passage's row is left as it is."""
    permutations = a.shape[0]
    minima = np.empty(permutations, dtype=np.uint32)
    for i in range(offsets.shape[0] - 1):
        lo, hi = offsets[i], offsets[i + 1]
        if lo == hi:
            continue
        minima[:] = 0xFFFFFFFF
        for k in range(lo, hi):
            h = hashes[k]
            for p in range(permutations):
                value = np.uint32((a[p] * h + b[p]) & 0xFFFFFFFF)
                if value < minima[p]:
                    minima[p] = value
        out[i, :] = minima


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
    ``size`` is one window of its own length), mixed by murmur3's fmix64, low 32 bits."""
    for i in range(starts.shape[0] - 1):
        start = starts[i]
        length = starts[i + 1] - start
        width = min(length, size)
        at = offsets[i]
        for w in range(max(length - size + 1, min(length, 1))):
            h = np.uint64(0)
            for k in range(width):
                h = h * _BASE + np.uint64(codes[start + w + k])
            h ^= h >> _S33
            h *= _M1
            h ^= h >> _S33
            h *= _M2
            h ^= h >> _S33
            out[at + w] = np.uint32(h & _LOW32)


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
        for k in range(lo, hi):
            slot = hashes[k] & mask
            if table[slot] < 2:
                table[slot] += 1
        for n in range(first, last):
            common = 0
            for k in range(offsets[n], offsets[n + 1]):
                if table[hashes[k] & mask] > 1:
                    common += 1
            out[n] = common + 1 >= threshold * (offsets[n + 1] - offsets[n])
        for k in range(lo, hi):
            table[hashes[k] & mask] = 0
        first = last


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
