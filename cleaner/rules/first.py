"""Which characters a pattern's match can start with, to skip rules that cannot fire.

The analysis walks the parse tree of the standard library's regular-expression parser. It
only ever widens: a construct it does not know, a character class too large to list, a
`regex`-only escape such as ``\\p{Lu}``, or a pattern that may match the empty string gives
None, meaning "any character", and the rule is tried on every block.

The prefixes a match can start with on a text that begins in ASCII (:func:`start_prefixes`)
see further: a category such as ``\\w``, a negated set and a ``\\p{Lu}`` are the ASCII
characters they may match, which are few enough to list.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import Any

import regex

try:  # Python 3.11+ keeps the parser private; it is only an optimisation, so degrade safely.
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    sre_parse = sre_constants = None

_WIDEST_RANGE = 256
# `regex`-only Unicode properties become \w: a category, which is unbounded wherever it can
# come first, so the result stays a superset whatever the property was.
_PROPERTY = re.compile(r"\\[pP]\{[^}]*\}|\\[pP][A-Za-z]")
_REGEX_ONLY = re.compile(r"\(\?[VW]\d?\)|\\[XRKGmMN]")


class _Unbounded(Exception):
    """The start of the match cannot be told from the pattern."""


def _variants(char: str) -> set[str]:
    return {char, char.lower(), char.upper(), char.casefold()[0], char.swapcase()}


def _first(items: Any, fold: bool) -> tuple[set[str], bool]:
    """The first characters of a sequence, and whether it can match the empty string."""
    found: set[str] = set()
    for op, av in items:
        chars, nullable = _first_item(op, av, fold)
        found |= chars
        if not nullable:
            return found, False
    return found, True


def _first_item(op: Any, av: Any, fold: bool) -> tuple[set[str], bool]:
    c = sre_constants
    if op is c.LITERAL:
        char = chr(av)
        return (_variants(char) if fold else {char}), False
    if op is c.IN:
        chars: set[str] = set()
        for kind, value in av:
            if kind is c.LITERAL:
                chars |= _variants(chr(value)) if fold else {chr(value)}
            elif kind is c.RANGE and value[1] - value[0] <= _WIDEST_RANGE:
                for code in range(value[0], value[1] + 1):
                    chars |= _variants(chr(code)) if fold else {chr(code)}
            else:  # NEGATE, CATEGORY (\w, \d, \s), wide ranges
                raise _Unbounded
        return chars, False
    if op is c.SUBPATTERN:
        return _first(av[-1], fold)
    if op is c.BRANCH:
        chars, nullable = set(), False
        for branch in av[1]:
            branch_chars, branch_nullable = _first(branch, fold)
            chars |= branch_chars
            nullable = nullable or branch_nullable
        return chars, nullable
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
        low, _high, body = av
        chars, nullable = _first(body, fold)
        return chars, nullable or low == 0
    if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
        return set(), True  # zero-width: ignoring a constraint only widens the set
    raise _Unbounded


def first_chars(pattern: str, ignore_case: bool) -> frozenset[str] | None:
    """The characters a match of ``pattern`` at a text's start may begin with, or None."""
    if sre_parse is None or _REGEX_ONLY.search(pattern):
        return None
    try:
        parsed = sre_parse.parse(
            _PROPERTY.sub(r"\\w", pattern), re.IGNORECASE if ignore_case else 0
        )
        chars, nullable = _first(list(parsed), ignore_case)
    except (_Unbounded, re.error, ValueError, TypeError, AttributeError):
        return None
    if nullable or not chars:
        return None
    return frozenset(chars)


@functools.cache
def _ascii_members(escape: str) -> tuple[frozenset[str], frozenset[str]]:
    """The ASCII characters that ``escape`` (a category such as \\w, or a `regex` property
    such as \\p{Lu}) matches: those it may match (in re or in regex, with or without
    IGNORECASE), and those it matches whatever the module and flags. They differ: re's \\s
    takes \\x1c-\\x1f, and \\p{Lu} takes "a" under IGNORECASE."""
    matchers: list[Callable[[str], object]] = [
        regex.compile(escape).match,
        regex.compile(escape, regex.IGNORECASE | regex.FULLCASE).match,
    ]
    if not escape.startswith(("\\p", "\\P")):  # re knows no properties
        matchers += [re.compile(escape).match, re.compile(escape, re.IGNORECASE).match]
    found = [{chr(code) for code in range(128) if match(chr(code))} for match in matchers]
    return frozenset(set().union(*found)), frozenset(set.intersection(*found))


_ASCII_MEMBERS = (
    {}
    if sre_constants is None
    else {
        getattr(sre_constants, f"CATEGORY_{name}"): _ascii_members(escape)
        for name, escape in (
            ("DIGIT", r"\d"), ("NOT_DIGIT", r"\D"), ("SPACE", r"\s"),
            ("NOT_SPACE", r"\S"), ("WORD", r"\w"), ("NOT_WORD", r"\W"),
        )
    }
)


#: Every ASCII character.
_ASCII = frozenset(map(chr, range(128)))


def _properties_as_ascii(pattern: str) -> str:
    """``pattern`` with each `regex` property (\\p{Lu}) made the ASCII characters it may
    match, or in a negated set those it surely matches: either way the matches on ASCII
    text can only grow, which is all the prefix analysis needs. A property that matches no
    ASCII character becomes NUL (one character more than none)."""
    out: list[str] = []
    in_set = negated = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            prop = _PROPERTY.match(pattern, i)
            if prop is None:
                out.append(pattern[i : i + 2])
                i += 2
                continue
            possible, sure = _ascii_members(prop.group())
            members = "".join(f"\\x{ord(c):02x}" for c in sorted(sure if negated else possible))
            members = members or "\\x00"
            out.append(members if in_set else f"[{members}]")
            i = prop.end()
            continue
        if char == "[" and not in_set:
            # A set begins: its "^", and a "]" right after them is a member.
            end = i + 1
            negated = pattern.startswith("^", end)
            end += negated
            end += pattern.startswith("]", end)
            out.append(pattern[i:end])
            in_set, i = True, end
            continue
        if char == "]" and in_set:
            in_set = negated = False
        out.append(char)
        i += 1
    return "".join(out)


def _lowered_ascii_matches(char: str, seen: dict[str, frozenset[str]]) -> frozenset[str]:
    """The ASCII characters, lowered, that the pattern character ``char`` matches with or
    without IGNORECASE, in re or in regex. An ASCII letter matches its two cases only; a
    non-ASCII one may match an ASCII letter (the Kelvin sign matches "k"), so it is tried."""
    if char.isascii():
        return frozenset(char.lower())
    if char not in seen:
        pattern = re.escape(char)
        seen[char] = frozenset(
            chr(code).lower()
            for code in range(128)
            if re.match(pattern, chr(code), re.IGNORECASE)
            or regex.match(pattern, chr(code), regex.IGNORECASE | regex.FULLCASE)
        )
    return seen[char]


class _TooMany(Exception):
    """More prefixes than are worth a table."""


#: One piece of a prefix analysis: the text so far (lower-case ASCII) and whether the match
#: may still go on with known characters after it.
_Piece = tuple[str, bool]
_STOP: frozenset[_Piece] = frozenset({("", False)})
_EMPTY: frozenset[_Piece] = frozenset({("", True)})


class _Prefixes:
    """The analysis behind :func:`start_prefixes`, over the standard library's parse tree."""

    def __init__(self, length: int, limit: int) -> None:
        self.length, self.limit = length, limit
        self.seen: dict[str, frozenset[str]] = {}

    def chars(self, chars: AbstractSet[str]) -> frozenset[_Piece]:
        lowered: set[str] = set()
        for char in chars:
            lowered |= _lowered_ascii_matches(char, self.seen)
        return frozenset((char, True) for char in lowered)  # empty: no ASCII text matches

    def item(self, op: Any, av: Any) -> frozenset[_Piece]:
        c = sre_constants
        if op is c.LITERAL:
            return self.chars({chr(av)})
        if op is c.NOT_LITERAL:  # a set of all but one character: [^a]
            return self.chars(_ASCII - {chr(av)})
        if op is c.IN:
            # A set's ASCII characters; of a negated set, those it surely leaves out (its
            # letters as written: under IGNORECASE it leaves out their other case too).
            negated = bool(av) and av[0][0] is c.NEGATE
            chars: set[str] = set()
            for kind, value in av[1:] if negated else av:
                if kind is c.LITERAL:
                    chars.add(chr(value))
                elif kind is c.RANGE and negated:
                    chars.update(chr(code) for code in range(value[0], min(value[1], 127) + 1))
                elif kind is c.RANGE and value[1] - value[0] <= _WIDEST_RANGE:
                    chars.update(chr(code) for code in range(value[0], value[1] + 1))
                elif kind is c.CATEGORY and value in _ASCII_MEMBERS:
                    chars.update(_ASCII_MEMBERS[value][negated])
                else:  # a wide range: its other characters may match ASCII ones
                    return _STOP
            if negated:
                chars = set(_ASCII.difference(chars))
            return self.chars(chars)
        if op is c.SUBPATTERN:
            return self.sequence(av[-1])
        if op is getattr(c, "ATOMIC_GROUP", None):
            return self.sequence(av)
        if op is c.BRANCH:
            found: set[_Piece] = set()
            for branch in av[1]:
                found |= self.sequence(branch)
            return frozenset(found)
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, high, body = av
            pieces = self.sequence(body)
            if high != 1:  # after one round of the body, another may follow: stop there
                pieces = frozenset((text, False) for text, _ in pieces)
            return pieces | _EMPTY if low == 0 else pieces
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return _EMPTY  # zero-width: ignoring a constraint only widens the set
        return _STOP

    def sequence(self, items: Any) -> frozenset[_Piece]:
        current: set[_Piece] = {("", True)}
        for op, av in items:
            if not any(going for _, going in current):
                break
            item = self.item(op, av)
            following: set[_Piece] = set()
            for text, going in current:
                if not going:
                    following.add((text, False))
                    continue
                for more, more_going in item:
                    joined = text + more
                    following.add((joined[: self.length], more_going and len(joined) < self.length))
            if len(following) > self.limit:
                raise _TooMany
            current = following
        return frozenset(current)


def start_prefixes(pattern: str, length: int = 3, limit: int = 2048) -> frozenset[str] | None:
    """For texts whose first ``length`` characters are ASCII: lower-case strings of at most
    ``length`` characters, one of which the text's beginning, lowered, must start with for
    ``pattern`` to match at its start (with or without IGNORECASE: lowering both sides only
    widens). None when the pattern may begin with any character, or the analysis does not
    know. An empty set: the pattern cannot match at the start of such a text.

    On other texts the prefixes say nothing (under IGNORECASE "k" also matches the Kelvin
    sign), so the caller tries the rule there.
    """
    if sre_parse is None or _REGEX_ONLY.search(pattern):
        return None
    try:
        parsed = sre_parse.parse(_properties_as_ascii(pattern), re.IGNORECASE)
        pieces = _Prefixes(length, limit).sequence(list(parsed))
    except (_TooMany, RecursionError, re.error, ValueError, TypeError, AttributeError):
        return None
    prefixes = frozenset(text for text, _ in pieces)
    if "" in prefixes:
        return None
    return prefixes
