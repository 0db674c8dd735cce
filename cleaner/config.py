"""One immutable, documented configuration for a :class:`~cleaner.Cleaner`."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

from cleaner.model import Category

Options = TypeVar("Options")


def with_changes(options: Options, changes: dict[str, Any], what: str) -> Options:
    """A copy of a frozen dataclass of options with some fields changed; a name it does not
    have raises ``TypeError`` naming ``what`` kind of option it is."""
    known = {f.name for f in fields(options)}  # type: ignore[arg-type]
    unknown = set(changes) - known
    if unknown:
        raise TypeError(f"unknown {what} option(s): {', '.join(sorted(unknown))}")
    return replace(options, **changes)  # type: ignore[type-var]


@dataclass(frozen=True, slots=True)
class CleanerConfig:
    """Everything that changes what the cleaner does. Build one, then derive with :meth:`with_`."""

    #: Repair encoding and characters (ftfy plus whitespace repairs). Off: text is used as is.
    repair: bool = True
    #: Remove boilerplate by the category rules.
    boilerplate: bool = True
    #: Categories whose rules may fire; None means all of them.
    categories: frozenset[Category] | None = None
    #: Remove paragraphs that repeat an earlier paragraph of the same article.
    dedup_in_document: bool = True
    #: Character n-gram size for near-duplicate paragraphs (short paragraphs need short shingles).
    shingle_size: int = 5
    #: Exact Jaccard similarity of shingle sets at or above which a later paragraph is a copy.
    duplicate_threshold: float = 0.7
    #: Paragraphs shorter than this (in characters) are only compared for exact equality:
    #: short lines (list items, table cells, sub-headings) legitimately recur.
    duplicate_min_chars: int = 100
    #: A repeated block shorter than ``duplicate_min_chars`` goes only if it is a sentence at
    #: least this long, or a caption shown twice; other short repeats are structure.
    exact_min_chars: int = 50
    #: MinHash permutations for in-document candidates (verified exactly, so few suffice).
    num_perm: int = 32
    #: The guard: when removals would take more than this share of an article's characters,
    #: nothing is removed and a note says why (a rule that eats an article is a wrong rule).
    max_removed_share: float = 0.6
    #: The guard applies only to articles at least this long (a two-line file may be all cruft).
    guard_min_chars: int = 400

    def with_(self, **changes: Any) -> CleanerConfig:
        """A copy with some fields changed; unknown names raise ``TypeError``."""
        return with_changes(self, changes, "config")


DEFAULT_CONFIG = CleanerConfig()
