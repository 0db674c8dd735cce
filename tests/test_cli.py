"""The command line on real seed articles: where text goes, what is reported, what is safe."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import wait_until_gone

from cleaner import Category, Cleaner
from cleaner.cli import main
from cleaner.corpus_pass import clean_corpus
from cleaner.explain import explain_lines, file_records
from cleaner.files import is_temp_name

SEEDS = sorted((Path(__file__).parent.parent / "fixtures" / "seeds" / "input").glob("*.txt"))
CATEGORIES = {c.value for c in Category}


@cache
def _cleaner() -> Cleaner:
    return Cleaner()


@cache
def _expected(data: bytes) -> bytes:
    return _cleaner().clean(data).text.encode("utf-8")


def _run(*args: str | Path, input: bytes | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def _corpus(root: Path) -> Path:
    """The seeds in a folder with a subfolder: a few top-level files, the rest below."""
    root.mkdir()
    (root / "sub").mkdir()
    for i, seed in enumerate(SEEDS):
        shutil.copyfile(seed, root / ("sub" if i % 2 else ".") / seed.name)
    return root


def _snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            st = path.lstat()
            out[path.relative_to(root).as_posix()] = (path.read_bytes(), st.st_mode, st.st_mtime_ns)
    return out


def _files(root: Path) -> Iterator[Path]:
    return (p for p in sorted(root.rglob("*.txt")) if p.is_file())


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_seeds_change_and_their_cleaning_is_a_fixed_point() -> None:
    # The in-place guarantees below rest on this: cleaning cleaned text changes nothing.
    for seed in SEEDS:
        once = _expected(seed.read_bytes())
        assert once != seed.read_bytes()
        assert _expected(once) == once, seed.name


def test_in_place_cleans_keeps_mode_and_a_second_run_changes_nothing(in_tmp: Path) -> None:
    corpus = _corpus(in_tmp / "corpus")
    originals = {p: p.read_bytes() for p in _files(corpus)}
    odd_mode = next(iter(originals))
    odd_mode.chmod(0o604)

    first = _run("clean", "corpus", "--in-place")
    assert first.exit_code == 0, first.output
    for path, data in originals.items():
        assert path.read_bytes() == _expected(data)
    assert stat.S_IMODE(odd_mode.stat().st_mode) == 0o604
    assert f"{len(SEEDS)} files seen: {len(SEEDS)} changed, 0 unchanged" in first.stderr
    assert "characters removed: " in first.stderr and "comment_policy" in first.stderr

    before = _snapshot(corpus)
    second = _run("clean", "corpus", "--in-place")
    assert second.exit_code == 0
    assert f"0 changed, {len(SEEDS)} unchanged" in second.stderr
    assert _snapshot(corpus) == before  # not even rewritten: same mtimes


def test_output_folder_mirrors_paths_and_leaves_originals(in_tmp: Path) -> None:
    corpus = _corpus(in_tmp / "corpus")
    before = _snapshot(corpus)
    result = _run("clean", "corpus", "-o", "out")
    assert result.exit_code == 0, result.output
    assert _snapshot(corpus) == before
    written = sorted(p.relative_to(in_tmp / "out") for p in _files(in_tmp / "out"))
    assert written == sorted(p.relative_to(corpus) for p in _files(corpus))
    for rel in written:
        assert (in_tmp / "out" / rel).read_bytes() == _expected((corpus / rel).read_bytes())


def test_single_file_and_stdin_go_to_stdout(in_tmp: Path) -> None:
    seed = SEEDS[0]
    from_file = _run("clean", seed)
    assert from_file.exit_code == 0
    assert from_file.stdout_bytes == _expected(seed.read_bytes())
    assert "1 file seen: 1 changed" in from_file.stderr
    from_stdin = _run("clean", "-", input=seed.read_bytes())
    assert from_stdin.exit_code == 0
    assert from_stdin.stdout_bytes == _expected(seed.read_bytes())


def test_dry_run_changes_nothing_but_reports(in_tmp: Path) -> None:
    corpus = _corpus(in_tmp / "corpus")
    before = _snapshot(corpus)
    for mode in (["--in-place"], ["-o", "out"], []):
        result = _run("clean", "corpus", "--dry-run", "--report", "r.jsonl", *mode)
        assert result.exit_code == 0, result.output
        assert _snapshot(corpus) == before
        assert not (in_tmp / "out").exists()
        assert result.stdout == ""
        assert f"{len(SEEDS)} changed" in result.stderr and "dry run" in result.stderr
        records = [json.loads(line) for line in (in_tmp / "r.jsonl").read_text().splitlines()]
        assert any(r["kind"] == "removal" for r in records)


def test_report_has_every_record_of_every_file(in_tmp: Path) -> None:
    corpus = _corpus(in_tmp / "corpus")
    originals = {p: p.read_bytes() for p in _files(corpus)}
    result = _run("clean", "corpus", "--in-place", "--report", "report.jsonl")
    assert result.exit_code == 0
    lines = [json.loads(line) for line in (in_tmp / "report.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in lines} <= {"removal", "repair", "note"}
    assert {r["category"] for r in lines if r["kind"] == "removal"} <= CATEGORIES
    # The same as the API's corpus pass over the same files (no source: text files).
    articles = [(os.path.relpath(p, in_tmp), None, data) for p, data in originals.items()]
    results, _ = clean_corpus(articles, _cleaner())
    for display, result in results.items():
        mine = [r for r in lines if r["file"] == display]
        assert mine and mine == file_records(result, display)
    assert {r["file"] for r in lines} == {os.path.relpath(p, in_tmp) for p in originals}
    assert any(r["kind"] == "note" and r["code"] == "shared_passage" for r in lines)


def test_usage_errors(in_tmp: Path) -> None:
    corpus = _corpus(in_tmp / "corpus")
    several = _run("clean", corpus)
    assert several.exit_code == 2
    assert "--in-place" in several.stderr and "-o DIR" in several.stderr
    assert _run("clean", SEEDS[0], SEEDS[1]).exit_code == 2
    assert _run("clean", "corpus", "--in-place", "-o", "out").exit_code == 2
    assert _run("clean", "-", "--in-place", input=b"x").exit_code == 2
    (in_tmp / "a").mkdir()
    (in_tmp / "b").mkdir()
    shutil.copyfile(SEEDS[0], in_tmp / "a" / "x.txt")
    shutil.copyfile(SEEDS[1], in_tmp / "b" / "x.txt")
    clash = _run("clean", "a", "b", "-o", "out")
    assert clash.exit_code == 2 and "would both be written" in clash.stderr
    assert not (in_tmp / "out").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files without read permission")
def test_unreadable_file_fails_alone(in_tmp: Path) -> None:
    corpus = _corpus(in_tmp / "corpus")
    locked = next(_files(corpus))
    locked.chmod(0)
    result = _run("clean", "corpus", "--in-place")
    assert result.exit_code == 1
    assert f"error: {os.path.relpath(locked, in_tmp)}" in result.stderr
    assert "permission denied" in result.stderr
    assert f"{len(SEEDS) - 1} changed, 0 unchanged, 1 failed" in result.stderr


def test_a_dangling_symlink_fails_alone_and_the_rest_is_written(in_tmp: Path) -> None:
    corpus = _corpus(in_tmp / "corpus")
    (corpus / "gone.txt").symlink_to(corpus / "never-was.txt")
    result = _run("clean", "corpus", "-o", "out", "--report", "r.jsonl")
    assert result.exit_code == 1
    assert "error: corpus/gone.txt: cannot read it: no such file" in result.stderr
    assert f"{len(SEEDS)} changed, 0 unchanged, 1 failed, 0 skipped" in result.stderr
    assert len(list(_files(in_tmp / "out"))) == len(SEEDS)
    lines = [json.loads(x) for x in (in_tmp / "r.jsonl").read_text().splitlines()]
    failed = [r for r in lines if r["kind"] == "failed"]
    assert [r["file"] for r in failed] == ["corpus/gone.txt"]
    assert "no such file" in failed[0]["message"]


def test_an_unwritable_output_fails_alone(in_tmp: Path) -> None:
    corpus = _corpus(in_tmp / "corpus")
    first = next(_files(corpus)).relative_to(corpus)
    (in_tmp / "out" / first).mkdir(parents=True)  # a folder where the copy should go
    result = _run("clean", "corpus", "-o", "out")
    assert result.exit_code == 1
    assert f"cannot write out/{first}" in result.stderr
    assert len(list(_files(in_tmp / "out"))) == len(SEEDS) - 1
    assert not [p for p in (in_tmp / "out").rglob("*") if is_temp_name(p.name)]


def test_binary_file_is_skipped_not_failed(in_tmp: Path) -> None:
    corpus = _corpus(in_tmp / "corpus")
    blob = corpus / "image.txt"
    blob.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    before = blob.read_bytes()
    result = _run("clean", "corpus", "--in-place")
    assert result.exit_code == 0
    assert "skipped corpus/image.txt: looks like a binary file" in result.stderr
    assert f"{len(SEEDS)} changed, 0 unchanged, 0 failed, 1 skipped" in result.stderr
    assert blob.read_bytes() == before


def test_jobs_do_not_change_outputs_report_or_summary(in_tmp: Path) -> None:
    corpus = in_tmp / "corpus"
    corpus.mkdir()
    for i in range(6):
        for seed in SEEDS:
            (corpus / f"d{i % 3}").mkdir(exist_ok=True)
            shutil.copyfile(seed, corpus / f"d{i % 3}" / f"{i}-{seed.name}")
    (corpus / "d1" / "blob.txt").write_bytes(b"\x00\x01binary")
    one = _run("clean", "corpus", "-o", "out1", "--report", "r1.jsonl", "--jobs", "1")
    two = _run("clean", "corpus", "-o", "out2", "--report", "r2.jsonl", "--jobs", "2")
    assert one.exit_code == two.exit_code == 0
    assert one.stderr == two.stderr
    assert (in_tmp / "r1.jsonl").read_bytes() == (in_tmp / "r2.jsonl").read_bytes()
    snap1, snap2 = _snapshot(in_tmp / "out1"), _snapshot(in_tmp / "out2")
    assert {k: v[0] for k, v in snap1.items()} == {k: v[0] for k, v in snap2.items()}
    assert len(snap1) == 6 * len(SEEDS)


def test_symlinks_are_never_followed_out_nor_written_through(in_tmp: Path) -> None:
    corpus = _corpus(in_tmp / "corpus")
    outside = in_tmp / "outside.txt"
    shutil.copyfile(SEEDS[0], outside)
    (corpus / "escape.txt").symlink_to(outside)
    inner = next(_files(corpus))
    (corpus / "alias.txt").symlink_to(inner.name)
    result = _run("clean", "corpus", "--in-place")
    assert result.exit_code == 0, result.output
    assert outside.read_bytes() == SEEDS[0].read_bytes()
    assert "skipped corpus/escape.txt: a symlink pointing outside corpus" in result.stderr
    assert "skipped corpus/alias.txt: a symlink to" in result.stderr
    assert (corpus / "alias.txt").is_symlink() and (corpus / "escape.txt").is_symlink()
    assert f"{len(SEEDS)} changed, 0 unchanged, 0 failed, 2 skipped" in result.stderr

    copied = _run("clean", "corpus", "-o", "out")
    assert copied.exit_code == 0
    assert not (in_tmp / "out" / "escape.txt").exists()
    assert (in_tmp / "out" / "alias.txt").read_bytes() == inner.read_bytes()  # read through


def test_hard_linked_file_is_not_split_in_place(in_tmp: Path) -> None:
    corpus = _corpus(in_tmp / "corpus")
    first = next(_files(corpus))
    os.link(first, in_tmp / "elsewhere.txt")
    before = first.read_bytes()
    result = _run("clean", "corpus", "--in-place")
    assert result.exit_code == 0
    assert "hard links" in result.stderr
    assert first.read_bytes() == before == (in_tmp / "elsewhere.txt").read_bytes()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_killed_run_leaves_each_file_old_or_fully_cleaned(in_tmp: Path, jobs: str) -> None:
    corpus = in_tmp / "corpus"
    originals: dict[Path, bytes] = {}
    for i in range(60):
        folder = corpus / f"d{i % 6}"
        folder.mkdir(parents=True, exist_ok=True)
        for seed in SEEDS:
            originals[folder / f"{i:02d}-{seed.name}"] = seed.read_bytes()
    for path, data in originals.items():
        path.write_bytes(data)
    # Files are cleaned in sorted order: wait until a third of them are done, then kill.
    marker = sorted(originals, key=lambda p: p.relative_to(corpus).parts)[len(originals) // 3]
    cleaned_marker = _expected(originals[marker])

    command = [sys.executable, "-c", "from cleaner.cli import main; main()",
               "clean", str(corpus), "--in-place", "--quiet", "--no-corpus",
               "--jobs", jobs]  # fmt: skip
    proc = subprocess.Popen(command, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while marker.read_bytes() != cleaned_marker and time.monotonic() < deadline:
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    if jobs != "1":
        # The workers of a killed run finish the file at hand and stop: nothing changes after.
        time.sleep(1.0)
        before = {path: path.read_bytes() for path in originals}
        time.sleep(1.0)
        assert {path: path.read_bytes() for path in originals} == before
        assert wait_until_gone(str(corpus)) == []  # and then end

    states = {"old": 0, "cleaned": 0}
    for path, data in originals.items():
        now = path.read_bytes()
        assert now in (data, _expected(data)), path
        states["old" if now == data else "cleaned"] += 1
    assert states["cleaned"] >= 1
    leftovers = [p for p in corpus.rglob("*") if p.is_file() and p not in originals]
    assert all(is_temp_name(p.name) for p in leftovers), leftovers

    # Without the corpus pass: a rerun's corpus (some files cleaned) is not the first run's.
    rerun = _run("clean", "corpus", "--in-place", "--report", "r.jsonl", "--jobs", "2",
                 "--no-corpus")  # fmt: skip
    assert rerun.exit_code == 0, rerun.output
    summary = f"{len(originals)} files seen: {states['old']} changed, {states['cleaned']} unchanged"
    assert summary in rerun.stderr
    for path, data in originals.items():
        assert path.read_bytes() == _expected(data)
    reported = {json.loads(x)["file"] for x in (in_tmp / "r.jsonl").read_text().splitlines()}
    assert not [f for f in reported if is_temp_name(Path(f).name)]


def test_explain_shows_verdicts_reasons_and_colour_only_when_asked(in_tmp: Path) -> None:
    seed = SEEDS[2]
    result = _cleaner().clean(seed.read_bytes())
    plain = _run("explain", seed, "--no-color")
    assert plain.exit_code == 0
    assert "\x1b[" not in plain.stdout
    assert plain.stdout.splitlines() == explain_lines(result, width=80)
    for removal in result.removals:
        assert f"{removal.category.value} · {removal.rule_id}" in plain.stdout
    assert "keep " in plain.stdout and "remove " in plain.stdout
    coloured = _run("explain", seed, "--color")
    assert "\x1b[" in coloured.stdout
    as_json = _run("explain", "--json", "-", input=seed.read_bytes())
    assert [json.loads(x) for x in as_json.stdout.splitlines()] == file_records(result, "-")


def test_explain_lines_cover_every_block_and_removal() -> None:
    data = "Home / News / Story\n\nA real sentence of the article that stays.\n\n© AFP\n"
    result = _cleaner().clean(data)
    lines = explain_lines(result, width=None)
    verdicts = [line.split()[0] for line in lines if line[:1].isalpha() and "#" in line]
    assert len(verdicts) == len(result.blocks)
    assert verdicts.count("keep") >= 1
    assert len([v for v in verdicts if v != "keep"]) == len({r.block for r in result.removals})
    assert lines[-1].startswith(f"{len(result.blocks)} blocks:")


def test_explain_errors_name_the_file(in_tmp: Path) -> None:
    missing = _run("explain", "missing.txt")
    assert missing.exit_code == 1 and "missing.txt: cannot read it" in missing.stderr
    (in_tmp / "blob.bin").write_bytes(b"\x00\x01\x02")
    binary = _run("explain", "blob.bin")
    assert binary.exit_code == 1 and "binary" in binary.stderr


def test_version() -> None:
    result = _run("--version")
    assert result.exit_code == 0 and "cleaner, version" in result.stdout
