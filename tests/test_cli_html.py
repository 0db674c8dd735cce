"""The command line on real naeb-dev HTML pages: text and metadata sidecars, in place, to
standard output, collisions, broken pages, and the same output whatever the number of jobs."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cleaner import Cleaner
from cleaner.cli import main
from cleaner.corpus import source_key
from cleaner.corpus_pass import clean_corpus
from cleaner.files import is_temp_name
from cleaner.html import METADATA_FIELDS, extract

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CLEANER_SHARED_DIR", ROOT.parent / "shared"))
NAEB = SHARED / "data" / "naeb-dev"
#: Pages that extract quickly and whose canonical URL is the one naeb-dev gives.
PAGES = (
    "23a107413d8d5d34010883aa80f83542",
    "17c9f548ad270d84614989e1dde14736",
    "2c02d7ecdb540cc7ca97d30f12a413b9",
)
REPORT_KINDS = {"pruned", "removal", "repair", "note"}


@cache
def articles() -> dict[str, Any]:
    if not (NAEB / "articles.json").exists():
        pytest.skip(f"naeb-dev is not at {NAEB}")
    data: dict[str, Any] = json.loads((NAEB / "articles.json").read_text("utf-8"))
    return data


@cache
def page(key: str) -> bytes:
    """A naeb-dev page as gzip bytes, as it is stored."""
    articles()
    return (NAEB / "html" / f"{key}.html.gz").read_bytes()


@cache
def expected(key: str, pages: tuple[str, ...] = PAGES) -> tuple[bytes, dict[str, Any]]:
    """What the library gives for a page cleaned in a run with ``pages``: its cleaned text as
    a file, and its metadata. The run's corpus pass takes each page's site from its URL
    (two of the pages are of one site, and share a teaser)."""
    extracted = {k: extract(page(k)) for k in pages}
    articles = [
        (k, source_key(e.metadata["url"], e.metadata["sitename"]), e.text)
        for k, e in extracted.items()
    ]
    results, _ = clean_corpus(articles, Cleaner())
    text = results[key].text + "\n"
    return text.encode("utf-8"), extracted[key].metadata


def _run(*args: str | Path, input: bytes | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def _pages(root: Path) -> dict[str, str]:
    """The pages in a folder as a/ and b/ would hold them: plain, gzip, and .htm. Returns the
    relative path of each page by its key."""
    layout = {PAGES[0]: "a/one.html", PAGES[1]: "a/two.html.gz", PAGES[2]: "b/three.htm"}
    for key, rel in layout.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        data = page(key) if rel.endswith(".gz") else gzip.decompress(page(key))
        (root / rel).write_bytes(data)
    return layout


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _stem(rel: str) -> str:
    return rel.split(".", 1)[0]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_output_folder_gets_text_and_a_metadata_sidecar_per_page(in_tmp: Path) -> None:
    layout = _pages(in_tmp / "pages")
    before = _snapshot(in_tmp / "pages")
    result = _run("clean", "pages", "-o", "out", "--format", "html", "--report", "r.jsonl")
    assert result.exit_code == 0, result.stderr
    assert _snapshot(in_tmp / "pages") == before
    written = sorted(p.relative_to(in_tmp / "out").as_posix() for p in (in_tmp / "out").rglob("*")
                     if p.is_file())  # fmt: skip
    assert written == sorted(f"{_stem(rel)}{ext}" for rel in layout.values()
                             for ext in (".json", ".txt"))  # fmt: skip
    for key, rel in layout.items():
        text, metadata = expected(key)
        assert (in_tmp / "out" / f"{_stem(rel)}.txt").read_bytes() == text
        sidecar = json.loads((in_tmp / "out" / f"{_stem(rel)}.json").read_text("utf-8"))
        assert sidecar == metadata and list(sidecar) == list(METADATA_FIELDS)
        assert sidecar["title"] and sidecar["url"] == articles()[key]["url"]
    assert "3 files seen: 3 changed, 0 unchanged, 0 failed, 0 skipped" in result.stderr
    assert "3 HTML pages: 3 with text, 0 without text, 0 failed" in result.stderr
    report = [json.loads(line) for line in (in_tmp / "r.jsonl").read_text().splitlines()]
    assert report and {r["kind"] for r in report} <= REPORT_KINDS
    assert {r["file"] for r in report} <= {f"pages/{rel}" for rel in layout.values()}


def test_in_place_writes_beside_the_page_which_stays_untouched(in_tmp: Path) -> None:
    layout = _pages(in_tmp / "pages")
    before = _snapshot(in_tmp / "pages")
    dry = _run("clean", "pages", "--in-place", "--format", "html", "--dry-run",
               "--report", "r.jsonl")  # fmt: skip
    assert dry.exit_code == 0 and "3 changed" in dry.stderr
    assert _snapshot(in_tmp / "pages") == before  # a dry run writes nothing
    assert (in_tmp / "r.jsonl").read_text()

    first = _run("clean", "pages", "--in-place", "--format", "html")
    assert first.exit_code == 0, first.stderr
    after = _snapshot(in_tmp / "pages")
    for rel, state in before.items():
        assert after[rel] == state  # the page itself: same bytes, same mtime
    assert set(after) - set(before) == {f"{_stem(r)}{e}" for r in layout.values()
                                        for e in (".txt", ".json")}  # fmt: skip
    for key, rel in layout.items():
        assert after[f"{_stem(rel)}.txt"][0] == expected(key)[0]

    # Again, even taking every file: the outputs are not inputs, and nothing is rewritten.
    second = _run("clean", "pages", "--in-place", "--format", "html", "--include", "*")
    assert second.exit_code == 0
    assert "3 files seen: 0 changed, 3 unchanged" in second.stderr
    assert _snapshot(in_tmp / "pages") == after


def test_a_single_page_or_standard_input_goes_to_standard_output(in_tmp: Path) -> None:
    key = PAGES[1]
    (in_tmp / "page.html.gz").write_bytes(page(key))
    text = expected(key, (key,))[0]
    one = _run("clean", "page.html.gz")  # auto: an HTML page by its name
    assert one.exit_code == 0, one.stderr
    assert one.stdout_bytes == text  # the text alone, no metadata
    assert sorted(p.name for p in in_tmp.iterdir()) == ["page.html.gz"]
    piped = _run("clean", "-", "--format", "html", input=gzip.decompress(page(key)))
    assert piped.exit_code == 0 and piped.stdout_bytes == text
    # In auto, a folder walk still takes *.txt only.
    (in_tmp / "d").mkdir()
    shutil.copyfile(in_tmp / "page.html.gz", in_tmp / "d" / "page.html.gz")
    walked = _run("clean", "d", "-o", "out")
    assert walked.exit_code == 0 and "0 files seen" in walked.stderr


def test_pages_that_would_write_the_same_text_are_a_usage_error(in_tmp: Path) -> None:
    html = gzip.decompress(page(PAGES[0]))
    (in_tmp / "pages" / "a").mkdir(parents=True)
    (in_tmp / "pages" / "a" / "b.html").write_bytes(html)
    (in_tmp / "pages" / "a" / "b.htm").write_bytes(html)
    before = _snapshot(in_tmp)
    for where in (["-o", "out"], ["--in-place"]):
        result = _run("clean", "pages", "--format", "html", *where)
        assert result.exit_code == 2
        assert "pages/a/b.htm and pages/a/b.html would both be written to" in result.stderr
        assert "b.txt" in result.stderr
        assert _snapshot(in_tmp) == before and not (in_tmp / "out").exists()
    # A page whose text would replace a text file cleaned in the same run, too.
    (in_tmp / "pages" / "a" / "b.htm").unlink()
    (in_tmp / "pages" / "a" / "b.txt").write_text("An article.\n")
    mixed = _run("clean", "pages/a/b.html", "pages/a/b.txt", "--in-place")
    assert mixed.exit_code == 2 and "would both be written to pages/a/b.txt" in mixed.stderr


def test_a_broken_page_fails_alone_and_the_others_are_written(in_tmp: Path) -> None:
    (in_tmp / "pages").mkdir()
    whole = page(PAGES[0])
    (in_tmp / "pages" / "cut.html.gz").write_bytes(whole[: len(whole) // 2])
    (in_tmp / "pages" / "empty.html").write_bytes(b"<html><body></body></html>")
    (in_tmp / "pages" / "good.html.gz").write_bytes(page(PAGES[2]))
    result = _run("clean", "pages", "-o", "out", "--format", "html", "--report", "r.jsonl")
    assert result.exit_code == 1
    assert ("cleaner: error: pages/cut.html.gz: cannot read it as an HTML page: gzip data is "
            "cut off") in result.stderr  # fmt: skip
    assert "skipped pages/empty.html: no article text found in the page" in result.stderr
    assert "3 files seen: 1 changed, 0 unchanged, 1 failed, 1 skipped" in result.stderr
    assert "3 HTML pages: 1 with text, 1 without text, 1 failed" in result.stderr
    assert sorted(p.name for p in (in_tmp / "out").iterdir()) == ["good.json", "good.txt"]
    assert (in_tmp / "out" / "good.txt").read_bytes() == expected(PAGES[2], (PAGES[2],))[0]
    report = [json.loads(line) for line in (in_tmp / "r.jsonl").read_text().splitlines()]
    failed = [r for r in report if r["kind"] == "failed"]
    assert [r["file"] for r in failed] == ["pages/cut.html.gz"]
    assert not [p for p in in_tmp.rglob("*") if is_temp_name(p.name)]


def test_jobs_give_the_same_pages_report_and_summary(in_tmp: Path) -> None:
    for folder in ("x", "y"):
        _pages(in_tmp / "pages" / folder)
    whole = page(PAGES[1])
    (in_tmp / "pages" / "cut.html.gz").write_bytes(whole[: len(whole) // 3])
    runs = {}
    for jobs in ("1", "2"):
        out = f"out{jobs}"
        result = _run("clean", "pages", "-o", out, "--format", "html", "--report",
                      f"r{jobs}.jsonl", "--jobs", jobs)  # fmt: skip
        assert result.exit_code == 1
        outputs = {k: data for k, (data, _) in _snapshot(in_tmp / out).items()}
        runs[jobs] = (result.stderr, outputs, (in_tmp / f"r{jobs}.jsonl").read_bytes())
    assert runs["1"] == runs["2"]
    assert len(runs["1"][1]) == 2 * 2 * len(PAGES)
