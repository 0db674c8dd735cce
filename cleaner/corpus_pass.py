"""The corpus pass of a command-line run: read every article once, sign its blocks, and
decide over the whole run (and a stored index) before anything is cleaned.

The work here runs in the run's worker processes, a chunk at a time, and gives back only
signatures (:class:`~cleaner.corpus.SignedArticles`) and a digest of each article's
normalised text, never the text: memory stays at the index's 24 bytes a passage (the
signatures of long passages go to a temporary file: :attr:`CorpusSettings.spill_dir`).
An article is named by its path as shown (``a/b.txt``), or its path and line for a JSON
Lines record (``a/b.jsonl:12``): names do not depend on the order files are listed in, so
neither do the decisions.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cleaner.core import Cleaner
from cleaner.corpus import (
    CorpusConfig,
    CorpusDecisions,
    PassageIndex,
    SignedArticles,
    source_key,
    text_digest,
)
from cleaner.files import (
    compression_of,
    decompressed_reader,
    looks_binary,
    open_input,
    read_file,
)
from cleaner.model import Result
from cleaner.records import (
    RecordFields,
    html_extractor,
    parse_line,
    record_text,
)
from cleaner.segment import segment_blocks

SiteFrom = Literal["url", "dir", "none"]


@dataclass(frozen=True, slots=True)
class CorpusSettings:
    """How a run's corpus pass names sources and what it removes."""

    site_from: SiteFrom = "url"
    drop_shared: bool = False
    config: CorpusConfig = field(default_factory=CorpusConfig)
    #: Where the run's index keeps the long passages' signatures, most of its bytes: a
    #: temporary file there (the page cache holds it, not the process), None: in memory.
    spill_dir: str | None = field(default_factory=tempfile.gettempdir)

    def source(self, url: str | None, site: str | None, display: str) -> str | None:
        """An article's source: by ``url`` the host of its URL or site name (none without
        them: an article without a source is its own), by ``dir`` its folder, or none."""
        if self.site_from == "dir":
            return source_key(path=display, mode="dir")
        if self.site_from == "url":
            return source_key(url, site, mode="url")
        return None


#: What signing a chunk gives back: the signed articles, each one's text digest, and for
#: JSON Lines records, where each is: (file, line, record id).
Signed = tuple[SignedArticles, list[bytes], list[tuple[str, int, Any]]]


def line_key(display: str, line: int) -> str:
    """The name of a JSON Lines record in the corpus pass."""
    return f"{display}:{line}"


def sign_files(
    cleaner: Cleaner, settings: CorpusSettings, files: Sequence[tuple[str, Path, str]]
) -> Signed:
    """Sign whole files, each (display name, path, kind "text" or "html"). A file that
    cannot be read is left out here: cleaning reports it."""
    articles: list[tuple[str, str | None, str]] = []
    digests: list[bytes] = []
    for display, path, kind in files:
        try:
            text, url, site = read_article(path, kind)
            normalised = cleaner.normalise(text)[2]
        except Exception:  # cleaning the file reports what is wrong with it
            continue
        articles.append((display, settings.source(url, site, display), normalised))
        digests.append(text_digest(normalised))
    return PassageIndex(settings.config).sign(articles), digests, []


def read_article(path: Path, kind: str) -> tuple[str | bytes, str | None, str | None]:
    """A text file's bytes, or an HTML page's main text, with the page's URL and site name.
    Raises ``ValueError`` for a binary file, and what reading or extraction raises."""
    data, _ = read_file(path)
    if kind == "html":
        from cleaner.html import DEFAULT_HTML_CONFIG, extract

        extracted = extract(data, None, DEFAULT_HTML_CONFIG)
        meta = extracted.metadata
        return extracted.text, meta.get("url"), meta.get("sitename")
    if looks_binary(data):
        raise ValueError("a binary file")
    return data, None, None


def sign_lines(
    cleaner: Cleaner,
    settings: CorpusSettings,
    spec: RecordFields,
    display: str,
    lines: Sequence[tuple[int, bytes]],
) -> Signed:
    """Sign numbered lines of a JSON Lines file; the source comes from the record's ``url``
    field (``--url-field``), else its ``site`` field. A line that cannot be cleaned is left
    out here: cleaning reports it."""
    extract = html_extractor() if spec.html_field is not None else None
    articles: list[tuple[str, str | None, str]] = []
    digests: list[bytes] = []
    where: list[tuple[str, int, Any]] = []
    for number, raw in lines:
        try:
            record = parse_line(raw)
            record_id = record.get(spec.id_field) if spec.id_field is not None else None
            text = record_text(record, spec, extract, record_id)
            normalised = cleaner.normalise(text)[2]
        except Exception:  # MalformedLineError, RecordError...: cleaning the line reports it
            continue
        url = record.get(spec.url_field) if spec.url_field is not None else None
        source = settings.source(_text_or_none(url), _text_or_none(record.get("site")), display)
        articles.append((line_key(display, number), source, normalised))
        digests.append(text_digest(normalised))
        where.append((display, number, record_id))
    return PassageIndex(settings.config).sign(articles), digests, where


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def clean_corpus(
    articles: Sequence[tuple[str, str | None, str | bytes]],
    cleaner: Cleaner | None = None,
    index: PassageIndex | None = None,
    drop_shared: bool = False,
) -> tuple[dict[str, Result], CorpusDecisions]:
    """Clean articles as one corpus, in memory: each is (id, source, text or bytes). The
    corpus pass reads them all (into ``index``, if given: one with earlier articles added
    recognises them), then each is cleaned with its decisions. ``cleaner clean`` on a folder
    does the same, streaming."""
    cleaner = cleaner or Cleaner()
    index = index if index is not None else PassageIndex()
    for article_id, source, data in articles:
        index.add(article_id, source, cleaner.normalise(data)[2])
    decisions = index.decide()
    results = {
        article_id: cleaner.clean(data, decisions.for_article(article_id, drop_shared))
        for article_id, _, data in articles
    }
    return results, decisions


def block_texts(
    cleaner: Cleaner,
    spec: RecordFields,
    files: Sequence[tuple[str, Path, str]],
    wanted: dict[str, set[int]],
) -> dict[tuple[str, int], str]:
    """The texts of some blocks of some articles, read again: (article, block) -> text.
    ``files`` are (display name, path, kind) as for :func:`sign_files`, kind "jsonl" too."""
    out: dict[tuple[str, int], str] = {}

    def take(key: str, text: str | bytes) -> None:
        blocks = segment_blocks(cleaner.normalise(text)[2])
        for index in wanted[key]:
            if index < len(blocks):
                out[key, index] = blocks[index].text

    extract = html_extractor() if spec.html_field is not None else None
    for display, path, kind in files:
        try:
            if kind == "jsonl":
                if not any(k.startswith(display + ":") for k in wanted):
                    continue
                raw, _ = open_input(path)
                with raw, closing(decompressed_reader(raw, compression_of(path))) as lines:
                    for number, line in enumerate(lines, 1):
                        key = line_key(display, number)
                        if key in wanted:
                            record = parse_line(line)
                            record_id = record.get(spec.id_field) if spec.id_field else None
                            take(key, record_text(record, spec, extract, record_id))
            elif display in wanted:
                take(display, read_article(path, kind)[0])
        except Exception:  # changed or gone since the corpus pass: no text to show
            continue
    return out
