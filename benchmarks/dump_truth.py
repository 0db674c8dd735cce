"""The ground truth of a generated dump (``benchmarks/generate_dump.py``), and scoring against it.

A dump folder holds ``dump-NNNNN.jsonl`` shards (records ``{"id", "url", "site", "text"}``),
``truth-NNNNN.jsonl`` beside each (one record per article, same order) and ``manifest.json``.
A truth record::

    {"id": "…", "site": "site0007.example", "title": "…",
     "lines": [{"start": 0, "end": 21, "category": "breadcrumb", "source": "template:breadcrumb",
                "repeats": "article"},
               {"start": 22, "end": 410, "category": null},
               {"start": 411, "end": 790, "category": null, "shared": "q000003"},
               {"start": 791, "end": 1100, "category": "duplicate_in_document", "copy_of": 1,
                "edits": 2, "jaccard": 0.91},
               {"start": 1101, "end": 1300, "category": null,
                "spans": [[1262, 1300, "byline", "template:trailing_credit"]]}, …],
     "mojibake": false, "clean": "…",
     "near_duplicates": [{"id": "…", "jaccard": 0.93}], "cluster": "…"}

- ``lines``: every non-blank line of ``text``, in order, as its character span in ``text``.
  ``category`` is None for article text and a :class:`cleaner.model.Category` value for what a
  perfect cleaner removes: planted boilerplate, and ``duplicate_in_document`` for a recycled
  copy (``source`` "recycled"; ``copy_of`` is the index in ``lines`` of the paragraph it copies,
  after ``edits`` word edits, at ``jaccard`` on character 5-grams). ``role: "title"`` marks the
  headline, where the site prints it (article text). ``source`` says where a planted string
  comes from (``rule:<category>.<rule id>``: a must-remove example of that rule, verbatim;
  ``seed:<stem>``: a line removed from that seed article, verbatim; ``template:<name>``: a
  template filled per site or article). ``repeats`` says how far the same string repeats:
  ``article`` (drawn per article), ``site`` (the site's own string on its pages) or ``corpus``
  (the same string on many sites). ``shared`` marks a passage that articles of other sites carry
  too (a shared quote): article text, to be kept (what the cleaner reports as ``shared_passage``
  and removes only when asked). ``spans`` are planted strings inside an article line (a wire
  credit after the last paragraph), as ``[start, end, category, source]`` in ``text``.
- ``mojibake``: the text was encoded as UTF-8 and decoded as Windows-1252 (ftfy's
  ``sloppy-windows-1252``), line by line; ``source`` then holds the text before that, which the
  spans of ``lines`` do not refer to (``text`` and ``source`` have the same lines, in order).
- ``clean``: the article lines (spans cut out), repaired, joined by ``"\\n"``.
- ``near_duplicates``: earlier articles this one nearly duplicates, each with the Jaccard of
  the two articles' character 5-grams (:func:`article_jaccard`); ``cluster`` is the id of the
  article the cluster was copied from. A pair in one cluster below the threshold is neither
  right nor wrong to find (see :func:`score_pairs`).

Scoring is independent of how a cleaner runs: give :func:`score_lines` each article's truth
with the cleaned text (or the removed lines), and :func:`score_pairs` the predicted clusters.
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import io
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import Confusion, format_table, write_json

SHINGLE_SIZE = 5
NEAR_DUPLICATE_THRESHOLD = 0.8

Truth = dict[str, Any]
Pair = tuple[str, str]


# --------------------------------------------------------------------------------------------
# Character shingles


def line_shingles(line: str, size: int = SHINGLE_SIZE) -> frozenset[str]:
    """The character ``size``-grams of one line, case-folded with spaces collapsed; a line
    shorter than ``size`` is one shingle."""
    folded = " ".join(line.casefold().split())
    if len(folded) > size:
        return frozenset([folded[i : i + size] for i in range(len(folded) - size + 1)])
    return frozenset((folded,) if folded else ())


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[str]:
    """The shingles of each line (:func:`line_shingles`), together. Lines are shingled apart,
    as a passage index sees them, so a join between two lines is never a shingle."""
    out: set[str] = set()
    for line in text.split("\n"):
        out.update(line_shingles(line, size))
    return out


def jaccard(a: AbstractSet[str], b: AbstractSet[str]) -> float:
    if not a and not b:
        return 1.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def article_jaccard(a: str, b: str) -> float:
    """Whole-article Jaccard on character 5-grams: what ``near_duplicates`` records."""
    return jaccard(shingles(a), shingles(b))


# --------------------------------------------------------------------------------------------
# Reading


def open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    if path.suffix == ".zst":
        import zstandard

        return io.TextIOWrapper(zstandard.open(path, "rb"), encoding="utf-8")
    return path.open(encoding="utf-8")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with open_text(path) as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def shard_paths(folder: Path, kind: str) -> list[Path]:
    """The ``dump`` or ``truth`` shards of a dump folder, in order."""
    return sorted(
        p for p in folder.iterdir() if p.name.startswith(f"{kind}-") and ".jsonl" in p.name
    )


def iter_truth(folder: Path) -> Iterator[Truth]:
    for path in shard_paths(folder, "truth"):
        yield from read_jsonl(path)


def line_texts(truth: Truth, text: str) -> list[str]:
    """The repaired text of each truth line: a cleaner's output is compared with these."""
    if truth.get("mojibake"):
        repaired = [s for line in truth["source"].split("\n") if (s := line.strip())]
        if len(repaired) != len(truth["lines"]):
            raise ValueError(f"{truth['id']}: source and text differ in their lines")
        return repaired
    return [text[line["start"] : line["end"]] for line in truth["lines"]]


# --------------------------------------------------------------------------------------------
# Removed lines


def _similar(a: str, b: str) -> bool:
    """A line and its cleaned form: one holds the other (a span was cut) or most 5-grams agree."""
    return a in b or b in a or jaccard(shingles(a), shingles(b)) >= 0.5


def removed_from_cleaned(lines: Sequence[str], cleaned: str) -> list[bool]:
    """Which of ``lines`` a cleaner removed, given its output: the cleaned lines are matched to
    them in order (a line diff); a line left changed in place (a span cut out of it, spacing
    repaired) counts as kept."""
    kept = [s for line in cleaned.split("\n") if (s := line.strip())]
    removed = [True] * len(lines)
    matcher = difflib.SequenceMatcher(None, list(lines), kept, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for i in range(i1, i2):
                removed[i] = False
        elif op == "replace":
            for i in range(i1, i2):
                removed[i] = not any(_similar(lines[i], kept[j]) for j in range(j1, j2))
    return removed


@dataclass(slots=True)
class LineScore:
    """Lines of many articles against the truth. Positive = a line a perfect cleaner removes
    (planted boilerplate and recycled copies); negative = article text.

    ``confusion`` counts lines (its character counts are the lines' characters: gold loss is
    ``confusion.gold_char_loss``); ``categories`` maps each truth category to [lines, removed];
    ``shared`` is [shared-quote lines, kept]; ``span_chars`` is [characters of planted spans
    inside article lines, characters of those lines' article text].
    """

    confusion: Confusion = field(default_factory=Confusion)
    categories: dict[str, list[int]] = field(default_factory=dict)
    shared: list[int] = field(default_factory=lambda: [0, 0])
    articles: int = 0

    def add(self, truth: Truth, removed: Sequence[bool], texts: Sequence[str]) -> None:
        lines = truth["lines"]
        if len(removed) != len(lines):
            raise ValueError(f"{truth['id']}: {len(lines)} truth lines, {len(removed)} verdicts")
        self.articles += 1
        for line, gone, text in zip(lines, removed, texts, strict=True):
            category = line.get("category")
            chars = len(text) - sum(end - start for start, end, *_ in line.get("spans", ()))
            self.confusion.add(category is not None, gone, chars)
            if category is not None:
                counts = self.categories.setdefault(category, [0, 0])
                counts[0] += 1
                counts[1] += gone
            if line.get("shared"):
                self.shared[0] += 1
                self.shared[1] += not gone

    def to_json(self) -> dict[str, Any]:
        return {
            "articles": self.articles,
            **self.confusion.to_json(),
            "categories": {
                name: {"lines": n, "removed": r, "recall": round(r / n, 4)}
                for name, (n, r) in sorted(self.categories.items())
            },
            "shared_lines": self.shared[0],
            "shared_kept": self.shared[1],
        }


def score_lines(results: Iterable[tuple[Truth, str, str | Sequence[bool]]]) -> LineScore:
    """Score a cleaner's output: per article its truth, its dump text, and either the cleaned
    text or, per truth line, whether it was removed."""
    score = LineScore()
    for truth, text, output in results:
        texts = line_texts(truth, text)
        removed = removed_from_cleaned(texts, output) if isinstance(output, str) else output
        score.add(truth, removed, texts)
    return score


# --------------------------------------------------------------------------------------------
# Near-duplicate pairs


def _pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def truth_pairs(
    truths: Iterable[Truth], threshold: float = NEAR_DUPLICATE_THRESHOLD
) -> tuple[set[Pair], set[Pair]]:
    """The near-duplicate pairs (Jaccard at least ``threshold``), and the pairs of one cluster
    below it, which a system may find or miss without being wrong. Keeps the pairs in memory
    (a few per hundred articles)."""
    pairs: set[Pair] = set()
    below: set[Pair] = set()
    for truth in truths:
        for other in truth.get("near_duplicates", ()):
            target = pairs if other["jaccard"] >= threshold else below
            target.add(_pair(truth["id"], other["id"]))
    return pairs, below


def cluster_pairs(clusters: Iterable[Iterable[str]]) -> set[Pair]:
    """Every pair within each predicted cluster."""
    out: set[Pair] = set()
    for cluster in clusters:
        members = sorted(set(cluster))
        out.update((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
    return out


@dataclass(frozen=True, slots=True)
class PairScore:
    planted: int
    predicted: int
    correct: int
    #: Predicted pairs of one cluster below the threshold: left out of precision.
    ignored: int

    @property
    def precision(self) -> float | None:
        judged = self.predicted - self.ignored
        return self.correct / judged if judged else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.planted if self.planted else None

    def to_json(self) -> dict[str, Any]:
        return {
            "planted": self.planted,
            "predicted": self.predicted,
            "correct": self.correct,
            "ignored": self.ignored,
            "precision": None if self.precision is None else round(self.precision, 4),
            "recall": None if self.recall is None else round(self.recall, 4),
        }


def score_pairs(
    truths: Iterable[Truth],
    clusters: Iterable[Iterable[str]],
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
) -> PairScore:
    planted, below = truth_pairs(truths, threshold)
    predicted = cluster_pairs(clusters)
    return PairScore(
        planted=len(planted),
        predicted=len(predicted),
        correct=len(predicted & planted),
        ignored=len(predicted & below),
    )


# --------------------------------------------------------------------------------------------
# Command line: score a cleaned copy of a dump


def _cleaned_records(
    paths: Sequence[Path], id_field: str, text_field: str
) -> Iterator[tuple[str, str]]:
    for path in paths:
        for record in read_jsonl(path):
            yield record[id_field], record[text_field]


def _dump_texts(folder: Path) -> Iterator[tuple[str, str]]:
    for path in shard_paths(folder, "dump"):
        for record in read_jsonl(path):
            yield record["id"], record["text"]


def score_folder(
    folder: Path, cleaned: Sequence[Path], id_field: str = "id", text_field: str = "text"
) -> LineScore:
    """Score cleaned records that come in the dump's order (as ``cleaner clean`` writes them);
    one article at a time, so memory stays flat."""

    def triples() -> Iterator[tuple[Truth, str, str]]:
        outputs = _cleaned_records(cleaned, id_field, text_field)
        for truth, (dump_id, text) in zip(iter_truth(folder), _dump_texts(folder), strict=True):
            out_id, out_text = next(outputs, (None, ""))
            if not truth["id"] == dump_id == out_id:
                raise SystemExit(
                    f"record order differs at {dump_id}: cleaned output has {out_id}; "
                    "give the cleaned shards in the dump's order"
                )
            yield truth, text, out_text

    return score_lines(triples())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score a cleaned dump against its ground truth.")
    parser.add_argument("dump", type=Path, help="the folder generate_dump.py wrote")
    parser.add_argument("cleaned", type=Path, nargs="*", help="cleaned JSONL shards, in order")
    parser.add_argument("--clusters", type=Path, help="JSONL, one list of article ids a line")
    parser.add_argument("--id-field", default="id")
    parser.add_argument("--text-field", default="text")
    parser.add_argument("--output", type=Path, help="write the scores here as JSON")
    args = parser.parse_args(argv)

    data: dict[str, Any] = {"dump": str(args.dump)}
    if args.cleaned:
        lines = score_folder(args.dump, args.cleaned, args.id_field, args.text_field)
        data["lines"] = lines.to_json()
        c = lines.confusion
        print(
            f"{lines.articles} articles: removed lines {c.removed}, precision {c.precision}, "
            f"recall {c.recall}, gold characters lost {c.gold_char_loss}"
        )
        rows = [[name, n, r, round(r / n, 4)] for name, (n, r) in sorted(lines.categories.items())]
        print(format_table(rows, ["category", "lines", "removed", "recall"]))
    if args.clusters:
        clusters = (record for record in _json_lines(args.clusters))
        pairs = score_pairs(iter_truth(args.dump), clusters)
        data["pairs"] = pairs.to_json()
        print(f"near-duplicate pairs: {pairs.to_json()}")
    if args.output:
        write_json(args.output, data)
    return 0


def _json_lines(path: Path) -> Iterator[list[str]]:
    with open_text(path) as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


if __name__ == "__main__":
    sys.exit(main())
