"""The corpus pass: passages that recur across a run's articles, and articles that nearly
repeat each other.

A line that one site repeats on its own pages is almost never article text; a short line that
many unrelated sites carry is a platform's; the same quote in two outlets is news and stays.
:class:`PassageIndex` holds that pass's state and is created and owned by the caller: articles
are added in batches (all blocks of a batch folded, shingled and signed in one numpy pass),
then :meth:`PassageIndex.decide` reads the whole corpus at once.

Memory: per indexed passage (a block of at least ``min_chars`` compared characters) an
8-byte digest of its compared form and four 4-byte integers (article, block, length, row of
its signature): 24 bytes; a passage of at least ``near_min_chars`` also has its MinHash
signature (4 × ``num_perm`` bytes), in memory or, with ``spill_dir``, in a temporary file.
On a generated news dump 61% of passages are that long: 180 bytes a passage on average at 64
permutations, 24 with the signatures in a file (:meth:`PassageIndex.bytes_per_passage`).
Per article its signature (4 × ``num_perm`` bytes) and its id and source strings. Shingle
hashes are not kept, so a similarity across articles is the signatures' estimate of
Jaccard (about ±0.05 at 0.8 with 64 permutations), not exact.

Candidates come from LSH banding with datasketch's own bands and rows
(``datasketch.lsh._optimal_param``) over signatures equal to datasketch's; the bands are
matched by sorting numpy keys instead of one ``MinHashLSH.insert`` and ``query`` per passage
(``benchmarks/corpus_index.py`` runs both on the same data).
"""

from __future__ import annotations

import itertools
import math
import mmap
import os
import re
import tempfile
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from os import PathLike
from pathlib import PurePath
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit

import numpy as np
import xxhash
from datasketch.lsh import _optimal_param

from cleaner.config import with_changes
from cleaner.minhash import Folded, Signer, distinct, fold_texts, loop_for, shingle_hashes
from cleaner.model import Category, Note, Verdict
from cleaner.segment import block_spans

#: Characters of articles signed per step by :meth:`PassageIndex.sign` (on a generated
#: dump, in µs an article: 8 articles a step 357, 16-32 341, 128 359, 256 440).
_SIGN_GROUP_CHARS = 1 << 17
#: Pairs of signatures compared per step. With the rows spilled to a file, each step's
#: gathers fault in the file's pages a 16 MiB region at a time (and let them go): 131,072
#: pairs a step share those faults among 16 times the rows of 8,192 (the million articles'
#: decisions, side by side: 74.4 s against 128.2 s, the same decisions and peak memory), for
#: 64 MiB of rows in memory a step.
_PAIR_STEP = 1 << 17
#: Band keys (8 bytes a band and row) up to which :meth:`PassageIndex._similar` finds the
#: candidates of all bands at once (one call of the candidate finder; one shuffle on Dask).
_KEY_BYTES = 512 << 20
#: Names shown in one evidence string before "(+N more)".
_EVIDENCE_NAMES = 3
#: Evidence strings kept for reuse (cleared when full).
_EVIDENCE_CACHE = 1 << 16

PassageKind = Literal["site_boilerplate", "corpus_boilerplate", "shared", "headline"]


def source_key(
    url: str | None = None,
    site: str | None = None,
    path: str | None = None,
    mode: Literal["url", "dir", "none"] = "url",
) -> str | None:
    """The source an article belongs to, or None when unknown (then it is its own source).

    ``url`` mode: the lower-case host of ``url`` without ``www.`` and port, else of ``site``
    (a URL or a bare name), else the folder of ``path``. This is the host, not the registered
    domain: ``edition.cnn.com`` and ``money.cnn.com`` stay apart (no public-suffix list).
    ``dir`` mode: the folder that holds ``path``. ``none``: no source.
    """
    if mode == "none":
        return None
    if mode == "url":
        for value in (url, site):
            host = _host(value)
            if host:
                return host
    if path:
        parent = PurePath(path).parent.as_posix()
        return parent if parent not in ("", ".") else None
    return None


def article_order(article_id: str) -> tuple[str | int, ...]:
    """The order in which articles are first: by name, numbers as numbers (``a.jsonl:2``
    before ``a.jsonl:11``, ``page9.txt`` before ``page10.txt``)."""
    parts = _DIGITS.split(article_id)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


_DIGITS = re.compile(r"(\d+)")


def _host(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    host = urlsplit(value if "//" in value else f"//{value}").hostname
    if not host:
        return None
    host = host.lower().rstrip(".")
    return host.removeprefix("www.") or None


@dataclass(frozen=True, slots=True)
class CorpusConfig:
    """Everything that changes what the corpus pass decides."""

    #: Character n-gram size, as for in-document duplicates.
    shingle_size: int = 5
    #: MinHash permutations for passages and articles.
    num_perm: int = 64
    seed: int = 1
    #: Passages shorter than this (compared characters) are not indexed ("AP", "|", "•").
    #: Short lines count: a section name, "Photos" or a widget title that a site repeats on
    #: its pages is its boilerplate (on naeb-dev, 4 rather than 20 finds 46 more lines that
    #: a site repeats, every one boilerplate by the gold). Shorter than ``near_min_chars``,
    #: a passage only matches exactly.
    min_chars: int = 4
    #: Passages at least this long also match when nearly equal; shorter ones only exactly
    #: (a one-line stamp or name that differs by a few characters is a different line).
    near_min_chars: int = 50
    #: Estimated Jaccard at or above which two passages are the same passage.
    passage_threshold: float = 0.8
    #: Estimated whole-article Jaccard at or above which two articles are near-duplicates.
    article_threshold: float = 0.8
    #: Similarity that the LSH bands are tuned for (datasketch's optimal bands and rows): a
    #: pair at 0.8 is a candidate with probability 0.95 (10 bands of 6 rows at 64
    #: permutations), and every candidate is then checked against the thresholds above.
    lsh_threshold: float = 0.6
    #: Longest passage that is site boilerplate when only its own source repeats it. Longer
    #: repeats inside one source are a republished or updated story's paragraphs: kept.
    site_max_chars: int = 600
    #: Longest passage that is corpus boilerplate, and the longest that is site boilerplate
    #: on two pages of its source when other sources carry it too: longer shared passages
    #: are quotes or wire paragraphs.
    short_max_chars: int = 200
    #: A passage up to ``site_max_chars`` that other sources carry too is still site
    #: boilerplate where its source repeats it on at least this many articles: a footer that
    #: one other page quotes stays a footer, a wire paragraph that a site ran twice is kept.
    site_min_articles_when_shared: int = 3
    #: Corpus boilerplate needs at least max(corpus_min_sources, corpus_source_share ×
    #: sources) distinct sources, so the bar rises with the corpus.
    corpus_min_sources: int = 3
    corpus_source_share: float = 0.01
    #: Articles signed per numpy batch by :meth:`PassageIndex.add`.
    batch_size: int = 512

    def with_(self, **changes: Any) -> CorpusConfig:
        """A copy with some fields changed; unknown names raise ``TypeError``."""
        return with_changes(self, changes, "corpus config")

    def lsh_params(self) -> tuple[int, int]:
        """(bands, rows), as datasketch's MinHashLSH chooses them for ``lsh_threshold``."""
        bands, rows = _optimal_param(self.lsh_threshold, self.num_perm, 0.5, 0.5)
        return int(bands), int(rows)


class PassageDecision(NamedTuple):
    """What the corpus pass says about one block of one article. (A named tuple: the
    command line makes one per repeated passage of every article, and a frozen dataclass
    of ten fields takes three times as long to make.)"""

    article_id: str
    block: int
    kind: PassageKind
    #: Whether the block goes (site and corpus boilerplate do; shared passages stay).
    removed: bool
    rule_id: str
    evidence: str
    #: Every article that holds this passage, this one too, in article-id order (earlier
    #: runs' first). One tuple for all copies of the group.
    articles: tuple[str, ...]
    #: Estimated Jaccard with the group's first copy (1.0 for an exact copy); for the first
    #: copy itself, with its closest copy.
    similarity: float
    #: Whether this is the group's first copy (the lowest article id, earlier runs first).
    first: bool = False
    #: The group of copies this passage belongs to: equal for all its copies in this run.
    group: int = -1

    @property
    def others(self) -> tuple[str, ...]:
        """The other articles that hold this passage, in article-id order."""
        return tuple(a for a in self.articles if a != self.article_id)

    def verdict(self, drop_shared: bool = False) -> Verdict | None:
        """The block verdict for a removal, None for a kept passage. With ``drop_shared``,
        the later copies of a shared passage go too (the first copy stays)."""
        if self.removed:
            return Verdict(_CATEGORIES[self.kind], self.rule_id, self.evidence)
        if drop_shared and not self.first:
            evidence = self.evidence.replace("; kept;", "; a later copy, dropped;")
            return Verdict(Category.SHARED_PASSAGE, self.rule_id, evidence)
        return None

    def note(self) -> Note:
        """The report's line for a passage that stays although other articles hold it."""
        return Note("shared_passage", f"block {self.block}: {self.evidence}")


@dataclass(frozen=True, slots=True)
class DuplicateCluster:
    """Articles whose whole texts nearly repeat each other; the first (see
    :func:`article_order`) is kept."""

    kept: str
    #: The other articles, by id, with their estimated Jaccard to the kept one.
    copies: tuple[tuple[str, float], ...]


#: A decision's kind as stored in :class:`_DecisionTable` (an int8 code: the index here).
_KINDS: tuple[PassageKind, ...] = ("site_boilerplate", "corpus_boilerplate", "shared", "headline")
_REMOVED_KINDS = frozenset({0, 1})
_CATEGORIES = {kind: Category(kind) for kind in _KINDS[:2]}
_SITE = _KINDS.index("site_boilerplate")
#: A decision's rule id by its kind's code and whether its group's copies are exact.
_RULE_IDS = tuple(
    tuple(
        f"shared_passage.headline.{rule}" if kind == "headline"
        else f"{kind}.{rule}" if code in _REMOVED_KINDS
        else f"shared_passage.{rule}"
        for rule in ("near", "exact")
    )
    for code, kind in enumerate(_KINDS)
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Group:
    """What the copies of one passage share: kept once, not once per copy (a line on 30,000
    pages would otherwise hold 30,000 names 30,000 times)."""

    #: Every article that holds the passage, in article-id order (earlier runs' first).
    articles: tuple[str, ...]
    #: Per source, the articles (near-duplicate clusters counted once) that hold it.
    per_source: dict[str, int]
    exact: bool
    #: The group's number, as :attr:`PassageDecision.group` gives it.
    number: int


@dataclass(slots=True)
class _DecisionTable:
    """The decided passages of a run, one row each, column by column, sorted by article and
    block: about 20 bytes a row, and a :class:`PassageDecision` is made only when asked
    for."""

    ids: list[str]
    sources: list[str | None]
    article: np.ndarray  # int32, index into ``ids``
    block: np.ndarray  # int32
    kind: np.ndarray  # int8, index into _KINDS
    similarity: np.ndarray  # float64
    first: np.ndarray  # bool
    group: np.ndarray  # int32, index into ``groups``
    groups: list[_Group]
    corpus_min: int
    #: Article id -> its number k: its rows are ``bounds[k]:bounds[k + 1]`` (a million
    #: articles' (start, end) tuples would cost 100 MB more).
    rows: dict[str, int] = field(default_factory=dict)
    bounds: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    #: Evidence up to the similarity that names none of its articles' own, by (group, kind,
    #: source for site boilerplate).
    _heads: dict[tuple[int, int, str | None], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not len(self.article):
            return
        starts = np.flatnonzero(np.concatenate(([True], self.article[1:] != self.article[:-1])))
        self.bounds = np.append(starts, len(self.article))
        ids = self.ids
        self.rows = {ids[a]: k for k, a in enumerate(self.article[starts].tolist())}

    def span(self, article_id: str) -> tuple[int, int] | None:
        """The article's rows (start, end), if it has any."""
        k = self.rows.get(article_id)
        if k is None:
            return None
        return int(self.bounds[k]), int(self.bounds[k + 1])

    def decision(self, row: int) -> PassageDecision:
        return self._decision(
            int(self.article[row]), int(self.block[row]), int(self.kind[row]),
            int(self.group[row]), float(self.similarity[row]), bool(self.first[row]),
        )  # fmt: skip

    def _decision(
        self, a: int, block: int, code: int, group_row: int, similarity: float, first: bool
    ) -> PassageDecision:
        article_id = self.ids[a]
        kind = _KINDS[code]
        group = self.groups[group_row]
        removed = code in _REMOVED_KINDS
        rule_id, evidence = self._rule_and_evidence(a, code, group_row, similarity)
        return PassageDecision(
            article_id, block, kind, removed, rule_id, evidence, group.articles,
            round(similarity, 3), first, group.number,
        )  # fmt: skip

    def rows_for(self, article_id: str, drop_shared: bool) -> ArticleRows | None:
        """:meth:`CorpusDecisions.rows_for`, made from the rows without a
        :class:`PassageDecision` each (the command line asks for every article)."""
        found = self.span(article_id)
        if found is None:
            return None
        start, end = found
        source = self._source(int(self.article[start]))
        head = self._head
        columns = zip(
            self.block[start:end].tolist(), self.kind[start:end].tolist(),
            self.group[start:end].tolist(), self.similarity[start:end].tolist(),
            self.first[start:end].tolist(),
            strict=True,
        )  # fmt: skip
        rows = tuple(
            (block, code, *head(article_id, source, code, group_row), similarity, first)
            for block, code, group_row, similarity, first in columns
        )
        return ArticleRows(rows, drop_shared)

    def _rule_and_evidence(
        self, a: int, code: int, group_row: int, similarity: float
    ) -> tuple[str, str]:
        rule_id, head = self._head(self.ids[a], self._source(a), code, group_row)
        return rule_id, head + _similarity_words(similarity)

    def _source(self, a: int) -> str:
        """As :meth:`PassageIndex._source`: an article without a source is its own."""
        source = self.sources[a]
        return source if source is not None else "\0" + self.ids[a]

    def _head(self, article_id: str, source: str, code: int, group_row: int) -> tuple[str, str]:
        """A decision's rule id and its evidence up to the similarity. The words are the same
        for every copy of a group (in one source, for site boilerplate: it names the
        source), but for the few articles it names (the others are named instead): made
        once for all of those (a footer on 30,000 pages, a quote in 300 sources) and kept
        (the same string object each time), made afresh for the named few."""
        group = self.groups[group_row]
        rule_id = _RULE_IDS[code][group.exact]
        if article_id in group.articles[: _EVIDENCE_NAMES + 1]:
            return rule_id, _evidence_head(_KINDS[code], source, group, article_id,
                                           self.corpus_min)  # fmt: skip
        key = (group_row, code, source if code == _SITE else None)
        head = self._heads.get(key)
        if head is None:
            if len(self._heads) >= _EVIDENCE_CACHE:
                self._heads.clear()
            head = self._heads[key] = _evidence_head(
                _KINDS[code], source, group, article_id, self.corpus_min
            )
        return rule_id, head

    def for_article(self, article_id: str) -> dict[int, PassageDecision]:
        found = self.span(article_id)
        if found is None:
            raise KeyError(article_id)
        start, end = found
        # The article's rows as Python values at once: a numpy scalar per field and row
        # costs more than the decision itself (the command line asks for every article).
        columns = zip(
            self.article[start:end].tolist(), self.block[start:end].tolist(),
            self.kind[start:end].tolist(), self.group[start:end].tolist(),
            self.similarity[start:end].tolist(), self.first[start:end].tolist(),
            strict=True,
        )  # fmt: skip
        return {row[1]: self._decision(*row) for row in columns}


def _evidence_head(
    kind: PassageKind, source: str, group: _Group, article_id: str, corpus_min: int
) -> str:
    """A decision's evidence up to its similarity, which ends every evidence string."""
    others = len(group.articles) - 1
    shown_names = [a for a in group.articles[: _EVIDENCE_NAMES + 1] if a != article_id]
    names = ", ".join(shown_names[:_EVIDENCE_NAMES])
    if others > _EVIDENCE_NAMES:
        names += f" (+{others - _EVIDENCE_NAMES} more)"
    shown = source if not source.startswith("\0") else "(no source)"
    per_source = group.per_source
    if kind == "site_boilerplate":
        return f"repeated in {per_source[source]} articles of {shown}: {names}; "
    if kind == "corpus_boilerplate":
        return (
            f"repeated across {len(per_source)} sources (at least {corpus_min} make "
            f"boilerplate): {names}; "
        )
    if kind == "headline":
        return f"this article's first line, further down in {names}; kept; "
    return f"also in {names} ({len(per_source)} sources); kept; "


@lru_cache(maxsize=4096)
def _similarity_words(similarity: float) -> str:
    return f"jaccard {similarity:.2f}" + ("" if similarity == 1.0 else " est.")


class _Passages(Mapping[str, dict[int, PassageDecision]]):
    """Article id -> block -> decision, made from the table when asked for."""

    def __init__(self, table: _DecisionTable | None) -> None:
        self._table = table

    def __getitem__(self, article_id: str) -> dict[int, PassageDecision]:
        if self._table is None or article_id not in self._table.rows:
            raise KeyError(article_id)
        return self._table.for_article(article_id)

    def __iter__(self) -> Iterator[str]:
        return iter(self._table.rows if self._table is not None else ())

    def __len__(self) -> int:
        return len(self._table.rows) if self._table is not None else 0


class CorpusDecisions:
    """Everything :meth:`PassageIndex.decide` found, keyed by article id."""

    def __init__(
        self,
        table: _DecisionTable | None,
        clusters: tuple[DuplicateCluster, ...],
        corpus_min_sources: int,
        shares: Callable[[], dict[str, tuple[int, int]]] | None = None,
    ) -> None:
        self._table = table
        #: Article id -> block -> :class:`PassageDecision`, for articles of this run that
        #: hold a passage found in other articles.
        self.passages: Mapping[str, dict[int, PassageDecision]] = _Passages(table)
        self.clusters = clusters
        #: The number of sources that made a short passage corpus boilerplate in this corpus.
        self.corpus_min_sources = corpus_min_sources
        self._make_shares = shares
        self._shares: dict[str, tuple[int, int]] | None = None
        self._cluster_of: dict[str, DuplicateCluster] = {}
        for cluster in clusters:
            self._cluster_of[cluster.kept] = cluster
            for copy, _ in cluster.copies:
                self._cluster_of[copy] = cluster

    def __eq__(self, other: object) -> bool:
        """Equal decisions: the same passages, clusters and shares (however they were made)."""
        if not isinstance(other, CorpusDecisions):
            return NotImplemented
        return (
            self.clusters == other.clusters
            and self.corpus_min_sources == other.corpus_min_sources
            and dict(self.passages.items()) == dict(other.passages.items())
            and self.shares == other.shares
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def shares(self) -> dict[str, tuple[int, int]]:
        """Per article of this run: (compared characters, of which in passages other
        articles hold too). Made on first use."""
        if self._shares is None:
            self._shares = self._make_shares() if self._make_shares is not None else {}
        return self._shares

    def verdicts(self, article_id: str, drop_shared: bool = False) -> dict[int, Verdict]:
        """Block index -> verdict for the blocks of this article that the corpus removes."""
        out = {}
        for block, decision in self.passages.get(article_id, {}).items():
            verdict = decision.verdict(drop_shared)
            if verdict is not None:
                out[block] = verdict
        return out

    def for_article(self, article_id: str, drop_shared: bool = False) -> ArticleCorpus | None:
        """What cleaning this article takes from the corpus: its removals and the notes on
        the shared passages it keeps; None when the corpus says nothing about it."""
        rows = self.rows_for(article_id, drop_shared)
        return rows.corpus() if rows is not None else None

    def rows_for(self, article_id: str, drop_shared: bool = False) -> ArticleRows | None:
        """:meth:`for_article` before its records are made (:meth:`ArticleRows.corpus`
        makes them): what the command line sends its worker processes."""
        if self._table is None:
            return None
        return self._table.rows_for(article_id, drop_shared)

    def shared(self) -> list[PassageDecision]:
        """Passages kept although other articles hold them too, by article id and block."""
        table = self._table
        if table is None:
            return []
        rows = np.flatnonzero(table.kind >= _KINDS.index("shared")).tolist()
        found = [table.decision(r) for r in rows]
        found.sort(key=lambda d: (article_order(d.article_id), d.block))
        return found

    def shared_counts(self) -> tuple[int, int]:
        """How many passages :meth:`shared` lists, and in how many groups of copies: counted
        on the table, without making a decision a row (a million articles share millions)."""
        table = self._table
        if table is None:
            return 0, 0
        rows = table.group[table.kind >= _KINDS.index("shared")]
        return len(rows), len({table.groups[g].number for g in distinct(rows).tolist()})

    def cluster_of(self, article_id: str) -> DuplicateCluster | None:
        return self._cluster_of.get(article_id)


class ArticleCorpus(NamedTuple):
    """The corpus pass's word on one article, handed to :meth:`Cleaner.clean
    <cleaner.core.Cleaner.clean>`: block index -> verdict, and notes for what stays."""

    verdicts: dict[int, Verdict]
    notes: tuple[Note, ...] = ()
    #: :func:`text_digest` of the normalised text the decisions were made on, if known.
    digest: bytes | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as plain tuples, to a worker process: four times quicker than pickling
        # each Verdict and Note as what it is (the command line sends one per article).
        verdicts = {block: tuple(verdict) for block, verdict in self.verdicts.items()}
        notes = tuple((note.code, note.message) for note in self.notes)
        return _article_corpus, (verdicts, notes, self.digest)


#: A decided passage as :class:`ArticleRows` holds it: (block, kind code, rule id, evidence
#: up to the similarity, similarity, whether the copy is its group's first).
_Row = tuple[int, int, str, str, float, bool]


class ArticleRows(NamedTuple):
    """An :class:`ArticleCorpus` before its records are made: the article's rows of the
    decision table, with the evidence heads it shares with other articles as the same
    string objects. The command line sends these to its worker processes, which make the
    ArticleCorpus (:meth:`corpus`): a chunk of articles then pickles each shared head once,
    and the main process makes no record. (On a million articles, 13 decided passages an
    article: records made here, pickled and unpickled by chunk, 129 + 19 + 79 us an
    article; rows, 57 + 11 + 9, and the records made from them 65.)"""

    rows: tuple[_Row, ...]
    drop_shared: bool = False
    #: :func:`text_digest` of the normalised text the decisions were made on, if known.
    digest: bytes | None = None

    def corpus(self) -> ArticleCorpus:
        """The records: a verdict for each removed passage (with ``drop_shared``, also for
        the later copies of a shared one), a note for each shared passage kept."""
        verdicts: dict[int, Verdict] = {}
        notes: list[Note] = []
        for block, code, rule_id, head, similarity, first in self.rows:
            evidence = head + _similarity_words(similarity)
            if code in _REMOVED_KINDS:
                verdicts[block] = Verdict(_CATEGORIES[_KINDS[code]], rule_id, evidence)
            elif self.drop_shared and not first:
                evidence = evidence.replace("; kept;", "; a later copy, dropped;")
                verdicts[block] = Verdict(Category.SHARED_PASSAGE, rule_id, evidence)
            else:
                notes.append(Note("shared_passage", f"block {block}: {evidence}"))
        return ArticleCorpus(verdicts, tuple(notes), self.digest)


def _article_corpus(
    verdicts: dict[int, tuple[Any, ...]], notes: tuple[tuple[str, str], ...], digest: bytes | None
) -> ArticleCorpus:
    return ArticleCorpus(
        {block: Verdict(*verdict) for block, verdict in verdicts.items()},
        tuple(Note(*note) for note in notes),
        digest,
    )


def text_digest(text: str) -> bytes:
    """A digest of a normalised text: it tells whether corpus decisions still apply. (xxh3
    of the text's code points: a third of blake2b's time on UTF-8, and both the corpus pass
    and cleaning take one of every article; never stored, so free to change.)"""
    return xxhash.xxh3_128_digest(text.encode("utf-32-le", "surrogatepass"))


@dataclass(slots=True)
class Passages:
    """Signed passages (only blocks of at least ``min_chars``), column by column. Only a
    passage of at least ``near_min_chars`` has a signature: a shorter one only ever matches
    an equal digest, and a signature would be most of its bytes."""

    article: np.ndarray  # int32, index into the index's article list
    block: np.ndarray  # int32
    length: np.ndarray  # int32, compared characters
    digest: np.ndarray  # uint64, of the compared form
    #: Each passage's row of ``signatures``; -1 for a passage without one.
    signed: np.ndarray  # int32
    signatures: np.ndarray  # uint32, (signed passages, num_perm)

    def select(self, rows: np.ndarray) -> Passages:
        signed = self.signed[rows]
        has = signed >= 0
        renumbered = np.full(len(rows), -1, dtype=np.int32)
        renumbered[has] = np.arange(int(has.sum()), dtype=np.int32)
        return Passages(
            self.article[rows], self.block[rows], self.length[rows], self.digest[rows],
            renumbered, self.signatures[signed[has]],
        )  # fmt: skip

    @staticmethod
    def empty(num_perm: int) -> Passages:
        int32 = np.zeros(0, dtype=np.int32)
        signatures = np.zeros((0, num_perm), dtype=np.uint32)
        return Passages(int32, int32, int32, np.zeros(0, dtype=np.uint64), int32, signatures)


_COLUMNS = ("article", "block", "length", "digest", "signed")


class _Columns(NamedTuple):
    """All passages of an index, as :class:`Passages` without the signatures; ``signed``
    is the row in the index's signature chunks."""

    article: np.ndarray
    block: np.ndarray
    length: np.ndarray
    digest: np.ndarray
    signed: np.ndarray


class _Chunked:
    """A growing array (1-D, or rows of a matrix) kept as the chunks it came in: joining
    them as they come would copy everything again and again, and joining them at the end
    would hold every row twice for a moment. Small chunks are joined a few at a time."""

    #: Bytes of small chunks joined into one.
    JOIN_BYTES = 16 << 20

    def __init__(self, dtype: Any, width: int | None = None) -> None:
        self.dtype = np.dtype(dtype)
        self.shape = () if width is None else (width,)
        self._chunks: list[np.ndarray] = []
        self._starts: list[int] = [0]
        self._loose = 0  # trailing chunks not joined yet

    def __len__(self) -> int:
        return self._starts[-1]

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self._chunks)

    def append(self, values: np.ndarray) -> None:
        if not len(values):
            return
        self._chunks.append(np.ascontiguousarray(values, dtype=self.dtype))
        self._starts.append(self._starts[-1] + len(values))
        self._loose += 1
        loose = self._chunks[-self._loose :]
        if self._loose > 1 and sum(c.nbytes for c in loose) >= self.JOIN_BYTES:
            self._join(self._loose)

    def _join(self, count: int) -> None:
        joined = np.concatenate(self._chunks[-count:])
        del self._chunks[-count:], self._starts[-count:-1]
        self._chunks.append(joined)
        self._loose = 0

    def joined(self) -> np.ndarray:
        """Everything as one array (kept as one: later calls do not copy again)."""
        if len(self._chunks) > 1:
            self._join(len(self._chunks))
        return self._chunks[0] if self._chunks else np.zeros((0, *self.shape), self.dtype)

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        """Each chunk with the index of its first element."""
        yield from zip(self._starts, self._chunks, strict=False)

    def take(self, index: np.ndarray) -> np.ndarray:
        """The elements (rows) at ``index``, without joining the chunks."""
        if len(self._chunks) == 1:
            return self._chunks[0][index]  # type: ignore[no-any-return]
        out = np.empty((len(index), *self.shape), dtype=self.dtype)
        order = np.argsort(index, kind="stable")
        ordered = index[order]
        bounds = np.searchsorted(ordered, self._starts).tolist()
        for c, chunk in enumerate(self._chunks):
            lo, hi = bounds[c], bounds[c + 1]
            if lo < hi:
                out[order[lo:hi]] = chunk[ordered[lo:hi] - self._starts[c]]
        return out


def _block_texts(blocks: str | Sequence[str]) -> list[str]:
    """An article's blocks: cut from its text as the Cleaner cuts them, or as given."""
    if isinstance(blocks, str):
        return [blocks[start:end] for start, end in block_spans(blocks)]
    return list(blocks)


def _each(work: Callable[[Any], object], items: Iterable[Any], threads: int) -> None:
    """``work(item)`` for every item, in up to ``threads`` threads, each item drawn from
    ``items`` only when a thread is free for it (a chunk read from a spilled file is read
    then, not all at once). numpy's sorts, gathers, comparisons and reductions, and the
    compiled loops, let go of the GIL, so the threads use that many cores; each item's work
    writes only its own part of the output, so the result does not depend on ``threads``.
    The first error is raised once the work under way has ended."""
    if threads <= 1:
        for item in items:
            work(item)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="cleaner-decide") as pool:
        running: deque[Future[object]] = deque()
        for item in items:
            if len(running) >= threads:
                running.popleft().result()
            running.append(pool.submit(work, item))
        for future in running:
            future.result()


class _SpilledRows(_Chunked):
    """Rows of a uint32 matrix in a temporary file (deleted when closed, or when the process
    ends), read back a chunk or a set of rows at a time: the page cache holds them, not this
    process. The core never opens files on its own: the caller asks for this with
    ``PassageIndex(spill_dir=...)``."""

    #: Rows read back per step by :meth:`chunks`.
    READ_ROWS = 1 << 16
    #: Bytes of the file that :meth:`take` gathers from before letting them go: a multiple
    #: of the page size.
    REGION_BYTES = 1 << 24

    def __init__(self, width: int, directory: str | PathLike[str]) -> None:
        super().__init__(np.uint32, width)
        # Open for the index's life, closed with it (a temporary file is gone once closed).
        self._file = tempfile.TemporaryFile(dir=directory, prefix="cleaner-signatures-")  # noqa: SIM115
        self._width = width
        self._count = 0
        self._map: mmap.mmap | None = None
        self._map_rows = 0
        self._map_lock = threading.Lock()  # gathers of several threads share one map
        weakref.finalize(self, self._file.close)

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        return 0

    def append(self, values: np.ndarray) -> None:
        if len(values):
            self._file.seek(0, os.SEEK_END)
            self._file.write(np.ascontiguousarray(values, dtype="<u4").data)
            self._count += len(values)

    def joined(self) -> np.ndarray:
        return self.take(np.arange(self._count))

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        width = self._width
        for start in range(0, self._count, self.READ_ROWS):
            data = np.empty((min(self.READ_ROWS, self._count - start), width), dtype="<u4")
            self._file.seek(data.itemsize * width * start)
            self._file.readinto(data.data.cast("B"))
            yield start, data.astype(self.dtype, copy=False)

    def take(self, index: np.ndarray) -> np.ndarray:
        # Through a map of the file (seven times quicker than one read a row), in row order
        # a region at a time, each region let go of (MADV_DONTNEED) once its rows are
        # copied: a fault can map a whole large folio of the page cache (2 MiB here), so
        # gathering a few thousand random rows at once counted most of the file in this
        # process's RSS (benchmarks/spill_rss.py); a region at a time it counts one region.
        if not len(index):
            return np.zeros((0, *self.shape), dtype=self.dtype)
        mapped = self._mapped()
        if not hasattr(mmap, "MADV_DONTNEED"):
            gathered: np.ndarray = mapped[index]
            del mapped
            return gathered.astype(self.dtype, copy=False)
        order = np.argsort(index, kind="stable")
        ordered = np.asarray(index)[order]
        # Regions by bytes, so that each starts on a page; a row that crosses into the next
        # region is read again from the page cache if that one was let go of first.
        region = ordered.astype(np.int64) * (self._width * 4) // self.REGION_BYTES
        cuts = [0, *(np.flatnonzero(region[1:] != region[:-1]) + 1).tolist(), len(ordered)]
        rows = np.empty((len(ordered), self._width), dtype="<u4")
        mapping = self._map
        assert mapping is not None
        for lo, hi in itertools.pairwise(cuts):
            rows[order[lo:hi]] = mapped[ordered[lo:hi]]
            start = int(region[lo]) * self.REGION_BYTES
            size = min(self.REGION_BYTES, len(mapping) - start)
            mapping.madvise(mmap.MADV_DONTNEED, start, size)
        del mapped
        return rows.astype(self.dtype, copy=False)

    def _mapped(self) -> np.ndarray:
        """The rows written so far, as an array over a map of the file."""
        with self._map_lock:
            if self._map is None or self._map_rows != self._count:
                self._file.flush()
                if self._map is not None:
                    self._map.close()
                self._map = mmap.mmap(self._file.fileno(), 0, prot=mmap.PROT_READ)
                if hasattr(mmap, "MADV_RANDOM"):
                    self._map.madvise(mmap.MADV_RANDOM)
                self._map_rows = self._count
            rows: np.ndarray = np.frombuffer(self._map, dtype="<u4").reshape(-1, self._width)
        return rows


@dataclass(slots=True)
class SignedArticles:
    """Articles signed by :meth:`PassageIndex.sign`, ready for :meth:`PassageIndex.add_signed`:
    compact (no text), so they can come back from a worker process or from a stored index.
    ``passages.article`` counts from 0 within the batch."""

    ids: list[str]
    sources: list[str | None]
    #: Whole-article signatures, one row per article (all 0xFFFFFFFF for an empty article).
    signatures: np.ndarray
    #: Compared characters of each article, all blocks.
    chars: np.ndarray
    passages: Passages

    def __len__(self) -> int:
        return len(self.ids)

    @staticmethod
    def concat(batches: Sequence[SignedArticles]) -> SignedArticles:
        """The batches as one, in order."""
        first = np.cumsum([0, *(len(b) for b in batches)])[:-1]
        rows = np.cumsum([0, *(len(b.passages.signatures) for b in batches)])[:-1]
        parts = [b.passages for b in batches]
        passages = Passages(
            np.concatenate([
                (p.article + f).astype(np.int32) for p, f in zip(parts, first, strict=True)
            ]),
            np.concatenate([p.block for p in parts]),
            np.concatenate([p.length for p in parts]),
            np.concatenate([p.digest for p in parts]),
            np.concatenate([
                np.where(p.signed >= 0, p.signed + r, -1).astype(np.int32)
                for p, r in zip(parts, rows, strict=True)
            ]),
            np.concatenate([p.signatures for p in parts]),
        )  # fmt: skip
        return SignedArticles(
            [i for b in batches for i in b.ids],
            [s for b in batches for s in b.sources],
            np.concatenate([b.signatures for b in batches]),
            np.concatenate([b.chars for b in batches]),
            passages,
        )


class PassageIndex:
    """Every block of every article of a corpus, signed; owned by the caller.

    ``add`` queues an article and signs queued articles a batch at a time; ``decide`` signs
    what is left and decides over everything added so far. The decisions depend only on the
    set of (id, source, blocks) added, never on the order of the calls.

    Articles of earlier runs (from a stored index) come in with ``add_signed(...,
    previous=True)``: they are evidence, and first seen, but get no decisions of their own.
    An article of this run with the id of a previous one is the same article, cleaned or
    updated since: the two never count as each other's copies.

    With ``spill_dir``, the signatures of long passages (most of the index's bytes) go to a
    temporary file in that folder, deleted with the index, and are read back for LSH and
    for the candidates found; the decisions are the same.

    ``threads`` is how many threads ``decide`` may compare signatures and make band keys
    in (the CLI gives it its ``--jobs``: the signing's processes have ended by then); the
    decisions do not depend on it.
    """

    def __init__(
        self,
        config: CorpusConfig | None = None,
        *,
        candidates: CandidateFinder | None = None,
        spill_dir: str | PathLike[str] | None = None,
        threads: int = 1,
        **overrides: Any,
    ) -> None:
        base = config or CorpusConfig()
        self.config = base.with_(**overrides) if overrides else base
        self._candidates = candidates or band_candidates
        self.threads = max(1, threads)
        self._signer = Signer(self.config.num_perm, self.config.seed)
        self._ids: list[str] = []
        self._sources: list[str | None] = []
        self._previous: list[bool] = []
        self._seen: set[str] = set()
        self._pending: list[tuple[str, str | None, list[str]]] = []
        self._columns = {
            "article": _Chunked(np.int32), "block": _Chunked(np.int32),
            "length": _Chunked(np.int32), "digest": _Chunked(np.uint64),
            "signed": _Chunked(np.int32),
        }  # fmt: skip
        num_perm = self.config.num_perm
        self._passage_signatures = (
            _Chunked(np.uint32, num_perm)
            if spill_dir is None
            else _SpilledRows(num_perm, spill_dir)
        )
        self._article_signatures = _Chunked(np.uint32, self.config.num_perm)
        self._chars = _Chunked(np.int64)
        #: One str object per source name, not one per article.
        self._source_names: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._ids) + len(self._pending)

    def bytes_per_passage(self) -> int:
        """Memory that each indexed passage holds (numpy arrays only): 24 bytes, and a
        signature (4 × ``num_perm`` bytes) for a passage of at least ``near_min_chars``.
        The average over the passages indexed so far; before any, a signed passage's."""
        count = self.passages
        if not count:
            return 4 * self.config.num_perm + 8 + 4 * 4
        held = sum(c.nbytes for c in self._columns.values()) + self._passage_signatures.nbytes
        return round(held / count)

    @property
    def passages(self) -> int:
        """Indexed passages so far (blocks of at least ``min_chars``, in signed batches)."""
        return len(self._columns["article"])

    def add(self, article_id: str, source: str | None, blocks: str | Sequence[str]) -> None:
        """Queue one article: its text (cut into blocks as the Cleaner cuts them; pass the
        normalised text so that block indices match a Result's) or its blocks."""
        self._claim(article_id)
        self._pending.append((article_id, source, _block_texts(blocks)))
        if len(self._pending) >= self.config.batch_size:
            self.flush()

    def add_many(self, articles: Iterable[tuple[str, str | None, str | Sequence[str]]]) -> None:
        for article_id, source, blocks in articles:
            self.add(article_id, source, blocks)

    def _claim(self, article_id: str) -> None:
        if article_id in self._seen:
            raise ValueError(f"article {article_id!r} was already added")
        self._seen.add(article_id)

    def flush(self) -> None:
        """Sign the queued articles now (``add`` and ``decide`` call this when needed)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        self._append(self.sign(pending), previous=False)

    def sign(
        self, articles: Sequence[tuple[str, str | None, str | Sequence[str]]]
    ) -> SignedArticles:
        """Sign articles without adding them (in a worker process, say): each is (id,
        source, text or blocks)."""
        ids = [a for a, _, _ in articles]
        sources = [s for _, s, _ in articles]
        per_article = [_block_texts(blocks) for _, _, blocks in articles]
        # A few dozen articles at a time: each step's arrays (code points, shingle hashes,
        # products) then stay in the processor's cache; a whole chunk of 256 news articles
        # is written to memory and read back at every step (about 25% slower overall).
        groups: list[tuple[int, int]] = []
        start = chars = 0
        for end, texts in enumerate(per_article, 1):
            chars += sum(map(len, texts))
            if chars >= _SIGN_GROUP_CHARS or end == len(per_article):
                groups.append((start, end))
                start, chars = end, 0
        if len(groups) <= 1:
            return self._sign_group(ids, sources, per_article)
        return SignedArticles.concat(
            [self._sign_group(ids[a:b], sources[a:b], per_article[a:b]) for a, b in groups]
        )

    def _sign_group(
        self, ids: list[str], sources: list[str | None], per_article: list[list[str]]
    ) -> SignedArticles:
        counts = np.array([len(texts) for texts in per_article], dtype=np.int64)
        texts = [t for article in per_article for t in article]
        num_perm = self.config.num_perm
        signatures = np.full((len(ids), num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
        if not texts:
            chars = np.zeros(len(ids), dtype=np.int64)
            return SignedArticles(ids, sources, signatures, chars, Passages.empty(num_perm))
        folded = fold_texts(texts)
        rows = self._sign(folded)
        # An article's shingles are the union of its blocks' (shingles do not cross blocks),
        # so its signature is the minimum over its blocks' rows: no second pass.
        starts = np.concatenate(([0], np.cumsum(counts)))[:-1]
        has_blocks = np.flatnonzero(counts > 0)
        signatures[has_blocks] = np.minimum.reduceat(rows, starts[has_blocks], axis=0)
        lengths = np.diff(folded.offsets)
        chars = np.zeros(len(ids), dtype=np.int64)
        chars[has_blocks] = np.add.reduceat(lengths, starts[has_blocks])
        indexed = np.flatnonzero(lengths >= self.config.min_chars)
        owner = np.repeat(np.arange(len(ids)), counts)
        position = np.arange(len(texts)) - np.repeat(starts, counts)
        digests = _passage_digests(folded, indexed)
        length = lengths[indexed].astype(np.int32)
        near = length >= self.config.near_min_chars
        signed = np.full(len(indexed), -1, dtype=np.int32)
        signed[near] = np.arange(int(near.sum()), dtype=np.int32)
        passages = Passages(
            article=owner[indexed].astype(np.int32),
            block=position[indexed].astype(np.int32),
            length=length,
            digest=digests,
            signed=signed,
            signatures=rows[indexed[near]],
        )
        return SignedArticles(ids, sources, signatures, chars, passages)

    def add_signed(self, batch: SignedArticles, previous: bool = False) -> None:
        """Add articles signed by :meth:`sign` (with this index's config), or, with
        ``previous``, articles of an earlier run."""
        if previous:
            if len(set(batch.ids)) != len(batch.ids):
                raise ValueError("a batch of previous articles names one article twice")
        else:
            for article_id in batch.ids:
                self._claim(article_id)
        self.flush()
        self._append(batch, previous)

    def _append(self, batch: SignedArticles, previous: bool) -> None:
        if batch.signatures.shape[1:] != (self.config.num_perm,):
            raise ValueError(
                f"signatures of {batch.signatures.shape[1:]} permutations, not "
                f"{self.config.num_perm}: signed with another config"
            )
        first = len(self._ids)
        self._ids.extend(batch.ids)
        names = self._source_names
        self._sources.extend(s if s is None else names.setdefault(s, s) for s in batch.sources)
        self._previous.extend([previous] * len(batch.ids))
        self._article_signatures.append(batch.signatures)
        self._chars.append(batch.chars)
        passages = batch.passages
        if len(passages.block):
            columns = self._columns
            columns["article"].append(passages.article.astype(np.int64) + first)
            columns["block"].append(passages.block)
            columns["length"].append(passages.length)
            columns["digest"].append(passages.digest)
            offset = len(self._passage_signatures)
            columns["signed"].append(np.where(passages.signed >= 0, passages.signed + offset, -1))
            self._passage_signatures.append(passages.signatures)

    def _passages(self) -> _Columns:
        """Every passage's columns, each joined once (the signatures stay in chunks)."""
        return _Columns(*(self._columns[name].joined() for name in _COLUMNS))

    def signed(self, previous: bool = False) -> Iterator[SignedArticles]:
        """The articles of this run (or, with ``previous``, of earlier runs) as signed
        batches, for :mod:`cleaner.store`; ``passages.article`` counts within each batch."""
        self.flush()
        if not self._ids:
            return
        merged = self._passages() if self.passages else None
        signatures = self._article_signatures.joined()
        chars = self._chars.joined()
        wanted = np.flatnonzero(np.array(self._previous) == previous)
        if merged is not None:
            # Each article's passages, found once: a run of ``order`` from ``starts``.
            order = np.argsort(merged.article, kind="stable")
            counts = np.bincount(merged.article, minlength=len(self._ids))
            starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        step = self.config.batch_size
        for s in range(0, len(wanted), step):
            rows = wanted[s : s + step]
            if merged is not None:
                n = counts[rows]
                first = np.concatenate(([0], np.cumsum(n)[:-1]))
                within = np.arange(int(n.sum())) - np.repeat(first, n)
                chosen = order[np.repeat(starts[rows], n) + within]
                signed = merged.signed[chosen]
                has = signed >= 0
                renumbered = np.full(len(chosen), -1, dtype=np.int32)
                renumbered[has] = np.arange(int(has.sum()), dtype=np.int32)
                passages = Passages(
                    np.repeat(np.arange(len(rows)), n).astype(np.int32), merged.block[chosen],
                    merged.length[chosen], merged.digest[chosen], renumbered,
                    self._passage_signatures.take(signed[has]),
                )  # fmt: skip
            else:
                passages = Passages.empty(self.config.num_perm)
            yield SignedArticles(
                [self._ids[r] for r in rows.tolist()],
                [self._sources[r] for r in rows.tolist()],
                signatures[rows], chars[rows], passages,
            )  # fmt: skip

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """The passage signatures this index computes for these texts, one row each: equal to
        datasketch's ``MinHash(num_perm, seed)`` updated with each shingle hash."""
        return self._sign(fold_texts(texts))

    def article_signature(self, article_id: str) -> np.ndarray:
        """The whole-article signature of an added article (the minimum over its blocks')."""
        self.flush()
        row: np.ndarray = self._article_signatures.joined()[self._ids.index(article_id)]
        return row

    def _sign(self, folded: Folded) -> np.ndarray:
        """Signatures of all passages (the signer works through them in cache-sized steps)."""
        hashes, offsets = shingle_hashes(folded, self.config.shingle_size)
        return self._signer.signatures(hashes, offsets)

    # ----------------------------------------------------------------------------------------

    def decide(self) -> CorpusDecisions:
        """Decisions over every article added so far.

        Memory while deciding, beyond the index: a few 4- and 8-byte integers per passage
        (ranks, sort orders, component labels), the band keys of one representative per
        distinct long passage (8 bytes a band), and about 20 bytes per decided passage."""
        self.flush()
        ids, previous = self._ids, self._previous
        # First seen first: articles of earlier runs, then this run's; each by id.
        rank = np.empty(len(ids), dtype=np.int64)
        by_rank = sorted(range(len(ids)), key=lambda a: (not previous[a], article_order(ids[a])))
        rank[by_rank] = np.arange(len(ids))
        del by_rank
        clusters, article_label = self._article_clusters(rank)
        corpus_min = self._corpus_min_sources(len({self._source(a) for a in range(len(ids))}))
        matched = np.zeros(len(ids), dtype=np.int64)
        passages = self._passage_decisions(rank, article_label, corpus_min, matched)
        chars = self._chars.joined()

        def shares() -> dict[str, tuple[int, int]]:
            return {
                ids[a]: (int(chars[a]), int(matched[a])) for a in range(len(ids)) if not previous[a]
            }

        return CorpusDecisions(passages, clusters, corpus_min, shares)

    def _same_article_edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Edges between this run's articles and their earlier runs' entries of the same id."""
        empty = np.zeros(0, dtype=np.int64)
        if not any(self._previous):
            return empty, empty
        entries = list(enumerate(zip(self._ids, self._previous, strict=True)))
        earlier = {a: i for i, (a, p) in entries if p}
        pairs = [(earlier[a], i) for i, (a, p) in entries if not p and a in earlier]
        if not pairs:
            return empty, empty
        u, v = np.array(pairs, dtype=np.int64).T
        return u, v

    def _name_and_source_codes(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Per article a number for its id (an earlier run's entry of an id has the id's
        number) and one for its :meth:`_source`; and the sources' strings by number."""
        numbers: dict[str, int] = {}
        name = np.fromiter(
            (numbers.setdefault(i, len(numbers)) for i in self._ids), np.int32, len(self._ids)
        )
        by_source: dict[str, int] = {}
        source = np.fromiter(
            (by_source.setdefault(self._source(a), len(by_source)) for a in range(len(name))),
            np.int32, len(name),
        )  # fmt: skip
        return name, source, list(by_source)

    def _source(self, article: int) -> str:
        source = self._sources[article]
        return source if source is not None else "\0" + self._ids[article]

    def _corpus_min_sources(self, sources: int) -> int:
        share = math.ceil(self.config.corpus_source_share * sources)
        return max(self.config.corpus_min_sources, share)

    def _article_clusters(
        self, rank: np.ndarray
    ) -> tuple[tuple[DuplicateCluster, ...], np.ndarray]:
        """Near-duplicate clusters, and each article's cluster label (the lowest rank in it)."""
        if not len(self._article_signatures):
            return (), rank.copy()
        signatures = self._article_signatures.joined()
        full = (signatures != np.iinfo(np.uint32).max).any(axis=1)
        members = np.flatnonzero(full)
        del full
        u, v = self._similar(self._article_signatures, members, members, rank,
                             self.config.article_threshold)  # fmt: skip
        u_same, v_same = self._same_article_edges()
        label = _components(rank, np.concatenate((u, u_same)), np.concatenate((v, v_same)))
        clusters = []
        multi = np.flatnonzero(np.bincount(label, minlength=len(rank)) > 1)
        node_of_rank = np.argsort(rank)
        # Each cluster's articles, found once: a run of ``by_label`` (ascending within).
        by_label = np.argsort(label, kind="stable")
        bounds = np.searchsorted(label[by_label], np.stack((multi, multi + 1))).T.tolist()
        for root, (lo, hi) in zip(multi.tolist(), bounds, strict=True):
            kept = int(node_of_rank[root])
            others = by_label[lo:hi]
            if all(self._previous[o] for o in others.tolist()):
                continue  # an earlier run's cluster, reported then
            others = others[np.argsort(rank[others])]
            agree = (signatures[others] == signatures[kept]).mean(axis=1)
            copies: dict[str, float] = {}
            for o, similarity in zip(others.tolist(), agree.tolist(), strict=True):
                if self._ids[o] != self._ids[kept]:  # an article's earlier entry is itself
                    copies.setdefault(self._ids[o], round(float(similarity), 3))
            if copies:
                clusters.append(DuplicateCluster(self._ids[kept], tuple(copies.items())))
        clusters.sort(key=lambda c: article_order(c.kept))
        return tuple(clusters), label

    def _similar(
        self,
        signatures: _Chunked,
        members: np.ndarray,
        rows: np.ndarray,
        rank: np.ndarray,
        threshold: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Edges between ``members`` (nodes; ``rows`` are their rows of ``signatures``) whose
        estimated Jaccard reaches ``threshold``, among LSH candidates: each band bucket links
        its members to its lowest-ranked member, so that edges (and components) do not
        depend on add order."""
        empty = np.zeros(0, dtype=np.int64)
        if len(members) < 2:
            return empty, empty
        bands, band_rows = self.config.lsh_params()
        count = len(members)
        member_rank = rank[members]
        keys = _band_keys_of(signatures, rows, bands, band_rows, threads=self.threads)
        # All bands' candidates at once when their keys fit in _KEY_BYTES; else a band at a
        # time, each band's candidates verified and let go before the next band's are found,
        # so that memory holds one band's candidates.
        step = bands if keys.nbytes <= _KEY_BYTES else 1
        # (Finding the next band's candidates in a thread while this band's were verified
        # raised the million-article run's peak to 3,933 MiB from 3,837, too close to
        # 4 GiB for what it saved: deciding took 66 s with it and 94 s without, on a
        # machine that signed in 168 s and 204 s.)
        verified = np.zeros(0, dtype=np.int64)  # pairs as head * count + other, sorted
        for first in range(0, bands, step):
            heads, others = self._candidates(keys[first : first + step], member_rank)
            if not len(heads):
                continue
            # Distinct pairs as one integer each: a 1-D unique sorts 8 bytes a pair.
            pairs = distinct(np.asarray(heads, dtype=np.int64) * count + others)
            del heads, others
            if len(verified):  # verified in an earlier band: not again
                pairs = pairs[~np.isin(pairs, verified, assume_unique=True)]
            keep = np.empty(len(pairs), dtype=bool)

            def verify(s: int, pairs: np.ndarray = pairs, keep: np.ndarray = keep) -> None:
                u, v = np.divmod(pairs[s : s + _PAIR_STEP], count)
                keep[s : s + _PAIR_STEP] = _agreement(signatures, rows[u], rows[v]) >= threshold

            _each(verify, range(0, len(pairs), _PAIR_STEP), self.threads)
            verified = distinct(np.concatenate((verified, pairs[keep])))
            del pairs, keep, verify
        del keys
        u, v = np.divmod(verified, count)
        return members[u], members[v]

    def _passage_decisions(
        self, rank: np.ndarray, article_label: np.ndarray, corpus_min: int, matched: np.ndarray
    ) -> _DecisionTable | None:
        if not self.passages:
            return None
        article, block, length, digest, signed = self._passages()
        count = len(article)
        index = np.int32 if count < np.iinfo(np.int32).max else np.int64
        # A passage's rank: by article id, then block.
        order = np.lexsort((block, rank[article]))
        prank = np.empty(count, dtype=index)
        prank[order] = np.arange(count, dtype=index)
        del order
        # Identical passages: each links to the lowest-ranked passage with its digest.
        by_digest = np.lexsort((prank, digest))
        ordered = digest[by_digest]
        new = np.empty(count, dtype=bool)
        new[:1] = True
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
        del ordered
        head = np.where(new, np.arange(count, dtype=index), 0)
        np.maximum.accumulate(head, out=head)
        linked = ~new
        u_exact = by_digest[head[linked]].astype(index)
        v_exact = by_digest[linked].astype(index)
        del head, linked
        # Nearly identical ones: LSH among one representative of each digest.
        representatives = by_digest[new]
        del by_digest, new
        representatives = representatives[length[representatives] >= self.config.near_min_chars]
        u_near, v_near = self._similar(
            self._passage_signatures, representatives, signed[representatives], prank,
            self.config.passage_threshold,
        )  # fmt: skip
        del representatives
        label = _components(
            prank, np.concatenate((u_exact, u_near)), np.concatenate((v_exact, v_near))
        )
        del u_exact, v_exact, u_near, v_near
        sizes = np.bincount(label, minlength=count)
        grouped = np.flatnonzero(sizes[label] > 1)
        del sizes
        if not len(grouped):
            return None
        grouped = grouped[np.lexsort((prank[grouped], label[grouped]))]
        group_label = label[grouped]
        del label
        node_of_prank = np.argsort(prank)
        first = node_of_prank[group_label]
        del node_of_prank
        # A copy with the first copy's digest is the same text; the others (all long, as
        # only long passages match when not equal) by their signatures.
        similarity = np.ones(len(grouped))
        differ = np.flatnonzero(digest[grouped] != digest[first])

        def compare(
            s: int, at: np.ndarray = differ, to: np.ndarray = similarity,
            rows: np.ndarray = signed, copy: np.ndarray = grouped, of: np.ndarray = first,
        ) -> None:  # fmt: skip
            part = at[s : s + _PAIR_STEP]
            to[part] = _agreement(self._passage_signatures, rows[copy[part]], rows[of[part]])

        _each(compare, range(0, len(differ), _PAIR_STEP), self.threads)
        del compare, differ, first

        starts = np.flatnonzero(np.concatenate(([True], group_label[1:] != group_label[:-1])))
        del group_label
        decided = self._decide_groups(
            grouped, similarity, starts, prank, article, block, length, article_label,
            corpus_min, matched,
        )  # fmt: skip
        if decided is None:
            return None
        # Let go of this step's arrays before the table makes its per-article map: the
        # highest memory of a decision on a million articles was there, with them alive.
        del grouped, similarity, starts, prank, article, block, length, digest, signed
        columns, groups = decided
        return _DecisionTable(self._ids, self._sources, *columns, groups, corpus_min)

    def _decide_groups(
        self,
        members: np.ndarray,
        sims: np.ndarray,
        starts: np.ndarray,
        prank: np.ndarray,
        article: np.ndarray,
        block: np.ndarray,
        length: np.ndarray,
        article_label: np.ndarray,
        corpus_min: int,
        matched: np.ndarray,
    ) -> tuple[_Columns6, list[_Group]] | None:
        """Every group of copies of a passage at once: ``members`` are passages, by group
        (groups begin at ``starts``) and in passage-rank order within one, with their
        similarity to the group's first copy. A row per copy in this run's articles (an
        earlier run's entries are evidence), and a :class:`_Group` per group that crosses
        articles; and ``matched`` counts the characters of each article found elsewhere.

        Array work, not a Python loop per copy: a footer on 30,000 pages is one group."""
        config = self.config
        count = len(members)
        sizes = np.diff(np.append(starts, count))
        # Arrays of a row per copy (tens of millions on a million articles) in int32 where
        # the values allow (numbers of groups, articles, names, sources, characters), int64
        # only where two are combined into one key.
        group = np.repeat(np.arange(len(starts), dtype=np.int32), sizes)
        later_copy = np.ones(count, dtype=bool)  # a group's copies after its first
        later_copy[starts] = False
        owner = article[members].astype(np.int32, copy=False)
        label = article_label.astype(np.int32)[owner]
        previous = np.asarray(self._previous, dtype=bool)[owner]
        chars = length[members].astype(np.int32, copy=False)
        name_codes, source_codes, source_names = self._name_and_source_codes()
        name, source = name_codes[owner], source_codes[owner]
        del name_codes, source_codes

        # Names, labels and sources are numbers below ``n``: (group, number) as one integer.
        n = max(len(self._ids), 1)
        keyed = group.astype(np.int64) * n
        # Text found in another article (of another name): its characters are matched.
        _, first_names = np.unique(keyed + name, return_index=True)
        names_per_group = np.bincount(group[first_names], minlength=len(starts))
        found = (names_per_group[group] > 1) & ~previous
        np.add.at(matched, owner[found], chars[found])
        del found, names_per_group
        # Repeats inside one article are the in-document pass's; copies inside a cluster of
        # near-duplicate articles are reported by the cluster.
        labels = distinct(keyed + label) // n
        crossing = np.bincount(labels, minlength=len(starts)) >= 2
        del labels
        kept = crossing[group]
        if not kept.any():
            return None
        # Per group and source: the distinct clusters of its articles with the passage.
        _, first_sources, source_of = np.unique(
            keyed + source, return_index=True, return_inverse=True
        )
        per_pair = np.bincount(distinct(source_of * n + label) // n, minlength=len(first_sources))
        per_source = per_pair.astype(np.int32)[source_of]
        del per_pair, source_of
        sources = np.bincount(group[first_sources], minlength=len(starts)).astype(np.int32)
        longest = np.maximum.reduceat(chars, starts)
        short = longest <= config.short_max_chars
        corpus = short & (sources >= corpus_min)
        later = np.where(later_copy, sims, -np.inf)
        closest = np.maximum.reduceat(later, starts)
        del later
        exact = np.minimum.reduceat(sims, starts) == 1.0
        # An article's first line is its headline; where other articles show it further
        # down (a teaser of it), it is theirs to lose, not this article's. A line that is the
        # first on every page (a masthead, a breadcrumb) is boilerplate everywhere.
        heads = block[members] == 0
        head_count = np.add.reduceat(heads.astype(np.int64), starts)
        teased = (head_count > 0) & (head_count < sizes)
        g_short, g_corpus, g_sources = short[group], corpus[group], sources[group]
        site = (per_source >= 2) & (
            g_short
            | (
                (longest[group] <= config.site_max_chars)
                & ((g_sources == 1) | (per_source >= config.site_min_articles_when_shared))
            )
        )
        kind = np.full(count, _KINDS.index("shared"), dtype=np.int8)
        kind[site] = _KINDS.index("site_boilerplate")
        kind[g_corpus] = _KINDS.index("corpus_boilerplate")
        kind[teased[group] & heads] = _KINDS.index("headline")
        similarity = np.where(later_copy, sims, closest[group])
        first = (kind == _KINDS.index("headline")) | (label == label[starts][group])
        number = np.cumsum(crossing) - 1
        rows = np.flatnonzero(kept & ~previous)
        # Arrays of a row per copy that the rest does not need: let go of before the groups
        # are made (the highest memory of a decision on a million articles was there).
        del later_copy, label, previous, chars, name, keyed, kept
        del heads, g_short, g_corpus, g_sources, site

        # Each group's names and sources, all gathered at once, then sliced per group.
        by_name = np.sort(first_names)
        name_bounds = np.searchsorted(group[by_name], np.arange(len(starts) + 1)).tolist()
        all_names = np.array(self._ids, dtype=object)[owner[by_name]].tolist()
        by_source = np.sort(first_sources)
        source_bounds = np.searchsorted(group[by_source], np.arange(len(starts) + 1)).tolist()
        all_sources = np.array(source_names, dtype=object)[source[by_source]].tolist()
        all_counts = per_source[by_source].tolist()
        first_copy = prank[members[starts]].tolist()
        groups = [
            _Group(
                tuple(all_names[name_bounds[g] : name_bounds[g + 1]]),
                dict(zip(all_sources[source_bounds[g] : source_bounds[g + 1]],
                         all_counts[source_bounds[g] : source_bounds[g + 1]], strict=True)),
                bool(exact[g]), first_copy[g],
            )
            for g in np.flatnonzero(crossing).tolist()
        ]  # fmt: skip
        if not len(rows):
            return None
        order = np.lexsort((block[members[rows]], owner[rows]))
        rows = rows[order]
        columns = (
            owner[rows].astype(np.int32), block[members[rows]].astype(np.int32), kind[rows],
            similarity[rows].astype(np.float64), first[rows], number[group[rows]].astype(np.int32),
        )  # fmt: skip
        return columns, groups


_Columns6 = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _passage_digests(folded: Folded, indexed: np.ndarray) -> np.ndarray:
    """The 64-bit digest (xxh3_64) of each indexed text's compared form, from
    slices of one buffer into one array. (blake2b, with a Python int per passage, took a
    quarter of signing; xxh3 takes a twentieth of blake2b's time on a paragraph. Index
    format 3.)"""
    raw = memoryview(folded.codes.tobytes())
    bounds = (folded.offsets * folded.codes.itemsize).tolist()
    digest = xxhash.xxh3_64_digest
    joined = b"".join([digest(raw[bounds[i] : bounds[i + 1]]) for i in indexed.tolist()])
    return np.frombuffer(joined, dtype=">u8").astype(np.uint64)


def _band_keys_of(
    signatures: _Chunked, rows: np.ndarray, bands: int, band_rows: int,
    compiled: bool | None = None, threads: int = 1,
) -> np.ndarray:  # fmt: skip
    """:func:`band_keys` of some rows of chunked signatures, a chunk at a time (with numba,
    and ``compiled`` not False, through :func:`cleaner._compiled.band_keys`: the same keys in
    a quarter of the time, 0.5 s against 2.0 s for a million rows in chunks of 65,536), the
    chunks in up to ``threads`` threads (each writes its own rows' columns)."""
    keys = np.empty((bands, len(rows)), dtype=np.uint64)
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    loop = loop_for("band_keys", len(rows) * bands, compiled)

    def key(chunk: tuple[int, np.ndarray]) -> None:
        start, values = chunk
        lo, hi = np.searchsorted(ordered, (start, start + len(values))).tolist()
        if lo >= hi:
            return
        if loop is not None:
            loop(values, ordered[lo:hi] - start, bands, band_rows, keys, order[lo:hi])
        else:
            keys[:, order[lo:hi]] = band_keys(values, ordered[lo:hi] - start, bands, band_rows)

    _each(key, signatures.chunks(), threads)
    return keys


def _agreement(signatures: _Chunked, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The share of equal values between rows ``a`` and ``b`` of the signatures, pairwise:
    the estimated Jaccard."""
    return (signatures.take(a) == signatures.take(b)).mean(axis=1)  # type: ignore[no-any-return]


#: Finds LSH candidates: given band keys (bands × n, :func:`band_keys`) and each row's rank,
#: it returns pairs (head, other) of row positions such that, in every band, each bucket of
#: equal keys links each of its rows to the bucket's lowest-ranked row (ties cannot occur:
#: ranks are distinct). :func:`band_candidates` does it in this process; the Dask engine
#: (:mod:`cleaner.dask_engine`) by shuffling the keys across a cluster. Pairs may repeat.
CandidateFinder = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def band_keys(signatures: np.ndarray, members: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per band and member (bands × members): the band's ``rows`` signature
    values hashed together (FNV-style, one band's columns at a time: a copy of all rows
    would double the index)."""
    keys = np.zeros((bands, len(members)), dtype=np.uint64)
    for band in range(bands):
        sub = signatures[members, band * rows : (band + 1) * rows].astype(np.uint64)
        key = keys[band]
        with np.errstate(over="ignore"):
            for column in range(rows):
                key = (key * np.uint64(0x100000001B3)) ^ sub[:, column]
                key ^= key >> np.uint64(29)
        keys[band] = key
    return keys


def band_candidates(keys: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The :data:`CandidateFinder` of one process: a sort per band."""
    heads, others = [], []
    for key in keys:
        # Most keys are in no bucket with another: find the ones that are with one quick
        # sort, and order only those by (key, rank), a stable sort of two keys that costs
        # several times more (the same pairs, in the same order, as ordering them all).
        by_key = np.argsort(key)
        sorted_key = key[by_key]
        repeated = np.zeros(len(key), dtype=bool)
        same = sorted_key[1:] == sorted_key[:-1]
        repeated[1:] |= same
        repeated[:-1] |= same
        shared = by_key[repeated]
        del by_key, sorted_key, repeated, same
        if not len(shared):
            continue
        order = shared[np.lexsort((rank[shared], key[shared]))]
        sorted_key = key[order]
        new = np.concatenate(([True], sorted_key[1:] != sorted_key[:-1]))
        head = order[np.maximum.accumulate(np.where(new, np.arange(len(order)), 0))]
        linked = ~new
        heads.append(head[linked])
        others.append(order[linked])
    if not heads:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(heads), np.concatenate(others)


def _components(rank: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Connected components of the graph on nodes ``0..n-1`` with edges ``(u, v)``: each
    node's label is the lowest ``rank`` in its component (a union-find by label propagation
    with pointer jumping, in numpy; independent of edge order)."""
    label = rank.copy()
    if not len(u):
        return label
    node_of_rank = np.argsort(rank)
    while True:
        before = label.copy()
        np.minimum.at(label, u, label[v])
        np.minimum.at(label, v, label[u])
        label = label[node_of_rank[label]]
        if np.array_equal(label, before):
            return label  # type: ignore[no-any-return]
