"""WARC files of crawled pages to records of cleaned article text.

A WARC file (``.warc``, or ``.warc.gz`` compressed record by record) holds a crawl: requests,
responses, metadata. :func:`iter_warc` reads one lazily with warcio and yields, in file order,
a :class:`WarcPage` for each HTML page that was fetched (HTTP 200, an HTML content type):
its URL, record id and capture date, the main text extracted by :mod:`cleaner.html` and
cleaned by the text engine, and the page's metadata. Every other record is a
:class:`WarcSkip` with a reason from :class:`SkipReason`, so a caller can count what was left
out and why. One bad record never ends the run; a WARC file that cannot be read any further
ends with a ``broken_archive`` skip.

The two halves are separate for callers that spread the work over processes:
:func:`iter_responses` only reads (fast), :func:`extract_response` does the extraction and
cleaning (slow, pure, one response at a time).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from pathlib import PurePath
from typing import IO, Any

from cleaner.core import Cleaner
from cleaner.html import DEFAULT_HTML_CONFIG, HtmlConfig, HtmlError, PrunedNode, extract
from cleaner.model import Result

__all__ = [
    "HTML_CONTENT_TYPES",
    "WARC_SUFFIXES",
    "SkipReason",
    "WarcPage",
    "WarcResponse",
    "WarcSkip",
    "WarcTally",
    "extract_response",
    "is_warc_name",
    "iter_responses",
    "iter_warc",
    "write_pages_jsonl",
]

WARC_SUFFIXES: tuple[str, ...] = (".warc", ".warc.gz")
#: Media types taken as HTML pages.
HTML_CONTENT_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class SkipReason(StrEnum):
    """Why a record gave no page. The values appear in reports and never change."""

    #: Not a response: warcinfo, request, metadata, revisit, resource, conversion records.
    NOT_RESPONSE = "not_response"
    #: A response without HTTP headers (a DNS lookup, an FTP fetch).
    NOT_HTTP = "not_http"
    #: An HTTP status other than 200 (redirects, errors).
    HTTP_STATUS = "http_status"
    #: A content type that is not HTML (images, scripts, JSON, PDF).
    NOT_HTML = "not_html"
    #: The payload cannot be read: a broken transfer or content encoding, or too large.
    UNREADABLE = "unreadable"
    #: The page has no main text (an empty page, a page of links).
    NO_TEXT = "no_text"
    #: The extractor failed on this page; the detail says how (a bug to report).
    EXTRACT_ERROR = "extract_error"
    #: The WARC file cannot be read from here on (it ends inside a record, or is not a WARC
    #: file); always the last item.
    BROKEN_ARCHIVE = "broken_archive"


@dataclass(frozen=True, slots=True)
class WarcSkip:
    """A record that gave no page, and why."""

    reason: SkipReason
    detail: str = ""
    url: str | None = None
    record_id: str | None = None
    #: Byte offset of the record in the (compressed) file, where known.
    offset: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "skipped",
            "reason": self.reason.value,
            "detail": self.detail,
            "url": self.url,
            "warc_record_id": self.record_id,
            "offset": self.offset,
        }


@dataclass(frozen=True, slots=True)
class WarcResponse:
    """An HTML response read from a WARC file, not yet extracted."""

    url: str
    record_id: str | None
    #: WARC-Date: when the page was captured (ISO 8601).
    date: str | None
    #: The HTTP body, with transfer and content encodings undone.
    payload: bytes
    #: The charset of the HTTP Content-Type header, if it names one.
    http_charset: str | None = None
    #: WARC-Truncated: why the crawler cut the payload short ("length", "time"), if it did.
    truncated: str | None = None
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class WarcPage:
    """One page of a WARC file: its cleaned text, where it came from, and its metadata."""

    url: str
    record_id: str | None
    #: WARC-Date: when the page was captured. The date the page says it was published is
    #: ``metadata["date"]``.
    date: str | None
    #: The cleaned main text.
    text: str
    #: The page's metadata (see :data:`cleaner.html.METADATA_FIELDS`).
    metadata: dict[str, str | None]
    truncated: str | None = None
    offset: int | None = None
    #: What the text engine did (for reports); not part of the JSON record.
    result: Result | None = field(default=None, compare=False, repr=False)
    #: What the pruning removed from the HTML (for reports); not part of the JSON record.
    pruned: tuple[PrunedNode, ...] = field(default=(), compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The page as one JSON Lines record: url, warc_record_id, date, text, metadata and
        truncated (null unless the crawler cut the page short)."""
        return {
            "url": self.url,
            "warc_record_id": self.record_id,
            "date": self.date,
            "text": self.text,
            "metadata": self.metadata,
            "truncated": self.truncated,
        }


def is_warc_name(name: str | PurePath) -> bool:
    """Whether a file's name says it is a WARC file (``.warc`` or ``.warc.gz``)."""
    return PurePath(name).name.lower().endswith(WARC_SUFFIXES)


def _media_type(content_type: str) -> tuple[str, str | None]:
    """``text/html; charset=UTF-8`` -> ("text/html", "UTF-8")."""
    media, _, params = content_type.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return media.strip().lower(), charset


def _looks_like_html(payload: bytes) -> bool:
    head = payload[:1024].lower()
    return b"<html" in head or b"<!doctype html" in head


def _describe(exc: BaseException, limit: int = 200) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def iter_responses(
    stream: IO[bytes], max_bytes: int = DEFAULT_HTML_CONFIG.max_bytes
) -> Iterator[WarcResponse | WarcSkip]:
    """The records of a WARC stream, in order: each HTML page as a :class:`WarcResponse`,
    every other record as a :class:`WarcSkip`. Reads one record at a time."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    records = ArchiveIterator(stream)
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except (ArchiveLoadFailed, ValueError, OSError, EOFError) as exc:
            yield WarcSkip(SkipReason.BROKEN_ARCHIVE, _describe(exc), offset=records.offset)
            return
        # Where this record starts (get_record_offset() would read the record to its end).
        offset = records.offset
        url = record.rec_headers.get_header("WARC-Target-URI")
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        skip = partial(WarcSkip, url=url, record_id=record_id, offset=offset)
        if record.rec_type != "response":
            yield skip(SkipReason.NOT_RESPONSE, record.rec_type or "")
            continue
        http = record.http_headers
        if http is None or not http.protocol.upper().startswith("HTTP/"):
            yield skip(SkipReason.NOT_HTTP, "")
            continue
        status = http.get_statuscode()
        if status != "200":
            yield skip(SkipReason.HTTP_STATUS, f"HTTP {http.statusline}")
            continue
        content_type = http.get_header("Content-Type") or ""
        media, charset = _media_type(content_type)
        if media and media not in HTML_CONTENT_TYPES:  # the payload is never read
            yield skip(SkipReason.NOT_HTML, content_type)
            continue
        try:
            payload = record.content_stream().read(max_bytes + 1)
        except Exception as exc:  # warcio raises what its decompressors raise
            yield skip(SkipReason.UNREADABLE, _describe(exc))
            continue
        raw = record.raw_stream
        if len(payload) <= max_bytes and getattr(raw, "limit", 0) > 0 and not raw.read(1):
            # warcio hands out what there is of a record that the file ends inside.
            yield skip(SkipReason.BROKEN_ARCHIVE, "the file ends inside this record")
            return
        if not media and not _looks_like_html(payload):
            yield skip(SkipReason.NOT_HTML, "no content type, and no <html> tag")
            continue
        if len(payload) > max_bytes:
            yield skip(SkipReason.UNREADABLE, f"payload over {max_bytes} bytes")
            continue
        yield WarcResponse(
            url=url or "",
            record_id=record_id,
            date=record.rec_headers.get_header("WARC-Date"),
            payload=payload,
            http_charset=charset,
            truncated=record.rec_headers.get_header("WARC-Truncated"),
            offset=offset,
        )


def extract_response(
    response: WarcResponse, config: HtmlConfig | None = None, cleaner: Cleaner | None = None
) -> WarcPage | WarcSkip:
    """Extract and clean one response; a page that gives no text is a :class:`WarcSkip`."""
    skip = partial(WarcSkip, url=response.url, record_id=response.record_id, offset=response.offset)
    try:
        extracted = extract(
            response.payload, response.url or None, config, http_charset=response.http_charset
        )
    except HtmlError as exc:
        return skip(SkipReason.UNREADABLE, str(exc))
    except Exception as exc:  # one page must not end a crawl's run
        return skip(SkipReason.EXTRACT_ERROR, _describe(exc))
    result = (cleaner or Cleaner()).clean(extracted.text)
    if not result.text.strip():
        return skip(SkipReason.NO_TEXT, "")
    return WarcPage(
        url=response.url,
        record_id=response.record_id,
        date=response.date,
        text=result.text,
        metadata=extracted.metadata,
        truncated=response.truncated,
        offset=response.offset,
        result=result,
        pruned=extracted.pruned,
    )


def iter_warc(
    stream: IO[bytes], config: HtmlConfig | None = None, cleaner: Cleaner | None = None
) -> Iterator[WarcPage | WarcSkip]:
    """Every record of a WARC stream as a page or a skip, in file order, one at a time."""
    config = config or DEFAULT_HTML_CONFIG
    cleaner = cleaner or Cleaner()
    for item in iter_responses(stream, config.max_bytes):
        yield extract_response(item, config, cleaner) if isinstance(item, WarcResponse) else item


@dataclass(slots=True)
class WarcTally:
    """Pages written and records skipped, per reason: the summary of a WARC run."""

    pages: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, item: WarcPage | WarcSkip) -> None:
        if isinstance(item, WarcPage):
            self.pages += 1
        else:
            self.skipped[item.reason.value] += 1

    def to_json(self) -> dict[str, Any]:
        return {"pages": self.pages, "skipped": dict(sorted(self.skipped.items()))}


def write_pages_jsonl(items: Iterable[WarcPage | WarcSkip], out: IO[bytes]) -> WarcTally:
    """Write each page as one JSON line (UTF-8) as it comes; count pages and skips."""
    tally = WarcTally()
    for item in items:
        tally.add(item)
        if isinstance(item, WarcPage):
            out.write(json.dumps(item.to_json(), ensure_ascii=False).encode("utf-8") + b"\n")
    return tally
