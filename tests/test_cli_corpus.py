"""The corpus pass of ``cleaner clean``, end to end: the seeds, and real naeb-dev gold texts
with planted repeats (a site's footer, a quote carried by two outlets, a syndicated copy) as
text folders and JSON Lines records; sources (--site-from), near-duplicates (reported,
moved, dropped), determinism, and the index kept between runs in SQLite and in Redis."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cleaner import Cleaner
from cleaner.cli import main
from cleaner.corpus import CorpusConfig
from cleaner.store import FORMAT, open_store

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "fixtures" / "seeds"
SHARED = Path(os.environ.get("CLEANER_SHARED_DIR", ROOT.parent / "shared"))
NAEB = SHARED / "data" / "naeb-dev"

# naeb-dev articles by their key: four pages of www.dailymail.co.uk, and two each of
# apnews.com, medicalxpress.com and arstechnica.com. None of them shares a passage with another
# as they are (checked in test_naeb_articles_share_nothing_until_planted).
DAILYMAIL = (
    "c199a6e825c93ba06873716a088dc5f3",  # Abbie Chatfield at the beach
    "c573b463485d8fc9d26a4a9802c5cc16",  # DJ Ace quits Radio 1Xtra
    "c9cb84b99c5933eb08a152c5f790e41a",  # inquest into a hit-and-run
    "700d03cce95246610c32f7d1ce57bf7f",  # Ivanka Trump in Israel
)
APNEWS = ("fed691ece5355f4d8e3900231d69f044", "3ac9004a451854825f1dc9a557fc87a8")
MEDICALXPRESS = ("8782207fc5d6e1d185fa1f034040c90a", "e4afa07a0064ca409931a61574fab1b7")
ARSTECHNICA = ("12d017f946dadcaf0ebacbf58ee81b24", "b22d168fa48367e24df24f03a58ee3e6")

#: A site's line under every article: short (corpus boilerplate when three sources carry it).
DAILYMAIL_FOOTER = "Do you have a story for MailOnline? Email tips@dailymail.com"
#: medicalxpress.com's notice under every article: longer than a short passage (200).
MEDICALXPRESS_NOTICE = (
    "This document is subject to copyright. Apart from any fair dealing for the purpose of "
    "private study or research, no part may be reproduced without the written permission. "
    "The content is provided for information purposes only."
)
#: Where the syndicated copy of the AP story is said to come from.
AOL_URL = "https://www.aol.com/news/florida-state-sues-acc-challenging-exit-fees-120000000.html"

SANDERS = "It is a proposal that was made in sincerity by President Putin"
CORPUS_CATEGORIES = {"site_boilerplate", "corpus_boilerplate", "shared_passage"}


@cache
def articles() -> dict[str, Any]:
    if not (NAEB / "articles.json").exists():
        pytest.skip(f"naeb-dev is not at {NAEB}")
    data: dict[str, Any] = json.loads((NAEB / "articles.json").read_text("utf-8"))
    return data


def body(key: str) -> str:
    text: str = articles()[key]["articleBody"]
    return text


def planted(text: str, *lines: str) -> str:
    """The text as a file (ending with one newline), with ``lines`` as paragraphs at its end."""
    return text.rstrip() + "".join(f"\n\n{line}" for line in lines) + "\n"


@cache
def quote() -> str:
    """A long quote paragraph of a medicalxpress.com article (an NIH official's)."""
    (paragraph,) = [p for p in body(MEDICALXPRESS[0]).split("\n\n") if "Auchincloss" in p]
    assert len(paragraph) > 300  # longer than a short passage: never corpus boilerplate
    return paragraph


def quoted_elsewhere() -> str:
    """An arstechnica.com article that carries the same quote as its third paragraph."""
    paragraphs = body(ARSTECHNICA[0]).split("\n\n")
    paragraphs.insert(2, quote())
    return planted("\n\n".join(paragraphs))


@cache
def syndicated_copy() -> str:
    """The AP story as another outlet runs it: the same text with a few words changed."""
    edited = body(APNEWS[0])
    for old, new in (("on Friday", "on Thursday"), ("lengthy", "long"),
                     ("chairman Peter Collins", "chair Peter Collins")):  # fmt: skip
        assert old in edited
        edited = edited.replace(old, new, 1)
    return planted(edited)


@cache
def _cleaner() -> Cleaner:
    return Cleaner()


def cleaned(text: str) -> str:
    """The article cleaned on its own (no corpus pass)."""
    return _cleaner().clean(text).text


def _run(*args: str | int | Path, input: bytes | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def _report(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def _corpus_lines(report: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The report's lines that the corpus pass made: its removals, notes and duplicates."""
    return [
        r for r in report
        if r.get("category") in CORPUS_CATEGORIES or r.get("code") == "shared_passage"
        or r["kind"] in ("duplicate_article", "dropped")
    ]  # fmt: skip


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def record(key: str, text: str | None = None, **fields: str) -> dict[str, Any]:
    """A naeb-dev article as a JSON Lines record, with its url and site."""
    article = articles()[key]
    return {
        "id": key[:12], "url": article["url"], "site": article["site"],
        "title": article["title"], "text": text if text is not None else planted(body(key)),
        **fields,
    }  # fmt: skip


def _jsonl(records: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def site_folders() -> dict[str, str]:
    """Text files by folder: three Daily Mail articles with the site's footer, two
    medicalxpress articles with its (long) notice, and two other articles."""
    return {
        "news/dailymail/chatfield.txt": planted(body(DAILYMAIL[0]), DAILYMAIL_FOOTER),
        "news/dailymail/radio-1xtra.txt": planted(body(DAILYMAIL[1]), DAILYMAIL_FOOTER),
        "news/dailymail/inquest.txt": planted(body(DAILYMAIL[2]), DAILYMAIL_FOOTER),
        "news/medicalxpress/asthma.txt": planted(body(MEDICALXPRESS[0]), MEDICALXPRESS_NOTICE),
        "news/medicalxpress/statins.txt": planted(body(MEDICALXPRESS[1]), MEDICALXPRESS_NOTICE),
        "news/other/acc-lawsuit.txt": planted(body(APNEWS[0])),
        "news/other/ftc.txt": planted(body(ARSTECHNICA[1])),
    }


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- the seeds ---------------------------------------------------------------------------------


def test_seeds_keep_every_block_and_report_the_shared_sanders_quote(in_tmp: Path) -> None:
    shutil.copytree(SEEDS / "input", "seeds")
    result = _run("clean", "seeds", "-o", "out", "--report", "r.jsonl")
    assert result.exit_code == 0, result.output
    expected = sorted((SEEDS / "expected").glob("*.txt"))
    assert sorted(p.name for p in (in_tmp / "out").iterdir()) == [p.name for p in expected]
    for path in expected:
        assert (in_tmp / "out" / path.name).read_bytes() == path.read_bytes(), path.name
    corpus = _corpus_lines(_report(in_tmp / "r.jsonl"))
    assert {(r["file"], r["kind"], r.get("code")) for r in corpus} == {
        ("seeds/000_55b17ee8af4cc6ce.txt", "note", "shared_passage"),
        ("seeds/002_c0295e50ead3f3c5.txt", "note", "shared_passage"),
    }
    message = {r["file"].removeprefix("seeds/")[:3]: r["message"] for r in corpus}
    assert "also in seeds/002_c0295e50ead3f3c5.txt (2 sources); kept" in message["000"]
    assert "also in seeds/000_55b17ee8af4cc6ce.txt (2 sources); kept" in message["002"]
    # The quote is in both outputs.
    for name in ("000_55b17ee8af4cc6ce.txt", "002_c0295e50ead3f3c5.txt"):
        assert SANDERS in (in_tmp / "out" / name).read_text("utf-8")
    assert ("corpus pass: 5 articles, 0 near-duplicates in 0 clusters, 1 passage shared "
            "across sources (2 copies, kept)") in result.stderr  # fmt: skip


# --- JSON Lines of naeb-dev articles ------------------------------------------------------------


def news_records() -> list[dict[str, Any]]:
    """Nine records: three Daily Mail articles with the site's footer (lines 1, 3, 6), a fourth
    without it (7); the AP story (2) and its syndicated copy on aol.com (8); the NIH quote in
    a medicalxpress article (4) and in an arstechnica one (5); another medicalxpress one (9)."""
    return [
        record(DAILYMAIL[0], planted(body(DAILYMAIL[0]), DAILYMAIL_FOOTER)),
        record(APNEWS[0]),
        record(DAILYMAIL[1], planted(body(DAILYMAIL[1]), DAILYMAIL_FOOTER)),
        record(MEDICALXPRESS[0]),
        record(ARSTECHNICA[0], quoted_elsewhere()),
        record(DAILYMAIL[2], planted(body(DAILYMAIL[2]), DAILYMAIL_FOOTER)),
        record(DAILYMAIL[3]),
        record(APNEWS[0], syndicated_copy(), id="aol-copy", url=AOL_URL, site="http://aol.com"),
        record(MEDICALXPRESS[1]),
    ]


def test_naeb_articles_share_nothing_until_planted(in_tmp: Path) -> None:
    # The ground the other tests stand on: as they are, these articles give the corpus pass
    # nothing to say, so whatever it says below comes from what was planted.
    plain = [record(k) for k in (*DAILYMAIL, *APNEWS, *MEDICALXPRESS, *ARSTECHNICA)]
    (in_tmp / "plain.jsonl").write_text(_jsonl(plain), encoding="utf-8")
    result = _run("clean", "plain.jsonl", "-o", "out", "--report", "r.jsonl")
    assert result.exit_code == 0, result.output
    assert _corpus_lines(_report(in_tmp / "r.jsonl")) == []
    assert [r["text"] for r in _records(in_tmp / "out" / "plain.jsonl")] == [
        cleaned(r["text"]) for r in plain
    ]
    assert "corpus pass: 10 articles, 0 near-duplicates in 0 clusters, 0 passages" in result.stderr


def test_jsonl_site_footer_goes_quote_stays_and_the_copy_is_reported(in_tmp: Path) -> None:
    records = news_records()
    (in_tmp / "news.jsonl").write_text(_jsonl(records), encoding="utf-8")
    result = _run("clean", "news.jsonl", "-o", "out", "--report", "r.jsonl")
    assert result.exit_code == 0, result.output
    out = _records(in_tmp / "out" / "news.jsonl")
    assert [{k: v for k, v in r.items() if k != "text"} for r in out] == [
        {k: v for k, v in r.items() if k != "text"} for r in records
    ]
    footed = {1: DAILYMAIL[0], 3: DAILYMAIL[1], 6: DAILYMAIL[2]}
    for line, (got, given) in enumerate(zip(out, records, strict=True), 1):
        if line in footed:
            # The footer goes, and nothing else of the article.
            assert DAILYMAIL_FOOTER not in got["text"]
            assert got["text"] == cleaned(planted(body(footed[line]))), line
        else:
            assert got["text"] == cleaned(given["text"]), line
    assert quote() in out[3]["text"] and quote() in out[4]["text"]

    corpus = _corpus_lines(_report(in_tmp / "r.jsonl"))
    removals = [r for r in corpus if r["kind"] == "removal"]
    assert sorted(r["line"] for r in removals) == [1, 3, 6]
    for r in removals:
        assert r["file"] == "news.jsonl" and r["record"] == records[r["line"] - 1]["id"]
        assert r["category"] == "site_boilerplate" and r["rule_id"] == "site_boilerplate.exact"
        assert r["text"].strip() == DAILYMAIL_FOOTER
        others = sorted({1, 3, 6} - {r["line"]})
        assert r["evidence"].startswith(
            f"repeated in 3 articles of dailymail.co.uk: news.jsonl:{others[0]}, "
            f"news.jsonl:{others[1]};"
        ), r["evidence"]
    notes = {r["line"]: r["message"] for r in corpus if r["kind"] == "note"}
    assert sorted(notes) == [4, 5]
    assert "also in news.jsonl:5 (2 sources); kept" in notes[4]
    assert "also in news.jsonl:4 (2 sources); kept" in notes[5]
    (duplicate,) = [r for r in corpus if r["kind"] == "duplicate_article"]
    assert duplicate["kept"] == "news.jsonl:2" and duplicate["similarity"] >= 0.8
    # How the copy is named is test_a_duplicate_record_is_named_...'s business.
    assert duplicate["file"] == "news.jsonl:8" or duplicate.get("line") == 8
    assert len(corpus) == 6
    assert "9 records in JSON Lines: 4 changed, 5 unchanged, 0 failed" in result.stderr
    summary = (
        "corpus pass: 9 articles, 1 near-duplicate in 1 cluster, 1 passage shared across "
        "sources (2 copies, kept) (near-duplicates are only reported"
    )
    assert summary in result.stderr
    assert "characters removed: site_boilerplate " in result.stderr

    # --drop-duplicates leaves the copy out, and says so.
    dropped = _run("clean", "news.jsonl", "-o", "out2", "--drop-duplicates", "--report", "r2.jsonl")
    assert dropped.exit_code == 0, dropped.output
    assert _records(in_tmp / "out2" / "news.jsonl") == out[:7] + out[8:]
    dropped_line = {"file": "news.jsonl", "line": 8, "record": "aol-copy", "kind": "dropped",
                    "message": "a near-duplicate of news.jsonl:2"}  # fmt: skip
    assert dropped_line in _report(in_tmp / "r2.jsonl")
    assert "1 near-duplicate" in dropped.stderr and "dropped" in dropped.stderr
    assert "9 records in JSON Lines: 4 changed, 4 unchanged, 0 failed" in dropped.stderr
    assert "only reported" not in dropped.stderr

    # --drop-shared takes the quote's later copy (line 5) and keeps the first (line 4).
    shared = _run("clean", "news.jsonl", "-o", "out3", "--drop-shared", "--report", "r3.jsonl")
    assert shared.exit_code == 0, shared.output
    out3 = _records(in_tmp / "out3" / "news.jsonl")
    assert quote() in out3[3]["text"] and quote() not in out3[4]["text"]
    assert out3[4]["text"] == cleaned(planted(body(ARSTECHNICA[0])))
    (later,) = [r for r in _report(in_tmp / "r3.jsonl") if r.get("category") == "shared_passage"]
    assert later["line"] == 5 and "a later copy, dropped" in later["evidence"]
    assert "(2 copies, later ones dropped)" in shared.stderr


def test_the_first_record_of_a_file_is_the_one_kept(in_tmp: Path) -> None:
    # "The first by name": a record's name is FILE:LINE, and line 2 comes before line 11.
    filler = [record(k) for k in (*DAILYMAIL, APNEWS[1], *MEDICALXPRESS, *ARSTECHNICA)]
    copy = record(APNEWS[0], syndicated_copy(), id="aol-copy", url=AOL_URL)
    records = [filler[0], record(APNEWS[0]), *filler[1:], copy]
    assert len(records) == 11
    (in_tmp / "feed.jsonl").write_text(_jsonl(records), encoding="utf-8")
    result = _run("clean", "feed.jsonl", "-o", "out", "--drop-duplicates", "--report", "r.jsonl")
    assert result.exit_code == 0, result.output
    ids = [r["id"] for r in _records(in_tmp / "out" / "feed.jsonl")]
    assert ids == [r["id"] for r in records[:10]], "the original (line 2) was dropped"
    (duplicate,) = [r for r in _report(in_tmp / "r.jsonl") if r["kind"] == "duplicate_article"]
    assert duplicate["kept"] == "feed.jsonl:2"


def test_a_duplicate_record_is_named_as_the_other_report_lines_name_records(in_tmp: Path) -> None:
    # Every other report line of a record says file, line and record id (README: "The report
    # names records by id and line"); so does the dropped line for the same record.
    (in_tmp / "news.jsonl").write_text(_jsonl(news_records()), encoding="utf-8")
    result = _run("clean", "news.jsonl", "-o", "out", "--drop-duplicates", "--report", "r.jsonl")
    assert result.exit_code == 0, result.output
    report = _report(in_tmp / "r.jsonl")
    (dropped,) = [r for r in report if r["kind"] == "dropped"]
    assert (dropped["file"], dropped["line"]) == ("news.jsonl", 8)
    (duplicate,) = [r for r in report if r["kind"] == "duplicate_article"]
    named = (duplicate["file"], duplicate.get("line"), duplicate.get("record"))
    assert named == ("news.jsonl", 8, "aol-copy"), duplicate
    assert duplicate["kept"] == "news.jsonl:2"


# --- text folders: sources, duplicates moved ---------------------------------------------------


def test_site_from_dir_url_and_none_on_text_folders(in_tmp: Path) -> None:
    files = site_folders()
    _write(in_tmp, files)
    runs = {}
    for mode in ("dir", "url", "none"):
        result = _run("clean", "news", "-o", f"out-{mode}", "--report", f"r-{mode}.jsonl",
                      "--site-from", mode)  # fmt: skip
        assert result.exit_code == 0, result.output
        runs[mode] = (_tree(in_tmp / f"out-{mode}"), _report(in_tmp / f"r-{mode}.jsonl"))
    dailymail = [rel for rel in files if "/dailymail/" in rel]
    medicalxpress = [rel for rel in files if "/medicalxpress/" in rel]

    # By folder: each site's repeat is its boilerplate; everything else stays.
    out, report = runs["dir"]
    for rel, text in files.items():
        stripped = text.replace(f"\n\n{DAILYMAIL_FOOTER}", "")
        stripped = stripped.replace(f"\n\n{MEDICALXPRESS_NOTICE}", "")
        assert out[rel.removeprefix("news/")] == cleaned(stripped).encode(), rel
    corpus = _corpus_lines(report)
    assert {(r["file"], r.get("category") or r["code"]) for r in corpus} == {
        (rel, "site_boilerplate") for rel in dailymail + medicalxpress
    }
    evidence = {r["file"]: r["evidence"] for r in corpus}
    assert evidence["news/dailymail/chatfield.txt"].startswith(
        "repeated in 3 articles of news/dailymail: news/dailymail/inquest.txt, "
        "news/dailymail/radio-1xtra.txt;"
    )
    assert evidence["news/medicalxpress/asthma.txt"].startswith(
        "repeated in 2 articles of news/medicalxpress: news/medicalxpress/statins.txt;"
    )

    # By URL (the default): text files have none, so each is its own source. The short footer
    # is in three sources: corpus boilerplate. The long notice in two is a shared passage, kept.
    out, report = runs["url"]
    for rel, text in files.items():
        without_footer = text.replace(f"\n\n{DAILYMAIL_FOOTER}", "")
        assert out[rel.removeprefix("news/")] == cleaned(without_footer).encode(), rel
    corpus = _corpus_lines(report)
    assert {(r["file"], r.get("category") or r["code"]) for r in corpus} == {
        *((rel, "corpus_boilerplate") for rel in dailymail),
        *((rel, "shared_passage") for rel in medicalxpress),
    }
    for r in corpus:
        if r["kind"] == "removal":
            assert r["evidence"].startswith(
                "repeated across 3 sources (at least 3 make boilerplate): "
            ), r["evidence"]
        else:
            assert "(2 sources); kept" in r["message"]
    for rel in medicalxpress:
        assert MEDICALXPRESS_NOTICE in out[rel.removeprefix("news/")].decode()

    # None: no sources at all; for text files the same as by URL.
    assert runs["none"] == runs["url"]


def test_no_corpus_cleans_each_article_on_its_own(in_tmp: Path) -> None:
    files = site_folders()
    _write(in_tmp, files)
    result = _run("clean", "news", "-o", "out", "--report", "r.jsonl", "--no-corpus")
    assert result.exit_code == 0, result.output
    out = _tree(in_tmp / "out")
    assert out == {rel.removeprefix("news/"): cleaned(text).encode() for rel, text in files.items()}
    assert DAILYMAIL_FOOTER in out["dailymail/inquest.txt"].decode()
    assert _corpus_lines(_report(in_tmp / "r.jsonl")) == []
    assert "corpus pass" not in result.stderr
    assert _run("clean", "news", "-o", "out-corpus", "--quiet").exit_code == 0
    assert _tree(in_tmp / "out-corpus") != out  # the corpus pass would have changed it


def duplicate_folder() -> dict[str, str]:
    return {
        "news/apnews/florida-state-acc.txt": planted(body(APNEWS[0])),
        "news/apnews/other.txt": planted(body(APNEWS[1])),
        "news/syndicated/florida-state-acc.txt": syndicated_copy(),
        "news/medicalxpress/asthma.txt": planted(body(MEDICALXPRESS[0])),
        "news/arstechnica/age-checks.txt": quoted_elsewhere(),
    }


def test_move_duplicates_in_place_with_output_and_dry_run(in_tmp: Path) -> None:
    files = duplicate_folder()
    copy = "news/syndicated/florida-state-acc.txt"
    _write(in_tmp, files)
    originals = _snapshot(in_tmp / "news")

    # Dry run: nothing moved, nothing written, the summary says what would be.
    dry = _run("clean", "news", "--in-place", "--dry-run", "--move-duplicates", "dups")
    assert dry.exit_code == 0, dry.output
    assert _snapshot(in_tmp / "news") == originals and not (in_tmp / "dups").exists()
    assert "1 near-duplicate moved" in dry.stderr and "dry run" in dry.stderr

    # With -o: the copy is copied to DIR (not cleaned into -o), the input is left as it was.
    out = _run("clean", "news", "-o", "out", "--move-duplicates", "dups-o", "--report", "r.jsonl")
    assert out.exit_code == 0, out.output
    assert _snapshot(in_tmp / "news") == originals
    assert _tree(in_tmp / "dups-o") == {"syndicated/florida-state-acc.txt": files[copy].encode()}
    assert _tree(in_tmp / "out") == {
        rel.removeprefix("news/"): cleaned(text).encode() for rel, text in files.items()
        if rel != copy
    }  # fmt: skip
    (duplicate,) = [r for r in _report(in_tmp / "r.jsonl") if r["kind"] == "duplicate_article"]
    assert duplicate["file"] == copy and duplicate["kept"] == "news/apnews/florida-state-acc.txt"
    assert duplicate["similarity"] >= 0.8
    # The gold texts are clean already, but for the AP story's "___" separators.
    assert "5 files seen: 1 changed, 3 unchanged, 0 failed, 0 skipped, 1 near-duplicate moved" \
        in out.stderr  # fmt: skip

    # In place: the copy moves, with its path below the folder given; the rest is cleaned.
    moved = _run("clean", "news", "--in-place", "--move-duplicates", "dups")
    assert moved.exit_code == 0, moved.output
    assert not (in_tmp / copy).exists()
    assert _tree(in_tmp / "dups") == {"syndicated/florida-state-acc.txt": files[copy].encode()}
    assert _tree(in_tmp / "news") == _tree(in_tmp / "out")
    again = _run("clean", "news", "--in-place", "--move-duplicates", "dups")
    assert "0 changed, 4 unchanged" in again.stderr and "near-duplicate moved" not in again.stderr


# --- determinism -------------------------------------------------------------------------------


def test_jobs_and_path_order_do_not_change_outputs_or_report(in_tmp: Path) -> None:
    # Ten text files in two folders: the site boilerplate, the long notice, the shared quote
    # and the syndicated copy, so that every kind of decision is made.
    _write(in_tmp, {
        "a/dailymail/chatfield.txt": planted(body(DAILYMAIL[0]), DAILYMAIL_FOOTER),
        "a/dailymail/radio-1xtra.txt": planted(body(DAILYMAIL[1]), DAILYMAIL_FOOTER),
        "a/dailymail/inquest.txt": planted(body(DAILYMAIL[2]), DAILYMAIL_FOOTER),
        "a/apnews/florida-state-acc.txt": planted(body(APNEWS[0])),
        "a/apnews/other.txt": planted(body(APNEWS[1])),
        "b/medicalxpress/asthma.txt": planted(body(MEDICALXPRESS[0]), MEDICALXPRESS_NOTICE),
        "b/medicalxpress/statins.txt": planted(body(MEDICALXPRESS[1]), MEDICALXPRESS_NOTICE),
        "b/arstechnica/age-checks.txt": quoted_elsewhere(),
        "b/arstechnica/ftc.txt": planted(body(ARSTECHNICA[1])),
        "b/syndicated/florida-state-acc.txt": syndicated_copy(),
    })  # fmt: skip
    runs = []
    for n, (jobs, paths) in enumerate(((1, ("a", "b")), (2, ("b", "a")), (2, ("a", "b")))):
        result = _run("clean", *paths, "-o", f"out{n}", "--report", f"r{n}.jsonl",
                      "--jobs", jobs, "--site-from", "dir")  # fmt: skip
        assert result.exit_code == 0, result.output
        lines = (in_tmp / f"r{n}.jsonl").read_text("utf-8").splitlines()
        runs.append((_tree(in_tmp / f"out{n}"), sorted(lines), result.stderr))
    kinds = {(r["kind"], r.get("category") or r.get("code")) for r in map(json.loads, runs[0][1])}
    assert {("removal", "site_boilerplate"), ("note", "shared_passage"),
            ("duplicate_article", None)} <= kinds  # fmt: skip
    assert runs[1] == runs[0]
    assert runs[2] == runs[0]

    # JSON Lines: two files, given either way round, with one and two jobs.
    records = news_records()
    (in_tmp / "x.jsonl").write_text(_jsonl(records[:5]), encoding="utf-8")
    (in_tmp / "y.jsonl").write_text(_jsonl(records[5:]), encoding="utf-8")
    outs = []
    for n, (jobs, paths) in enumerate(((1, ("x.jsonl", "y.jsonl")), (2, ("y.jsonl", "x.jsonl")))):
        result = _run("clean", *paths, "-o", f"jl{n}", "--report", f"jl{n}.jsonl", "--jobs", jobs)
        assert result.exit_code == 0, result.output
        lines = (in_tmp / f"jl{n}.jsonl").read_text("utf-8").splitlines()
        outs.append((_tree(in_tmp / f"jl{n}"), sorted(lines), result.stderr))
    assert "site_boilerplate" in "".join(outs[0][1]) and "duplicate_article" in "".join(outs[0][1])
    assert outs[1] == outs[0]


# --- usage errors ------------------------------------------------------------------------------


def test_corpus_options_need_the_corpus_pass_and_files(in_tmp: Path) -> None:
    _write(in_tmp, site_folders())
    for option in (["--drop-shared"], ["--drop-duplicates"], ["--move-duplicates", "dups"],
                   ["--index", "idx.sqlite"]):  # fmt: skip
        result = _run("clean", "news", "-o", "out", "--no-corpus", *option)
        assert result.exit_code == 2, (option, result.output)
        assert f"{option[0]}: needs the corpus pass, not --no-corpus" in result.stderr
    data = planted(body(DAILYMAIL[0]), DAILYMAIL_FOOTER).encode()
    for option in (["--index", "idx.sqlite"], ["--drop-shared"]):
        piped = _run("clean", "-", *option, input=data)
        assert piped.exit_code == 2, (option, piped.output)
        assert f"{option[0]}: the corpus pass reads files, not standard input" in piped.stderr
        assert piped.stdout == ""
    assert sorted(p.name for p in in_tmp.iterdir()) == ["news"]  # no index, no output


# --- the index between runs --------------------------------------------------------------------


def _two_runs(root: Path) -> None:
    """Run 1's folder A: two Daily Mail records with the footer, and the AP story. Run 2's
    folder B: a third Daily Mail record with the footer, and a medicalxpress one."""
    (root / "A").mkdir()
    (root / "B").mkdir()
    (root / "A" / "a.jsonl").write_text(_jsonl([
        record(DAILYMAIL[0], planted(body(DAILYMAIL[0]), DAILYMAIL_FOOTER)),
        record(DAILYMAIL[1], planted(body(DAILYMAIL[1]), DAILYMAIL_FOOTER)),
        record(APNEWS[0]),
    ]), encoding="utf-8")  # fmt: skip
    (root / "B" / "b.jsonl").write_text(_jsonl([
        record(DAILYMAIL[2], planted(body(DAILYMAIL[2]), DAILYMAIL_FOOTER)),
        record(MEDICALXPRESS[0]),
    ]), encoding="utf-8")  # fmt: skip


def _check_run_two(root: Path, result: Result, index: str) -> None:
    """Run 2 (folder B) with the index of run 1: the lone Daily Mail article's footer is
    site boilerplate, with run 1's articles as the evidence."""
    assert result.exit_code == 0, result.output
    out = _records(root / "out-B" / "b.jsonl")
    assert out[0]["text"] == cleaned(planted(body(DAILYMAIL[2])))
    assert out[1]["text"] == cleaned(planted(body(MEDICALXPRESS[0])))
    (removal,) = _corpus_lines(_report(root / "r-B.jsonl"))
    assert (removal["line"], removal["category"]) == (1, "site_boilerplate")
    assert removal["evidence"].startswith(
        "repeated in 3 articles of dailymail.co.uk: A/a.jsonl:1, A/a.jsonl:2;"
    ), removal["evidence"]
    assert "corpus pass: 2 articles (and 3 from the index)" in result.stderr
    assert f"index {index}: 2 new articles saved" in result.stderr


def test_sqlite_index_carries_a_site_footer_to_the_next_run(in_tmp: Path) -> None:
    _two_runs(in_tmp)
    # Alone, run 2's Daily Mail article has nobody to share its footer with: it stays.
    alone = _run("clean", "B/b.jsonl", "-o", "out-alone", "--report", "r-alone.jsonl")
    assert alone.exit_code == 0, alone.output
    assert DAILYMAIL_FOOTER in _records(in_tmp / "out-alone" / "b.jsonl")[0]["text"]
    assert _corpus_lines(_report(in_tmp / "r-alone.jsonl")) == []

    # A dry run makes no index.
    dry = _run("clean", "A/a.jsonl", "--dry-run", "--index", "idx.sqlite")
    assert dry.exit_code == 0, dry.output
    assert not (in_tmp / "idx.sqlite").exists()

    first = _run("clean", "A/a.jsonl", "--in-place", "--index", "idx.sqlite")
    assert first.exit_code == 0, first.output
    assert not any(DAILYMAIL_FOOTER in r["text"] for r in _records(in_tmp / "A" / "a.jsonl"))
    assert "index idx.sqlite: 3 new articles saved" in first.stderr

    # The same folder again, cleaned in place: nothing new is recognised and nothing changes.
    before = _snapshot(in_tmp / "A")
    again = _run("clean", "A/a.jsonl", "--in-place", "--index", "idx.sqlite", "--report",
                 "r-again.jsonl")  # fmt: skip
    assert again.exit_code == 0, again.output
    assert _snapshot(in_tmp / "A") == before
    assert "3 records in JSON Lines: 0 changed, 3 unchanged, 0 failed" in again.stderr
    assert "corpus pass: 3 articles (and 3 from the index), 0 near-duplicates" in again.stderr
    assert "index idx.sqlite: 0 new articles saved" in again.stderr
    assert [r for r in _report(in_tmp / "r-again.jsonl") if r["kind"] != "repair"] == []

    # A dry run on B uses the index but adds nothing to it.
    index_before = (in_tmp / "idx.sqlite").read_bytes()
    dry = _run("clean", "B/b.jsonl", "--dry-run", "--index", "idx.sqlite", "--report", "-")
    assert dry.exit_code == 0, dry.output
    assert (in_tmp / "idx.sqlite").read_bytes() == index_before
    reported = [json.loads(line) for line in dry.stdout.splitlines()]
    assert any(r.get("category") == "site_boilerplate" for r in reported)
    assert not (in_tmp / "out-B").exists()

    second = _run("clean", "B/b.jsonl", "-o", "out-B", "--index", "idx.sqlite", "--report",
                  "r-B.jsonl")  # fmt: skip
    _check_run_two(in_tmp, second, "idx.sqlite")


def test_an_index_made_with_another_config_is_refused_and_nothing_is_written(
    in_tmp: Path,
) -> None:
    _two_runs(in_tmp)
    open_store("idx.sqlite", CorpusConfig(num_perm=32)).close()
    index_before = (in_tmp / "idx.sqlite").read_bytes()
    before = _snapshot(in_tmp / "A")
    for mode in (["--in-place"], ["-o", "out"]):
        result = _run("clean", "A/a.jsonl", *mode, "--index", "idx.sqlite", "--report", "r.jsonl")
        assert result.exit_code == 1, result.output
        assert "--index idx.sqlite: made with another corpus config" in result.stderr
        assert "give another path, or delete it" in result.stderr
        assert "Traceback" not in result.output
        assert _snapshot(in_tmp / "A") == before
        assert not (in_tmp / "out").exists() and not (in_tmp / "r.jsonl").exists()
    assert (in_tmp / "idx.sqlite").read_bytes() == index_before


def test_an_index_of_an_older_format_is_refused_with_what_to_do(in_tmp: Path) -> None:
    import sqlite3

    _two_runs(in_tmp)
    open_store("idx.sqlite", CorpusConfig()).close()
    with sqlite3.connect(in_tmp / "idx.sqlite") as db:
        (stored,) = db.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
        older = json.dumps({**json.loads(stored), "format": 1}, sort_keys=True)
        db.execute("UPDATE meta SET value = ? WHERE key = 'config'", (older,))
    result = _run("clean", "A/a.jsonl", "-o", "out", "--index", "idx.sqlite")
    assert result.exit_code == 1, result.output
    assert f"written by another version of cleaner (index format 1, this one reads {FORMAT})" in (
        result.stderr
    )
    assert "delete it to start again" in result.stderr and "Traceback" not in result.output
    assert not (in_tmp / "out").exists()


def test_redis_index_carries_a_site_footer_to_the_next_run(in_tmp: Path, redis_url: str) -> None:
    import redis

    _two_runs(in_tmp)
    server = redis.Redis.from_url(redis_url)
    assert server.dbsize() == 0
    first = _run("clean", "A/a.jsonl", "-o", "out-A", "--index", redis_url)
    assert first.exit_code == 0, first.output
    assert f"index {redis_url}: 3 new articles saved" in first.stderr
    assert server.dbsize() > 0  # the index is in the server
    assert not any(DAILYMAIL_FOOTER in r["text"] for r in _records(in_tmp / "out-A" / "a.jsonl"))
    second = _run("clean", "B/b.jsonl", "-o", "out-B", "--index", redis_url, "--report",
                  "r-B.jsonl")  # fmt: skip
    _check_run_two(in_tmp, second, redis_url)
    # And run 1's folder, again: its footers now have run 2's article as evidence too.
    third = _run("clean", "A/a.jsonl", "-o", "out-A2", "--index", redis_url, "--report",
                 "r-A2.jsonl")  # fmt: skip
    assert third.exit_code == 0, third.output
    evidence = {r["line"]: r["evidence"] for r in _corpus_lines(_report(in_tmp / "r-A2.jsonl"))}
    assert evidence == {
        1: "repeated in 3 articles of dailymail.co.uk: A/a.jsonl:2, B/b.jsonl:1; jaccard 1.00",
        2: "repeated in 3 articles of dailymail.co.uk: A/a.jsonl:1, B/b.jsonl:1; jaccard 1.00",
    }
    assert f"index {redis_url}: 0 new articles saved" in third.stderr
    server.close()


def test_an_unreachable_redis_index_is_a_clear_error(in_tmp: Path, free_port: int) -> None:
    _two_runs(in_tmp)
    url = f"redis://127.0.0.1:{free_port}"  # nothing listens there
    before = _snapshot(in_tmp / "A")
    result = _run("clean", "A/a.jsonl", "--in-place", "--index", url, "--report", "r.jsonl")
    assert result.exit_code == 1, result.output
    assert f"--index {url}: cannot reach the Redis server" in result.stderr
    assert "Traceback" not in result.output
    assert _snapshot(in_tmp / "A") == before and not (in_tmp / "r.jsonl").exists()
