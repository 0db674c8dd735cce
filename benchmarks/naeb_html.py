"""HTML mode on naeb-dev: token precision, recall and F1 against the gold, and pages per second.

Every system gets the same bytes of each of the 205 pages (gunzipped beforehand, untimed) and
its URL, in the same run:

- ``cleaner``: :func:`cleaner.html.extract` with the default :class:`HtmlConfig` (decode,
  prune with selectolax, trafilatura with ``favor_precision``), then the text engine;
- ``cleaner, extraction only``: the same without the text engine (the same pass, its first
  stage's time);
- ``trafilatura default``: ``trafilatura.extract(html, url=url)``, trafilatura's own defaults
  (comments included);
- ``trafilatura, no comments``: ``include_comments=False``, the text that ``naeb_text.py``
  starts from;
- ``trafilatura favor_precision`` (also ``+ text engine``);
- ``resiliparse main_content``: ``extract_plain_text(main_content=True)`` on resiliparse's
  own parse and charset detection, the fast peer (also ``+ text engine``).

**Tokens.** :func:`benchmarks.common.words`: NFKC, case-folded runs of letters and digits, so
punctuation, quotes, dashes and emoji do not count. Each text is a bag (multiset) of tokens; a
token counts in the overlap as often as it is in both bags. Per page: precision = overlap /
output tokens, recall = overlap / gold tokens, F1 their harmonic mean; a page with no output
scores 0 on all three. Micro: the same over the sums of all pages (long pages weigh more);
macro: the mean of the per-page values (each page weighs the same).

**Speed.** Each system runs first on three pages untimed (imports, caches, rule loading), then
over all pages ``--repeat`` times; the best run counts. One process, one core.

``--sweep`` measures the settings that :class:`HtmlConfig` chose among (trafilatura's
precision and recall modes, fast mode, tables, the pruning and each of its concepts) and
writes ``results/naeb_html_sweep.json``.

    .venv/bin/python benchmarks/naeb_html.py [--limit N] [--repeat N] [--sweep]
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    NAEB_DIR,
    RESULTS_DIR,
    Page,
    format_table,
    load_naeb,
    run_metadata,
    words,
    write_json,
)
from cleaner import Cleaner
from cleaner.html import PRUNE_RULES, HtmlConfig, decode_html, extract, prune_html

#: Pages run before timing starts.
WARMUP_PAGES = 3

# --------------------------------------------------------------------------------------------
# The metric


@dataclass(frozen=True, slots=True)
class Scores:
    """Token counts of one page (or a sum of pages) and the scores they give."""

    overlap: int
    predicted: int
    gold: int

    @property
    def precision(self) -> float:
        return self.overlap / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.overlap / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @classmethod
    def micro(cls, pages: Sequence[Scores]) -> Scores:
        return cls(
            sum(s.overlap for s in pages),
            sum(s.predicted for s in pages),
            sum(s.gold for s in pages),
        )

    def to_json(self) -> dict[str, float]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


def token_scores(output: str, gold: str | Counter[str]) -> Scores:
    """Bag-of-words overlap of an output with the gold text."""
    predicted = Counter(words(output))
    gold_bag = gold if isinstance(gold, Counter) else Counter(words(gold))
    return Scores(
        sum((predicted & gold_bag).values()), sum(predicted.values()), sum(gold_bag.values())
    )


def macro(pages: Sequence[Scores]) -> dict[str, float]:
    n = len(pages) or 1
    return {
        "precision": round(sum(s.precision for s in pages) / n, 4),
        "recall": round(sum(s.recall for s in pages) / n, 4),
        "f1": round(sum(s.f1 for s in pages) / n, 4),
    }


# --------------------------------------------------------------------------------------------
# Systems: an extractor (HTML bytes and URL to text), maybe followed by the text engine

Extractor = Callable[[bytes, str | None], str]


@dataclass(slots=True)
class PipelineRun:
    """One pass of an extractor (and the text engine) over the pages."""

    extracted: list[str] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)
    extract_seconds: float = 0.0
    clean_seconds: float = 0.0


def cleaner_extractor(config: HtmlConfig) -> Extractor:
    def run(html: bytes, url: str | None) -> str:
        return extract(html, url, config).text

    return run


def trafilatura_extractor(**options: Any) -> Extractor:
    import trafilatura

    def run(html: bytes, url: str | None) -> str:
        return trafilatura.extract(html, url=url, **options) or ""

    return run


def resiliparse_extractor() -> Extractor | None:
    try:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.encoding import detect_encoding
        from resiliparse.parse.html import HTMLTree
    except ImportError:
        return None

    def run(html: bytes, url: str | None) -> str:
        tree = HTMLTree.parse_from_bytes(html, detect_encoding(html) or "utf-8")
        return str(extract_plain_text(tree, main_content=True))

    return run


def run_pipeline(
    pages: Sequence[tuple[Page, bytes]],
    extractor: Extractor,
    cleaner: Cleaner | None,
    repeat: int,
) -> PipelineRun:
    """The texts of the first pass and the best times of ``repeat`` passes."""
    for page, html in pages[:WARMUP_PAGES]:
        text = extractor(html, page.url or None)
        if cleaner is not None:
            cleaner.clean(text)
    best: PipelineRun | None = None
    for _ in range(max(1, repeat)):
        current = PipelineRun()
        for page, html in pages:
            start = time.perf_counter()
            text = extractor(html, page.url or None)
            middle = time.perf_counter()
            cleaned = cleaner.clean(text).text if cleaner is not None else text
            current.extract_seconds += middle - start
            current.clean_seconds += time.perf_counter() - middle
            current.extracted.append(text)
            current.cleaned.append(cleaned)
        if best is None:
            best = current
        else:
            best.extract_seconds = min(best.extract_seconds, current.extract_seconds)
            best.clean_seconds = min(best.clean_seconds, current.clean_seconds)
    assert best is not None
    return best


def system_row(
    name: str,
    texts: Sequence[str],
    seconds: float,
    pages: Sequence[tuple[Page, bytes]],
    gold: Sequence[Counter[str]],
) -> dict[str, Any]:
    per_page = [token_scores(text, bag) for text, bag in zip(texts, gold, strict=True)]
    html_bytes = sum(len(html) for _, html in pages)
    return {
        "system": name,
        "micro": Scores.micro(per_page).to_json(),
        "macro": macro(per_page),
        "empty_pages": sum(1 for text in texts if not text.strip()),
        "output_tokens": sum(s.predicted for s in per_page),
        "seconds": round(seconds, 3),
        "pages_per_second": round(len(pages) / seconds, 1) if seconds else None,
        "html_mb_per_second": round(html_bytes / 1e6 / seconds, 2) if seconds else None,
        "per_page_f1": {
            page.key: round(s.f1, 4) for (page, _), s in zip(pages, per_page, strict=True)
        },
    }


def table_rows(rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            row["system"],
            row["micro"]["precision"],
            row["micro"]["recall"],
            row["micro"]["f1"],
            row["macro"]["precision"],
            row["macro"]["recall"],
            row["macro"]["f1"],
            row["empty_pages"],
            row["pages_per_second"],
        ]
        for row in rows
    ]


HEADER = ["system", "P micro", "R micro", "F1 micro", "P macro", "R macro", "F1 macro",
          "empty", "pages/s"]  # fmt: skip


def compare(pages: Sequence[tuple[Page, bytes]], repeat: int) -> dict[str, Any]:
    gold = [Counter(words(page.gold)) for page, _ in pages]
    cleaner = Cleaner()
    config = HtmlConfig()
    pruned: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    notes: list[str] = []

    def add(name: str, run: PipelineRun, with_engine: bool) -> None:
        seconds = run.extract_seconds + (run.clean_seconds if with_engine else 0.0)
        texts = run.cleaned if with_engine else run.extracted
        rows.append(system_row(name, texts, seconds, pages, gold))

    run = run_pipeline(pages, cleaner_extractor(config), cleaner, repeat)
    add("cleaner", run, True)
    add("cleaner, extraction only", run, False)
    for _, html in pages:  # what the pruning removed, counted apart, untimed
        for node in prune_html(decode_html(html).text, config)[1]:
            pruned[node.rule_id] += 1
            pruned[f"{node.rule_id}:chars"] += node.chars

    add("trafilatura default", run_pipeline(pages, trafilatura_extractor(), None, repeat), False)
    no_comments = trafilatura_extractor(include_comments=False)
    add("trafilatura, no comments", run_pipeline(pages, no_comments, None, repeat), False)
    precision = run_pipeline(pages, trafilatura_extractor(favor_precision=True), cleaner, repeat)
    add("trafilatura favor_precision", precision, False)
    add("trafilatura favor_precision + text engine", precision, True)

    resiliparse = resiliparse_extractor()
    if resiliparse is None:
        notes.append("resiliparse is not installed (pip install resiliparse): no fast peer")
    else:
        fast = run_pipeline(pages, resiliparse, cleaner, repeat)
        add("resiliparse main_content", fast, False)
        add("resiliparse main_content + text engine", fast, True)

    return {
        **run_metadata(
            pages=len(pages),
            repeat=repeat,
            html_mb=round(sum(len(html) for _, html in pages) / 1e6, 1),
            versions=versions(),
        ),
        "config": config_json(config),
        "tokens": "benchmarks.common.words: NFKC, case-folded runs of letters and digits; "
        "bags of words (multisets)",
        "systems": rows,
        "pruned_by_rule": {
            rule.id: {"nodes": pruned[rule.id], "chars": pruned[f"{rule.id}:chars"]}
            for rule in PRUNE_RULES
        },
        "notes": notes,
    }


# --------------------------------------------------------------------------------------------
# The settings sweep


def sweep_configs() -> list[tuple[str, HtmlConfig]]:
    chosen = HtmlConfig()
    plain = HtmlConfig(prune=False, strip_non_text=False, favor_precision=False)
    configs = [
        ("trafilatura defaults (no pruning, no stripping)", plain),
        ("+ strip scripts and styles", plain.with_(strip_non_text=True)),
        ("+ strip + prune", plain.with_(strip_non_text=True, prune=True)),
        ("favor_precision, no pruning", chosen.with_(prune=False)),
        ("favor_precision + prune (chosen)", chosen),
        ("favor_recall + prune", chosen.with_(favor_precision=False, favor_recall=True)),
        ("fast + prune", chosen.with_(favor_precision=False, fast=True)),
        ("fast + favor_precision + prune", chosen.with_(fast=True)),
        ("chosen, include_tables=False", chosen.with_(include_tables=False)),
        ("chosen, extensive date search", chosen.with_(extensive_date_search=True)),
    ]
    # Concepts overlap (a consent dialog is often a modal too), so each is measured both
    # alone and left out.
    concepts = sorted({rule.concept for rule in PRUNE_RULES})
    for concept in concepts:
        others = frozenset(c for c in concepts if c != concept)
        configs.append((f"chosen without {concept}", chosen.with_(prune_concepts=others)))
    for concept in concepts:
        alone = frozenset({concept})
        configs.append((f"favor_precision, pruning {concept} only",
                        chosen.with_(prune_concepts=alone)))  # fmt: skip
    return configs


def sweep(pages: Sequence[tuple[Page, bytes]]) -> dict[str, Any]:
    gold = [Counter(words(page.gold)) for page, _ in pages]
    cleaner = Cleaner()
    rows = []
    for name, config in sweep_configs():
        run = run_pipeline(pages, cleaner_extractor(config), cleaner, 1)
        extracted = system_row(name, run.extracted, run.extract_seconds, pages, gold)
        cleaned = system_row(name, run.cleaned, run.extract_seconds, pages, gold)
        rows.append(
            {
                "name": name,
                "config": config_json(config),
                "extraction": {k: extracted[k] for k in ("micro", "macro", "empty_pages")},
                "with_text_engine": {k: cleaned[k] for k in ("micro", "macro", "empty_pages")},
                "extraction_pages_per_second": extracted["pages_per_second"],
            }
        )
    return {**run_metadata(pages=len(pages), versions=versions()), "configs": rows}


def sweep_table(rows: Sequence[dict[str, Any]]) -> str:
    return format_table(
        [
            [
                row["name"],
                row["extraction"]["micro"]["f1"],
                row["extraction"]["macro"]["f1"],
                row["with_text_engine"]["micro"]["f1"],
                row["with_text_engine"]["macro"]["f1"],
                row["with_text_engine"]["macro"]["precision"],
                row["with_text_engine"]["macro"]["recall"],
                row["extraction_pages_per_second"],
            ]
            for row in rows
        ],
        ["settings", "F1 micro", "F1 macro", "+engine F1 micro", "+engine F1 macro",
         "+engine P macro", "+engine R macro", "pages/s"],
    )  # fmt: skip


# --------------------------------------------------------------------------------------------


def config_json(config: HtmlConfig) -> dict[str, Any]:
    data = asdict(config)
    if data["prune_concepts"] is not None:
        data["prune_concepts"] = sorted(data["prune_concepts"])
    return data


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("trafilatura", "selectolax", "resiliparse", "lxml"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out


def load_pages(root: Path, limit: int | None) -> list[tuple[Page, bytes]]:
    pages = load_naeb(root, limit)
    return [(page, gzip.decompress(page.html_path.read_bytes())) for page in pages]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the best counts")
    parser.add_argument("--sweep", action="store_true", help="also measure the settings grid")
    parser.add_argument("--naeb-dir", type=Path, default=NAEB_DIR)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "naeb_html.json")
    args = parser.parse_args(argv)

    pages = load_pages(args.naeb_dir, args.limit)
    result = compare(pages, args.repeat)
    write_json(args.output, result)
    print(f"naeb-dev HTML mode: {len(pages)} pages, token bags against articleBody")
    print(format_table(table_rows(result["systems"]), HEADER))
    for note in result["notes"]:
        print(f"note: {note}")
    print(f"written to {args.output}")

    if args.sweep:
        swept = sweep(pages)
        path = args.output.with_name(args.output.stem + "_sweep.json")
        write_json(path, swept)
        print("\nsettings (extraction alone, and followed by the text engine; one pass each):")
        print(sweep_table(swept["configs"]))
        print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
