"""Character-shingle hashing and MinHash signatures, in bulk with numpy.

The signatures are exactly datasketch's: for a ``MinHash(num_perm, seed)`` with the default
``affine32`` scheme and a hash function giving our 32-bit shingle hashes, datasketch computes
``min(a * fmix32(h) + b)`` per permutation; so do we, for many passages at once, instead of a
Python call per shingle. :func:`to_minhash` wraps a row for datasketch's LSH classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from datasketch import LeanMinHash, MinHash

# Pairs replaced in turn: str.replace is C-fast where str.translate with a table walks the
# string in Python objects, five times slower on non-ASCII text.
_FOLD = (
    ("‘", "'"), ("’", "'"), ("‚", "'"), ("′", "'"), ("`", "'"), ("´", "'"),
    ("“", '"'), ("”", '"'), ("„", '"'), ("″", '"'), ("«", '"'), ("»", '"'),
    ("–", "-"), ("—", "-"), ("‑", "-"), ("−", "-"),
)  # fmt: skip

# Polynomial rolling hash over code points, wrapping at 2^64.
_BASE = np.uint64(0x100000001B3)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_F1 = np.uint32(0x85EBCA6B)
_F2 = np.uint32(0xC2B2AE35)


def shingle_text(text: str) -> str:
    """The form passages are compared in: case, quote style, dashes and spacing folded."""
    text = " ".join(text.casefold().split())
    if not text.isascii():
        for source, target in _FOLD:
            if source in text:
                text = text.replace(source, target)
    return text


def shingle_hashes(texts: Sequence[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of the character ``size``-grams of every text, concatenated.

    Returns ``(hashes, offsets)``: the hashes of text ``i`` are
    ``hashes[offsets[i]:offsets[i + 1]]`` (a text shorter than ``size`` is one shingle).
    Hashes are stable across processes and machines.
    """
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    joined = "".join(texts)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    starts = np.concatenate(([0], np.cumsum(lengths)))
    counts = np.maximum(lengths - size + 1, np.minimum(lengths, 1))
    offsets = np.concatenate(([0], np.cumsum(counts)))
    if len(codes) == 0:
        return np.zeros(0, dtype=np.uint32), offsets
    # Rolling hash of the window starting at every position of the joined text ...
    padded = np.concatenate((codes, np.zeros(size - 1, dtype=np.uint64)))
    window = np.zeros(len(codes), dtype=np.uint64)
    span = len(codes)
    with np.errstate(over="ignore"):
        for k in range(size):
            window = window * _BASE + padded[k : k + span]
    # ... of which each text keeps the windows that lie inside it; a short text keeps its one
    # (zero-padded) window, cut to its own length so that it does not see the next text.
    short = np.flatnonzero((lengths < size) & (lengths > 0))
    for i in short:
        s = int(starts[i])
        h = np.uint64(0)
        with np.errstate(over="ignore"):
            for c in codes[s : s + int(lengths[i])]:
                h = h * _BASE + c
        window[s] = h
    position = np.repeat(starts[:-1] - offsets[:-1], counts) + np.arange(offsets[-1])
    hashed = window[position]
    with np.errstate(over="ignore"):
        hashed ^= hashed >> _S33
        hashed *= _M1
        hashed ^= hashed >> _S33
        hashed *= _M2
        hashed ^= hashed >> _S33
    return (hashed & _LOW32).astype(np.uint32), offsets


@dataclass(frozen=True)
class Signer:
    """Computes datasketch-compatible MinHash signatures for many passages at once."""

    num_perm: int = 64
    seed: int = 1

    def __post_init__(self) -> None:
        a, b = MinHash(num_perm=self.num_perm, seed=self.seed).permutations
        object.__setattr__(self, "_a", a.astype(np.uint32))
        object.__setattr__(self, "_b", b.astype(np.uint32))

    def signatures(self, hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """One row of ``num_perm`` uint32 minima per passage (all-ones for an empty one)."""
        count = len(offsets) - 1
        out = np.full((count, self.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
        if len(hashes) == 0:
            return out
        h = hashes.astype(np.uint32)  # a copy: fmix works in place
        with np.errstate(over="ignore"):
            h ^= h >> np.uint32(16)
            h *= _F1
            h ^= h >> np.uint32(13)
            h *= _F2
            h ^= h >> np.uint32(16)
            # Permutations along rows and shingles along columns: the long axis is the
            # contiguous one, about 25 times faster than the transposed layout.
            permuted = np.multiply.outer(self._a, h)  # type: ignore[attr-defined]
            permuted += self._b[:, None]  # type: ignore[attr-defined]
        nonempty = np.flatnonzero(offsets[1:] > offsets[:-1])
        if len(nonempty):
            out[nonempty] = np.minimum.reduceat(permuted, offsets[nonempty], axis=1).T
        return out

    def to_minhash(self, row: np.ndarray) -> LeanMinHash:
        """A datasketch LeanMinHash holding this signature row (for MinHashLSH)."""
        minhash = MinHash(num_perm=self.num_perm, seed=self.seed, hashvalues=row, scheme="affine32")
        return LeanMinHash(minhash)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sets of shingle hashes."""
    sa, sb = np.unique(a), np.unique(b)
    if len(sa) == 0 and len(sb) == 0:
        return 1.0
    inter = len(np.intersect1d(sa, sb, assume_unique=True))
    return inter / (len(sa) + len(sb) - inter)
