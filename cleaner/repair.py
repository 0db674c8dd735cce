"""Character repair: ftfy's fixes, exactly, then our whitespace rules; each change a Repair.

The text is repaired line by line (a line ends after each "\\n", which it keeps), because that
is how :func:`ftfy.fix_text` works and so each changed line becomes one record. Most lines of
an article need nothing, and running ftfy on them is most of its cost, so a line that provably
cannot be changed by any ftfy step is skipped (see "The fast path" below). A skipped line
comes out exactly as ftfy would give it: unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import ftfy
from ftfy.badness import MOJIBAKE_CATEGORIES
from ftfy.chardata import CONTROL_CHARS, HTML_ENTITY_RE

from cleaner.model import Repair

#: Repair, do not restyle: typographic quotes, ligatures and full-width forms stay as written.
FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=True,
    uncurl_quotes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    explain=True,
)


class SpaceFix(StrEnum):
    """Our own repairs after ftfy's, as named in :attr:`Repair.fixes`. Never renamed."""

    #: U+00A0, U+202F and U+2007 (no-break spaces) became a plain space.
    NBSP_TO_SPACE = "nbsp_to_space"
    #: U+200B, U+2060 and U+FEFF (invisible, zero-width) were removed. U+200C and U+200D stay:
    #: scripts and emoji sequences need them.
    REMOVE_ZERO_WIDTH = "remove_zero_width"
    #: U+00AD (soft hyphen, an invisible hyphenation hint) was removed.
    REMOVE_SOFT_HYPHEN = "remove_soft_hyphen"
    #: Spaces and tabs at the end of a line were removed.
    STRIP_TRAILING_SPACE = "strip_trailing_space"
    #: A line of other whitespace only (form feed, ideographic space, ...) became empty.
    CLEAR_BLANK_LINE = "clear_blank_line"


#: What _normalise_space replaces, as (character, replacement) pairs, with the fix each makes:
#: str.replace where the character occurs, as str.translate would look up every character.
_CHARACTER_FIXES: tuple[tuple[tuple[tuple[str, str], ...], str], ...] = (
    (tuple((c, " ") for c in "\u00a0\u202f\u2007"), SpaceFix.NBSP_TO_SPACE.value),
    (tuple((c, "") for c in "\u200b\u2060\ufeff"), SpaceFix.REMOVE_ZERO_WIDTH.value),
    ((("\u00ad", ""),), SpaceFix.REMOVE_SOFT_HYPHEN.value),
)
# Every character that _normalise_space replaces or removes, and every whitespace character
# (str.isspace) but " " and "\n": with none of them, and no space before a line end, a line is
# left alone by it.
_SPACE_CHARS = (
    "\u00a0\u202f\u2007\u200b\u2060\ufeff\u00ad"
    "\t\x0b\x0c\r\x1c-\x1f\x85\u1680\u2000-\u200a\u2028\u2029\u205f\u3000"
)
_SPACE_SUSPECT = re.compile(f"[{_SPACE_CHARS}]")
#: Of those, the characters that _normalise_space replaces or removes wherever they stand.
_ANYWHERE_SPACE_CHARS = "".join(c for fixes, _ in _CHARACTER_FIXES for c, _ in fixes)
#: And those it changes only at a line's end (a tab) or on a line of whitespace alone, that
#: ftfy leaves alone: a line holding one elsewhere is no candidate for repair (a text of
#: tab-separated columns would otherwise have every line repaired, at 5 µs a line).
#: tests/test_repair.py checks that these are the rest of _SPACE_CHARS but for ftfy's.
_BLANK_SPACE_CHARS = frozenset(
    "\t\x0c\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000"
)

# ---------------------------------------------------------------------------------------------
# The fast path: segments that no ftfy step can change
#
# ftfy.fix_and_explain runs unescape_html, fix_encoding, fix_c1_controls, fix_line_breaks,
# fix_surrogates, remove_terminal_escapes, remove_control_chars and NFC normalisation, and
# stops when a round changes nothing. A segment is returned unchanged by the first round, and
# so by ftfy, when:
# - it has no HTML entity (unescape_html only replaces matches of HTML_ENTITY_RE);
# - it has none of the characters that the other fixers act on (_TRIGGERS);
# - fix_encoding returns at once: the segment is ASCII or ftfy's is_bad() is False. is_bad is a
#   search for BADNESS_RE and costs about as much as the rest of ftfy together, so instead we
#   search for a cheaper superset, _MOJIBAKE_RULES: each rule is one alternative of BADNESS_RE
#   without its leading ASCII context ("[a-z]", "\s", "^"), so wherever an alternative matches,
#   its rule matches inside that match. Every rule starts with a non-ASCII character, so plain
#   text is scanned at C speed, and the typographic characters that start no rule (’ – — …
#   and the no-break space) never stop the scan. tests/test_repair.py proves the superset
#   alternative by alternative from BADNESS_RE's parse tree;
# - it is already NFC (checked with unicodedata.is_normalized, which is exact and fast).
#
# Finding the segments that fail a test costs, on a text that needs nothing, more than the
# rest of cleaning's repair: re reads every character at about 4.5 ns. So for a text with
# few non-ASCII characters (most English articles) the characters that can start a match are
# listed from the text's UTF-8 bytes (bytes.translate), the patterns tried only where those
# stand (_match_starts), and NFC answered from the distinct characters (_is_nfc); a text
# dense in non-ASCII characters is scanned whole by re, which is quicker for it.
#
# The rules and triggers were checked against this ftfy; with another version every line goes
# through ftfy (still exact, only slower) until they are checked again.
_VERIFIED_FTFY = "6.3.1"
_FAST_PATH = ftfy.__version__ == _VERIFIED_FTFY


def _char_class(codepoints: Iterable[int]) -> str:
    """The body of a regex character class holding exactly these code points."""
    points = sorted(set(codepoints))
    ranges: list[tuple[int, int]] = []
    for cp in points:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return "".join(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges)


# What fix_c1_controls, fix_line_breaks, fix_surrogates, remove_terminal_escapes (ESC is a
# control character) and remove_control_chars act on.
_TRIGGERS = _char_class(
    [
        *CONTROL_CHARS,
        *range(0x80, 0xA0),  # C1 controls, including NEXT LINE
        0x0D,
        0x2028,
        0x2029,
        *range(0xD800, 0xE000),  # surrogates
    ]
)

# (first character, what must follow it), with ftfy's character categories by name. The
# alternative of BADNESS_RE that each rule comes from is in tests/test_repair.py's proof.
_MOJIBAKE_RULES: tuple[tuple[str, str], ...] = (
    ("{c1}", ""),
    ("{bad}", ""),
    (
        "{lower_accented}{lower_common}{box}{end_punctuation}{currency}{numeric}",
        "[{upper_accented}]",
    ),
    ("{box}{end_punctuation}{currency}{numeric}", "[{lower_accented}]"),
    ("{lower_accented}{box}{end_punctuation}", "[{currency}]"),
    ("{upper_accented}", "[{currency}]"),
    ("{upper_accented}{box}", "[{numeric}{law}]"),
    (
        "{lower_accented}{upper_accented}{box}{currency}{end_punctuation}",
        "[{start_punctuation}][{numeric}]",
    ),
    (
        "{lower_accented}{upper_accented}{currency}{numeric}{box}{law}",
        "[{end_punctuation}][{start_punctuation}]",
    ),
    ("{currency}{numeric}{box}", "[{start_punctuation}]"),
    ("{upper_accented}", "[{start_punctuation}{currency}]"),
    ("{box}", "[{kaomoji}]"),
    (
        "{lower_accented}{upper_accented}{currency}{numeric}{start_punctuation}"
        "{end_punctuation}{law}",
        "[{box}]",
    ),
    ("{box}", "[{end_punctuation}]"),
    ("{lower_accented}{upper_accented}", "[{start_punctuation}{end_punctuation}]"),
    ("Œœ", "[^A-Za-z]"),
    ("{upper_accented}", "°"),
    ("ÂÃÎÐ", "[€œŠš¢£Ÿž\xa0\xad®©°·»{start_punctuation}{end_punctuation}–—´]"),
    ("×", "[²³]"),
    ("ØÙ", "[{common}{currency}{bad}{numeric}{start_punctuation}ŸŠ®°µ»]"),
    ("à", "[²µ¹¼½¾]"),
    ("√", "[±∂†≠®™´≤≥¥µø]"),
    ("≈", "[°¢]"),
    ("‚", "Ä[ìîïòôúùû†°¢π]"),
    ("‚", "[âó][àä°ê]"),
    ("в", "Ђ"),
    ("ВГРС", "[{c1}{bad}{start_punctuation}{end_punctuation}{currency}°µ][ВГРС]"),
    ("Г", "ўВЂВ"),
    ("Ã", "[\xa0¡]"),
    ("ÃÂ", "[ ]"),
    ("Â", "[ {start_punctuation}{end_punctuation}]"),
    ("β", "€[™\xa0Ά\xad®°]"),
    ("ΒΓΞΟ", "[{c1}{bad}{start_punctuation}{end_punctuation}{currency}°][ΒΓΞΟ]"),
    ("ā", "€"),
)
_ENTITY_TAIL = HTML_ENTITY_RE.pattern.removeprefix("&")


def _class_body(rest: str) -> str:
    """The character class body (or the one character) that ``rest`` starts with."""
    return rest[1 : rest.index("]")] if rest.startswith("[") else rest[0]


@dataclass(frozen=True)
class _Suspect:
    """A suspect pattern, and what finds its matches without re reading every character.

    re's scan of a text costs about 4.5 ns a character even for a one-character class (a
    third of repairing an article that needs nothing); str and bytes methods run at memchr
    speed. So :func:`_match_starts` lists the characters of a text that can start a match,
    from its UTF-8 bytes (:func:`_distinct_chars`), and tries the pattern only where they
    stand.
    """

    pattern: re.Pattern[str]
    #: One character that can start a match.
    first: re.Pattern[str]
    #: The ASCII characters that can.
    ascii_starts: frozenset[str]
    #: The ASCII characters that cannot start a match and that :func:`_distinct_chars`
    #: need not keep, as bytes (for bytes.translate).
    plain_ascii: bytes


def _build_suspect(also: str = "", keep: str = "") -> _Suspect:
    """Matches where a trigger, an HTML entity, a mojibake rule or a character of ``also`` is
    (and :func:`_distinct_chars` keeps the ASCII characters of ``keep`` besides those).

    The pattern starts with one character class, so that re skips all other characters in C
    (an alternation at the top would be tried at every position). Look-behinds then tell which
    rules the character may start. The rules whose second character is never ASCII wait behind
    one look-ahead for any such character, so that the common stop (a curly quote before a
    letter) costs a handful of checks instead of forty.
    """
    rules = [
        (first.format(**MOJIBAKE_CATEGORIES), rest.format(**MOJIBAKE_CATEGORIES))
        for first, rest in _MOJIBAKE_RULES
    ]
    alone = _TRIGGERS + also + "".join(first for first, rest in rules if not rest)
    ascii_chars = "".join(map(chr, range(0x80)))
    guarded: list[tuple[str, str]] = []
    unguarded: list[tuple[str, str]] = []
    for first, rest in rules:
        if rest:
            next_char = re.compile(f"[{_class_body(rest)}]")
            (unguarded if next_char.search(ascii_chars) else guarded).append((first, rest))
    follow = "".join(_class_body(rest) for _, rest in guarded)
    branches = [f"(?<=[{alone}])", f"(?<=&){_ENTITY_TAIL}"]
    branches += [f"(?<=[{first}]){rest}" for first, rest in unguarded]
    guarded_branches = "|".join(f"(?<=[{first}]){rest}" for first, rest in guarded)
    branches.append(f"(?=[{follow}])(?:{guarded_branches})")
    firsts = alone + "&" + "".join(first for first, rest in rules if rest)
    first_char = re.compile(f"[{firsts}]")
    ascii_starts = frozenset(c for c in map(chr, range(0x80)) if first_char.match(c))
    plain_ascii = bytes(c for c in range(0x80) if chr(c) not in ascii_starts | set(keep))
    pattern = re.compile(f"[{firsts}](?:{'|'.join(branches)})")
    return _Suspect(pattern, first_char, ascii_starts, plain_ascii)


#: Matches somewhere in every segment that ftfy could change, except by NFC normalisation.
_FTFY = _build_suspect()
_FTFY_SUSPECT = _FTFY.pattern
#: The same, and also where a character is that our whitespace rules change wherever it is.
_REPAIR = _build_suspect(_ANYWHERE_SPACE_CHARS, keep="".join(_BLANK_SPACE_CHARS))
#: For a text of many non-ASCII characters, which re scans whole: every line with a space
#: character of _SPACE_CHARS is a candidate.
_REPAIR_ANY_SPACE = _build_suspect(_SPACE_CHARS)
#: Up to one non-ASCII character in this many (as UTF-8's extra bytes count them), a text's
#: distinct characters are few and quick to list; past it (Cyrillic, Greek, CJK, much
#: French) one re scan of the whole text is quicker (an 8,000-character Chinese text: 80 µs
#: against a millisecond).
_NON_ASCII_EVERY = 32
#: Past this many characters that can start a match, or one for each :data:`_CHARS_A_TRY`
#: characters of the text if that is more, one scan by re is quicker than trying the
#: pattern at each (about 0.5 µs a try, against 4.5 ns a character scanned).
_MAX_TRIES = 64
_CHARS_A_TRY = 100


def _sparse_utf8(text: str) -> bytes | None:
    """``text`` in UTF-8 (lone surrogates passed through) if at most about one character in
    :data:`_NON_ASCII_EVERY` is non-ASCII (as UTF-8's extra bytes count them), else None;
    a text whose first thousand characters are dense is not encoded whole."""
    head = text[:1024]
    if (len(head.encode("utf-8", "surrogatepass")) - len(head)) * 4 > len(head):
        return None
    raw = text.encode("utf-8", "surrogatepass")
    return raw if (len(raw) - len(text)) * _NON_ASCII_EVERY <= len(text) else None


def _distinct_chars(raw: bytes, suspect: _Suspect) -> set[str]:
    """The distinct characters of a text, given its UTF-8 ``raw`` (lone surrogates passed
    through), but the ASCII ones that cannot start a match of ``suspect`` (and that it does
    not keep): the bytes of a multi-byte sequence are all non-ASCII, so deleting ASCII bytes
    leaves whole characters."""
    return set(raw.translate(None, suspect.plain_ascii).decode("utf-8", "surrogatepass"))


def _match_starts(text: str, chars: set[str], suspect: _Suspect) -> list[int] | None:
    """Where ``suspect.pattern`` matches in ``text`` (the positions a search would try it at
    and find it), or None if more characters could start a match than are worth trying
    (:data:`_MAX_TRIES`). ``chars`` holds every character of the text that can start a
    match (:func:`_distinct_chars`).

    A match starts with a character that ``suspect.first`` accepts: each one in the text is
    looked for with str.find and the pattern tried where it is (its look-behinds only look
    at the character it starts with).
    """
    ascii_starts = suspect.ascii_starts
    starts = [
        c for c in chars if c in ascii_starts or (not c.isascii() and suspect.first.match(c))
    ]
    found: list[int] = []
    tries = 0
    most = max(_MAX_TRIES, len(text) // _CHARS_A_TRY)
    match = suspect.pattern.match
    for char in starts:
        at = text.find(char)
        while at >= 0:
            tries += 1
            if tries > most:
                return None
            if match(text, at) is not None:
                found.append(at)
            at = text.find(char, at + 1)
    return found


@lru_cache(maxsize=4096)
def _nfc_plain(char: str) -> bool:
    """Whether ``char`` passes NFC's quick check on its own terms, whatever stands around it:
    combining class 0, its own NFC, and not one that composes with the character before it.

    A text of such characters only is NFC (unicodedata.is_normalized answers from the
    quick check then). Those that compose with the character before them and have class 0
    are a few Indic, Sinhala, Tibetan, Myanmar and Balinese vowel signs and the Hangul
    vowel and final jamo, all outside the ranges taken here (below U+0900: Latin, Greek,
    Cyrillic, Armenian, Hebrew, Arabic; U+2000 to U+D7FF: punctuation, symbols, kana, CJK
    ideographs and Hangul syllables);
    tests/test_repair.py checks that against unicodedata's tables. Other characters go to
    unicodedata.is_normalized.
    """
    point = ord(char)
    return (
        (point < 0x900 or 0x2000 <= point < 0xD800)
        and unicodedata.combining(char) == 0
        and unicodedata.normalize("NFC", char) == char
    )


def _is_nfc(text: str, chars: set[str]) -> bool:
    """unicodedata.is_normalized("NFC", text), answered from the distinct non-ASCII
    characters (``chars`` holds them all) where they are all plain (:func:`_nfc_plain`)."""
    if all(c.isascii() or _nfc_plain(c) for c in chars):
        return True
    return unicodedata.is_normalized("NFC", text)


def _ftfy_changes(segment: str) -> bool:
    """False only if ftfy provably returns ``segment`` unchanged."""
    if not _FAST_PATH:
        return True
    if _FTFY_SUSPECT.search(segment) is not None:
        return True
    return not (segment.isascii() or unicodedata.is_normalized("NFC", segment))


# ---------------------------------------------------------------------------------------------
# The ftfy stage


def _segments(text: str) -> list[tuple[int, int]]:
    """(start, end) of the pieces that ftfy.fix_text fixes one at a time, in its own way."""
    spans = []
    limit = FTFY_CONFIG.max_decode_length
    pos = 0
    while pos < len(text):
        end = text.find("\n", pos) + 1 or len(text)
        end = min(end, pos + limit)
        spans.append((pos, end))
        pos = end
    return spans


def _plan_names(steps: Iterable[tuple[str, str]] | None) -> tuple[str, ...]:
    """ftfy's explanation as stable names: ("encode", "latin-1") -> "encode:latin-1"."""
    return tuple(f"{action}:{parameter}" for action, parameter in steps or ())


def _fix_segment(segment: str) -> tuple[str, tuple[str, ...]]:
    if not _ftfy_changes(segment):
        return segment, ()
    fixed, steps = ftfy.fix_and_explain(segment, FTFY_CONFIG)
    return fixed, (_plan_names(steps) if fixed != segment else ())


def _fix_line(line: str) -> tuple[str, tuple[str, ...]]:
    """ftfy.fix_text on one line (or on the lines that ftfy made of one: "\\r" becomes "\\n")."""
    if _is_one_segment(line):
        return _fix_segment(line)
    pieces: list[str] = []
    plan: list[str] = []
    for start, end in _segments(line):
        fixed, steps = _fix_segment(line[start:end])
        pieces.append(fixed)
        plan.extend(steps)
    return "".join(pieces), tuple(plan)


def ftfy_stage(text: str) -> tuple[str, list[Repair]]:
    """Exactly ``ftfy.fix_text(text, config=FTFY_CONFIG)``, with one Repair per changed segment.

    The fixes of a record are ftfy's plan for that segment, e.g. ``("apply:unescape_html",)``
    or ``("encode:sloppy-windows-1252", "decode:utf-8")``.
    """
    pieces: list[str] = []
    repairs: list[Repair] = []
    pos = 0
    for start, end in _candidate_lines(text, _FTFY):
        pieces.append(text[pos:start])
        for seg_start, seg_end in _segments(text[start:end]):
            segment = text[start + seg_start : start + seg_end]
            fixed, plan = _fix_segment(segment)
            pieces.append(fixed)
            if fixed != segment:
                repairs.append(Repair(start + seg_start, start + seg_end, segment, fixed, plan))
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces), repairs


# ---------------------------------------------------------------------------------------------
# Whitespace, and the two stages together


def _normalise_space(text: str) -> tuple[str, tuple[str, ...]]:
    """Our whitespace rules on a line (or lines), with the names of those that changed it."""
    if _SPACE_SUSPECT.search(text) is None and next(_trailing_space(text), None) is None:
        return text, ()
    fixes: list[str] = []
    for replacements, fix in _CHARACTER_FIXES:
        changed = False
        for char, replacement in replacements:
            if char in text:
                text = text.replace(char, replacement)
                changed = True
        if changed:
            fixes.append(fix)
    lines = text.split("\n")
    stripped_any = cleared_any = False
    for i, line in enumerate(lines):
        stripped = line.rstrip(" \t")
        if stripped != line:
            stripped_any = True
        if stripped.isspace():
            stripped = ""
            cleared_any = True
        lines[i] = stripped
    if stripped_any:
        fixes.append(SpaceFix.STRIP_TRAILING_SPACE.value)
    if cleared_any:
        fixes.append(SpaceFix.CLEAR_BLANK_LINE.value)
    return ("\n".join(lines) if fixes else text), tuple(fixes)


# ftfy and the whitespace rules can feed each other (removing a zero-width space can join two
# halves of a mojibake sequence; ftfy can decode "Â " to a no-break space), and ftfy can split a
# line ("\r" becomes "\n") whose parts it would then fix differently. So a line is repaired
# until neither changes it, which makes repair_text idempotent. Real text settles in one or two
# rounds; the bound only guards against a cycle nobody has seen.
_MAX_ROUNDS = 5


def _repair_line(line: str) -> tuple[str, tuple[str, ...]]:
    fixes: list[str] = []
    current = line
    for _ in range(_MAX_ROUNDS):
        fixed, plan = _fix_line(current)
        spaced, space_fixes = _normalise_space(fixed)
        if spaced == current:
            break
        fixes.extend(plan)
        fixes.extend(space_fixes)
        # ftfy stops on a round that changes nothing, so its output for one segment is already
        # a fixed point; only our changes or a new line break call for another round.
        settled = not space_fixes and _is_one_segment(current) and _is_one_segment(fixed)
        current = spaced
        if settled:
            break
    return current, tuple(fixes)


def _is_one_segment(text: str) -> bool:
    return len(text) <= FTFY_CONFIG.max_decode_length and "\n" not in text[:-1]


def _candidate_lines(
    text: str,
    suspect: _Suspect,
    raw: bytes | None = None,
    chars: set[str] | None = None,
    dense: bool = False,
) -> list[tuple[int, int]]:
    """(start, end) of the lines, each with its "\\n", that may need repair, in text order.

    A line is a candidate if ``suspect`` matches in it; and, when the text as a whole is not
    NFC, if it is not; and if it is longer than ftfy's segments (NFC of a piece of it is not
    implied by NFC of the whole). ``raw`` is the text's UTF-8 (lone surrogates passed
    through) and ``chars`` its :func:`_distinct_chars`, if they are known; ``dense`` says
    that :func:`_sparse_utf8` found it dense.
    """
    starts: set[int] = set()
    ends: dict[int, int] = {}

    def add(pos: int) -> int:
        start = text.rfind("\n", 0, pos) + 1
        end = text.find("\n", pos) + 1 or len(text)
        starts.add(start)
        ends[start] = end
        return end

    if not _FAST_PATH:
        pos = 0
        while pos < len(text):
            pos = add(pos)
        return [(start, ends[start]) for start in sorted(starts)]
    if raw is None and not dense:
        raw = _sparse_utf8(text)
    found = None
    if raw is not None:
        if chars is None:
            chars = _distinct_chars(raw, suspect)
        found = _match_starts(text, chars, suspect)
    if found is None:
        pos = 0
        while (match := suspect.pattern.search(text, pos)) is not None:
            pos = add(match.start())
    else:
        for pos in found:
            add(pos)
    if raw is not None and chars is not None:
        nfc = len(raw) == len(text) or _is_nfc(text, chars)
    else:
        nfc = text.isascii() or unicodedata.is_normalized("NFC", text)
    if not nfc:
        # "\n" composes with nothing, so the text is NFC exactly when each line is.
        for start, end in _segments(text):
            if not unicodedata.is_normalized("NFC", text[start:end]):
                add(start)
    if len(text) > FTFY_CONFIG.max_decode_length:
        for start, end in _segments(text):
            if end - start == FTFY_CONFIG.max_decode_length:
                add(start)
    return [(start, ends[start]) for start in sorted(starts)]


def _trailing_space(text: str, ends: tuple[str, ...] = (" ", "\t")) -> Iterator[int]:
    """Where a space or tab (one of ``ends``) ends a line (str.find is several times faster
    than a regex)."""
    for end in ends:
        needle = end + "\n"
        pos = text.find(needle)
        while pos >= 0:
            yield pos
            pos = text.find(needle, pos + 2)
    if text.endswith(ends):
        yield len(text) - 1


def _blank_space_lines(text: str, chars: set[str]) -> list[tuple[int, int]]:
    """(start, end) of the lines, each with its "\\n", that the whitespace rules change for a
    character of :data:`_BLANK_SPACE_CHARS` (``chars`` holds the text's): those of
    whitespace alone that hold one, and those that end in a tab."""
    found: dict[int, int] = {}
    for char in _BLANK_SPACE_CHARS.intersection(chars):
        at = text.find(char)
        while at >= 0:
            start = text.rfind("\n", 0, at) + 1
            newline = text.find("\n", at)
            line = text[start:] if newline < 0 else text[start:newline]
            if line.isspace() or line.endswith("\t"):
                found[start] = len(text) if newline < 0 else newline + 1
            if newline < 0:
                break
            at = text.find(char, newline)
    return sorted(found.items())


def repair_text(text: str) -> tuple[str, list[Repair]]:
    """Repair encoding, characters and whitespace; one Repair per changed line.

    A record's ``before`` is the input line with its "\\n" (so a "\\r\\n" ending shows), its
    ``after`` is what the line became, and its ``fixes`` are ftfy's plan steps followed by
    :class:`SpaceFix` names. ``apply_repairs(text, repairs)`` gives the repaired text.
    """
    raw = _sparse_utf8(text)
    if raw is not None:
        chars = _distinct_chars(raw, _REPAIR)
        lines = dict(_candidate_lines(text, _REPAIR, raw, chars))
        lines.update(_blank_space_lines(text, chars))
        # A space before a line end (a tab there is found above: each str.find over a text
        # of curly quotes costs a nanosecond a character).
        trailing = b" \n" in raw or raw.endswith(b" ")
    else:
        lines = dict(_candidate_lines(text, _REPAIR_ANY_SPACE, dense=True))
        trailing = " \n" in text or text.endswith(" ")
    if trailing:
        for pos in _trailing_space(text, (" ",)):
            start = text.rfind("\n", 0, pos) + 1
            lines[start] = text.find("\n", pos) + 1 or len(text)
    pieces: list[str] = []
    repairs: list[Repair] = []
    pos = 0
    for start in sorted(lines):
        end = lines[start]
        line = text[start:end]
        repaired, fixes = _repair_line(line)
        if repaired != line:
            pieces.append(text[pos:start])
            pieces.append(repaired)
            repairs.append(Repair(start, end, line, repaired, fixes))
            pos = end
    pieces.append(text[pos:])
    return "".join(pieces), repairs
