"""``cleaner dedup``: the corpus pass's report, on the seeds and a near copy of one of them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cleaner.cli import main

SEEDS = Path(__file__).parent.parent / "fixtures" / "seeds" / "input"
QUOTE = "It is a proposal that was made in sincerity by President Putin"


def _run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The five seeds and a copy of 000 with three words changed, in tmp_path/seeds."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    original = (SEEDS / "000_55b17ee8af4cc6ce.txt").read_text(encoding="utf-8")
    edited = original.replace("Thursday", "Friday", 1).replace("Russia", "Moscow", 1)
    edited = edited.replace("summit", "meeting", 1)
    assert edited.count("\n") == original.count("\n") and edited != original
    (tmp_path / "seeds" / "zz_copy.txt").write_text(edited, encoding="utf-8")
    return tmp_path


def test_dedup_reports_clusters_passages_and_shares_and_changes_nothing(folder: Path) -> None:
    before = _snapshot(folder / "seeds")
    result = _run("dedup", "seeds", "--json", "report.json")
    assert result.exit_code == 0, result.output
    assert _snapshot(folder / "seeds") == before
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert report["articles"] == 6
    assert report["clusters"] == [{
        "kept": "seeds/000_55b17ee8af4cc6ce.txt",
        "copies": [{"article": "seeds/zz_copy.txt",
                    "similarity": report["clusters"][0]["copies"][0]["similarity"]}],
    }]  # fmt: skip
    assert report["clusters"][0]["copies"][0]["similarity"] >= 0.8
    # The Sanders quote of 000 and 002 (and the copy): shared across sources, kept.
    (quote,) = [p for p in report["passages"] if QUOTE in (p["text"] or "")]
    assert quote["kind"] == "shared_passage" and not quote["removed"]
    assert {c["article"] for c in quote["copies"]} == {
        "seeds/000_55b17ee8af4cc6ce.txt", "seeds/002_c0295e50ead3f3c5.txt", "seeds/zz_copy.txt",
    }  # fmt: skip
    shares = {s["article"]: s for s in report["shares"]}
    assert shares["seeds/zz_copy.txt"]["share"] > 0.8  # nearly all of it is in 000
    assert 0 < shares["seeds/002_c0295e50ead3f3c5.txt"]["share"] < 0.3  # the quote only
    assert shares["seeds/001_970923a377e150d3.txt"]["repeated_chars"] == 0
    # The table says the same.
    assert "Near-duplicate articles: 1 in 1 cluster" in result.stdout
    assert "kept  seeds/000_55b17ee8af4cc6ce.txt" in result.stdout
    assert "shared_passage (kept)" in result.stdout


def test_dedup_report_does_not_depend_on_jobs_or_listing_order(folder: Path) -> None:
    names = sorted(p.name for p in (folder / "seeds").iterdir())
    forward = _run("dedup", *(f"seeds/{n}" for n in names), "--json", "-")
    backward = _run("dedup", *(f"seeds/{n}" for n in reversed(names)), "--json", "-", "-j", "2")
    assert forward.exit_code == backward.exit_code == 0
    assert json.loads(forward.stdout) == json.loads(backward.stdout)
    assert json.loads(forward.stdout)["clusters"]


def test_dedup_with_a_missing_index_is_an_error_and_writes_nothing(folder: Path) -> None:
    result = _run("dedup", "seeds", "--index", "nothing.db")
    assert result.exit_code == 1
    assert "--index nothing.db: no index there" in result.stderr
    assert not (folder / "nothing.db").exists()


def test_dedup_reads_an_index_that_clean_wrote(folder: Path) -> None:
    first = _run("clean", "seeds", "--dry-run", "--index", "run.db")
    assert first.exit_code == 0 and not (folder / "run.db").exists()  # a dry run saves nothing
    saved = _run("clean", "seeds", "-o", "out", "--index", "run.db")
    assert saved.exit_code == 0 and "index run.db: 6 new articles saved" in saved.stderr
    (folder / "later").mkdir()
    shutil.copy(folder / "seeds" / "002_c0295e50ead3f3c5.txt", folder / "later" / "new.txt")
    result = _run("dedup", "later", "--index", "run.db", "--json", "-")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["articles"] == 1 and report["previous_articles"] == 6
    # An exact copy of a stored article: the stored one is kept (first seen).
    assert report["clusters"] == [{
        "kept": "seeds/002_c0295e50ead3f3c5.txt",
        "copies": [{"article": "later/new.txt", "similarity": 1.0}],
    }]  # fmt: skip
