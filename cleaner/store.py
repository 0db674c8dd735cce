"""Where the corpus index lives between runs: ``--index PATH`` (an SQLite file, no server) or
``--index redis://HOST:PORT[/DB]`` (a Redis server, through datasketch's Redis storage).

A store keeps, per article id, the article as the corpus pass signed it the first time it was
seen: its source, its whole-article signature, and its passages' blocks, lengths, digests and
signatures (no text). Later runs load every stored article as evidence
(:meth:`PassageIndex.add_signed` with ``previous=True``), so a folder cleaned every day
recognises yesterday's boilerplate and duplicates, and then save the articles they saw for
the first time. An article seen again keeps its first entry: cleaned in place, its text has
lost the boilerplate that is the evidence for the others.

Signatures made with another corpus config cannot be compared: an SQLite index records its
config and refuses another one; in Redis each config has its own key prefix.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import numpy as np

from cleaner.corpus import CorpusConfig, Passages, SignedArticles

#: Articles read or written per step.
_STEP = 512
_HEAD = struct.Struct("<qi")  # compared characters, passages


class StoreError(Exception):
    """An index that cannot be opened, read or written; the message says what to do."""


class IndexStore(Protocol):
    def keys(self) -> set[str]: ...

    def load(self) -> Iterator[SignedArticles]: ...

    def save(self, batches: Iterable[SignedArticles]) -> int: ...

    def close(self) -> None: ...


def open_store(spec: str, config: CorpusConfig, create: bool = True) -> IndexStore:
    """The store that ``--index SPEC`` names: ``redis://HOST:PORT[/DB]`` or a file path
    (made when missing, with ``create``)."""
    if spec.startswith(("redis://", "rediss://")):
        return RedisStore(spec, config)
    return SqliteStore(Path(spec), config, create)


#: The layout of a stored article (:func:`encode_article`). Format 2: only passages of at
#: least ``near_min_chars`` have a signature (format 1 stored one for every passage).
#: Format 3: passage digests are xxh3_64 (format 2's were blake2b).
FORMAT = 3


def _fingerprint(config: CorpusConfig) -> str:
    """What makes stored signatures comparable: the shingles, permutations and seed, and
    which passages are stored and signed."""
    return json.dumps(
        {
            "format": FORMAT,
            "shingle_size": config.shingle_size,
            "num_perm": config.num_perm,
            "seed": config.seed,
            "min_chars": config.min_chars,
            "near_min_chars": config.near_min_chars,
        },
        sort_keys=True,
    )


def _format(fingerprint: str) -> object:
    try:
        return json.loads(fingerprint).get("format")
    except (ValueError, AttributeError):
        return None


def encode_article(batch: SignedArticles, row: int, rows: np.ndarray) -> bytes:
    """One article of a signed batch as bytes; ``rows`` are its passages' rows. The
    signatures follow for the passages that have one, in row order."""
    p = batch.passages
    signed = p.signed[rows]
    return b"".join((
        _HEAD.pack(int(batch.chars[row]), len(rows)),
        batch.signatures[row].astype("<u4").tobytes(),
        p.block[rows].astype("<i4").tobytes(),
        p.length[rows].astype("<i4").tobytes(),
        p.digest[rows].astype("<u8").tobytes(),
        p.signatures[signed[signed >= 0]].astype("<u4").tobytes(),
    ))  # fmt: skip


def decode_articles(
    entries: list[tuple[str, str | None, bytes]], config: CorpusConfig
) -> SignedArticles:
    """Stored articles back as one signed batch."""
    num_perm = config.num_perm
    signatures = np.empty((len(entries), num_perm), dtype=np.uint32)
    chars = np.empty(len(entries), dtype=np.int64)
    parts: list[tuple[np.ndarray, ...]] = []
    for i, (_, _, blob) in enumerate(entries):
        chars[i], count = _HEAD.unpack_from(blob)
        at = _HEAD.size
        arrays = []
        for dtype, n in (("<u4", num_perm), ("<i4", count), ("<i4", count), ("<u8", count)):
            if at + np.dtype(dtype).itemsize * n > len(blob):
                break
            arrays.append(np.frombuffer(blob, dtype=dtype, count=n, offset=at))
            at += arrays[-1].nbytes
        # Then the signatures of the passages of at least near_min_chars, in order.
        near = arrays[2] >= config.near_min_chars if len(arrays) == 4 else None
        if near is None or at + 4 * num_perm * int(np.count_nonzero(near)) != len(blob):
            raise StoreError(f"stored article {entries[i][0]!r} is damaged ({len(blob)} bytes)")
        signatures[i], block, length, digest = arrays
        signed = np.frombuffer(blob, dtype="<u4", offset=at).reshape(-1, num_perm)
        parts.append((np.full(count, i, dtype=np.int32), block, length, digest, near, signed))
    if not parts:
        passages = Passages.empty(num_perm)
    else:
        article, block, length, digest, near, signed = (
            np.concatenate([part[k] for part in parts]) for k in range(6)
        )
        rows = np.full(len(near), -1, dtype=np.int32)
        rows[near] = np.arange(int(np.count_nonzero(near)), dtype=np.int32)
        passages = Passages(
            article, block.astype(np.int32), length.astype(np.int32),
            digest.astype(np.uint64), rows, signed.astype(np.uint32),
        )  # fmt: skip
    ids = [e[0] for e in entries]
    sources = [e[1] for e in entries]
    return SignedArticles(ids, sources, signatures, chars, passages)


def _articles(batch: SignedArticles) -> Iterator[tuple[str, str | None, bytes]]:
    order = np.argsort(batch.passages.article, kind="stable")
    bounds = np.searchsorted(batch.passages.article[order], np.arange(len(batch) + 1))
    for row, (article_id, source) in enumerate(zip(batch.ids, batch.sources, strict=True)):
        rows = order[bounds[row] : bounds[row + 1]]
        yield article_id, source, encode_article(batch, row, rows)


class SqliteStore:
    """The embedded index: one SQLite file, written in one transaction per run."""

    def __init__(self, path: Path, config: CorpusConfig, create: bool = True) -> None:
        self.path = path
        self.config = config
        fingerprint = _fingerprint(config)
        if not create and not path.is_file():
            raise StoreError(f"--index {path}: no index there (clean with --index makes one)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path)
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS articles "
                "(id TEXT PRIMARY KEY, source TEXT, entry BLOB NOT NULL)"
            )
            row = self._db.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
            if row is None:
                with self._db:
                    self._db.execute("INSERT INTO meta VALUES ('config', ?)", (fingerprint,))
            elif _format(row[0]) != FORMAT:
                raise StoreError(
                    f"--index {path}: written by another version of cleaner (index format "
                    f"{_format(row[0])}, this one reads {FORMAT}); delete it to start again, "
                    "or give another path"
                )
            elif row[0] != fingerprint:
                raise StoreError(
                    f"--index {path}: made with another corpus config ({row[0]}); give another "
                    "path, or delete it to start again"
                )
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"--index {path}: not a cleaner index ({exc}); give another path"
            ) from exc
        except OSError as exc:
            raise StoreError(f"--index {path}: cannot open it ({exc})") from exc

    def keys(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT id FROM articles")}

    def load(self) -> Iterator[SignedArticles]:
        cursor = self._db.execute("SELECT id, source, entry FROM articles ORDER BY id")
        while rows := cursor.fetchmany(_STEP):
            yield decode_articles([(i, s, bytes(e)) for i, s, e in rows], self.config)

    def save(self, batches: Iterable[SignedArticles]) -> int:
        """Add the articles it does not hold yet; returns how many. All or nothing."""
        added = 0
        try:
            with self._db:
                for batch in batches:
                    cursor = self._db.executemany(
                        "INSERT OR IGNORE INTO articles VALUES (?, ?, ?)", _articles(batch)
                    )
                    added += max(cursor.rowcount, 0)
        except sqlite3.Error as exc:
            raise StoreError(f"--index {self.path}: cannot write it ({exc})") from exc
        return added

    def close(self) -> None:
        self._db.close()


class RedisStore:
    """The index in a Redis server, through datasketch's Redis list storage: one list per
    article id, [source, entry], under a key prefix of its config."""

    def __init__(self, url: str, config: CorpusConfig) -> None:
        from datasketch.storage import ordered_storage

        parts = urlsplit(url)
        params: dict[str, object] = {
            "host": parts.hostname or "localhost",
            "port": parts.port or 6379,
        }
        if parts.path.strip("/"):
            params["db"] = int(parts.path.strip("/"))
        if parts.password:
            params["password"] = parts.password
        if parts.scheme == "rediss":
            params["ssl"] = True
        self.url = url
        self.config = config
        prefix = struct.pack("<Q", hash_text(_fingerprint(config)))
        try:
            self._storage = ordered_storage(
                {"type": "redis", "redis": params}, name=b"cleaner:" + prefix.hex().encode()
            )
            self._storage.size()  # connects: an unreachable server fails here
        except ImportError as exc:
            raise StoreError(
                "--index redis://...: the redis client is not installed; pip install "
                "'cleaner[redis]'"
            ) from exc
        except Exception as exc:
            raise StoreError(f"--index {url}: cannot reach the Redis server ({exc})") from exc

    def keys(self) -> set[str]:
        return {key.decode("utf-8") for key in self._storage.keys()}  # noqa: SIM118

    def load(self) -> Iterator[SignedArticles]:
        keys = sorted(self.keys())
        for s in range(0, len(keys), _STEP):
            step = keys[s : s + _STEP]
            entries = []
            for key, items in zip(step, self._storage.getmany(*step), strict=True):
                if len(items) != 2:
                    raise StoreError(f"--index {self.url}: stored article {key!r} is damaged")
                source = items[0].decode("utf-8") or None
                entries.append((key, source, bytes(items[1])))
            yield decode_articles(entries, self.config)

    def save(self, batches: Iterable[SignedArticles]) -> int:
        held = self.keys()
        added = 0
        for batch in batches:
            for article_id, source, entry in _articles(batch):
                if article_id in held:
                    continue
                self._storage.insert(article_id, (source or "").encode("utf-8"), entry,
                                     buffer=True)  # fmt: skip
                added += 1
            self._storage.empty_buffer()
        return added

    def close(self) -> None:
        pass


def hash_text(text: str) -> int:
    """A stable 64-bit hash of a text (Python's ``hash`` changes from run to run)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
