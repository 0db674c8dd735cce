"""Which characters a pattern's match can start with, to skip rules that cannot fire.

The analysis walks the parse tree of the standard library's regular-expression parser. It
only ever widens: a construct it does not know, a character class too large to list, a
`regex`-only escape such as ``\\p{Lu}``, or a pattern that may match the empty string gives
None, meaning "any character", and the rule is tried on every block.
"""

from __future__ import annotations

import re
from typing import Any

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
