"""WARC mode: a WARC file built from real naeb-dev pages round-trips to JSON Lines."""

from __future__ import annotations

import gzip
import io
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cleaner.warc import (
    SkipReason,
    WarcPage,
    WarcResponse,
    WarcSkip,
    extract_response,
    is_warc_name,
    iter_responses,
    iter_warc,
    write_pages_jsonl,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CLEANER_SHARED_DIR", ROOT.parent / "shared"))
NAEB = SHARED / "data" / "naeb-dev"

#: Real pages, each with a sentence of its gold body that the cleaned text must hold.
PAGES = {
    "9387fdb2afcd9bb53b9ce55c34f27a8c": "Jennifer Felix, chief executive of ASRC Federal",
    "337929dffd1f1b7710c649d669cbe1a7": "The Model Garden includes multiple third-party",
    "0de6ef58bd5d689a1ecedc3597cf5e11": "Authorities arrived at the residence Wednesday",
    "700d03cce95246610c32f7d1ce57bf7f": "President Herzog praised Ivanka and Jared",
}
#: This page is stored as the server sent it with Content-Encoding: gzip.
GZIP_ENCODED = "0de6ef58bd5d689a1ecedc3597cf5e11"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def articles() -> dict[str, Any]:
    if not (NAEB / "articles.json").exists():
        pytest.skip(f"naeb-dev is not at {NAEB}")
    data: dict[str, Any] = json.loads((NAEB / "articles.json").read_text("utf-8"))
    return data


def build_warc(path: Path, *, compress: bool) -> list[str]:
    """A small crawl: warcinfo, then per page a request and a response, a PNG, a 404 and a
    redirect. Returns the URLs of the HTML pages in file order."""
    gold = articles()
    urls = []
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=compress)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "tests"}))

        def response(url: str, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
            request = writer.create_warc_record(
                url,
                "request",
                payload=io.BytesIO(b""),
                http_headers=StatusAndHeaders(f"GET {url} HTTP/1.1", [], is_http_request=True),
            )
            writer.write_record(request)
            http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=http
            )
            writer.write_record(record)

        for i, key in enumerate(PAGES):
            raw = (NAEB / "html" / f"{key}.html.gz").read_bytes()
            url = gold[key]["url"]
            urls.append(url)
            if key == GZIP_ENCODED:
                headers = [("Content-Type", "text/html"), ("Content-Encoding", "gzip")]
                response(url, "200 OK", headers, raw)
            else:
                headers = [("Content-Type", "text/html; charset=UTF-8")]
                response(url, "200 OK", headers, gzip.decompress(raw))
            if i == 1:
                png = [("Content-Type", "image/png")]
                response("https://example.org/logo.png", "200 OK", png, PNG)
                html = [("Content-Type", "text/html")]
                not_found = b"<html><p>Not found</p></html>"
                response("https://example.org/gone", "404 Not Found", html, not_found)
                moved = [("Location", "https://example.org/new")]
                response("https://example.org/old", "301 Moved Permanently", moved, b"")
    return urls


@pytest.fixture(scope="module", params=[True, False], ids=["warc.gz", "warc"])
def crawl(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    compress = request.param
    path = tmp_path_factory.mktemp("warc") / ("crawl.warc.gz" if compress else "crawl.warc")
    urls = build_warc(path, compress=compress)
    with open(path, "rb") as stream:
        items = list(iter_warc(stream))
    return path, urls, items


def test_pages_come_out_in_order_with_their_urls_and_cleaned_text(crawl: Any) -> None:
    _, urls, items = crawl
    pages = [item for item in items if isinstance(item, WarcPage)]
    assert [page.url for page in pages] == urls
    for page, sentence in zip(pages, PAGES.values(), strict=True):
        assert sentence in page.text
        assert page.record_id and page.record_id.startswith("<urn:uuid:")
        assert page.date and page.date[:4].isdigit()
        assert page.metadata["title"]
        assert page.result is not None and page.result.text == page.text
    assert pages[0].metadata["date"] == "2023-12-06"


def test_skipped_records_are_counted_with_a_reason(crawl: Any) -> None:
    _, _, items = crawl
    skips = [item for item in items if isinstance(item, WarcSkip)]
    assert Counter(skip.reason for skip in skips) == {
        SkipReason.NOT_RESPONSE: 1 + len(PAGES) + 3,  # warcinfo, and a request per response
        SkipReason.NOT_HTML: 1,
        SkipReason.HTTP_STATUS: 2,
    }
    by_url = {skip.url: skip for skip in skips if skip.reason != SkipReason.NOT_RESPONSE}
    assert by_url["https://example.org/logo.png"].detail == "image/png"
    assert by_url["https://example.org/gone"].detail == "HTTP 404 Not Found"
    assert by_url["https://example.org/old"].reason == SkipReason.HTTP_STATUS
    assert all(skip.offset is not None for skip in skips)


def test_the_crawl_round_trips_to_json_lines(crawl: Any) -> None:
    path, urls, items = crawl
    out = io.BytesIO()
    with open(path, "rb") as stream:
        tally = write_pages_jsonl(iter_warc(stream), out)
    records = [json.loads(line) for line in out.getvalue().decode("utf-8").splitlines()]
    assert [record["url"] for record in records] == urls
    assert all(record["text"].strip() for record in records)
    assert records == [item.to_json() for item in items if isinstance(item, WarcPage)]
    assert set(records[0]) == {"url", "warc_record_id", "date", "text", "metadata", "truncated"}
    assert tally.pages == len(PAGES)
    assert tally.to_json()["skipped"] == {"http_status": 2, "not_html": 1, "not_response": 8}


@pytest.mark.parametrize("compress", [True, False], ids=["warc.gz", "warc"])
@pytest.mark.parametrize("share", [0.3, 0.6, 0.9])
def test_a_cut_off_file_ends_with_a_broken_archive_skip(
    tmp_path: Path, compress: bool, share: float
) -> None:
    path = tmp_path / "crawl.warc"
    urls = build_warc(path, compress=compress)
    data = path.read_bytes()
    cut = data[: int(len(data) * share)]
    items = list(iter_responses(io.BytesIO(cut)))
    responses = [item for item in items if isinstance(item, WarcResponse)]
    assert [r.url for r in responses] == urls[: len(responses)]
    assert 1 <= len(responses) < len(urls)
    assert isinstance(items[-1], WarcSkip)
    assert items[-1].reason == SkipReason.BROKEN_ARCHIVE


def test_a_response_without_text_and_a_broken_payload_are_skipped() -> None:
    empty = WarcResponse("https://example.org/", "<urn:uuid:1>", None, b"<html><body></body>")
    skip = extract_response(empty)
    assert isinstance(skip, WarcSkip) and skip.reason == SkipReason.NO_TEXT
    broken = WarcResponse("https://example.org/", "<urn:uuid:2>", None, b"\x1f\x8b\x08broken")
    skip = extract_response(broken)
    assert isinstance(skip, WarcSkip) and skip.reason == SkipReason.UNREADABLE
    assert skip.to_json()["reason"] == "unreadable"


def test_warc_names() -> None:
    assert is_warc_name("crawl.warc") and is_warc_name("a/CRAWL.WARC.GZ")
    assert not is_warc_name("crawl.warc.zst") and not is_warc_name("warc.txt")


def test_an_extractor_failure_fails_the_record_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("cleaner.warc.extract", broken)
    response = WarcResponse("https://example.org/", "<urn:uuid:3>", None, b"<html></html>")
    skip = extract_response(response)
    assert isinstance(skip, WarcSkip)
    assert (skip.reason, skip.detail) == (SkipReason.EXTRACT_ERROR, "RuntimeError: boom")
