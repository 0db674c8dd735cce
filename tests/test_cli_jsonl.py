"""The command line on JSON Lines of real seed articles: fields, compression, bad lines, order."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import zstandard
from click.testing import CliRunner, Result
from conftest import wait_until_gone
from hypothesis import given, settings
from hypothesis import strategies as st

import cleaner.cli
from cleaner import Cleaner
from cleaner.cli import main
from cleaner.corpus import source_key
from cleaner.corpus_pass import clean_corpus
from cleaner.files import is_temp_name, open_input
from cleaner.records import parse_line

ROOT = Path(__file__).parent.parent
SEEDS = sorted((ROOT / "fixtures" / "seeds" / "input").glob("*.txt"))

COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "": lambda data: data,
    ".gz": gzip.compress,
    ".zst": lambda data: zstandard.ZstdCompressor().compress(data),
}
DECOMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "": lambda data: data,
    ".gz": gzip.decompress,
    ".zst": lambda data: zstandard.ZstdDecompressor().stream_reader(data).read(),
}


@cache
def _cleaner() -> Cleaner:
    return Cleaner()


def _run(*args: str | Path, input: bytes | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def _records(copies: int = 1) -> list[dict[str, Any]]:
    """The seeds as records, with nested and non-ASCII fields that must pass through."""
    out = []
    for n in range(copies):
        for i, seed in enumerate(SEEDS):
            out.append({
                "id": f"{seed.stem}-{n}",
                "text": seed.read_text("utf-8"),
                "meta": {"copy": n, "labels": ["ünï", "日本語", "🙂"], "score": 0.25, "ok": None},
                "lang": "en" if i % 2 else "de",
            })  # fmt: skip
    return out


def _jsonl(records: list[dict[str, Any]], bad: dict[int, bytes] | None = None) -> bytes:
    """JSON Lines of the records, with a bad line put at each given 0-based position."""
    lines = [json.dumps(r, ensure_ascii=False).encode("utf-8") for r in records]
    for at, line in sorted((bad or {}).items()):
        lines.insert(at, line)
    return b"\n".join(lines) + b"\n"


def _expected(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "text": _cleaner().clean(r["text"]).text} for r in records]


def _parse(data: bytes) -> list[dict[str, Any]]:
    return [parse_line(line) for line in data.splitlines()]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("suffix", ["", ".gz", ".zst"])
def test_output_folder_cleans_text_and_passes_every_other_field(in_tmp: Path, suffix: str) -> None:
    records = _records()
    name = f"data/part.jsonl{suffix}"
    (in_tmp / "data").mkdir()
    (in_tmp / name).write_bytes(COMPRESS[suffix](_jsonl(records)))
    before = (in_tmp / name).read_bytes()
    result = _run("clean", "data", "-o", "out", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    assert (in_tmp / name).read_bytes() == before
    written = in_tmp / "out" / Path(name).name
    assert sorted(p.name for p in (in_tmp / "out").iterdir()) == [written.name]
    assert _parse(DECOMPRESS[suffix](written.read_bytes())) == _expected(records)
    assert "日本語" in DECOMPRESS[suffix](written.read_bytes()).decode("utf-8")
    n = len(records)
    assert f"{n} records in JSON Lines: {n} changed, 0 unchanged, 0 failed" in result.stderr


def test_jsonl_files_are_known_by_name_and_text_files_stay_text(in_tmp: Path) -> None:
    (in_tmp / "a.ndjson").write_bytes(_jsonl(_records()))
    (in_tmp / "b.txt").write_bytes(SEEDS[0].read_bytes())
    one = _run("clean", "a.ndjson")  # auto: a single JSON Lines file to standard output
    assert one.exit_code == 0
    assert _parse(one.stdout_bytes) == _expected(_records())
    text = _run("clean", "b.txt")
    assert text.stdout_bytes == _cleaner().clean(SEEDS[0].read_bytes()).text.encode()
    both = _run("clean", "a.ndjson", "b.txt", "-o", "out")
    assert both.exit_code == 0
    assert (in_tmp / "out" / "a.ndjson").read_bytes() == one.stdout_bytes
    assert (in_tmp / "out" / "b.txt").read_bytes() == text.stdout_bytes
    # A folder walk still takes *.txt only, unless JSON Lines is asked for.
    (in_tmp / "d").mkdir()
    for f in ("a.ndjson", "b.txt"):
        (in_tmp / "d" / f).write_bytes((in_tmp / f).read_bytes())
    walked = _run("clean", "d", "-o", "walk-text")
    assert sorted(p.name for p in (in_tmp / "walk-text").iterdir()) == ["b.txt"]
    walked = _run("clean", "d", "-o", "walk-jsonl", "--format", "jsonl")
    assert walked.exit_code == 0
    assert sorted(p.name for p in (in_tmp / "walk-jsonl").iterdir()) == ["a.ndjson"]


def test_a_malformed_line_is_named_skipped_and_the_run_goes_on(in_tmp: Path) -> None:
    records = _records()
    data = _jsonl(records, bad={2: b'{"id": "broken", "text": "no end', 4: b"[1, 2, 3]"})
    (in_tmp / "in.jsonl").write_bytes(data)
    (in_tmp / "also.txt").write_bytes(SEEDS[1].read_bytes())
    result = _run("clean", "in.jsonl", "also.txt", "-o", "out", "--report", "r.jsonl")
    assert result.exit_code == 1
    assert ("cleaner: error: in.jsonl:3: not a JSON object: Unterminated string starting at "
            "column 26") in result.stderr  # fmt: skip
    assert "(the line is skipped; fix or remove it)" in result.stderr
    assert "cleaner: error: in.jsonl:5: not a JSON object: an array" in result.stderr
    assert _parse((in_tmp / "out" / "in.jsonl").read_bytes()) == _expected(records)
    assert (in_tmp / "out" / "also.txt").exists()
    assert "2 files seen: 2 changed, 0 unchanged, 0 failed" in result.stderr
    assert f"{len(records) + 2} records in JSON Lines: {len(records)} changed" in result.stderr
    report = _parse((in_tmp / "r.jsonl").read_bytes())
    failed = [r for r in report if r["kind"] == "failed"]
    assert [(r["file"], r["line"]) for r in failed] == [("in.jsonl", 3), ("in.jsonl", 5)]


def test_a_record_without_the_text_field_names_the_option(in_tmp: Path) -> None:
    records = [{"doc": r["id"], "body": r["text"]} for r in _records()]
    (in_tmp / "in.jsonl").write_bytes(_jsonl(records))
    wrong = _run("clean", "in.jsonl", "-o", "out", "--id-field", "doc")
    assert wrong.exit_code == 1
    assert (f"in.jsonl:1: record '{records[0]['doc']}' has no \"text\" field (its fields: doc, "
            "body); name the right field with --text-field") in wrong.stderr  # fmt: skip
    right = _run("clean", "in.jsonl", "-o", "out", "--text-field", "body", "--id-field", "doc")
    assert right.exit_code == 0
    cleaned = _parse((in_tmp / "out" / "in.jsonl").read_bytes())
    assert [r["body"] for r in cleaned] == [_cleaner().clean(r["body"]).text for r in records]
    assert _run("clean", "in.jsonl", "--format", "text", "--text-field", "body").exit_code == 2


def test_stdin_to_stdout_plain_or_compressed(in_tmp: Path) -> None:
    records = _records()
    expected = _expected(records)
    for suffix in COMPRESS:
        data = COMPRESS[suffix](_jsonl(records, bad={1: b"not json"}))
        result = _run("clean", "-", "--format", "jsonl", input=data)
        assert result.exit_code == 1
        assert "cleaner: error: -:2: not a JSON object" in result.stderr
        assert _parse(result.stdout_bytes) == expected  # always plain on standard output
    # Without --format jsonl, standard input is text, as it always was.
    text = _run("clean", "-", input=_jsonl(records[:1]))
    assert text.exit_code == 0 and text.stdout_bytes.count(b"\n") >= 1


def test_a_real_pipe_through_a_subprocess(in_tmp: Path) -> None:
    data = _jsonl(_records())
    done = subprocess.run(
        [sys.executable, "-m", "cleaner", "clean", "-", "--format", "jsonl", "--quiet"],
        input=data, capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _parse(done.stdout) == _expected(_records())


def test_report_names_each_record_by_id_and_line(in_tmp: Path) -> None:
    records = _records()
    (in_tmp / "in.jsonl").write_bytes(_jsonl(records))
    result = _run("clean", "in.jsonl", "--dry-run", "--report", "r.jsonl")
    assert result.exit_code == 0
    assert not (in_tmp / "out").exists() and result.stdout == ""
    report = _parse((in_tmp / "r.jsonl").read_bytes())
    # As the API's corpus pass over the same records, named by file and line.
    articles = [(f"in.jsonl:{line}", source_key(record.get("url"), record.get("site")),
                 record["text"]) for line, record in enumerate(records, 1)]  # fmt: skip
    results, _ = clean_corpus(articles, _cleaner())
    for line, record in enumerate(records, 1):
        mine = [r for r in report if r["record"] == record["id"]]
        expected = [{"file": "in.jsonl", "line": line, "record": record["id"], **r}
                    for r in results[f"in.jsonl:{line}"].records()]  # fmt: skip
        assert mine == expected and mine
    assert {r["record"] for r in report} == {r["id"] for r in records}


def test_jobs_give_the_same_output_report_and_summary(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cleaner.cli, "CHUNK_LINES", 7)  # many chunks in flight at once
    records = _records(copies=12)
    data = _jsonl(records, bad={17: b"{oops"})
    (in_tmp / "in.jsonl.gz").write_bytes(gzip.compress(data))
    runs = {}
    for jobs in ("1", "2"):
        out = f"out{jobs}"
        result = _run("clean", "in.jsonl.gz", "-o", out, "--report", f"r{jobs}.jsonl", "-j", jobs)
        assert result.exit_code == 1
        runs[jobs] = (result.stderr, (in_tmp / out / "in.jsonl.gz").read_bytes(),
                      (in_tmp / f"r{jobs}.jsonl").read_bytes())  # fmt: skip
    assert runs["1"] == runs["2"]
    assert _parse(gzip.decompress(runs["1"][1])) == _expected(records)


def test_in_place_replaces_atomically_and_a_second_run_changes_nothing(in_tmp: Path) -> None:
    path = in_tmp / "in.jsonl.zst"
    path.write_bytes(COMPRESS[".zst"](_jsonl(_records())))
    path.chmod(0o640)
    first = _run("clean", path.name, "--in-place")
    assert first.exit_code == 0
    assert _parse(DECOMPRESS[".zst"](path.read_bytes())) == _expected(_records())
    assert path.stat().st_mode & 0o777 == 0o640
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    second = _run("clean", path.name, "--in-place")
    assert second.exit_code == 0
    assert "0 changed, 1 unchanged" in second.stderr
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before  # not even rewritten
    assert [p.name for p in in_tmp.iterdir()] == [path.name]


def test_in_place_leaves_a_file_with_a_bad_line_as_it_was(in_tmp: Path) -> None:
    data = _jsonl(_records(), bad={3: b'{"id": 1,}'})
    path = in_tmp / "in.jsonl"
    path.write_bytes(data)
    result = _run("clean", "in.jsonl", "--in-place")
    assert result.exit_code == 1
    assert "in.jsonl:4: not a JSON object" in result.stderr
    assert "(the file is left as it was; fix or remove it)" in result.stderr
    assert "1 failed" in result.stderr
    assert path.read_bytes() == data
    assert [p.name for p in in_tmp.iterdir()] == ["in.jsonl"]


def test_a_truncated_compressed_file_fails_and_nothing_is_half_written(in_tmp: Path) -> None:
    whole = gzip.compress(_jsonl(_records(copies=3)))
    (in_tmp / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    (in_tmp / "fine.jsonl").write_bytes(_jsonl(_records()))
    result = _run("clean", "cut.jsonl.gz", "fine.jsonl", "-o", "out")
    assert result.exit_code == 1
    assert "cleaner: error: cut.jsonl.gz: cannot read it past line" in result.stderr
    assert "out/cut.jsonl.gz was not written" in result.stderr
    assert sorted(p.name for p in (in_tmp / "out").iterdir()) == ["fine.jsonl"]


def test_a_killed_in_place_run_leaves_the_file_as_it_was(in_tmp: Path) -> None:
    path = in_tmp / "big.jsonl"
    data = _jsonl(_records(copies=120))
    path.write_bytes(data)
    command = [sys.executable, "-m", "cleaner", "clean", str(path), "--in-place", "--quiet"]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not [
            p for p in in_tmp.iterdir() if is_temp_name(p.name) and p.stat().st_size > 0
        ]:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # Its worker processes see that the run is gone and end (they once waited for ever).
    assert wait_until_gone(str(path)) == []
    assert path.read_bytes() == data
    rerun = _run("clean", ".", "--in-place", "--format", "jsonl")
    assert rerun.exit_code == 0
    assert _parse(path.read_bytes()) == _expected(_records(copies=120))
    # The killed run's temporary file is pointed out, never taken as input.
    assert "note: ./.big.jsonl.cleaner-tmp-" in rerun.stderr
    assert "1 file seen: 1 changed" in rerun.stderr


def test_summary_field_is_added_and_kept_on_a_second_run(in_tmp: Path) -> None:
    (in_tmp / "in.jsonl").write_bytes(_jsonl(_records()))
    first = _run("clean", "in.jsonl", "--in-place", "--summary-field", "cleaner")
    assert first.exit_code == 0
    once = (in_tmp / "in.jsonl").read_bytes()
    for record in _parse(once):
        assert record["cleaner"]["changed"] is True and record["cleaner"]["removals"] > 0
    again = _run("clean", "in.jsonl", "--in-place", "--summary-field", "cleaner")
    assert again.exit_code == 0
    assert (in_tmp / "in.jsonl").read_bytes() == once


@pytest.mark.skipif(not (ROOT / "cleaner" / "html.py").exists(), reason="no cleaner.html yet")
def test_html_field_records_get_their_text_from_the_page(in_tmp: Path) -> None:
    from cleaner.records import clean_record

    naeb = ROOT.parent / "shared" / "data" / "naeb-dev"
    articles = json.loads((naeb / "articles.json").read_text("utf-8"))
    records = []
    for key in sorted(articles)[:3]:
        with gzip.open(naeb / "html" / f"{key}.html.gz", "rb") as handle:
            html = handle.read().decode("utf-8", "replace")
        records.append({"id": key, "url": articles[key]["url"], "html": html})
    (in_tmp / "pages.jsonl").write_bytes(_jsonl(records))
    result = _run("clean", "pages.jsonl", "-o", "out", "--html-field", "html")
    assert result.exit_code == 0, result.stderr
    cleaned = _parse((in_tmp / "out" / "pages.jsonl").read_bytes())
    assert cleaned == [clean_record(r, html_field="html") for r in records]
    assert all(r["html"] == s["html"] and len(r["text"]) > 200 for r, s in zip(
        cleaned, records, strict=True))  # fmt: skip


# Chunks that a worker reads from the file itself (the Dask engine's workers on this machine)


_line = st.one_of(
    st.sampled_from([b"\n", b"  \n", b"\r\n", b"\t\r\n"]),  # blank lines
    st.binary(min_size=0, max_size=40).map(lambda b: b.replace(b"\n", b"") + b"x\n"),
    st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"\n", b"\r") + b"\r\n"),
)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(_line, max_size=60), last=st.binary(max_size=10), most=st.integers(1, 7))
def test_located_chunks_read_back_the_numbered_chunks(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[bytes],
    last: bytes,
    most: int,
) -> None:
    """Each located chunk, read from the file by a worker, is the chunk of numbered lines
    the main process would have sent: the same lines, numbers and chunk boundaries, blank
    lines and a last line without a newline included."""
    path = tmp_path_factory.mktemp("located") / "records.jsonl"
    path.write_bytes(b"".join(lines) + last.replace(b"\n", b""))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cleaner.cli, "CHUNK_LINES", most)
        patch.setattr(cleaner.cli, "CHUNK_BYTES", 64)
        with path.open("rb") as file:
            sent = list(cleaner.cli._numbered_chunks(file))
        raw, stamp = open_input(path)
        with raw:
            located = list(cleaner.cli._located_chunks(raw, 1, path, stamp))
    assert [chunk.read() for chunk in located] == sent
    assert all(chunk for chunk in sent)


def test_a_located_chunk_of_a_file_replaced_since_fails_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_bytes(b'{"text": "one"}\n{"text": "two"}\n')
    raw, stamp = open_input(path)
    with raw:
        (chunk,) = cleaner.cli._located_chunks(raw, 1, path, stamp)
    replacement = tmp_path / "new.jsonl"
    replacement.write_bytes(path.read_bytes())
    replacement.replace(path)  # the same bytes, another file: not the version the run read
    with pytest.raises(cleaner.cli._ReadError, match=r"changed while it was read \(at line 1\)"):
        chunk.read()
    path.unlink()
    with pytest.raises(cleaner.cli._ReadError, match=r"cannot read it \(at line 1\)"):
        chunk.read()


def test_a_line_outcome_pickles_every_field() -> None:
    # LineOutcome pickles as its fields in order (it goes from worker to run for each line):
    # every field, set away from its default, comes back.
    import dataclasses
    import pickle

    from cleaner.records import LineOutcome

    values = {"line": 7, "output": b"{}\n", "record_id": {"id": 3}, "changed": True,
              "rewritten": True, "removed": (("byline", 12),), "report": ({"kind": "x"},),
              "problem": "record", "message": "no text", "field": "body"}  # fmt: skip
    assert [f.name for f in dataclasses.fields(LineOutcome)] == list(values)
    outcome = LineOutcome(**values)  # type: ignore[arg-type]
    for field in dataclasses.fields(LineOutcome):
        assert getattr(outcome, field.name) != field.default, field.name
    assert pickle.loads(pickle.dumps(outcome)) == outcome


def test_a_chunk_written_to_a_part_file_reads_back_as_it_was_cleaned(tmp_path: Path) -> None:
    # What a Dask worker on this machine writes for the run to read: the same outcomes,
    # report lines and output as the chunk cleaned and sent back whole, and the file removed.
    from cleaner.cli import _clean_line_chunk, _clean_line_chunk_to, _read_part
    from cleaner.records import RecordFields

    lines = [
        (1, json.dumps({"id": 1, "text": "A line.\n\nRead more: the other story\n"}).encode()),
        (2, b"{not json"),
        (3, json.dumps({"id": "é", "text": "Un texte. \udcff café\n"}).encode() + b"\n"),
        (5, json.dumps({"id": 5, "text": "Nothing to remove here, a plain sentence."}).encode()),
    ]
    cleaner, spec = Cleaner(), RecordFields()
    whole = _clean_line_chunk(cleaner, spec, "a.jsonl", True, (lines, {}))
    done = _clean_line_chunk_to(cleaner, spec, "a.jsonl", True, str(tmp_path), (lines, {}))
    assert Path(done[2]).parent == tmp_path
    assert _read_part(done) == whole
    assert list(tmp_path.iterdir()) == []
    outcomes, reports, output = whole
    assert [o.output is None for o in outcomes] == [False, True, False, False]
    assert reports[0] and not reports[1] and output.count(b"\n") == 3
