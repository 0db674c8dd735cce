"""Invariants that hold for any input: no crash, replay, kept blocks only, idempotence."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cleaner import Cleaner, apply_removals, apply_repairs, clean_and_explain
from cleaner.segment import segment_blocks

FIXTURES = Path(__file__).parent.parent / "fixtures"
SEED_LINES = [
    line
    for path in sorted((FIXTURES / "seeds" / "input").glob("*.txt"))
    for line in path.read_text(encoding="utf-8").splitlines()
]
NAEB = Path(__file__).parent.parent.parent / "shared" / "data" / "naeb-dev" / "articles.json"

# Documents made of real seed lines (boilerplate and prose) in any order and layout, so the
# rules and the duplicate finder actually fire; plus arbitrary text.
seed_documents = st.lists(
    st.tuples(st.sampled_from(SEED_LINES), st.sampled_from(["\n", "\n\n", "\n \n", "\r\n"])),
    max_size=40,
).map(lambda parts: "".join(line + sep for line, sep in parts))
documents = st.one_of(seed_documents, st.text(max_size=400))
CHECKS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@CHECKS
@given(st.binary(max_size=600))
def test_never_raises_on_bytes(data: bytes) -> None:
    result = clean_and_explain(data)
    assert isinstance(result.text, str)


@CHECKS
@given(documents)
def test_records_replay_to_the_output(text: str) -> None:
    result = clean_and_explain(text)
    assert apply_repairs(result.decoded, result.repairs) == result.normalised
    assert apply_removals(result.normalised, result.removals) == result.text


@CHECKS
@given(documents)
def test_output_is_the_kept_blocks_of_the_normalised_text(text: str) -> None:
    result = clean_and_explain(text)
    removed = {r.block for r in result.removals}
    kept = [b.text for b in result.blocks if b.index not in removed]
    # Nothing invented, nothing else lost: the output is the kept blocks, in order, with
    # only whitespace between them.
    assert result.text.split() == " ".join(kept).split()
    assert result.text.strip() == "" or result.text.strip().startswith(kept[0])


@CHECKS
@given(documents)
@example(" ¡")  # a removed block's indentation once stayed behind as a line of spaces
@example(  # a title over a paragraph once looked hard-wrapped, but only beside another one
    "Home / Politics / Trump rejects Putin’s ‘incredible offer’ to help Russia interrogate "
    "Americans\nPushing back against criticism of his Putin meeting, Mr Trump said on "
    "Thursday he wants another meeting with Mr Putin to start implementing ideas.\n\n|\n"
)
@example(":\x0c")  # a form feed after the only block once stayed, to be cleared on the next run
@example("Hello there.\n\n|\u3000\nWorld.\n")  # and an ideographic space after a removed one
def test_cleaning_is_idempotent(text: str) -> None:
    once = clean_and_explain(text).text
    assert clean_and_explain(once).text == once


@CHECKS
@given(documents)
def test_blocks_tile_the_text(text: str) -> None:
    blocks = segment_blocks(text)
    for block, nxt in itertools.pairwise(blocks):
        assert block.sep_end == nxt.start
        assert text[block.end : block.sep_end].strip() == ""
    for block in blocks:
        assert block.text == text[block.start : block.end] and block.text.strip() == block.text


def test_idempotent_and_deterministic_on_real_articles() -> None:
    bodies = [v["articleBody"] for v in json.loads(NAEB.read_text(encoding="utf-8")).values()]
    first, second = Cleaner(), Cleaner()
    for body in bodies:
        once = first.clean(body)
        assert second.clean(body).removals == once.removals
        assert first.clean(once.text).text == once.text


def test_hard_wrapped_paragraphs_are_one_block_but_headline_lists_are_not() -> None:
    wrapped = (
        "The council voted on Tuesday to close the old bridge for a year of\n"
        "repairs, after engineers found cracks in two of the supports that\n"
        "carry the road across the river and the railway line below it.\n"
    )
    text = f"{wrapped}\nA second paragraph follows here, short.\n"
    assert [b.text.count("\n") for b in segment_blocks(text)] == [2, 0]
    headlines = (
        "Takeaways from the summit in Helsinki and what comes next\n"
        "Ten things to know about the new bridge across the river\n"
        "Why the council voted to close the old bridge for a year\n"
    )
    assert len(segment_blocks(headlines)) == 3


_SCALARS = st.one_of(
    st.text(),  # lone surrogates included: they go through json
    st.integers(),  # past 64 bits too
    st.floats(),  # NaN and infinities too
    st.booleans(),
    st.none(),
)
_JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                  max_size=3),
    max_leaves=8,
)  # fmt: skip


def _same_json(back: object, value: object) -> bool:
    """Equal as JSON values, a NaN equal to a NaN."""
    if isinstance(value, float) and value != value:
        return isinstance(back, float) and back != back
    if isinstance(value, dict):
        return isinstance(back, dict) and list(back) == list(value) and all(
            _same_json(back[k], v) for k, v in value.items()
        )
    if isinstance(value, list):
        return isinstance(back, list) and len(back) == len(value) and all(
            map(_same_json, back, value)
        )
    return back == value and type(back) is type(value)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _JSON_VALUES, max_size=6))
@example({"record": float("nan"), "kind": "removal"})
@example({"text": "\ud800 lone", "line": 2**70})
@example({"text": "\x00\x1f\x7f\u2028 \"quoted\" \\ \n é 😀", "fixes": ["a", "b"]})
@example({"summary": {"removed": {"byline": 3}}, "score": 1e16})
def test_a_json_line_reads_back_as_its_record(record: dict[str, object]) -> None:
    """A report line and a record's output line are one line of compact JSON that the
    standard library reads back as the record itself, whichever writer (orjson or json)
    wrote them, and orjson writes only what json would have written."""
    from cleaner.explain import json_lines
    from cleaner.records import record_line

    (line,) = json_lines([record])
    output = record_line(record)
    assert "\n" not in line and output.endswith(b"\n") and output.count(b"\n") == 1
    assert _same_json(json.loads(line), record)
    assert _same_json(json.loads(output), record)
    compact = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    assert line == compact
    try:
        assert output == compact.encode("utf-8") + b"\n"
    except UnicodeEncodeError:  # a lone surrogate: the output line keeps it escaped
        assert output == json.dumps(record, separators=(",", ":")).encode("ascii") + b"\n"
