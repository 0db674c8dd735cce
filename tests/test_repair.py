"""Repair: golden fixtures, text that must not change, and the properties that make the fast
path safe (it gives exactly ftfy's result), the records replay, and repair is idempotent."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import ftfy
import pytest
from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES, is_bad
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cleaner.repair as repair
from cleaner.decode import decode_bytes
from cleaner.model import Repair, apply_repairs
from cleaner.repair import FTFY_CONFIG, SpaceFix, ftfy_stage, repair_text

ENCODING = Path(__file__).parent.parent / "fixtures" / "encoding"
CASES = json.loads((ENCODING / "cases.json").read_text("utf-8"))
CHECKS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fix_text(text: str) -> str:
    return ftfy.fix_text(text, config=FTFY_CONFIG)


# ---------------------------------------------------------------------------------------------
# Golden cases and text that must survive


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_case(name: str) -> None:
    expected = (ENCODING / f"{name}.expected.txt").read_text("utf-8")
    decoded = decode_bytes((ENCODING / f"{name}.input").read_bytes())
    normalised, repairs = repair_text(decoded.text)
    assert normalised == expected
    assert apply_repairs(decoded.text, repairs) == normalised
    assert repair_text(expected) == (expected, [])


NEGATIVE = [
    "“It’s on,” White House spokeswoman Sarah Sanders told reporters – the summit — went ahead…",
    "Café, résumé, naïve, Straße, Çelik, Zürich, Ærø, São Paulo, Kraków, Dvořák.",
    "中文新闻：特朗普拒绝了普京的提议。日本語のニュース。한국어 뉴스.",
    "Москва, «Известия» — 12 июля. Αθήνα: «Η σύνοδος κορυφής».",
    "Readers’ comments: ‘single’ quotes, © Agence France-Presse, 20 °C, £5m, €3bn, 1½ hours.",
    "Kept joiners: 👩\u200d💻 and می\u200cخواهم, and an emoji flag 🇫🇮.",
    "R&D, AT&T and Q&A stay; so do 3 < 4 and a lone & sign.",
    "Tab\tinside a line, and a form\x0cfeed inside one, stay.",
    "",
    "\n\n\n",
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_good_text_is_unchanged_and_yields_no_repair(text: str) -> None:
    assert repair_text(text) == (text, [])
    assert repair_text(text + "\n" + text + "\n") == (text + "\n" + text + "\n", [])


@pytest.mark.parametrize(
    ("text", "expected", "fixes"),
    [
        ("The 12\xa0Russians\n", "The 12 Russians\n", (SpaceFix.NBSP_TO_SPACE,)),
        ("Put\u200bin\u2060’s\n", "Putin’s\n", (SpaceFix.REMOVE_ZERO_WIDTH,)),
        ("inter\xadrogate", "interrogate", (SpaceFix.REMOVE_SOFT_HYPHEN,)),
        ("summit \t\nnext", "summit\nnext", (SpaceFix.STRIP_TRAILING_SPACE,)),
        ("\u3000\nnext", "\nnext", (SpaceFix.CLEAR_BLANK_LINE,)),
        ("a\r\n", "a\n", ("apply:fix_line_breaks",)),
        ("Putin&#8217;s", "Putin’s", ("apply:unescape_html",)),
        ("PutinÃ¢â‚¬â„¢s", "Putin’s", ("encode:sloppy-windows-1252", "decode:utf-8") * 2),
        (
            "12&nbsp;Russians ",
            "12 Russians",
            ("apply:unescape_html", "nbsp_to_space", "strip_trailing_space"),
        ),
    ],
)
def test_each_fix_is_named(text: str, expected: str, fixes: tuple[str, ...]) -> None:
    normalised, repairs = repair_text(text)
    assert normalised == expected
    assert [r.fixes for r in repairs] == [fixes]


# ---------------------------------------------------------------------------------------------
# Text to search with: arbitrary, and built from what ftfy reacts to

GOOD_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyz ABCXYZ .,;:!?'\"()-/0123456789"
    "éèàâçñüöäßÉÇÀÜÖÃÂÎÐØÙœŒ"
    "’‘“”„–—…«»‹›€£¥¢©®™°±×÷²³µ¶§¤¦¨¬¯´¸ªº†‡‰•ƒ"
    "ЖжДдВГРСвгрсўЂ"
    "ΑΒΓΔΞΟαβγδ"
    "│┌═╬▀"
    "√≈‚āÄ"
    "中文日本語한국어😀👩\u200d💻"
)
SPECIAL = [
    "\xa0",
    "\xad",
    "\u200b",
    "\u2060",
    "\ufeff",
    "\u202f",
    "\u2007",
    "\u200c",
    "\u200d",
    "\r\n",
    "\r",
    "\n",
    "\t",
    "\x0c",
    "\x0b",
    "\x85",
    "\u2028",
    "\u2029",
    "\x1b[31m",
    "\x00",
    "\x7f",
    "\x80",
    "\x9d",
    "\ud800",
    "\udc00",
    "\ud83d\ude00",
    "\ufffd",
    "\x1a",
    "\u3000",
    "e\u0301",
    "A\u030a",
    "\u0301",
    "\u1100\u1161",
    "\u1161",
    "\u0958",
    "\u212b",
    "Ã ",
    "Â ",
    "Ã\xa0",
    " Ã ",
    "Ã la mode",
    "fÃ cil",
    "Ã©",
    "Ã¢â‚¬Å“",
    "â€œ",
    "â€",
    "âœ”",
    "&",
    "&amp;",
    "&amp;amp;",
    "&#8217;",
    "&#x2019;",
    "&nbsp;",
    "&rsquo;",
    "&EACUTE;",
    "&lt;",
    "&#10;",
    "&#13;",
    "&#0;",
    "&#128;",
    "&#150;",
    "&#xD800;",
    "&#8203;",
    "&NewLine;",
    "&shy;",
    "  ",
    " \t",
    "\t\n",
]
MOJIBAKE_CODECS = [
    "sloppy-windows-1252",
    "latin-1",
    "sloppy-windows-1251",
    "sloppy-windows-1250",
    "sloppy-windows-1253",
    "macroman",
    "cp437",
    "iso-8859-2",
]

good_text = st.text(alphabet=GOOD_ALPHABET, max_size=30)


@st.composite
def mojibake(draw: st.DrawFn) -> str:
    text = draw(good_text)
    for _ in range(draw(st.integers(1, 2))):
        codec = draw(st.sampled_from(MOJIBAKE_CODECS))
        text = text.encode("utf-8").decode(codec, errors="replace")
    return text


fragments = st.one_of(
    good_text,
    mojibake(),
    st.sampled_from(SPECIAL),
    st.text(st.characters(exclude_categories=()), max_size=8),
)
PROSE_LINES = sorted(
    {
        line
        for path in ENCODING.glob("*.expected.txt")
        for line in path.read_text("utf-8").split("\n")
        if line
    }
)
DAMAGE = {
    "none": lambda line: line,
    "mojibake": lambda line: line.encode().decode("sloppy-windows-1252"),
    "lossy_mojibake": lambda line: line.encode().decode("windows-1252", errors="replace"),
    "latin1_mojibake": lambda line: line.encode().decode("latin-1"),
    "entities": lambda line: line.replace("’", "&#8217;").replace(" ", "&nbsp;", 2),
    "no_break_spaces": lambda line: line.replace(" ", "\xa0", 3) + "\xa0",
    "zero_width": lambda line: line.replace(" ", "\u200b ", 2),
}


@st.composite
def damaged_articles(draw: st.DrawFn) -> str:
    """Lines of real prose, each damaged in one of the ways that real files are."""
    lines = draw(st.lists(st.sampled_from(PROSE_LINES), min_size=1, max_size=8))
    damages = st.sampled_from(sorted(DAMAGE))
    ends = st.sampled_from(["\n", "\r\n", " \n", "\n\n", "\r"])
    return "".join(DAMAGE[draw(damages)](line) + draw(ends) for line in lines)


#: A line of plain prose: repeated between fragments, it keeps a text's non-ASCII characters
#: few, so that repair takes its path for such texts (repair._sparse_utf8), as it does for
#: most English articles.
FILLER = "Talks went on into the night, the minister said, and a deal was close.\n"
sparse_texts = st.lists(fragments, min_size=1, max_size=4).map(
    lambda parts: "".join(FILLER * 40 + part for part in parts)
)

texts = st.one_of(
    st.lists(fragments, max_size=12).map("".join),
    st.text(st.characters(exclude_categories=()), max_size=60),
    damaged_articles(),
    sparse_texts,
)


# Whitespace that the rules change only at a line's end or on a blank line, in a sparse text.
spaced_lines = st.lists(
    st.sampled_from(["\t", " ", "\u3000", "\u2003", "\x0c", "\xa0", "\n", "\n\n", "x", "“"]),
    max_size=16,
).map(lambda parts: FILLER * 40 + "".join(parts) + FILLER[: len(parts) * 4])


def test_sparse_texts_take_the_sparse_path_and_dense_ones_do_not() -> None:
    assert repair._sparse_utf8(FILLER * 40 + "“Ã©” \u3000\t&amp;") is not None
    assert repair._sparse_utf8("中文新闻" * 100) is None
    assert repair._sparse_utf8(FILLER * 40 + "中文新闻" * 300) is None  # dense past its head


def assert_records_replay(text: str, normalised: str, repairs: list[Repair]) -> None:
    assert apply_repairs(text, repairs) == normalised
    ends = [0]
    for record in repairs:
        assert record.start >= ends[-1], "records overlap or are out of order"
        assert text[record.start : record.end] == record.before
        assert record.before != record.after
        ends.append(record.end)


# ---------------------------------------------------------------------------------------------
# The ftfy stage is ftfy, exactly


@CHECKS
@given(texts)
def test_ftfy_stage_is_exactly_ftfy(text: str) -> None:
    fixed, repairs = ftfy_stage(text)
    assert fixed == fix_text(text)
    assert_records_replay(text, fixed, repairs)


@CHECKS
@given(st.lists(st.one_of(mojibake(), st.sampled_from(SPECIAL)), min_size=1).map("".join))
def test_ftfy_stage_is_exactly_ftfy_on_mojibake(text: str) -> None:
    assert ftfy_stage(text)[0] == fix_text(text)


def test_ftfy_stage_is_exactly_ftfy_on_seed_articles() -> None:
    for path in sorted((Path(__file__).parent.parent / "fixtures" / "seeds").rglob("*.txt")):
        text = path.read_text("utf-8")
        for variant in (text, text.encode().decode("sloppy-windows-1252")):
            assert ftfy_stage(variant)[0] == fix_text(variant), path.name


def test_fast_path_is_on_for_the_checked_ftfy() -> None:
    # If this fails, ftfy was upgraded: every line now goes through ftfy (exact, but slow).
    # Re-read ftfy's fixers and BADNESS_RE, update repair.py's tables, then _VERIFIED_FTFY.
    assert repair._FAST_PATH, f"fast path was checked on ftfy {repair._VERIFIED_FTFY}"


def test_every_code_point_that_the_fast_path_skips_is_left_alone_by_ftfy() -> None:
    skipped = [chr(c) for c in range(0x110000) if not repair._ftfy_changes(chr(c))]
    assert len(skipped) > 1_000_000  # the fast path covers nearly all of Unicode on its own
    for i in range(0, len(skipped), 256):
        chunk = "".join(skipped[i : i + 256])
        if not repair._ftfy_changes(chunk):
            assert fix_text(chunk) == chunk
        else:  # a pair in the chunk looks like mojibake, or the chunk is not NFC
            for char in skipped[i : i + 256]:
                assert fix_text(char) == char, f"U+{ord(char):04X}"


# ---------------------------------------------------------------------------------------------
# Why skipping is safe: the mojibake rules find everything that BADNESS_RE finds


def _charset(op: object, av: object) -> tuple[bool, frozenset[int]] | None:
    """A one-character item of a parsed regex as (negated, code points); None if opaque."""
    from re._constants import IN, LITERAL, NEGATE, RANGE

    if op is LITERAL:
        assert isinstance(av, int)
        return False, frozenset([av])
    if op is not IN:
        return None
    negated = False
    points: set[int] = set()
    assert isinstance(av, list)
    for item_op, item_av in av:
        if item_op is NEGATE:
            negated = True
        elif item_op is LITERAL:
            points.add(item_av)
        elif item_op is RANGE:
            points.update(range(item_av[0], item_av[1] + 1))
        else:  # \s, \w: not needed for the proof
            return None
    return negated, frozenset(points)


def _items(pattern: str, flags: int = 0) -> list[list[tuple[bool, frozenset[int]] | None]]:
    """The alternatives of a pattern, each as its items' character sets."""
    from re._constants import BRANCH
    from re._parser import parse

    parsed = parse(pattern, flags)
    if len(parsed.data) == 1 and parsed.data[0][0] is BRANCH:
        alternatives = parsed.data[0][1][1]
    else:
        alternatives = [parsed]
    return [[_charset(op, av) for op, av in alt.data] for alt in alternatives]


def _subset(inner: tuple[bool, frozenset[int]], outer: tuple[bool, frozenset[int]]) -> bool:
    inner_negated, inner_points = inner
    outer_negated, outer_points = outer
    if not inner_negated and not outer_negated:
        return inner_points <= outer_points
    if not inner_negated and outer_negated:
        return not inner_points & outer_points
    if inner_negated and outer_negated:
        return outer_points <= inner_points
    return False


def _rules() -> list[list[tuple[bool, frozenset[int]]]]:
    rules = []
    for first, rest in repair._MOJIBAKE_RULES:
        pattern = f"[{first}]{rest}".format(**MOJIBAKE_CATEGORIES)
        (items,) = _items(pattern)
        assert all(item is not None for item in items), pattern
        rules.append([item for item in items if item is not None])
    return rules


def test_mojibake_rules_cover_every_alternative_of_badness_re() -> None:
    """Each alternative of BADNESS_RE has consecutive one-character items that some rule's
    items contain, one by one. So wherever BADNESS_RE matches, that rule matches at those
    items, and a segment that no rule matches is not is_bad()."""
    rules = _rules()
    alternatives = _items(BADNESS_RE.pattern, BADNESS_RE.flags)
    assert len(alternatives) > 30
    for index, alternative in enumerate(alternatives):
        covered = any(
            all(
                (item := alternative[start + k]) is not None and _subset(item, rule[k])
                for k in range(len(rule))
            )
            for rule in rules
            for start in range(len(alternative) - len(rule) + 1)
        )
        assert covered, f"alternative {index} of BADNESS_RE has no rule"


def test_every_rule_starts_with_a_non_ascii_character() -> None:
    # What keeps the scan fast: plain text never stops it.
    for rule in _rules():
        negated, points = rule[0]
        assert not negated and min(points) > 0x7F


@CHECKS
@given(texts)
def test_suspect_patterns_are_what_they_are_built_from(text: str) -> None:
    expected = (
        any(
            re.search(f"[{first}]{rest}".format(**MOJIBAKE_CATEGORIES), text)
            for first, rest in repair._MOJIBAKE_RULES
        )
        or re.search(f"[{repair._TRIGGERS}]", text) is not None
        or ftfy.chardata.HTML_ENTITY_RE.search(text) is not None
    )
    assert (repair._FTFY_SUSPECT.search(text) is not None) == expected
    if is_bad(text):
        assert repair._FTFY_SUSPECT.search(text) is not None
    with_space = expected or re.search(f"[{repair._ANYWHERE_SPACE_CHARS}]", text) is not None
    assert (repair._REPAIR.pattern.search(text) is not None) == with_space


def reference_candidate_lines(text: str, suspect: re.Pattern[str]) -> list[tuple[int, int]]:
    """The lines with a match of ``suspect``, found by re's scan of the whole text, and, if
    the text is not NFC, the lines that are not: what _candidate_lines finds its own way
    (its lines longer than an ftfy segment are left out here: the texts are shorter)."""
    lines = {}
    for match in suspect.finditer(text):
        start = text.rfind("\n", 0, match.start()) + 1
        lines[start] = text.find("\n", match.start()) + 1 or len(text)
    if not unicodedata.is_normalized("NFC", text):
        for start, end in repair._segments(text):
            if not unicodedata.is_normalized("NFC", text[start:end]):
                lines[start] = end
    return sorted(lines.items())


# Many curly quotes and entities: past _MAX_TRIES characters that may start a match, the
# pattern is searched for in the whole text instead.
crowded = st.lists(st.sampled_from(["“", "”", "&amp;", "é", " ", "a"]), max_size=200).map("".join)


@CHECKS
@given(st.one_of(texts, crowded, st.lists(st.one_of(fragments, crowded), max_size=6).map("".join)))
def test_candidate_lines_are_those_a_scan_of_the_whole_text_finds(text: str) -> None:
    for suspect in (repair._FTFY, repair._REPAIR):
        assert repair._candidate_lines(text, suspect) == reference_candidate_lines(
            text, suspect.pattern
        )


def test_the_fast_scan_tries_the_pattern_only_where_a_match_can_start() -> None:
    text = "“Quoted,” she said; R&D and AT&amp;T\nCafé Ã© ok"
    chars = repair._distinct_chars(text.encode("utf-8"), repair._FTFY)
    assert chars == set("“”;&Ãé©") - {";"}  # and no other ASCII character
    found = repair._match_starts(text, chars, repair._FTFY)
    assert found is not None
    assert sorted(found) == [m.start() for m in repair._FTFY_SUSPECT.finditer(text)]
    assert [text[at : at + 2] for at in sorted(found)] == ["&a", "Ã©"]
    many = "“a” " * (repair._MAX_TRIES // 2 + 1)
    assert repair._match_starts(many, {"“", "”"}, repair._FTFY) is None
    # In a long text, more tries are worth it than a scan of it all.
    long = many + "x" * (repair._CHARS_A_TRY * repair._MAX_TRIES * 2)
    assert repair._match_starts(long, {"“", "”"}, repair._FTFY) == []


def test_blank_space_chars_are_the_other_space_chars_that_ftfy_leaves_alone() -> None:
    spaces = {c for c in map(chr, range(0x110000)) if repair._SPACE_SUSPECT.match(c)}
    anywhere = set(repair._ANYWHERE_SPACE_CHARS)
    ftfy_changes = {c for c in spaces if repair._FTFY_SUSPECT.match(c)}
    assert spaces - anywhere - ftfy_changes == repair._BLANK_SPACE_CHARS
    assert anywhere == set("\xa0\u202f\u2007\u200b\u2060\ufeff\xad")


def reference_blank_space_lines(text: str) -> list[tuple[int, int]]:
    found, pos = [], 0
    for line in text.split("\n"):
        end = pos + len(line)
        if repair._BLANK_SPACE_CHARS.intersection(line) and (
            line.isspace() or line.endswith("\t")
        ):
            found.append((pos, end + 1 if end < len(text) else end))
        pos = end + 1
    return found


blank_lines = st.lists(
    st.sampled_from(["\t", " ", "\u3000", "\u2003", "\x0c", "a", "“", "\n", "\n\n", "\r"]),
    max_size=30,
).map("".join)


@CHECKS
@given(st.one_of(texts, blank_lines))
def test_blank_space_lines_are_the_blank_lines_and_those_ending_in_a_tab(text: str) -> None:
    chars = repair._distinct_chars(text.encode("utf-8", "surrogatepass"), repair._REPAIR)
    assert repair._blank_space_lines(text, chars) == reference_blank_space_lines(text)


def test_a_tab_or_an_em_space_inside_a_line_makes_no_candidate() -> None:
    text = "Name\tAge\tTown\nAda\t36\tLondon\nan em\u2003space, and one at the end\u2003\n"
    assert repair_text(text) == (text, [])
    raw = text.encode()
    assert repair._candidate_lines(text, repair._REPAIR, raw) == []
    assert repair._blank_space_lines(text, repair._distinct_chars(raw, repair._REPAIR)) == []
    fixed, repairs = repair_text("a\t\n\u3000\nb")
    assert fixed == "a\n\nb" and [r.before for r in repairs] == ["a\t\n", "\u3000\n"]


def _compose_with_previous() -> set[int]:
    """Code points of class 0 that NFC composes with the character before them: the second
    characters of canonical pairs, and the Hangul vowel and final jamo."""
    found = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
    for point in range(0x110000):
        decomposition = unicodedata.decomposition(chr(point))
        if decomposition and not decomposition.startswith("<"):
            parts = decomposition.split()
            if len(parts) == 2 and unicodedata.combining(chr(int(parts[1], 16))) == 0:
                found.add(int(parts[1], 16))
    return found


def test_no_plain_character_composes_with_the_one_before_it() -> None:
    composing = _compose_with_previous()
    assert 0x0BBE in composing and 0x1161 in composing  # the table is read as intended
    plain = [p for p in range(0x110000) if repair._nfc_plain(chr(p))]
    assert len(plain) > 40_000
    assert not composing.intersection(plain)
    for point in plain:
        assert unicodedata.combining(chr(point)) == 0
        assert unicodedata.normalize("NFC", chr(point)) == chr(point)
    for char in ("\u0301", "\u212b", "\u0958", "\u1161", "\u0bbe", "\u0f73"):
        assert not repair._nfc_plain(char), f"U+{ord(char):04X}"


plain_texts = st.text(
    st.characters(
        codec="utf-8",
        categories=("L", "N", "P", "S", "Zs"),
        max_codepoint=0xD7FF,
    ),
    max_size=40,
)


@CHECKS
@given(st.one_of(texts, plain_texts))
def test_is_nfc_is_unicodedata_is_normalized(text: str) -> None:
    chars = repair._distinct_chars(text.encode("utf-8", "surrogatepass"), repair._REPAIR)
    assert repair._is_nfc(text, chars) == unicodedata.is_normalized("NFC", text)


# ---------------------------------------------------------------------------------------------
# The whole repair: records replay, it is ftfy then our whitespace rules, and idempotent


def whitespace_rules(text: str) -> str:
    """Our whitespace rules, written out plainly for the tests."""
    lines = []
    for line in text.split("\n"):
        for char in "\xa0\u202f\u2007":
            line = line.replace(char, " ")
        for char in "\u200b\u2060\ufeff\xad":
            line = line.replace(char, "")
        line = line.rstrip(" \t")
        lines.append("" if line.isspace() else line)
    return "\n".join(lines)


def reference_repair(text: str) -> str:
    """ftfy on the whole text, then the whitespace rules, until neither changes anything."""
    for _ in range(repair._MAX_ROUNDS):
        repaired = whitespace_rules(fix_text(text))
        if repaired == text:
            break
        text = repaired
    return text


@CHECKS
@given(st.one_of(texts, spaced_lines))
def test_repair_is_ftfy_then_whitespace_rules(text: str) -> None:
    normalised, repairs = repair_text(text)
    assert normalised == reference_repair(text)
    assert_records_replay(text, normalised, repairs)
    for record in repairs:
        for fix in record.fixes:
            assert fix in set(SpaceFix) or re.fullmatch(
                r"(encode|decode|transcode|apply|normalize):[\w.-]+", fix
            ), fix


@CHECKS
@given(texts)
def test_repair_is_idempotent(text: str) -> None:
    # No restriction is needed: where ftfy alone is not idempotent (it turns "\r" into "\n" and
    # then fixes the new lines one by one, e.g. "1\rÂ x"), repair_text repairs until stable.
    once = repair_text(text)[0]
    assert repair_text(once) == (once, [])


def test_repair_settles_where_ftfy_alone_does_not() -> None:
    text = "1\rÂ x"
    assert fix_text(fix_text(text)) != fix_text(text)
    once = repair_text(text)[0]
    assert repair_text(once)[0] == once


def test_lines_longer_than_an_ftfy_segment() -> None:
    limit = FTFY_CONFIG.max_decode_length
    text = "a" * (limit - 3) + "PutinÃ¢â‚¬â„¢s " + "b" * 10 + "\xa0\nnext &amp; last"
    assert ftfy_stage(text)[0] == fix_text(text)
    normalised, repairs = repair_text(text)
    assert normalised == reference_repair(text)
    assert_records_replay(text, normalised, repairs)
