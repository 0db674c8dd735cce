"""Text mode on naeb-dev as one corpus: the per-article rules alone, and with the corpus pass.

Each page's trafilatura text (the cached extraction of ``naeb_text.py``) is cleaned twice:
by the Cleaner alone ("rules"), and as ``cleaner clean`` cleans a folder ("rules+corpus",
through :func:`~cleaner.corpus_pass.clean_corpus`: every page read into one
:class:`~cleaner.corpus.PassageIndex` first, the source of each page being the host of its
URL, then each page cleaned with the corpus's verdicts). Lines are labelled and scored
exactly as in ``naeb_text.py``. Writes
``benchmarks/results/naeb_corpus.json`` and prints a table.

    .venv/bin/python benchmarks/naeb_corpus.py [--limit N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    CACHE_DIR,
    EXTRACTIONS,
    NAEB_DIR,
    RESULTS_DIR,
    extracted_text,
    format_table,
    label_lines,
    load_naeb,
    removals_per_line,
    run_metadata,
    text_lines,
    write_json,
)
from benchmarks.naeb_text import PageResult, SystemOutput, false_positives, system_scores
from cleaner import Cleaner
from cleaner.corpus import source_key
from cleaner.corpus_pass import clean_corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "naeb_corpus.json")
    args = parser.parse_args(argv)

    extraction = EXTRACTIONS["default"]
    cleaner = Cleaner()
    pages = load_naeb(NAEB_DIR, args.limit)
    texts = {page.key: extracted_text(page, extraction, CACHE_DIR) for page in pages}
    alone = {key: cleaner.clean(text) for key, text in texts.items()}
    articles = [(p.key, source_key(p.url, p.site), texts[p.key]) for p in pages]
    together, decisions = clean_corpus(articles, cleaner)

    results = []
    for page in pages:
        lines = text_lines(texts[page.key])
        outputs = {}
        for name, result in (("rules", alone[page.key]), ("rules+corpus", together[page.key])):
            spans = [(r.start, r.end, r.rule_id) for r in result.removals]
            per_line, unmapped = removals_per_line(lines, result.normalised, spans)
            tags = {r.rule_id: r.category.value for r in result.removals}
            outputs[name] = SystemOutput(per_line, tags, [n.code for n in result.notes], unmapped)
        results.append(PageResult(page, label_lines(lines, page.gold), outputs, 1.0))

    scores = {name: system_scores(results, name) for name in ("rules", "rules+corpus")}
    corpus_fps = [
        fp
        for fp in false_positives(results, "rules+corpus")
        if fp["category"] in ("site_boilerplate", "corpus_boilerplate")
    ]
    data: dict[str, Any] = {
        "meta": run_metadata(),
        "pages": len(results),
        "sources": len({source_key(p.url, p.site) for p in pages}),
        "corpus_min_sources": decisions.corpus_min_sources,
        "clusters": [
            {"kept": c.kept, "copies": [list(x) for x in c.copies]} for c in decisions.clusters
        ],
        "shared_passages": len(decisions.shared()),
        "systems": {
            name: {k: s[k] for k in ("total", "by_category", "gold_char_loss_copy_aware")}
            for name, s in scores.items()
        },
        "corpus_false_positives": corpus_fps,
    }
    write_json(args.output, data)
    rows = []
    for name, s in scores.items():
        t = s["total"]
        rows.append(
            [name, t["removed"], t["tp"], t["fp"], t["fn"], t["precision"], t["recall"],
             t["gold_char_loss"]]
        )  # fmt: skip
    print(f"naeb-dev text mode as one corpus: {len(results)} pages, {data['sources']} sources")
    print(format_table(rows, ["system", "removed", "tp", "fp", "fn", "precision", "recall",
                              "gold_loss"]))  # fmt: skip
    by_category = scores["rules+corpus"]["by_category"]
    for category in ("site_boilerplate", "corpus_boilerplate"):
        c = by_category.get(category)
        if c:
            print(f"  {category}: {c['removed']} lines removed, {c['tp']} tp, {c['fp']} fp")
    print(f"  near-duplicate clusters: {len(decisions.clusters)}; shared passages kept: "
          f"{data['shared_passages']}")  # fmt: skip
    for fp in corpus_fps:
        print(f"  corpus fp [{fp['page'][:8]} {fp['category']}] {fp['text'][:100]}")
    print(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
