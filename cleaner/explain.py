"""Turning a :class:`~cleaner.Result` into what a person or a script reads. Pure: no I/O.

``explain_lines`` shows every block with its verdict (keep, remove, or a part removed) and the
reason of each removal, then the repairs and notes; ``file_records`` are the JSON records of
a result with the file they came from, as written to a report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import click
import orjson

from cleaner.model import Block, Removal, Result

__all__ = [
    "BLOCK_INDENT",
    "DEFAULT_WIDTH",
    "explain_lines",
    "explain_text",
    "file_records",
    "json_line",
    "json_lines",
    "orjson_safe",
]

#: How wide a block's text may be on its line unless the whole text is asked for.
DEFAULT_WIDTH = 80
#: Where a block's text starts on its line, after the verdict and the block number.
BLOCK_INDENT = 14

_VERDICT_STYLE: dict[str, dict[str, Any]] = {
    "keep": {"fg": "green"},
    "remove": {"fg": "red", "bold": True},
    "part": {"fg": "yellow", "bold": True},
}
_INDENT = " " * BLOCK_INDENT


def file_records(result: Result, file: str) -> list[dict[str, Any]]:
    """The result's records (repairs, removals, notes), each naming ``file`` first."""
    return [{"file": file, **record} for record in result.records()]


#: Values that orjson writes as ``json`` would, in the layout of ``json.dumps(value,
#: ensure_ascii=False, separators=(",", ":"))`` (tests/test_properties.py): not a float,
#: which orjson writes as null when it is a NaN or an infinity (``json`` reads those in).
_PLAIN = frozenset({str, int, bool, type(None)})
_STR = frozenset({str})


def orjson_safe(value: Any) -> bool:
    """Whether orjson writes this value as ``json`` would (then it may still refuse a lone
    surrogate or an integer past 64 bits: see :func:`json_line`). A dict or list of plain
    values, most records, is told by the set of its types (a Python loop over its items
    took 5% of a cleaning worker's time on a dump's report)."""
    kind = type(value)
    if kind in _PLAIN:
        return True
    if kind is dict:
        if _STR.issuperset(map(type, value)) and _PLAIN.issuperset(map(type, value.values())):
            return True
        return all(type(k) is str and orjson_safe(v) for k, v in value.items())
    if kind is list:
        return _PLAIN.issuperset(map(type, value)) or all(map(orjson_safe, value))
    return False


def json_line(value: Any) -> str:
    """One compact JSON text, non-ASCII text kept readable: by orjson, eight times as fast
    as ``json.dumps`` (a dump's report is ten records an article), where it writes what
    ``json`` would; else by ``json``, in the same layout."""
    if orjson_safe(value):
        try:
            return orjson.dumps(value).decode("utf-8")
        except orjson.JSONEncodeError:  # a lone surrogate, an integer past 64 bits
            pass
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_lines(records: Iterable[dict[str, Any]]) -> list[str]:
    """One compact JSON object per line (:func:`json_line`)."""
    return [json_line(record) for record in records]


def _shorten(text: str, width: int | None) -> str:
    if width is None:
        return text.replace("\n", "\n" + _INDENT)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def _reason(removal: Removal) -> str:
    parts = [removal.category.value, removal.rule_id]
    if removal.evidence:
        parts.append(removal.evidence)
    return " · ".join(parts)


def _covers(removal: Removal, block: Block) -> bool:
    return removal.start <= block.start and removal.end >= block.end


def explain_lines(
    result: Result, *, color: bool = False, width: int | None = DEFAULT_WIDTH
) -> list[str]:
    """Every block with keep / remove / part and why, then repairs, notes and a summary.

    ``width`` shortens each block to one line of that many characters; None shows blocks
    whole. ``color`` adds ANSI styles (for a terminal).
    """

    def style(text: str, **how: Any) -> str:
        return click.style(text, **how) if color else text

    by_block: dict[int | None, list[Removal]] = {}
    for removal in result.removals:
        by_block.setdefault(removal.block, []).append(removal)

    lines: list[str] = []
    counts = {"keep": 0, "remove": 0, "part": 0}
    for block in result.blocks:
        removals = by_block.get(block.index, [])
        whole = [r for r in removals if _covers(r, block)]
        verdict = "remove" if whole else "part" if removals else "keep"
        counts[verdict] += 1
        label = style(f"{verdict:<7}", **_VERDICT_STYLE[verdict])
        text = _shorten(block.text, width)
        if verdict == "remove":
            text = style(text, fg="red")
        lines.append(f"{label}{'#' + str(block.index):>5}  {text}")
        for removal in whole:
            lines.append(_INDENT + style(_reason(removal), fg="cyan"))
        for removal in removals:
            if not _covers(removal, block):
                cut = style(repr(removal.text.strip()), fg="red")
                lines.append(f"{_INDENT}removed {cut}: " + style(_reason(removal), fg="cyan"))
    for removal in by_block.get(None, []):
        lines.append(f"{'remove':<7}{'':>5}  {style(repr(removal.text), fg='red')}")
        lines.append(_INDENT + style(_reason(removal), fg="cyan"))

    if result.repairs:
        lines.append("")
        lines.append(style("repairs", bold=True))
        for repair in result.repairs:
            lines.append(
                f"  at {repair.start}: {repair.before!r} -> {repair.after!r}  "
                + style(f"({', '.join(repair.fixes)})", fg="cyan")
            )
    if result.notes:
        lines.append("")
        lines.append(style("notes", bold=True))
        for note in result.notes:
            lines.append(f"  {style(note.code, fg='yellow')}: {note.message}")

    removed = sum(result.removed_chars().values())
    lines.append("")
    lines.append(
        f"{len(result.blocks)} blocks: {counts['keep']} kept, {counts['remove']} removed, "
        f"{counts['part']} partly removed; {removed} of {len(result.normalised)} characters "
        f"removed; {len(result.repairs)} repair{'' if len(result.repairs) == 1 else 's'}"
    )
    return lines


def explain_text(result: Result, *, color: bool = False, width: int | None = DEFAULT_WIDTH) -> str:
    return "\n".join(explain_lines(result, color=color, width=width)) + "\n"
