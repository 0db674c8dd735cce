"""The values that cleaning produces: blocks, removals, repairs and the result that holds them.

Every change the cleaner makes is one of these records, and the records replay: applying the
repairs to the decoded text gives the normalised text, and cutting the removals out of the
normalised text gives the cleaned text (see :func:`apply_removals`). Nothing is invented.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple


class Category(StrEnum):
    """Why a span was removed. The values appear in reports and never change their spelling."""

    #: Cookie, consent and privacy-policy notices, and their Accept/Reject button text.
    COOKIE_BANNER = "cookie_banner"
    #: Comment and moderation rules, "Report this comment", subscriber-only commenting notes.
    COMMENT_POLICY = "comment_policy"
    #: Newsletter, sign-up and paywall prompts.
    SUBSCRIPTION = "subscription"
    #: Share, follow and social-button text.
    SHARE_PROMPT = "share_prompt"
    #: Author lines, author boxes ("About admin") and lone agency credits ("AA").
    BYLINE = "byline"
    #: Publication and update stamps: "Update: 17:48 - 7/08/2018 Tuesday", "6 years ago".
    TIMESTAMP = "timestamp"
    #: "Check Also", "Related", "Read more" and the other article's headline and lead.
    TEASER = "teaser"
    #: Photo credits and captions.
    CAPTION = "caption"
    #: Navigation trails: "Home / Politics / ...".
    BREADCRUMB = "breadcrumb"
    #: Hashtag and tag lists.
    TAGS = "tags"
    #: Copyright lines: "© Agence France-Presse".
    COPYRIGHT = "copyright"
    #: Advertisement labels and sponsored-content notices.
    ADVERTISEMENT = "advertisement"
    #: Affiliate-link, sponsorship and editorial-policy disclosures in the site's voice.
    DISCLOSURE = "disclosure"
    #: Lone punctuation such as "|" or "* * *" standing where no text is.
    SEPARATOR = "separator"
    #: A paragraph that repeats, exactly or nearly, an earlier paragraph of the same article.
    DUPLICATE_IN_DOCUMENT = "duplicate_in_document"
    #: A passage that one source repeats, exactly or nearly, across its own articles (a
    #: footer, an author box, a standing promo), found by the corpus pass.
    SITE_BOILERPLATE = "site_boilerplate"
    #: A short passage repeated across many unrelated sources (a syndicated notice, a
    #: platform's widget text), found by the corpus pass.
    CORPUS_BOILERPLATE = "corpus_boilerplate"
    #: A later copy of a quote or wire paragraph that articles of different sources share;
    #: removed only when asked (``--drop-shared``), else reported and kept.
    SHARED_PASSAGE = "shared_passage"


#: Each category's value as a plain str: ``Category.value`` is a property that costs ten
#: times this lookup, and a dump's report asks for it fifteen times an article.
_VALUES: dict[Category, str] = {category: category.value for category in Category}


class Block(NamedTuple):
    """One paragraph (or line) of the normalised text.

    ``start``/``end`` delimit the block's text; ``sep_end`` is where the whitespace after it
    ends, so consecutive blocks tile the text from the first block's ``start`` onwards.
    A named tuple, immutable like the other records: every document makes dozens, and one
    is made in a third of the time a frozen dataclass takes.
    """

    #: The block's position in its document (this field hides tuple.index, which no
    #: caller of a Block wants).
    index: int  # type: ignore[assignment]
    start: int
    end: int
    sep_end: int
    text: str


class Removal(NamedTuple):
    """A span of the normalised text that the cleaner removed, and why. (A named tuple, as
    :class:`Block`: a news article makes a dozen or more.)"""

    start: int
    end: int
    text: str
    category: Category
    rule_id: str
    evidence: str = ""
    #: Index of the block that this removal is, or that holds this span.
    block: int | None = None

    def to_json(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict: that deep-copies every field, and a report of a
        # large dump is millions of these.
        return {
            "kind": "removal", "start": self.start, "end": self.end, "text": self.text,
            "category": _VALUES[self.category], "rule_id": self.rule_id,
            "evidence": self.evidence, "block": self.block,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Repair:
    """A repaired segment of the decoded text: ``before`` (at ``start``..``end``) became ``after``.

    ``fixes`` names the steps, in order, e.g. ``("encode:latin-1", "decode:utf-8")`` for
    mojibake, ``("unescape_html",)`` for entities, ``("nbsp_to_space",)``.
    """

    start: int
    end: int
    before: str
    after: str
    fixes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "repair", "start": self.start, "end": self.end, "before": self.before,
            "after": self.after, "fixes": list(self.fixes),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Note:
    """Something the cleaner decided not to do, and why (e.g. the guard kept an article)."""

    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": "note", "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of cleaning one document."""

    #: The cleaned text: the kept spans of ``normalised``, in order.
    text: str
    #: The decoded, repaired text that removal spans refer to.
    normalised: str
    #: The decoded text before repair, that repair spans refer to.
    decoded: str
    blocks: tuple[Block, ...]
    removals: tuple[Removal, ...]
    repairs: tuple[Repair, ...] = ()
    notes: tuple[Note, ...] = ()
    #: The charset the input bytes were decoded from (None when the input was already text).
    encoding: str | None = None

    @property
    def changed(self) -> bool:
        return self.text != self.decoded

    def removed_chars(self) -> dict[str, int]:
        """Characters removed per category."""
        totals: dict[str, int] = {}
        for removal in self.removals:
            key = _VALUES[removal.category]
            totals[key] = totals.get(key, 0) + removal.end - removal.start
        return totals

    def records(self) -> list[dict[str, Any]]:
        """Every repair, removal and note as a JSON-ready dict, in text order."""
        out: list[dict[str, Any]] = [r.to_json() for r in self.repairs]
        out.extend(r.to_json() for r in self.removals)
        out.extend(n.to_json() for n in self.notes)
        return out


def apply_removals(text: str, removals: Iterable[Removal]) -> str:
    """Cut the removed spans out of ``text``: the replay that reproduces a cleaned text."""
    pieces = []
    pos = 0
    for removal in sorted(removals, key=lambda r: r.start):
        if removal.start < pos:
            raise ValueError(f"overlapping removals at {removal.start}")
        if text[removal.start : removal.end] != removal.text:
            raise ValueError(f"removal at {removal.start} does not match the text")
        pieces.append(text[pos : removal.start])
        pos = removal.end
    pieces.append(text[pos:])
    return "".join(pieces)


def apply_repairs(text: str, repairs: Sequence[Repair]) -> str:
    """Replace each repaired segment of ``text`` with its repair: decoded -> normalised."""
    pieces = []
    pos = 0
    for repair in sorted(repairs, key=lambda r: r.start):
        if repair.start < pos or text[repair.start : repair.end] != repair.before:
            raise ValueError(f"repair at {repair.start} does not match the text")
        pieces.append(text[pos : repair.start])
        pieces.append(repair.after)
        pos = repair.end
    pieces.append(text[pos:])
    return "".join(pieces)


class Verdict(NamedTuple):
    """Why a block goes, decided before it becomes a removal span."""

    category: Category
    rule_id: str
    evidence: str
    #: Decided from context (carried, sandwiched, next to another removal) rather than by a
    #: rule's own match: the guard gives these back first.
    inferred: bool = False
