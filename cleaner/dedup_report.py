"""``cleaner dedup``'s report: near-duplicate articles, repeated passages and where they occur,
and each article's share of text found in other articles; as JSON and as a table."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from cleaner.corpus import CorpusDecisions, PassageDecision, article_order

#: Characters of a passage shown in the table (the JSON has the whole block).
SHOWN_CHARS = 70


def build_report(
    decisions: CorpusDecisions,
    texts: dict[tuple[str, int], str],
    previous: int = 0,
) -> dict[str, Any]:
    """The report as JSON-ready data. ``texts`` holds block texts by (article, block), for the
    first copy of this run of each repeated passage; ``previous``: articles of earlier runs
    that were evidence."""
    groups: dict[int, list[PassageDecision]] = defaultdict(list)
    for article in sorted(decisions.passages, key=article_order):
        for _, decision in sorted(decisions.passages[article].items()):
            groups[decision.group].append(decision)
    passages: list[dict[str, Any]] = []
    for members in groups.values():
        first = members[0]
        passages.append({
            "kind": "shared_passage" if first.kind in ("shared", "headline") else first.kind,
            "removed": first.removed,
            "text": texts.get((first.article_id, first.block)),
            "articles": len({m.article_id for m in members} | set(first.others)),
            "copies": [
                {"article": m.article_id, "block": m.block, "similarity": m.similarity}
                for m in members
            ],
            "elsewhere": sorted(set(first.others) - {m.article_id for m in members}),
        })  # fmt: skip
    passages.sort(key=lambda p: (-p["articles"], p["kind"],
                                 article_order(p["copies"][0]["article"]),
                                 p["copies"][0]["block"]))  # fmt: skip
    shares: list[dict[str, Any]] = [
        {"article": article, "chars": chars, "repeated_chars": repeated,
         "share": round(repeated / chars, 4) if chars else 0.0}
        for article, (chars, repeated) in sorted(decisions.shares.items(),
                                                 key=lambda kv: article_order(kv[0]))
    ]  # fmt: skip
    shares.sort(key=lambda s: (-s["share"], article_order(s["article"])))
    return {
        "articles": len(decisions.shares),
        "previous_articles": previous,
        "corpus_min_sources": decisions.corpus_min_sources,
        "clusters": [
            {"kept": c.kept, "copies": [{"article": a, "similarity": s} for a, s in c.copies]}
            for c in decisions.clusters
        ],
        "passages": passages,
        "shares": shares,
    }


def report_table(report: dict[str, Any], top: int = 20) -> list[str]:
    """The report as lines of text for a terminal."""
    lines = []
    clusters = report["clusters"]
    copies = sum(len(c["copies"]) for c in clusters)
    head = f"{report['articles']} articles"
    if report["previous_articles"]:
        head += f" (and {report['previous_articles']} from the index)"
    lines.append(head)
    lines.append("")
    lines.append(f"Near-duplicate articles: {copies} in {len(clusters)} cluster"
                 f"{'s' if len(clusters) != 1 else ''}")  # fmt: skip
    for cluster in clusters[:top]:
        lines.append(f"  kept  {cluster['kept']}")
        for copy in cluster["copies"]:
            lines.append(f"  {copy['similarity']:.2f}  {copy['article']}")
    _more(lines, len(clusters), top, "clusters")
    passages = report["passages"]
    lines.append("")
    lines.append(f"Repeated passages: {len(passages)}")
    if passages:
        lines.append(f"  {'kind':<22} {'articles':>8}  text / where")
    for passage in passages[:top]:
        text = (passage["text"] or "(text not read)").replace("\n", " ")
        if len(text) > SHOWN_CHARS:
            text = text[: SHOWN_CHARS - 3] + "..."
        action = "" if passage["removed"] else " (kept)"
        lines.append(f"  {passage['kind'] + action:<22} {passage['articles']:>8}  {text}")
        where = [f"{c['article']} #{c['block']}" for c in passage["copies"]]
        where += passage["elsewhere"]
        shown = ", ".join(where[:4]) + (f" (+{len(where) - 4} more)" if len(where) > 4 else "")
        lines.append(f"  {'':<22} {'':>8}  in {shown}")
    _more(lines, len(passages), top, "passages")
    shares = [s for s in report["shares"] if s["repeated_chars"]]
    lines.append("")
    lines.append(f"Articles with text found in other articles: {len(shares)} of "
                 f"{report['articles']}")  # fmt: skip
    if shares:
        lines.append(f"  {'share':>6} {'chars':>8}  article")
    for share in shares[:top]:
        lines.append(f"  {share['share']:>6.1%} {share['chars']:>8}  {share['article']}")
    _more(lines, len(shares), top, "articles")
    return lines


def _more(lines: list[str], count: int, top: int, what: str) -> None:
    if count > top:
        lines.append(f"  ... {count - top} more {what} (--top N shows more, --json all)")
