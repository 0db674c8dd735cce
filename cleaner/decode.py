"""Bytes to text, for any common charset, without ever raising.

In order: a byte order mark decides; else bytes that are valid UTF-8 are UTF-8 (the common
case, and the only one that costs no more than ``bytes.decode``); else bytes that are UTF-8 but
for a cut-off last character or a few stray bytes are UTF-8 with those bytes replaced; else
charset_normalizer guesses among the legacy charsets of the Web. Bytes that the chosen charset
cannot decode become U+FFFD, and :attr:`Decoded.errors` counts them.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from enum import StrEnum

import charset_normalizer


class DecodeMethod(StrEnum):
    """How the charset was decided. The values appear in reports and never change."""

    #: A byte order mark (UTF-8, UTF-16 or UTF-32) said so.
    BOM = "bom"
    #: The bytes are valid UTF-8.
    UTF8 = "utf8"
    #: The bytes are UTF-8 but for a cut-off last character or a few stray bytes.
    UTF8_REPLACED = "utf8_replaced"
    #: charset_normalizer's guess (adjusted to prefer cp1252 for Western text).
    DETECTED = "detected"
    #: Nothing fitted: UTF-8 with every undecodable byte replaced.
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class Decoded:
    """Decoded text and how it was decoded."""

    text: str
    #: Python's canonical codec name: "utf-8", "utf-16-le", "cp1252", "shift_jis", ...
    encoding: str
    method: DecodeMethod = DecodeMethod.UTF8
    #: The input started with a byte order mark (not part of ``text``).
    bom: bool = False
    #: Bytes that the encoding could not decode; each became U+FFFD in ``text``.
    errors: int = 0
    #: 1.0 when the bytes prove the charset (BOM or valid UTF-8); for a guess, 1 minus
    #: charset_normalizer's "chaos" (the share of the text that looks garbled); 0.0 as fallback.
    confidence: float = 1.0


# Longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# The legacy charsets of the WHATWG Encoding Standard (what browsers decode Web pages with),
# by their Python names. Without this list charset_normalizer also weighs DOS and Mac code
# pages, and picks cp775 (Baltic DOS) for English with a few accents. There is no latin-1:
# browsers read pages labelled latin-1 as windows-1252, and so do we (see _prefer_cp1252).
_WEB_LEGACY = (
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "cp1258",
    "cp874",
    "iso8859_2",
    "iso8859_3",
    "iso8859_4",
    "iso8859_5",
    "iso8859_6",
    "iso8859_7",
    "iso8859_8",
    "iso8859_10",
    "iso8859_13",
    "iso8859_14",
    "iso8859_15",
    "iso8859_16",
    "koi8_r",
    "koi8_u",
    "mac_cyrillic",
    "gb18030",
    "gbk",
    "big5",
    "euc_jp",
    "iso2022_jp",
    "shift_jis",
    "cp932",
    "euc_kr",
)

# A stray-byte replacement that keeps every undecodable byte distinguishable from any decoded
# character (decoders never produce lone surrogates), so the bytes can be counted afterwards.
_ESCAPE = "cleaner.escape_bytes"


def _escape_bytes(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(0xDC00 + b) for b in bad), error.end


codecs.register_error(_ESCAPE, _escape_bytes)
_ESCAPED_TO_REPLACEMENT = {0xDC00 + b: "\ufffd" for b in range(256)}
_ESCAPED_DELETED = dict.fromkeys(range(0xDC00, 0xDD00))
_NON_ASCII_BYTES = bytes(range(0x80, 0x100))
_ESCAPED_RUN = re.compile("[\udc00-\udcff]+")


def _count_escaped(escaped: str) -> int:
    return len(escaped) - len(escaped.translate(_ESCAPED_DELETED))


def _decode_counting(data: bytes, encoding: str) -> tuple[str, int]:
    """Decode, replacing each undecodable byte with U+FFFD; return the text and their count."""
    try:
        return data.decode(encoding), 0
    except UnicodeDecodeError:
        escaped = data.decode(encoding, _ESCAPE)
    return escaped.translate(_ESCAPED_TO_REPLACEMENT), _count_escaped(escaped)


def _mostly_utf8(data: bytes) -> bool:
    """Not valid UTF-8, yet meant as UTF-8: only the last character is cut off, or the bytes
    hold more well-formed UTF-8 characters beyond ASCII than runs of bytes that break the rules.

    Runs, not bytes: a damaged block is one run however long it is, while a legacy charset
    breaks the rules at almost every non-ASCII character. And legacy text seldom forms a
    well-formed sequence by chance (Western text next to never; GBK or Shift_JIS text at a
    minority of its characters, each of the others making a run of its own).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(data, final=False)
        return True  # only the end is cut off
    except UnicodeDecodeError:
        pass
    escaped = data.decode("utf-8", _ESCAPE)
    bad = _count_escaped(escaped)
    good = len(escaped) - bad - len(data.translate(None, _NON_ASCII_BYTES))
    return good > len(_ESCAPED_RUN.findall(escaped))


def _prefer_cp1252(
    best: charset_normalizer.CharsetMatch, matches: charset_normalizer.CharsetMatches
) -> str:
    """cp1252 when it reads the bytes as well as the guess does.

    charset_normalizer often ties Western code pages (cp1250, cp1252, cp1257 give the same
    "chaos" and "coherence" to English with a few accents) and then picks by list order. In a
    tie we take cp1252, the most used legacy charset: it also reads bytes 0x80-0x9F as the
    quotes and dashes that Western text means by them (latin-1 would make them C1 controls).
    """
    if "cp1252" in best.could_be_from_charset:
        return "cp1252"
    for match in matches:
        if (
            match.encoding == "cp1252"
            and match.chaos <= best.chaos
            and match.coherence >= best.coherence
        ):
            return "cp1252"
    return best.encoding


def _codec_name(encoding: str) -> str:
    return codecs.lookup(encoding).name


def decode_bytes(data: bytes) -> Decoded:
    """Decode bytes of any common charset; never raises."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text, errors = _decode_counting(data[len(bom) :], encoding)
            return Decoded(text, encoding, DecodeMethod.BOM, bom=True, errors=errors)
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(data):
        text, errors = _decode_counting(data, "utf-8")
        return Decoded(text, "utf-8", DecodeMethod.UTF8_REPLACED, errors=errors)

    matches = charset_normalizer.from_bytes(data, cp_isolation=list(_WEB_LEGACY))
    best = matches.best()
    if best is None:
        text, errors = _decode_counting(data, "utf-8")
        return Decoded(text, "utf-8", DecodeMethod.FALLBACK, errors=errors, confidence=0.0)
    encoding = _codec_name(_prefer_cp1252(best, matches))
    text, errors = _decode_counting(data, encoding)
    return Decoded(
        text, encoding, DecodeMethod.DETECTED, errors=errors, confidence=1.0 - best.chaos
    )


# Bytes that plain text does not hold: C0 controls other than tab, line feed, vertical tab,
# form feed, carriage return and escape (ANSI colours), and DEL.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_SNIFF_BYTES = 8192
#: Above this share of control bytes in the first 8 KiB, the data is not text.
MAX_CONTROL_SHARE = 0.1


def looks_binary(data: bytes) -> bool:
    """Whether the data is better skipped than decoded: a NUL byte in the first 8 KiB (unless
    a UTF-16 or UTF-32 byte order mark explains it), or many control bytes.

    UTF-16 without a byte order mark counts as binary: it cannot be told from binary by a
    glance, and text files on the Web essentially never are UTF-16 without one.
    """
    head = data[:_SNIFF_BYTES]
    if head.startswith(
        (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > MAX_CONTROL_SHARE * len(head)
