"""Text-mode accuracy on naeb-dev: which lines of trafilatura's output the cleaner removes.

Each page's HTML goes through trafilatura (cached under ``benchmarks/cache/``); every non-blank
line of the text is labelled content or boilerplate against the hand-cleaned gold body (rules in
:func:`benchmarks.common.label_lines`); then the cleaner and the C4 line filter run on the same
text and their removals are scored per line. Writes ``benchmarks/results/naeb_text.json`` and
prints a table.

    .venv/bin/python benchmarks/naeb_text.py [--limit N] [--errors [PATH]]
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    C4_DATATROVE,
    C4_TFDS,
    CACHE_DIR,
    EXTRACTIONS,
    FUZZY_MIN_SHARE,
    FUZZY_MIN_WORDS,
    MIN_SUBSTRING_CHARS,
    MIN_SUBSTRING_WORDS,
    NAEB_DIR,
    REMOVED_LINE_SHARE,
    RESULTS_DIR,
    C4LineFilter,
    Confusion,
    LabeledLine,
    LineRemoval,
    Page,
    extracted_text,
    format_table,
    gold_coverage,
    guess_category,
    label_lines,
    load_naeb,
    removals_per_line,
    run_metadata,
    score_lines,
    survives_elsewhere,
    text_lines,
    words,
    write_json,
)
from cleaner import Cleaner

#: The issue's targets for the cleaner.
TARGET_PRECISION = 0.95
TARGET_GOLD_CHAR_LOSS = 0.005
#: A boilerplate line this long that ends like a sentence is probably article text that the gold
#: left out (a truncated body, a dropped box); counted so recall can be read with that in mind.
PROSE_MIN_WORDS = 25

System = Callable[[str, Sequence[str]], "SystemOutput"]


@dataclass(slots=True)
class SystemOutput:
    lines: list[LineRemoval]
    #: tag (rule id or C4 reason) -> category, for the cleaner.
    categories: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unmapped: int = 0
    seconds: float = 0.0


def cleaner_system(cleaner: Cleaner) -> System:
    def run(text: str, lines: Sequence[str]) -> SystemOutput:
        started = time.perf_counter()
        result = cleaner.clean(text)
        seconds = time.perf_counter() - started
        spans = [(r.start, r.end, r.rule_id) for r in result.removals]
        per_line, unmapped = removals_per_line(lines, result.normalised, spans)
        return SystemOutput(
            per_line,
            {r.rule_id: r.category.value for r in result.removals},
            [note.code for note in result.notes],
            unmapped,
            seconds,
        )

    return run


def c4_system(c4: C4LineFilter, page_drops: bool) -> System:
    def run(text: str, lines: Sequence[str]) -> SystemOutput:
        verdict = c4.apply(lines)
        if page_drops and verdict.page_reason is not None:
            tags = [reason or verdict.page_reason for reason in verdict.line_reasons]
            return SystemOutput([LineRemoval(1.0, tag) for tag in tags], notes=["page_dropped"])
        return SystemOutput(
            [LineRemoval(0.0 if r is None else 1.0, r) for r in verdict.line_reasons]
        )

    return run


@dataclass(slots=True)
class PageResult:
    page: Page
    lines: list[LabeledLine]
    outputs: dict[str, SystemOutput]
    coverage: float


def evaluate_page(
    page: Page, text: str, systems: Mapping[str, System], errors: list[dict[str, str]]
) -> PageResult:
    lines = text_lines(text)
    labelled = label_lines(lines, page.gold)
    outputs: dict[str, SystemOutput] = {}
    for name, system in systems.items():
        try:
            outputs[name] = system(text, lines)
        except Exception as exc:  # one bad page fails alone, and is reported by name
            errors.append(
                {
                    "page": page.key,
                    "system": name,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(limit=5),
                }
            )
            outputs[name] = SystemOutput([LineRemoval(0.0)] * len(lines), notes=["error"])
    return PageResult(page, labelled, outputs, gold_coverage(labelled, page.gold))


# --------------------------------------------------------------------------------------------
# Aggregation


def label_stats(results: Sequence[PageResult]) -> dict[str, Any]:
    lines: Counter[str] = Counter()
    chars: Counter[str] = Counter()
    how: Counter[str] = Counter()
    prose_lines = prose_chars = 0
    for result in results:
        for line in result.lines:
            lines[line.label] += 1
            chars[line.label] += len(line.text)
            how[line.how] += 1
            if (
                line.is_boilerplate
                and len(line.text.split()) >= PROSE_MIN_WORDS
                and line.text.rstrip()[-1:] in ".!?\"”'’"
            ):
                prose_lines += 1
                prose_chars += len(line.text)
    coverages = sorted(r.coverage for r in results)
    return {
        "pages": len(results),
        "lines": dict(lines),
        "chars": dict(chars),
        "how": dict(how),
        "prose_like_boilerplate": {"lines": prose_lines, "chars": prose_chars},
        "gold_coverage_mean": round(sum(coverages) / len(coverages), 4) if coverages else None,
        "pages_gold_coverage_below_0_5": sum(1 for c in coverages if c < 0.5),
    }


def system_scores(results: Sequence[PageResult], name: str) -> dict[str, Any]:
    total = Confusion()
    by_tag: dict[str, Confusion] = defaultdict(Confusion)
    by_category: dict[str, Confusion] = defaultdict(Confusion)
    partial_chars = 0.0
    content_chars = 0
    fp_surviving = 0
    chars_lost_for_good = 0
    pages_with_fp = 0
    notes: Counter[str] = Counter()
    unmapped = 0
    seconds = 0.0
    for result in results:
        output = result.outputs[name]
        removed = [r.removed for r in output.lines]
        page = score_lines(result.lines, removed)
        total.merge(page)
        pages_with_fp += page.fp > 0
        notes.update(output.notes)
        unmapped += output.unmapped
        seconds += output.seconds
        survives = survives_elsewhere([line.text for line in result.lines], removed)
        for line, verdict, copy_kept in zip(result.lines, output.lines, survives, strict=True):
            if not line.is_boilerplate:
                content_chars += len(line.text)
                partial_chars += verdict.share * len(line.text)
                if verdict.removed and copy_kept:
                    fp_surviving += 1
                elif verdict.removed:
                    chars_lost_for_good += len(line.text)
            if verdict.removed and verdict.tag is not None:
                by_tag[verdict.tag].add(line.is_boilerplate, True, len(line.text))
                category = output.categories.get(verdict.tag, verdict.tag)
                by_category[category].add(line.is_boilerplate, True, len(line.text))
    return {
        "total": total.to_json(),
        # Counts removed characters inside kept lines too (span rules), not only whole lines.
        "gold_chars_removed_any": round(partial_chars / content_chars, 5)
        if content_chars
        else None,
        # False positives whose text is still in a kept line (one copy of a repeated paragraph).
        "fp_text_survives": fp_surviving,
        "gold_char_loss_copy_aware": round(chars_lost_for_good / content_chars, 5)
        if content_chars
        else None,
        "pages_with_false_positive": pages_with_fp,
        "notes": dict(notes),
        "unmapped_lines": unmapped,
        "seconds": round(seconds, 3),
        "by_category": {k: v.to_json() for k, v in sorted(by_category.items())},
        "by_rule": {k: v.to_json() for k, v in sorted(by_tag.items())},
    }


def false_positives(results: Sequence[PageResult], name: str) -> list[dict[str, Any]]:
    out = []
    for result in results:
        output = result.outputs[name]
        removed = [r.removed for r in output.lines]
        survives = survives_elsewhere([line.text for line in result.lines], removed)
        for line, verdict, copy_kept in zip(result.lines, output.lines, survives, strict=True):
            if verdict.removed and not line.is_boilerplate:
                out.append(
                    {
                        "page": result.page.key,
                        "site": result.page.site,
                        "line": line.index,
                        "rule_id": verdict.tag,
                        "category": output.categories.get(verdict.tag or "", verdict.tag),
                        "share_removed": round(verdict.share, 3),
                        "label_how": line.how,
                        "text_survives": copy_kept,
                        "text": line.text,
                    }
                )
    return out


def partial_removals(results: Sequence[PageResult], name: str) -> list[dict[str, Any]]:
    """Content lines that kept their line but lost some characters (span rules)."""
    out = []
    for result in results:
        output = result.outputs[name]
        for line, verdict in zip(result.lines, output.lines, strict=True):
            if not line.is_boilerplate and 0 < verdict.share < REMOVED_LINE_SHARE:
                out.append(
                    {
                        "page": result.page.key,
                        "rule_id": verdict.tag,
                        "share_removed": round(verdict.share, 3),
                        "text": line.text,
                    }
                )
    return out


def false_negatives(results: Sequence[PageResult], name: str) -> dict[str, dict[str, Any]]:
    """Boilerplate lines the system kept, grouped by a guessed category.

    Within a group, examples are the line texts (case- and space-folded) ordered by how many
    pages they occur on, then by length: a string that recurs across sites is worth a rule.
    """
    groups: dict[str, dict[str, Any]] = {}
    texts: dict[str, dict[str, tuple[set[str], str]]] = defaultdict(dict)
    for result in results:
        output = result.outputs[name]
        for line, verdict in zip(result.lines, output.lines, strict=True):
            if not line.is_boilerplate or verdict.removed:
                continue
            guess = guess_category(result.lines, line.index)
            group = groups.setdefault(guess, {"lines": 0, "chars": 0, "pages": set()})
            group["lines"] += 1
            group["chars"] += len(line.text)
            group["pages"].add(result.page.key)
            key = " ".join(words(line.text)) or line.text
            pages, example = texts[guess].get(key, (set(), line.text))
            pages.add(result.page.key)
            texts[guess][key] = (pages, example)
    out = {}
    for guess, group in sorted(groups.items(), key=lambda kv: -kv[1]["chars"]):
        ranked = sorted(texts[guess].values(), key=lambda pe: (-len(pe[0]), -len(pe[1])))
        out[guess] = {
            "lines": group["lines"],
            "chars": group["chars"],
            "pages": len(group["pages"]),
            "examples": [
                {"pages": len(pages), "text": text, "page": sorted(pages)[0]}
                for pages, text in ranked[:30]
            ],
        }
    return out


def per_page(results: Sequence[PageResult]) -> list[dict[str, Any]]:
    rows = []
    for result in results:
        row: dict[str, Any] = {
            "page": result.page.key,
            "site": result.page.site,
            "lines": len(result.lines),
            "boilerplate_lines": sum(line.is_boilerplate for line in result.lines),
            "gold_coverage": round(result.coverage, 3),
        }
        for name, output in result.outputs.items():
            c = score_lines(result.lines, [r.removed for r in output.lines])
            row[name] = {"tp": c.tp, "fp": c.fp, "fn": c.fn, "notes": output.notes}
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------
# Printing


def shorten(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fp_by_rule(fps: Sequence[dict[str, Any]]) -> list[tuple[str, int, dict[str, Any]]]:
    counts = Counter(str(fp["rule_id"]) for fp in fps)
    first: dict[str, dict[str, Any]] = {}
    for fp in fps:
        first.setdefault(str(fp["rule_id"]), fp)
    return [(rule, n, first[rule]) for rule, n in counts.most_common()]


def print_report(data: dict[str, Any]) -> None:
    labels = data["labels"]
    print(
        f"naeb-dev text mode: {labels['pages']} pages, extraction '{data['extraction']}' "
        f"({data['extraction_tag']})"
    )
    print(
        f"lines: {labels['lines'].get('content', 0)} content, "
        f"{labels['lines'].get('boilerplate', 0)} boilerplate; chars: "
        f"{labels['chars'].get('content', 0)} content, "
        f"{labels['chars'].get('boilerplate', 0)} boilerplate"
    )
    prose = labels["prose_like_boilerplate"]
    print(
        f"  of the boilerplate, {prose['lines']} lines ({prose['chars']} chars) read like prose "
        f"(>= {PROSE_MIN_WORDS} words, sentence end): mostly text the gold leaves out"
    )
    print(f"  label rules used: {labels['how']}")
    print()
    rows = []
    for name, scores in data["systems"].items():
        t = scores["total"]
        rows.append(
            [
                name,
                t["removed"],
                t["tp"],
                t["fp"],
                t["fn"],
                t["precision"],
                t["recall"],
                t["gold_char_loss"],
                t["boilerplate_char_recall"],
                scores["pages_with_false_positive"],
            ]
        )
    header = ["system", "removed", "tp", "fp", "fn", "precision", "recall", "gold_loss"]
    print(format_table(rows, [*header, "bp_char_recall", "pages_w_fp"]))
    print(
        "  (fp whose text survives in a kept copy / gold loss counting only text gone for good: "
        + "; ".join(
            f"{name} {s['fp_text_survives']} / {s['gold_char_loss_copy_aware']}"
            for name, s in data["systems"].items()
        )
        + ")"
    )
    cleaner = data["systems"]["cleaner"]
    print(
        f"cleaner: gold chars removed counting partial lines {cleaner['gold_chars_removed_any']}; "
        f"notes {cleaner['notes']}; unmapped lines {cleaner['unmapped_lines']}; "
        f"{cleaner['seconds']} s cleaning"
    )
    for target, value in data["targets"].items():
        print(f"  target {target}: {value['value']} ({'met' if value['met'] else 'NOT met'})")
    print()
    print("cleaner by category (removed lines):")
    rows = [
        [cat, c["removed"], c["tp"], c["fp"], c["precision"], c["boilerplate_chars_removed"]]
        for cat, c in sorted(cleaner["by_category"].items(), key=lambda kv: -kv[1]["removed"])
    ]
    print(format_table(rows, ["category", "removed", "tp", "fp", "precision", "bp_chars"]))
    print()
    print("c4 by reason (removed lines):")
    c4 = data["systems"]["c4"]["by_category"]
    rows = [
        [r, c["removed"], c["tp"], c["fp"], c["precision"], c["content_chars_lost"]]
        for r, c in sorted(c4.items(), key=lambda kv: -kv[1]["removed"])
    ]
    print(format_table(rows, ["reason", "removed", "tp", "fp", "precision", "gold_chars_lost"]))
    print()
    fps = data["false_positives"]
    print(f"cleaner false positives: {len(fps)} content lines removed; by rule id:")
    rows = [
        [rule, n, f"{fp['page'][:8]}: {shorten(fp['text'], 70)}"]
        for rule, n, fp in fp_by_rule(fps)[:15]
    ]
    print(format_table(rows, ["rule_id", "lines", "example (page: line)"]))
    print()
    print("cleaner false negatives by guessed category (top 3 examples, by pages then length):")
    for guess, group in data["false_negatives"].items():
        print(f"  {guess}: {group['lines']} lines, {group['chars']} chars, {group['pages']} pages")
        for ex in group["examples"][:3]:
            print(f"      [{ex['pages']}p] {shorten(ex['text'], 100)}")


def write_errors(path: Path, data: dict[str, Any], partial: Sequence[dict[str, Any]]) -> None:
    lines = [
        "# naeb-dev text mode: cleaner errors",
        "",
        f"Run {data['meta']['date']} on {data['meta']['source']}.",
        "",
        "## False positives (content lines removed), by rule id",
        "",
    ]
    by_rule: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fp in data["false_positives"]:
        by_rule[str(fp["rule_id"])].append(fp)
    for rule, fps in sorted(by_rule.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"### {rule} ({len(fps)})")
        lines.append("")
        for fp in fps:
            survives = "; text survives in a kept copy" if fp["text_survives"] else ""
            lines.append(
                f"- `{fp['page']}` line {fp['line']} ({fp['label_how']}{survives}): {fp['text']}"
            )
        lines.append("")
    lines += ["## Content lines that lost part of their text (span rules)", ""]
    for p in partial:
        lines.append(f"- `{p['page']}` {p['rule_id']} ({p['share_removed']:.0%}): {p['text']}")
    lines += ["", "## False negatives (boilerplate kept), by guessed category", ""]
    for guess, group in data["false_negatives"].items():
        lines.append(f"### {guess}: {group['lines']} lines, {group['chars']} chars")
        lines.append("")
        for ex in group["examples"]:
            lines.append(f"- [{ex['pages']} pages, e.g. `{ex['page']}`] {ex['text']}")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), "utf-8")


# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument(
        "--extraction",
        choices=sorted(EXTRACTIONS),
        default="default",
        help="trafilatura settings (default: its defaults, comments left out)",
    )
    parser.add_argument("--naeb-dir", type=Path, default=NAEB_DIR)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "naeb_text.json")
    parser.add_argument(
        "--errors",
        type=Path,
        nargs="?",
        const=RESULTS_DIR / "naeb_text_errors.md",
        default=None,
        help="write every false positive and the top false negatives to this file "
        "(default path: benchmarks/results/naeb_text_errors.md)",
    )
    args = parser.parse_args(argv)

    extraction = EXTRACTIONS[args.extraction]
    pages = load_naeb(args.naeb_dir, args.limit)
    systems: dict[str, System] = {
        "cleaner": cleaner_system(Cleaner()),
        "c4": c4_system(C4_TFDS, page_drops=False),
        "c4+page_drops": c4_system(C4_TFDS, page_drops=True),
        "c4_datatrove": c4_system(C4_DATATROVE, page_drops=False),
    }
    errors: list[dict[str, str]] = []
    results = []
    for page in pages:
        try:
            text = extracted_text(page, extraction, args.cache_dir)
        except Exception as exc:
            errors.append({"page": page.key, "system": "extraction", "error": repr(exc)})
            continue
        results.append(evaluate_page(page, text, systems, errors))

    scores = {name: system_scores(results, name) for name in systems}
    fps = false_positives(results, "cleaner")
    cleaner_total = scores["cleaner"]["total"]
    precision = cleaner_total["precision"]
    loss = cleaner_total["gold_char_loss"]
    data: dict[str, Any] = {
        "meta": run_metadata(),
        "extraction": extraction.name,
        "extraction_tag": extraction.cache_tag(),
        "extraction_kwargs": extraction.kwargs(),
        "labelling": {
            "min_substring_words": MIN_SUBSTRING_WORDS,
            "min_substring_chars": MIN_SUBSTRING_CHARS,
            "fuzzy_min_words": FUZZY_MIN_WORDS,
            "fuzzy_min_share": FUZZY_MIN_SHARE,
            "removed_line_share": REMOVED_LINE_SHARE,
        },
        "labels": label_stats(results),
        "systems": scores,
        "targets": {
            f"precision >= {TARGET_PRECISION}": {
                "value": precision,
                "met": precision is not None and precision >= TARGET_PRECISION,
            },
            f"gold_char_loss < {TARGET_GOLD_CHAR_LOSS}": {
                "value": loss,
                "met": loss is not None and loss < TARGET_GOLD_CHAR_LOSS,
            },
        },
        "false_positives": fps,
        "false_positive_rules": [
            {"rule_id": rule, "lines": n, "example": fp["text"], "page": fp["page"]}
            for rule, n, fp in fp_by_rule(fps)
        ],
        "false_negatives": false_negatives(results, "cleaner"),
        "errors": errors,
        "pages": per_page(results),
    }
    write_json(args.output, data)
    print_report(data)
    if args.errors is not None:
        write_errors(args.errors, data, partial_removals(results, "cleaner"))
        print(f"\nerrors written to {args.errors}")
    print(f"results written to {args.output}")
    if errors:
        print(f"\n{len(errors)} page(s) failed:", file=sys.stderr)
        for error in errors:
            print(f"  {error['page']} [{error['system']}]: {error['error']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
