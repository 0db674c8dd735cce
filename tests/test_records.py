"""Records: the lazy record step, its document type, and JSON Lines in and out, on real seeds."""

from __future__ import annotations

import gzip
import json
import warnings
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner import Cleaner, apply_removals
from cleaner.records import (
    Document,
    JsonlWarning,
    LineError,
    MalformedLineError,
    RecordError,
    RecordFields,
    clean_lines,
    clean_record,
    clean_records,
    is_jsonl_name,
    parse_line,
    read_jsonl,
    record_line,
    record_summary,
    write_jsonl,
)

ROOT = Path(__file__).parent.parent
SEEDS = sorted((ROOT / "fixtures" / "seeds" / "input").glob("*.txt"))
NAEB = ROOT.parent / "shared" / "data" / "naeb-dev"


@cache
def _cleaner() -> Cleaner:
    return Cleaner()


def _seed_records() -> list[dict[str, Any]]:
    return [
        {
            "id": seed.stem,
            "text": seed.read_text("utf-8"),
            "meta": {"n": i, "tags": ["é", "日本語", "🙂"], "nested": {"deep": [1.5, None, True]}},
            "title": f"Überschrift {i}",
        }
        for i, seed in enumerate(SEEDS)
    ]


def test_clean_records_replaces_the_text_and_passes_every_other_field() -> None:
    records = _seed_records()
    before = json.dumps(records)
    out = list(clean_records(records))
    assert json.dumps(records) == before  # the inputs are not changed
    assert [r["id"] for r in out] == [r["id"] for r in records]
    for record, cleaned in zip(records, out, strict=True):
        assert cleaned["text"] == _cleaner().clean(record["text"]).text
        assert cleaned["text"] != record["text"]
        assert {k: v for k, v in cleaned.items() if k != "text"} == {
            k: v for k, v in record.items() if k != "text"
        }
        assert list(cleaned) == list(record)  # field order kept


def test_clean_records_is_lazy() -> None:
    taken: list[str] = []

    def source() -> Iterator[dict[str, Any]]:
        for record in _seed_records():
            taken.append(record["id"])
            yield record

    cleaned = clean_records(source())
    assert taken == []
    first = next(cleaned)
    assert taken == [first["id"]]
    next(cleaned)
    assert len(taken) == 2


def test_the_summary_field_counts_what_was_removed() -> None:
    record = _seed_records()[1]
    cleaned = clean_record(record, summary_field="cleaner")
    result = _cleaner().clean(record["text"])
    assert cleaned["cleaner"] == record_summary(result)
    summary = cleaned["cleaner"]
    assert summary["changed"] is True
    assert summary["removals"] == len(result.removals) > 0
    # Removed characters add up to exactly what the replay cuts.
    assert sum(summary["removed_chars"].values()) == len(result.normalised) - len(cleaned["text"])
    assert apply_removals(result.normalised, result.removals) == cleaned["text"]
    json.dumps(summary)  # JSON-ready


def test_documents_come_out_as_documents() -> None:
    docs = [Document(r["text"], id=r["id"], metadata={"meta": r["meta"]}) for r in _seed_records()]
    out = list(clean_records(docs, summary_field="cleaner"))
    for doc, cleaned in zip(docs, out, strict=True):
        assert isinstance(cleaned, Document)
        assert cleaned.id == doc.id
        assert cleaned.text == _cleaner().clean(doc.text).text
        assert cleaned.metadata["meta"] == doc.metadata["meta"]
        assert cleaned.metadata["cleaner"]["changed"] is True
        assert "cleaner" not in doc.metadata


def test_other_field_names_and_a_config_object() -> None:
    record = {"doc_id": 7, "content": SEEDS[0].read_text("utf-8"), "text": "not this one"}
    fields = RecordFields(text_field="content", id_field="doc_id")
    cleaned = clean_record(record, fields=fields)
    assert cleaned["content"] == _cleaner().clean(record["content"]).text
    assert cleaned["text"] == "not this one"
    assert clean_record(record, text_field="content", id_field="doc_id") == cleaned
    with pytest.raises(TypeError, match="text_feild"):
        clean_record(record, text_feild="content")


def test_a_record_without_its_text_says_which_field_and_what_it_has() -> None:
    with pytest.raises(RecordError) as missing:
        clean_record({"id": "a-1", "body": "x", "url": "u"})
    assert missing.value.field == "text" and missing.value.record_id == "a-1"
    assert str(missing.value) == "record 'a-1' has no \"text\" field (its fields: id, body, url)"
    with pytest.raises(RecordError, match='has a number in its "text" field, not a string'):
        clean_record({"id": 3, "text": 12})
    # In a stream, the bad record raises when it is reached, after the good ones came out.
    stream = clean_records([_seed_records()[0], {"id": "bad"}])
    assert next(stream)["id"] == SEEDS[0].stem
    with pytest.raises(RecordError, match="record 'bad'"):
        next(stream)


def _naeb_page() -> tuple[str, str]:
    articles = json.loads((NAEB / "articles.json").read_text("utf-8"))
    key = sorted(articles)[0]
    with gzip.open(NAEB / "html" / f"{key}.html.gz", "rb") as handle:
        html = handle.read().decode("utf-8", "replace")
    return html, articles[key].get("url", "")


def test_an_html_field_is_extracted_then_cleaned_and_kept() -> None:
    from cleaner.html import extract

    html, url = _naeb_page()
    record = {"id": "page", "html": html, "url": url, "lang": "en"}
    cleaned = clean_record(record, html_field="html")
    extracted = extract(html, url)
    text = extracted.text
    assert cleaned["text"] == _cleaner().clean(text).text
    assert len(cleaned["text"]) > 200
    assert cleaned["html"] == html and cleaned["url"] == url and cleaned["lang"] == "en"
    with pytest.raises(RecordError, match='no "html" field'):
        clean_record({"id": 1, "text": "x"}, html_field="html")


# ------------------------------------------------------------------------------------------
# JSON Lines


@pytest.mark.parametrize("name", ["r.jsonl", "r.jsonl.gz", "r.jsonl.zst", "r.ndjson"])
def test_write_then_read_jsonl_round_trips_in_each_compression(tmp_path: Path, name: str) -> None:
    records = _seed_records()
    path = tmp_path / name
    assert write_jsonl(path, records) == len(records)
    head = path.read_bytes()[:4]
    if name.endswith(".gz"):
        assert head[:2] == b"\x1f\x8b"
        text = gzip.decompress(path.read_bytes())
    elif name.endswith(".zst"):
        assert head == b"\x28\xb5\x2f\xfd"
        text = zstandard.ZstdDecompressor().stream_reader(path.read_bytes()).read()
    else:
        text = path.read_bytes()
    assert text.count(b"\n") == len(records)
    assert "日本語" in text.decode("utf-8")  # readable, not \u-escaped
    assert list(read_jsonl(path)) == records
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left
    assert is_jsonl_name(name)


def test_read_jsonl_reports_malformed_lines_and_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl.gz"
    lines = [b'{"id": 1, "text": "a"}', b"", b'{"id": 2, "text": "b"', b"[1, 2]",
             b"   ", b'{"id": 3, "text": "c"}', b"\xff\xfe{}"]  # fmt: skip
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    errors: list[LineError] = []
    got = list(read_jsonl(path, on_error=errors.append))
    assert [r["id"] for r in got] == [1, 3]
    assert [(e.file, e.line) for e in errors] == [(str(path), 3), (str(path), 4), (str(path), 7)]
    assert str(errors[0]).startswith(f"{path}:3: not a JSON object: Expecting ',' delimiter")
    assert "an array" in errors[1].message
    assert "not UTF-8" in errors[2].message
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [r["id"] for r in read_jsonl(path)] == [1, 3]
    assert [w.category for w in caught] == [JsonlWarning] * 3
    assert f"{path}:4: not a JSON object" in str(caught[1].message)


def test_parse_line_takes_objects_only_and_a_byte_order_mark() -> None:
    assert parse_line(b'\xef\xbb\xbf{"a": 1}\r\n') == {"a": 1}
    for raw, why in [(b'"text"', "a string"), (b"null", "null"), (b"{", "Expecting"),
                     (b'{"a": 1} x', "Extra data")]:  # fmt: skip
        with pytest.raises(MalformedLineError, match=why):
            parse_line(raw)


def _parse_line_by_json(raw: bytes) -> dict[str, Any] | str:
    """parse_line as first written, with ``json`` alone: the value, or the error's message."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte, column = raw[exc.start], exc.start + 1
        return f"not a JSON object: not UTF-8 (byte {byte:#04x} at column {column})"
    text = text.lstrip("\ufeff").rstrip("\r\n")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not a JSON object: {exc.msg.removesuffix(' at')} at column {exc.colno} in " + (
            repr(text.strip() if len(text.strip()) <= 40 else text.strip()[:39] + "…")
        )
    if not isinstance(value, dict):
        return "not a JSON object: "  # the kind and excerpt: compared by prefix
    return value  # type: ignore[no-any-return]


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text()
    | st.sampled_from([2**64, -(2**63) - 1, 10**30, 1e300, -0.0, "\ud800", "\u2028"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip


def _as_line(value: Any, indent: bool, bom: bool, crlf: bool) -> bytes:
    text = json.dumps(value, ensure_ascii=False, indent=None if not indent else 1)
    text = text.replace("\n", " ")
    raw = text.encode("utf-8", "surrogatepass")
    return (b"\xef\xbb\xbf" if bom else b"") + raw + (b"\r\n" if crlf else b"\n")


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.builds(_as_line, _JSON_VALUES, st.booleans(), st.booleans(), st.booleans()),
        st.builds(_as_line, st.dictionaries(st.text(max_size=5), _JSON_VALUES, max_size=5),
                  st.booleans(), st.booleans(), st.booleans()),
        st.binary(max_size=40),
        st.sampled_from([b'{"a": NaN}', b'{"a": 1e999}', b'{"a": 1, "a": 2}', b'{"a": "x\x01"}',
                         b'{"id": 123456789012345678901234567890}', b"[1, 2]", b'{"a": 1} x']),
    )
)  # fmt: skip
def test_parse_line_reads_what_json_reads(raw: bytes) -> None:
    expected = _parse_line_by_json(raw)
    try:
        value = parse_line(raw)
    except MalformedLineError as exc:
        assert isinstance(expected, str) and str(exc).startswith(expected)
    else:
        assert not isinstance(expected, str)
        assert json.dumps(value, sort_keys=False) == json.dumps(expected, sort_keys=False)
        assert _types(value) == _types(expected)


def _types(value: Any) -> Any:
    """The value's shape with each leaf's type: 1 and 1.0 and True compare equal."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value)


def test_record_line_keeps_text_readable_and_survives_a_lone_surrogate() -> None:
    assert record_line({"t": "Ünïcödé 日本"}) == '{"t":"Ünïcödé 日本"}\n'.encode()
    odd = parse_line(b'{"t": "half \\ud800 a pair"}')
    line = record_line(odd)
    assert line == b'{"t":"half \\ud800 a pair"}\n'
    assert parse_line(line) == odd


def test_clean_lines_keeps_an_unchanged_record_byte_for_byte() -> None:
    clean_text = _cleaner().clean(SEEDS[0].read_text("utf-8")).text
    raw = json.dumps({"id": "x", "text": clean_text, "n": 1.0}, indent=None,
                     separators=(",", ":")).encode() + b"\r\n"  # fmt: skip
    dirty = json.dumps({"id": "y", "text": SEEDS[0].read_text("utf-8")}).encode()
    out = clean_lines([(1, raw), (2, dirty), (3, b"oops")], _cleaner(), RecordFields(), "f")
    assert out[0].output == raw and not out[0].rewritten and not out[0].changed
    assert out[1].rewritten and out[1].changed
    assert parse_line(out[1].output or b"")["text"] == clean_text
    assert out[1].output is not None and out[1].output.endswith(b"\n")
    assert out[2].output is None and out[2].problem == "malformed" and out[2].line == 3
    # A summary once written stays when the record is cleaned again and does not change.
    summarised = RecordFields(summary_field="cleaner")
    first = clean_lines([(1, dirty)], _cleaner(), summarised, "f")[0]
    assert first.output is not None
    again = clean_lines([(1, first.output)], _cleaner(), summarised, "f")[0]
    assert again.output == first.output and not again.rewritten


def test_clean_lines_report_names_file_line_and_record() -> None:
    record = _seed_records()[2]
    out = clean_lines([(5, json.dumps(record).encode())], _cleaner(), RecordFields(), "in.jsonl",
                      report=True)  # fmt: skip
    result = _cleaner().clean(record["text"])
    assert list(out[0].report) == [
        {"file": "in.jsonl", "line": 5, "record": record["id"], **r} for r in result.records()
    ]
    assert dict(out[0].removed) == result.removed_chars()


# Any JSON value but the text passes through; the text is what the cleaner makes of it.
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=4),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    extra=st.dictionaries(st.text(max_size=10).filter(lambda k: k != "text"), _json, max_size=5),
    text=st.sampled_from([s.read_text("utf-8") for s in SEEDS]) | st.text(max_size=200),
)
def test_every_other_field_passes_through_a_jsonl_round_trip(
    extra: dict[str, Any], text: str
) -> None:
    record = {**extra, "text": text}
    raw = json.dumps(record, ensure_ascii=False).encode("utf-8")
    (outcome,) = clean_lines([(1, raw)], _cleaner(), RecordFields(), "f")
    assert outcome.output is not None
    back = parse_line(outcome.output)
    assert back.pop("text") == _cleaner().clean(text).text
    assert back == extra
