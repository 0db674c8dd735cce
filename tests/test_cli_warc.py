"""The command line on WARC files built from real naeb-dev pages: JSON Lines of pages in file
order, skipped records in the report, compression, in place, broken archives, jobs."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from test_warc import PAGES, build_warc

import cleaner.cli
from cleaner.cli import main
from cleaner.files import is_temp_name
from cleaner.warc import WarcPage, iter_warc

#: What build_warc's crawl holds besides its pages: warcinfo, a request per response, a PNG,
#: a 404 and a redirect.
SKIPPED = {"not_response": 1 + len(PAGES) + 3, "not_html": 1, "http_status": 2}
RECORD_FIELDS = {"url", "warc_record_id", "date", "text", "metadata", "truncated"}


def _run(*args: str | Path, input: bytes | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def _lines(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def _report(path: Path) -> list[dict[str, Any]]:
    return _lines(path.read_bytes())


def _expected(warc: Path) -> list[dict[str, Any]]:
    """What the library gives for a WARC file: each page's JSON record, in order."""
    with open(warc, "rb") as stream:
        return [item.to_json() for item in iter_warc(stream) if isinstance(item, WarcPage)]


def _stamp(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_warc_file_becomes_json_lines_of_its_pages_in_order(in_tmp: Path) -> None:
    warc = in_tmp / "crawls" / "sub" / "crawl.warc"
    warc.parent.mkdir(parents=True)
    urls = build_warc(warc, compress=False)
    before = _stamp(warc)
    result = _run("clean", "crawls", "-o", "out", "--format", "warc", "--report", "r.jsonl")
    assert result.exit_code == 0, result.stderr
    assert _stamp(warc) == before
    assert [p.relative_to(in_tmp / "out").as_posix() for p in (in_tmp / "out").rglob("*")
            if p.is_file()] == ["sub/crawl.jsonl"]  # fmt: skip
    written = (in_tmp / "out" / "sub" / "crawl.jsonl").read_bytes()
    records = _lines(written)
    assert [r["url"] for r in records] == urls
    assert all(set(r) == RECORD_FIELDS and r["text"].strip() for r in records)
    assert records == _expected(warc)
    n = sum(SKIPPED.values()) + len(PAGES)
    assert (f"{n} WARC records: {len(PAGES)} pages, {n - len(PAGES)} skipped (not_response "
            f"{SKIPPED['not_response']}, http_status 2, not_html 1)") in result.stderr  # fmt: skip
    assert "1 file seen: 1 changed, 0 unchanged, 0 failed, 0 skipped" in result.stderr

    # Skipped records are in the report with their reason, URL and record id; the pages'
    # removals and pruned nodes name their file, URL and record id too.
    report = _report(in_tmp / "r.jsonl")
    skipped = [r for r in report if r["kind"] == "skipped"]
    assert Counter(r["reason"] for r in skipped) == SKIPPED
    assert all(r["file"] == "crawls/sub/crawl.warc" and r["warc_record_id"] for r in skipped)
    by_url = {r["url"]: r for r in skipped if r["reason"] != "not_response"}
    assert by_url["https://example.org/logo.png"]["reason"] == "not_html"
    assert by_url["https://example.org/gone"]["detail"] == "HTTP 404 Not Found"
    others = [r for r in report if r["kind"] != "skipped"]
    ids = {r["url"]: r["warc_record_id"] for r in records}
    assert others and all(ids[r["url"]] == r["warc_record_id"] for r in others)

    # A single WARC file with neither -o nor --in-place: the same lines on standard output.
    single = _run("clean", warc)
    assert single.exit_code == 0 and single.stdout_bytes == written
    piped = _run("clean", "-", "--format", "warc", input=warc.read_bytes())
    assert piped.exit_code == 0 and piped.stdout_bytes == written


def test_a_compressed_warc_in_place_gives_compressed_json_lines_beside_it(in_tmp: Path) -> None:
    warc = in_tmp / "crawl.warc.gz"
    urls = build_warc(warc, compress=True)
    before = _stamp(warc)
    dry = _run("clean", warc.name, "--in-place", "--dry-run")
    assert dry.exit_code == 0 and sorted(p.name for p in in_tmp.iterdir()) == [warc.name]
    first = _run("clean", warc.name, "--in-place")  # auto: a WARC file by its name
    assert first.exit_code == 0, first.stderr
    assert _stamp(warc) == before
    output = in_tmp / "crawl.jsonl.gz"
    assert sorted(p.name for p in in_tmp.iterdir()) == [output.name, warc.name]
    records = _lines(gzip.decompress(output.read_bytes()))
    assert [r["url"] for r in records] == urls
    assert records == _expected(warc)
    # Again, with every file of the folder taken: the output is not an input, and it is not
    # rewritten.
    done = _stamp(output)
    second = _run("clean", ".", "--in-place", "--include", "*.gz")
    assert second.exit_code == 0
    assert "1 file seen: 0 changed, 1 unchanged" in second.stderr
    assert _stamp(output) == done and _stamp(warc) == before


def test_a_broken_archive_fails_alone_and_its_output_is_not_written(in_tmp: Path) -> None:
    crawls = in_tmp / "crawls"
    crawls.mkdir()
    urls = build_warc(crawls / "good.warc.gz", compress=True)
    whole = (crawls / "good.warc.gz").read_bytes()
    (crawls / "cut.warc.gz").write_bytes(whole[: len(whole) // 2])
    (crawls / "notes.warc").write_text("not a crawl\n")
    result = _run("clean", "crawls", "-o", "out", "--format", "warc")
    assert result.exit_code == 1
    assert "cleaner: error: crawls/cut.warc.gz: cannot read it past byte " in result.stderr
    assert "the file ends inside this record" in result.stderr
    assert "out/cut.jsonl.gz was not written" in result.stderr
    assert "cleaner: error: crawls/notes.warc: cannot read it past byte 0" in result.stderr
    assert "3 files seen: 1 changed, 0 unchanged, 2 failed, 0 skipped" in result.stderr
    assert sorted(p.name for p in (in_tmp / "out").iterdir()) == ["good.jsonl.gz"]
    records = _lines(gzip.decompress((in_tmp / "out" / "good.jsonl.gz").read_bytes()))
    assert [r["url"] for r in records] == urls
    # In place, too: nothing beside the broken file, and no temporary file left behind.
    in_place = _run("clean", "crawls/cut.warc.gz", "--in-place")
    assert in_place.exit_code == 1 and "crawls/cut.jsonl.gz was not written" in in_place.stderr
    assert not (crawls / "cut.jsonl.gz").exists()
    assert not [p for p in in_tmp.rglob("*") if is_temp_name(p.name)]


def test_jobs_give_the_same_json_lines_report_and_summary(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cleaner.cli, "WARC_CHUNK_PAGES", 1)  # many chunks in flight at once
    crawls = in_tmp / "crawls"
    crawls.mkdir()
    build_warc(crawls / "a.warc", compress=False)
    build_warc(crawls / "b.warc.gz", compress=True)
    whole = (crawls / "a.warc").read_bytes()
    (crawls / "c.warc").write_bytes(whole[: len(whole) * 3 // 4])
    runs = {}
    for jobs in ("1", "2"):
        out = in_tmp / f"out{jobs}"
        result = _run("clean", "crawls", "-o", out.name, "--format", "warc", "--report",
                      f"r{jobs}.jsonl", "--jobs", jobs)  # fmt: skip
        assert result.exit_code == 1
        outputs = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
        report = (in_tmp / f"r{jobs}.jsonl").read_text("utf-8")
        runs[jobs] = (result.stderr.replace(out.name, "OUT"), outputs,
                      report.replace(out.name, "OUT"))  # fmt: skip
    assert runs["1"] == runs["2"]
    assert sorted(runs["1"][1]) == ["a.jsonl", "b.jsonl.gz"]
