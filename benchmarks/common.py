"""Pieces that every benchmark shares: the naeb-dev pages and their extracted text, gold labels for
lines, the C4 line filter as a peer, confusion counts, and writing results.

Everything here that computes is a function of its arguments; files are touched only by the
loaders, the extraction cache and :func:`write_json`.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO_ROOT / "benchmarks"
RESULTS_DIR = BENCH_DIR / "results"
CACHE_DIR = BENCH_DIR / "cache"
SHARED_DIR = Path(os.environ.get("CLEANER_SHARED_DIR", REPO_ROOT.parent / "shared"))
NAEB_DIR = SHARED_DIR / "data" / "naeb-dev"
SEEDS_DIR = SHARED_DIR / "seeds"


# --------------------------------------------------------------------------------------------
# naeb-dev pages and their extracted text


@dataclass(frozen=True, slots=True)
class Page:
    """One naeb-dev article: where its HTML is and the hand-cleaned gold body."""

    key: str
    url: str
    site: str
    title: str
    gold: str
    html_path: Path

    def html(self) -> bytes:
        with gzip.open(self.html_path, "rb") as handle:
            return handle.read()


def load_naeb(root: Path = NAEB_DIR, limit: int | None = None) -> list[Page]:
    """The pages in key order (a stable order, so ``limit`` always picks the same pages)."""
    articles = json.loads((root / "articles.json").read_text("utf-8"))
    pages = [
        Page(
            key=key,
            url=record.get("url", ""),
            site=record.get("site", ""),
            title=record.get("title", ""),
            gold=record.get("articleBody", ""),
            html_path=root / "html" / f"{key}.html.gz",
        )
        for key, record in sorted(articles.items())
    ]
    return pages if limit is None else pages[:limit]


@dataclass(frozen=True, slots=True)
class Extraction:
    """How trafilatura turns a page into text.

    ``default`` is trafilatura's own default with comments left out: the text that most corpora
    built on trafilatura start from, with its usual leftovers ("Advertisement", "Supported by",
    captions, teasers). ``recall`` keeps more of the page (and more boilerplate); ``precision``
    keeps less.
    """

    name: str
    favor_precision: bool = False
    favor_recall: bool = False
    include_comments: bool = False
    include_tables: bool = True

    def kwargs(self) -> dict[str, Any]:
        return {
            "output_format": "txt",
            "favor_precision": self.favor_precision,
            "favor_recall": self.favor_recall,
            "include_comments": self.include_comments,
            "include_tables": self.include_tables,
            "deduplicate": False,
            "with_metadata": False,
        }

    def cache_tag(self) -> str:
        import trafilatura

        digest = hashlib.sha256(json.dumps(self.kwargs(), sort_keys=True).encode()).hexdigest()
        return f"trafilatura-{trafilatura.__version__}-{self.name}-{digest[:8]}"


EXTRACTIONS = {
    "default": Extraction("default"),
    "recall": Extraction("recall", favor_recall=True),
    "precision": Extraction("precision", favor_precision=True),
}


def extracted_text(page: Page, extraction: Extraction, cache_dir: Path = CACHE_DIR) -> str:
    """The page's text as trafilatura extracts it, cached per page, settings and version."""
    path = cache_dir / "naeb-text" / extraction.cache_tag() / f"{page.key}.txt"
    if path.exists():
        return path.read_text("utf-8")
    import trafilatura

    text = trafilatura.extract(page.html(), url=page.url or None, **extraction.kwargs()) or ""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)
    return text


def cached_texts(cache_dir: Path = CACHE_DIR) -> list[str]:
    """Every extracted naeb text already in the cache (any settings), in a stable order."""
    return [p.read_text("utf-8") for p in sorted((cache_dir / "naeb-text").glob("*/*.txt"))]


#: Where a sentence ends, for drawing real sentences as text (benchmarks/corpus_index.py,
#: benchmarks/generate_dump.py): after . ! or ? and white space. "Mr. Putin" splits too, which
#: is harmless there: the pieces are only put back together, never parsed.
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")


def text_lines(text: str) -> list[str]:
    """The non-blank lines of a text, stripped: the unit that every text-mode metric counts."""
    return [s for line in text.split("\n") if (s := line.strip())]


# --------------------------------------------------------------------------------------------
# Gold labels for lines

Label = Literal["content", "boilerplate"]

#: A line shorter than this (in words, or in characters of its normalised form) is content only
#: when it is a whole line of the gold body: "AP", "Photo" or "Read more" occur inside many gold
#: texts and must not count as content because of that.
MIN_SUBSTRING_WORDS = 4
MIN_SUBSTRING_CHARS = 20
#: A longer line that the gold body has with small edits (the page changed after the gold was
#: made, emoji or a comma dropped) is content when this share of its word trigrams is in the gold.
#: Below 0.8 the matches are mostly paraphrases: summary bullets, standfirsts, headlines.
FUZZY_MIN_WORDS = 10
FUZZY_MIN_SHARE = 0.8

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Case-folded runs of letters and digits after NFKC: quotes, dashes, emoji, underscores
    and spacing do not matter, and a line without letters or digits has no words (so it is
    never content, even where the gold keeps a "___" separator)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def _trigrams(tokens: Sequence[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + 3]) for i in range(len(tokens) - 2)}


@dataclass(frozen=True, slots=True)
class GoldIndex:
    """The gold body in the forms that the labelling rules look things up in."""

    joined: str
    lines: frozenset[str]
    line_counts: dict[str, int]
    trigrams: frozenset[tuple[str, ...]]

    @classmethod
    def build(cls, gold: str) -> GoldIndex:
        tokens = words(gold)
        line_counts: dict[str, int] = {}
        for line in text_lines(gold):
            key = " ".join(words(line))
            if key:
                line_counts[key] = line_counts.get(key, 0) + 1
        return cls(
            joined=f" {' '.join(tokens)} ",
            lines=frozenset(line_counts),
            line_counts=line_counts,
            trigrams=frozenset(_trigrams(tokens)),
        )

    def count(self, key: str) -> int:
        return self.joined.count(f" {key} ")


@dataclass(frozen=True, slots=True)
class LabeledLine:
    """A non-blank line of the extracted text and its gold label.

    ``how`` says which rule gave the label: ``gold_line`` (a whole gold line), ``gold_substring``
    (long enough and inside the gold), ``gold_fuzzy`` (most trigrams in the gold),
    ``extra_copy`` (content words, but the text has more copies than the gold), ``no_words``
    and ``not_in_gold``.
    """

    index: int
    text: str
    label: Label
    how: str

    @property
    def is_boilerplate(self) -> bool:
        return self.label == "boilerplate"


def label_lines(lines: Sequence[str], gold: str | GoldIndex) -> list[LabeledLine]:
    """Label each line content or boilerplate against the gold body.

    Rules, in order: a line without word characters is boilerplate; a line whose words equal a
    whole gold line is content; a line of at least ``MIN_SUBSTRING_WORDS`` words and
    ``MIN_SUBSTRING_CHARS`` characters whose words occur contiguously in the gold is content; a
    line of at least ``FUZZY_MIN_WORDS`` words with ``FUZZY_MIN_SHARE`` of its word trigrams in
    the gold is content; everything else is boilerplate. Then copies: when an exactly matched
    line stands more often than the gold has it, the later copies are boilerplate (a caption or
    pull quote repeating a sentence of the body).
    """
    index = gold if isinstance(gold, GoldIndex) else GoldIndex.build(gold)
    keys = [" ".join(words(line)) for line in lines]
    hows: list[str] = []
    for key in keys:
        n_words = key.count(" ") + 1 if key else 0
        if not key:
            hows.append("no_words")
        elif key in index.lines:
            hows.append("gold_line")
        elif (
            n_words >= MIN_SUBSTRING_WORDS
            and len(key) >= MIN_SUBSTRING_CHARS
            and f" {key} " in index.joined
        ):
            hows.append("gold_substring")
        elif n_words >= FUZZY_MIN_WORDS:
            grams = _trigrams(key.split(" "))
            found = sum(1 for g in grams if g in index.trigrams)
            hows.append("gold_fuzzy" if found >= FUZZY_MIN_SHARE * len(grams) else "not_in_gold")
        else:
            hows.append("not_in_gold")

    # Copies: a whole gold line may stand as often as the gold has it as a line; a substring as
    # often as the gold has it, less the times it is already inside other content lines.
    content_keys = [k for k, h in zip(keys, hows, strict=True) if h.startswith("gold_")]
    allowed: dict[str, int] = {}
    for i, key in enumerate(keys):
        if hows[i] not in ("gold_line", "gold_substring"):
            continue
        if key not in allowed:
            if hows[i] == "gold_line":
                allowed[key] = index.line_counts[key]
            else:
                inside = sum(
                    f" {other} ".count(f" {key} ") for other in content_keys if other != key
                )
                allowed[key] = index.count(key) - inside
        if allowed[key] <= 0:
            hows[i] = "extra_copy"
        allowed[key] -= 1

    content = {"gold_line", "gold_substring", "gold_fuzzy"}
    return [
        LabeledLine(i, line, "content" if how in content else "boilerplate", how)
        for i, (line, how) in enumerate(zip(lines, hows, strict=True))
    ]


def gold_coverage(lines: Sequence[LabeledLine], gold: str) -> float:
    """Share of the gold's words that the content lines hold: how much the extractor kept."""
    total = len(words(gold))
    kept = sum(len(words(line.text)) for line in lines if not line.is_boilerplate)
    return min(1.0, kept / total) if total else 1.0


# --------------------------------------------------------------------------------------------
# Mapping removal spans of the normalised text back to lines of the input text

#: A line counts as removed when at least this share of its non-space characters was removed.
REMOVED_LINE_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class LineRemoval:
    """How much of one input line a system removed, and the tag (rule id) that removed most."""

    share: float
    tag: str | None = None

    @property
    def removed(self) -> bool:
        return self.share >= REMOVED_LINE_SHARE


_LINE_SPAN = re.compile(r"[^\n]*\S[^\n]*")


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _LINE_SPAN.finditer(text):
        raw = match.group()
        start = match.start() + len(raw) - len(raw.lstrip())
        spans.append((start, match.end() - (len(raw) - len(raw.rstrip()))))
    return spans


def removals_per_line(
    lines: Sequence[str], normalised: str, spans: Iterable[tuple[int, int, str]]
) -> tuple[list[LineRemoval], int]:
    """For each input line, the share of it that ``spans`` (start, end, tag) remove.

    Spans refer to ``normalised``, which is the input after character repair; its lines are
    matched to the input lines one to one when they are as many, else by a line diff. Returns
    the per-line removals and how many input lines had no counterpart (counted as removed
    whole: the normaliser dropped them).
    """
    norm_spans = _line_spans(normalised)
    prefix = [0]
    for ch in normalised:
        prefix.append(prefix[-1] + (not ch.isspace()))
    ordered = sorted(spans)

    def measure(lo: int, hi: int) -> tuple[int, int, dict[str, int]]:
        total = prefix[hi] - prefix[lo]
        by_tag: dict[str, int] = {}
        for start, end, tag in ordered:
            if end <= lo:
                continue
            if start >= hi:
                break
            got = prefix[min(end, hi)] - prefix[max(start, lo)]
            if got:
                by_tag[tag] = by_tag.get(tag, 0) + got
        return sum(by_tag.values()), total, by_tag

    def verdict(pairs: Sequence[tuple[int, int]]) -> LineRemoval:
        removed = total = 0
        tags: dict[str, int] = {}
        for lo, hi in pairs:
            r, t, by_tag = measure(lo, hi)
            removed += r
            total += t
            for tag, n in by_tag.items():
                tags[tag] = tags.get(tag, 0) + n
        top = max(tags, key=lambda k: tags[k]) if tags else None
        return LineRemoval(removed / total if total else 0.0, top)

    if len(norm_spans) == len(lines):
        return [verdict([span]) for span in norm_spans], 0

    norm_keys = [" ".join(words(normalised[s:e])) for s, e in norm_spans]
    keys = [" ".join(words(line)) for line in lines]
    out: list[LineRemoval] = [LineRemoval(1.0, None)] * len(lines)
    unmapped = 0
    matcher = difflib.SequenceMatcher(None, keys, norm_keys, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "delete":
            unmapped += i2 - i1
        elif op == "insert":
            continue
        elif i2 - i1 == j2 - j1:
            for offset in range(i2 - i1):
                out[i1 + offset] = verdict([norm_spans[j1 + offset]])
        else:
            group = verdict(norm_spans[j1:j2])
            for i in range(i1, i2):
                out[i] = group
    return out, unmapped


# --------------------------------------------------------------------------------------------
# Confusion counts


@dataclass(slots=True)
class Confusion:
    """Line counts of one system against the gold labels. Positive = boilerplate."""

    tp: int = 0  # boilerplate, removed
    fp: int = 0  # content, removed
    fn: int = 0  # boilerplate, kept
    tn: int = 0  # content, kept
    content_chars: int = 0
    content_chars_lost: int = 0
    boilerplate_chars: int = 0
    boilerplate_chars_removed: int = 0

    def add(self, is_boilerplate: bool, removed: bool, chars: int) -> None:
        if is_boilerplate:
            self.boilerplate_chars += chars
            if removed:
                self.tp += 1
                self.boilerplate_chars_removed += chars
            else:
                self.fn += 1
        else:
            self.content_chars += chars
            if removed:
                self.fp += 1
                self.content_chars_lost += chars
            else:
                self.tn += 1

    def merge(self, other: Confusion) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def removed(self) -> int:
        return self.tp + self.fp

    @property
    def precision(self) -> float | None:
        """Share of removed lines that are boilerplate (None when nothing was removed)."""
        return self.tp / self.removed if self.removed else None

    @property
    def recall(self) -> float | None:
        """Share of boilerplate lines that were removed."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def gold_char_loss(self) -> float | None:
        """Share of the content lines' characters that were removed with their lines."""
        return self.content_chars_lost / self.content_chars if self.content_chars else None

    @property
    def boilerplate_char_recall(self) -> float | None:
        if not self.boilerplate_chars:
            return None
        return self.boilerplate_chars_removed / self.boilerplate_chars

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "removed": self.removed,
            "precision": _round(self.precision),
            "recall": _round(self.recall),
            "gold_char_loss": _round(self.gold_char_loss),
            "boilerplate_char_recall": _round(self.boilerplate_char_recall),
        }


def score_lines(lines: Sequence[LabeledLine], removed: Sequence[bool]) -> Confusion:
    """Confusion counts of one page: ``removed[i]`` says whether a system removed line i."""
    if len(lines) != len(removed):
        raise ValueError(f"{len(lines)} labelled lines but {len(removed)} verdicts")
    confusion = Confusion()
    for line, gone in zip(lines, removed, strict=True):
        confusion.add(line.is_boilerplate, gone, len(line.text))
    return confusion


def survives_elsewhere(
    lines: Sequence[str], removed: Sequence[bool], share: float = FUZZY_MIN_SHARE
) -> list[bool]:
    """For each removed line, whether its text is still in the kept lines (False if kept).

    A removed copy of a paragraph loses nothing when another copy stays, whichever copy the
    gold happens to match; this tells those removals from real losses. A line survives when
    ``share`` of its word trigrams (its whole word sequence, for lines under three words) are in
    the kept lines.
    """
    kept_keys = [
        " ".join(words(line)) for line, gone in zip(lines, removed, strict=True) if not gone
    ]
    kept_grams: set[tuple[str, ...]] = set()
    for key in kept_keys:
        kept_grams |= _trigrams(key.split(" "))
    kept_text = " " + " ".join(kept_keys) + " "
    out = []
    for line, gone in zip(lines, removed, strict=True):
        key = " ".join(words(line))
        if not gone or not key:
            out.append(False)
            continue
        grams = _trigrams(key.split(" "))
        if grams:
            out.append(sum(1 for g in grams if g in kept_grams) >= share * len(grams))
        else:
            out.append(f" {key} " in kept_text)
    return out


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


# --------------------------------------------------------------------------------------------
# The C4 line filter (Raffel et al. 2020, JMLR 21(140), section 2.2), as a peer

C4_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")
C4_POLICY_SUBSTRINGS = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)
#: Page-level reasons: C4 drops the whole page for these.
C4_PAGE_REASONS = ("lorem_ipsum", "curly_bracket", "too_few_sentences")
# C4 counts sentences with nltk's punkt, whose model is a download; a sentence end followed by
# space or the end of the line is close enough for the page-level "fewer than N sentences" test.
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)")


@dataclass(frozen=True, slots=True)
class C4Verdict:
    """Per line, the C4 reason it was dropped (None: kept); and the page-level reason, if any."""

    line_reasons: list[str | None]
    page_reason: str | None


@dataclass(frozen=True, slots=True)
class C4LineFilter:
    """The C4 clean-up rules, in the order of the reference ``c4_utils.clean_page``.

    The defaults are the published ones (tensorflow_datasets ``c4_utils``: at least 5 words a
    line, 3 sentences a page, end marks ``. ? ! "``). datatrove's ``C4QualityFilter`` defaults
    differ (3 words a line, 5 sentences a page, and ``'`` as an end mark too): see
    :data:`C4_DATATROVE`.
    """

    name: str = "c4"
    min_words_per_line: int = 5
    min_num_sentences: int = 3
    max_word_length: int = 1000
    end_marks: tuple[str, ...] = (".", "?", "!", '"')
    ellipsis: str = "..."
    words_before_citations: bool = False

    def line_reason(self, line: str) -> str | None:
        """Why C4 drops this line (a page reason means it drops the page), or None."""
        line = line.strip()
        raw_words = line.split()
        if any(len(word) > self.max_word_length for word in raw_words):
            return "too_long_word"
        line = C4_CITATION.sub("", line)
        if not line.endswith(self.end_marks) or line.endswith(self.ellipsis):
            return "no_terminal_punct"
        n_words = len(raw_words if self.words_before_citations else line.split())
        if n_words < self.min_words_per_line:
            return "too_few_words"
        lower = line.lower()
        if "lorem ipsum" in lower:
            return "lorem_ipsum"
        if "javascript" in lower:
            return "javascript"
        if "{" in line:
            return "curly_bracket"
        if any(p in lower for p in C4_POLICY_SUBSTRINGS):
            return "policy"
        return None

    def apply(self, lines: Sequence[str]) -> C4Verdict:
        reasons = [self.line_reason(line) for line in lines]
        page_reason = next((r for r in reasons if r in C4_PAGE_REASONS), None)
        if page_reason is None:
            sentences = sum(
                max(1, len(_SENTENCE_END.findall(line)))
                for line, reason in zip(lines, reasons, strict=True)
                if reason is None
            )
            if sentences < self.min_num_sentences:
                page_reason = "too_few_sentences"
        return C4Verdict(reasons, page_reason)

    def filter_text(self, text: str) -> str:
        """The text C4 keeps ("" for a dropped page): the peer in speed runs."""
        lines = text_lines(text)
        verdict = self.apply(lines)
        if verdict.page_reason is not None:
            return ""
        return "\n".join(
            C4_CITATION.sub("", line)
            for line, reason in zip(lines, verdict.line_reasons, strict=True)
            if reason is None
        )


C4_TFDS = C4LineFilter()
C4_DATATROVE = C4LineFilter(
    name="c4_datatrove",
    min_words_per_line=3,
    min_num_sentences=5,
    end_marks=(".", "?", "!", '"', "'"),
    words_before_citations=True,
)


# --------------------------------------------------------------------------------------------
# A guess at what a kept boilerplate line is, so misses can be grouped for rule authors

# Each guess: a name (a cleaner category where one fits), a pattern, and the longest line (in
# words) it may name; keyword guesses on long prose are mostly wrong ("share" in a paragraph).
_GUESSES: tuple[tuple[str, re.Pattern[str], int], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE), max_words)
    for name, pattern, max_words in (
        (
            "disclosure",
            r"affiliate|commission|independently selected|editorial (?:process|policies|team)|"
            r"reviewed according to|do not own shares|does not necessarily represent",
            200,
        ),
        ("cookie_banner", r"\bcookies?\b|\bconsent\b|privacy (?:policy|settings|notice)", 60),
        ("comment_policy", r"\bcomments?\b|community (?:guidelines|standards)|moderat", 40),
        (
            "subscription",
            r"subscri|newsletter|sign (?:up|in)|log ?in\b|register|unlimited access|"
            r"premium|inbox|already a member|create (?:an )?account|install the .* app",
            40,
        ),
        (
            "share_prompt",
            r"\bshare\b|\bfollow\b|facebook|twitter|whatsapp|linkedin|pinterest|"
            r"\btweet|copy link|email this|print this",
            25,
        ),
        ("advertisement", r"advertis|sponsored|\bads?\b|promoted|partner content", 25),
        (
            "teaser",
            r"read more|related|see also|also read|recommended|more from|you may also|"
            r"most (?:popular|read)|trending|check also|more stories|next article|^watch\b|"
            r"^listen\b|^more\b|also available",
            25,
        ),
        (
            "caption",
            r"\b(?:photo|image|picture|video|illustration|gallery)s?\b|getty|shutterstock|"
            r"credit:|/ ?(?:ap|afp|reuters)\b|\bcaption",
            30,
        ),
        ("copyright", r"©|\(c\)\s|copyright|all rights reserved", 30),
        (
            "timestamp",
            r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}\b|"
            r"\b\d{1,2}:\d{2}\b|\b\d+ (?:minutes?|hours?|days?|weeks?) ago\b|updated|published|"
            r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b",
            12,
        ),
        (
            "byline",
            r"^by\s|written by|reporting by|staff writer|correspondent|reporter|\beditor\b|"
            r"contributor|supported by",
            40,
        ),
        ("tags", r"^(?:tags?|topics?|filed under)\b|(?:^|\s)#\w", 25),
        ("breadcrumb", r"^(?:[^.!?]*?\s[/>»›|]\s){2,}", 15),
    )
)
_TERMINAL = re.compile(r"[.!?:;\"'”’»)]\s*$")
_CAPITALISED = re.compile(r"^[A-Z0-9“\"'‘]")


def _headline_like(text: str) -> bool:
    long_words = [w for w in text.lstrip("-–•* ").split() if len(w) >= 4]
    return bool(long_words) and sum(bool(_CAPITALISED.match(w)) for w in long_words) >= 0.6 * len(
        long_words
    )


def guess_category(lines: Sequence[LabeledLine], i: int) -> str:
    """A rough category for a boilerplate line, from its words and where it stands.

    Only for grouping misses in reports, so that rule authors see what kind of line is left;
    the cleaner's own rules decide for real. Besides cleaner categories it names ``table``
    (trafilatura's "| a | b |" rows), ``disclosure`` (affiliate and editorial notes),
    ``possible_subheading`` (a short line between content lines: the gold may leave out
    sub-headings), ``headline_like``, ``prose`` (long sentences: often article text that the
    gold leaves out) and ``other``.
    """
    line = lines[i]
    text = line.text
    n_words = len(text.split())
    if not words(text):
        return "separator"
    if line.how == "extra_copy":
        return "duplicate_in_document"
    if text.startswith("|") and text.endswith("|"):
        return "table"
    for name, pattern, max_words in _GUESSES:
        if n_words <= max_words and pattern.search(text):
            return name
    terminal = bool(_TERMINAL.search(text))
    between_content = (
        0 < i < len(lines) - 1
        and not lines[i - 1].is_boilerplate
        and not lines[i + 1].is_boilerplate
    )
    if between_content and n_words <= 12 and not terminal:
        return "possible_subheading"
    if n_words <= 20 and not terminal and _headline_like(text):
        return "headline_like"
    if n_words >= 20 and terminal:
        return "prose"
    return "other"


# --------------------------------------------------------------------------------------------
# Results


def machine_description() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def source_state() -> str:
    """The commit the working tree is on and whether it has changes (read-only git calls)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    head = git("rev-parse", "--short", "HEAD") or "no commit"
    changed = bool(git("status", "--porcelain", "--", "cleaner"))
    return f"{head}{' + uncommitted changes to cleaner/' if changed else ''}"


def run_metadata(**extra: Any) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_description(),
        "source": source_state(),
        "argv": sys.argv[1:],
        **extra,
    }


def write_json(path: Path, data: Any) -> None:
    """Write through a temporary file, so a killed run never leaves half a result."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    os.replace(tmp, path)


def format_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A plain aligned text table: numbers to the right, text to the left, None as '-'.

    Floats below 10 (shares, ratios, milliseconds) get 4 decimals, larger ones one.
    """

    def cell(value: Any) -> tuple[str, bool]:
        if value is None:
            return "-", True
        if isinstance(value, float):
            return (f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"), True
        return str(value), isinstance(value, int)

    body = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i][0]) for r in body)]) for i, h in enumerate(header)]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    for row in body:
        cells = (
            v.rjust(w) if numeric else v.ljust(w)
            for (v, numeric), w in zip(row, widths, strict=True)
        )
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
