"""Records: the cleaner as a step over a stream of records, and JSON Lines in and out.

A record is a dict (a JSON object, a row of a Hugging Face dataset) or a :class:`Document`.
:func:`clean_records` takes an iterable of records and yields the cleaned records lazily, one
at a time, so it can be a step in another pipeline: the text field is replaced by the cleaned
text, every other field passes through unchanged, and a summary of what was removed can be
added. :class:`RecordFields` says which fields are which.

:func:`read_jsonl` and :func:`write_jsonl` read and write JSON Lines files (plain, ``.gz``,
``.zst``) as streams; a malformed line is reported with its file and line number, and reading
goes on. :func:`clean_lines` is what the command line runs on each chunk of lines, in worker
processes: pure, from raw lines to outcomes with their output line and report records.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, overload

import orjson

from cleaner.config import with_changes
from cleaner.core import BATCH_DOCUMENTS, Cleaner, cleaner_for
from cleaner.corpus import ArticleCorpus
from cleaner.explain import orjson_safe
from cleaner.files import AtomicWriter, compressed_writer, compression_of, decompressed_reader
from cleaner.model import Result

__all__ = [
    "JSONL_SUFFIXES",
    "Document",
    "JsonlWarning",
    "LineError",
    "LineOutcome",
    "MalformedLineError",
    "RecordError",
    "RecordFields",
    "clean_lines",
    "clean_record",
    "clean_records",
    "html_extractor",
    "is_jsonl_name",
    "parse_line",
    "read_jsonl",
    "record_line",
    "record_summary",
    "write_jsonl",
]

#: File names taken as JSON Lines when the format is not given (and compressed like the name).
JSONL_SUFFIXES: tuple[str, ...] = tuple(
    base + comp for base in (".jsonl", ".ndjson") for comp in ("", ".gz", ".zst")
)

#: ``cleaner.html.extract``: a page's HTML and URL to its main text and metadata, as an
#: object with ``.text`` or as a ``(text, metadata)`` pair.
Extract = Callable[[str, str | None], Any]


@dataclass(frozen=True, slots=True)
class Document:
    """A document for the Python API: its text, an id to name it by, and anything else.

    For a document, ``RecordFields.html_field`` and ``url_field`` name keys of ``metadata``.
    """

    text: str
    id: str | int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordFields:
    """Which fields of a record the cleaner reads and writes."""

    #: The text to clean; replaced by the cleaned text (set from the HTML with ``html_field``).
    text_field: str = "text"
    #: The record's id, which names it in reports and errors; None: records have no id.
    id_field: str | None = "id"
    #: A field with the page's HTML: its main text is extracted, cleaned and written to
    #: ``text_field``. The HTML itself passes through unchanged.
    html_field: str | None = None
    #: The page's URL, given to HTML extraction when the record has it.
    url_field: str | None = "url"
    #: When set, each record gets this field with a summary of what was removed
    #: (see :func:`record_summary`).
    summary_field: str | None = None

    def with_(self, **changes: Any) -> RecordFields:
        """A copy with some fields changed; unknown names raise ``TypeError``."""
        return with_changes(self, changes, "record field")


class RecordError(ValueError):
    """A record the cleaner cannot take: its text (or HTML) field is missing or not a string,
    or no text could be extracted from its HTML."""

    def __init__(self, message: str, *, field: str | None = None, record_id: Any = None) -> None:
        super().__init__(message)
        #: The field that was missing or not a string (None for other problems).
        self.field = field
        self.record_id = record_id


class MalformedLineError(ValueError):
    """A line of a JSON Lines file that is not a JSON object."""


class JsonlWarning(UserWarning):
    """A malformed line that :func:`read_jsonl` skipped (no ``on_error`` was given)."""


@dataclass(frozen=True, slots=True)
class LineError:
    """A line of a JSON Lines file that was skipped, and why (``str()`` names file and line)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def html_extractor() -> Extract:
    """``cleaner.html.extract``, imported only when records carry HTML: it loads trafilatura,
    which text and JSON Lines runs do not need."""
    from cleaner.html import extract

    return extract


def record_summary(result: Result) -> dict[str, Any]:
    """What cleaning one record's text did, as the record's summary field holds it."""
    return {
        "changed": result.changed,
        "removed_chars": dict(sorted(result.removed_chars().items())),
        "removals": len(result.removals),
        "repairs": len(result.repairs),
        "notes": [note.code for note in result.notes],
    }


_JSON_KINDS: dict[type, str] = {
    dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number",
    bool: "true or false", type(None): "null",
}  # fmt: skip


def _field_names(record: Mapping[str, Any]) -> str:
    names = list(record)
    shown = ", ".join(map(str, names[:8])) + (", ..." if len(names) > 8 else "")
    return f"its fields: {shown}" if names else "it has no fields"


def _who(record_id: Any) -> str:
    return f"record {record_id!r}" if record_id is not None else "the record"


def _string_field(record: Mapping[str, Any], name: str, record_id: Any) -> str:
    value = record.get(name)
    if isinstance(value, str):
        return value
    if name not in record:
        problem = f'has no "{name}" field ({_field_names(record)})'
    else:
        kind = _JSON_KINDS.get(type(value), type(value).__name__)
        problem = f'has {kind} in its "{name}" field, not a string'
    raise RecordError(f"{_who(record_id)} {problem}", field=name, record_id=record_id)


def _clean_fields(
    record: Mapping[str, Any],
    cleaner: Cleaner,
    spec: RecordFields,
    extract: Extract | None,
    record_id: Any,
    corpus: ArticleCorpus | None = None,
) -> tuple[str, Result]:
    """The cleaned text of a record (its text field, or the text of its HTML field)."""
    result = cleaner.clean(record_text(record, spec, extract, record_id), corpus)
    return result.text, result


def record_text(
    record: Mapping[str, Any], spec: RecordFields, extract: Extract | None, record_id: Any
) -> str:
    """The text a record gives to clean: its text field, or the text of its HTML field.
    Raises :class:`RecordError` when it has none."""
    if spec.html_field is not None:
        html = _string_field(record, spec.html_field, record_id)
        url = record.get(spec.url_field) if spec.url_field is not None else None
        if extract is None:
            extract = html_extractor()
        try:
            extracted = extract(html, url if isinstance(url, str) else None)
        except ValueError as exc:  # a page that cannot be read as HTML
            raise RecordError(
                f'{_who(record_id)}: no text could be extracted from its "{spec.html_field}" '
                f"field ({exc})",
                record_id=record_id,
            ) from exc
        text: str = extracted.text
        return text
    return _string_field(record, spec.text_field, record_id)


def _clean_mapping(
    record: Mapping[str, Any],
    cleaner: Cleaner,
    spec: RecordFields,
    extract: Extract | None,
    corpus: ArticleCorpus | None = None,
) -> tuple[dict[str, Any], Result, bool, bool]:
    """The cleaned record, the result, whether its text changed, and whether the record is
    to be kept as it was."""
    record_id = record.get(spec.id_field) if spec.id_field is not None else None
    text, result = _clean_fields(record, cleaner, spec, extract, record_id, corpus)
    return _cleaned_mapping(record, spec, text, result)


def _cleaned_mapping(
    record: Mapping[str, Any], spec: RecordFields, text: str, result: Result
) -> tuple[dict[str, Any], Result, bool, bool]:
    """:func:`_clean_mapping`'s answer, from the record's cleaned text and result."""
    out = dict(record)
    out[spec.text_field] = text
    changed = record.get(spec.text_field) != text
    keep = not changed
    # A record that this run leaves as it is keeps the summary of the run that cleaned it.
    if spec.summary_field is not None and (changed or spec.summary_field not in record):
        out[spec.summary_field] = record_summary(result)
        keep = False
    return out, result, changed, keep


def _clean_document(
    doc: Document, cleaner: Cleaner, spec: RecordFields, extract: Extract | None
) -> Document:
    source: Mapping[str, Any] = {**doc.metadata, spec.text_field: doc.text}
    text, result = _clean_fields(source, cleaner, spec, extract, doc.id)
    if spec.summary_field is None:
        return replace(doc, text=text)
    return replace(
        doc, text=text, metadata={**doc.metadata, spec.summary_field: record_summary(result)}
    )


def _setup(
    cleaner: Cleaner | None, fields_: RecordFields | None, overrides: dict[str, Any]
) -> tuple[Cleaner, RecordFields, Extract | None]:
    spec = fields_ or RecordFields()
    if overrides:
        spec = spec.with_(**overrides)
    extract = html_extractor() if spec.html_field is not None else None
    return cleaner or cleaner_for(None, {}), spec, extract


@overload
def clean_record(
    record: Document,
    cleaner: Cleaner | None = None,
    fields: RecordFields | None = None,
    **overrides: Any,
) -> Document: ...
@overload
def clean_record(
    record: Mapping[str, Any],
    cleaner: Cleaner | None = None,
    fields: RecordFields | None = None,
    **overrides: Any,
) -> dict[str, Any]: ...
def clean_record(
    record: Mapping[str, Any] | Document,
    cleaner: Cleaner | None = None,
    fields: RecordFields | None = None,
    **overrides: Any,
) -> dict[str, Any] | Document:
    """One record, cleaned: a new dict (or :class:`Document`); the input is not changed.

    ``overrides`` are :class:`RecordFields` options (``text_field="content"``). Raises
    :class:`RecordError` for a record without a string text (or HTML) field.
    """
    cleaner, spec, extract = _setup(cleaner, fields, overrides)
    if isinstance(record, Document):
        return _clean_document(record, cleaner, spec, extract)
    return _clean_mapping(record, cleaner, spec, extract)[0]


@overload
def clean_records(
    records: Iterable[Document],
    cleaner: Cleaner | None = None,
    fields: RecordFields | None = None,
    **overrides: Any,
) -> Iterator[Document]: ...
@overload
def clean_records(
    records: Iterable[Mapping[str, Any]],
    cleaner: Cleaner | None = None,
    fields: RecordFields | None = None,
    **overrides: Any,
) -> Iterator[dict[str, Any]]: ...
def clean_records(
    records: Iterable[Mapping[str, Any] | Document],
    cleaner: Cleaner | None = None,
    fields: RecordFields | None = None,
    **overrides: Any,
) -> Iterator[dict[str, Any] | Document]:
    """Clean a stream of records lazily: each is read only when its output is asked for.

    Records are dicts (or other mappings) or :class:`Document`; each comes out as the same
    kind, in order. ``overrides`` are :class:`RecordFields` options. A record without a
    string text field raises :class:`RecordError` when it is reached; an HTML field without
    HTML support raises :class:`HtmlSupportMissingError` before the first record is read.
    """
    cleaner, spec, extract = _setup(cleaner, fields, overrides)  # errors here, not at next()
    return _clean_stream(records, cleaner, spec, extract)


def _clean_stream(
    records: Iterable[Mapping[str, Any] | Document],
    cleaner: Cleaner,
    spec: RecordFields,
    extract: Extract | None,
) -> Iterator[dict[str, Any] | Document]:
    for record in records:
        if isinstance(record, Document):
            yield _clean_document(record, cleaner, spec, extract)
        else:
            yield _clean_mapping(record, cleaner, spec, extract)[0]


# ------------------------------------------------------------------------------------------
# JSON Lines


def is_jsonl_name(name: str | Path) -> bool:
    """Whether a file's name says it is JSON Lines (``.jsonl``, ``.ndjson``, maybe compressed)."""
    return str(name).lower().endswith(JSONL_SUFFIXES)


def _excerpt(text: str, width: int = 40) -> str:
    text = text.strip()
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def parse_line(raw: bytes) -> dict[str, Any]:
    """One line of a JSON Lines file as a dict; :class:`MalformedLineError` says why not.

    Read by orjson (16 to 19 µs against 25 to 28 with ``json.loads`` on a 5 KB record, and
    the corpus pass and cleaning each read every line) where it reads what ``json`` would: a
    value without a float in it (orjson reads an integer past 64 bits as a float, and
    refuses NaN, a lone surrogate and what is not UTF-8 or has a byte order mark, which
    ``json`` reads or explains); else by ``json``, as before. A record with a float in it
    is thus read twice: 27 to 48 µs against 14 to 27 with ``json`` alone (a 5 KB record with
    a score field), where a record without one saves a third."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    else:
        if orjson_safe(value):  # str, int, bool, None, lists and dicts of them: no float
            return _object(value, raw)
    return _object(_json_value(raw), raw)


def _json_value(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedLineError(
            f"not a JSON object: not UTF-8 (byte {raw[exc.start]:#04x} at column {exc.start + 1})"
        ) from None
    text = text.lstrip("\ufeff").rstrip("\r\n")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        why = exc.msg.removesuffix(" at")  # "Invalid control character at"
        raise MalformedLineError(
            f"not a JSON object: {why} at column {exc.colno} in {_excerpt(text)}"
        ) from None
    return value


def _object(value: Any, raw: bytes) -> dict[str, Any]:
    if not isinstance(value, dict):
        kind = _JSON_KINDS.get(type(value), type(value).__name__)
        text = raw.decode("utf-8").lstrip("\ufeff").rstrip("\r\n")
        raise MalformedLineError(f"not a JSON object: {kind}, {_excerpt(text)}")
    return value


def record_line(record: Mapping[str, Any]) -> bytes:
    """A record as one line of compact JSON Lines, newline included; non-ASCII text stays
    readable. (orjson where it writes what ``json`` would: see :func:`orjson_safe`.)"""
    if orjson_safe(record):
        try:
            return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
        except orjson.JSONEncodeError:  # a lone surrogate, an integer past 64 bits
            pass
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    try:
        return line.encode("utf-8") + b"\n"
    except UnicodeEncodeError:  # a lone surrogate (from a \ud800 escape): keep it escaped
        return json.dumps(record, separators=(",", ":")).encode("ascii") + b"\n"


def read_jsonl(
    path: str | Path, *, on_error: Callable[[LineError], None] | None = None
) -> Iterator[dict[str, Any]]:
    """The records of a JSON Lines file, one at a time (``.gz`` and ``.zst`` by their name).

    Blank lines are passed over. A line that is not a JSON object is skipped and reading goes
    on: it is handed to ``on_error`` as a :class:`LineError` naming the file and the 1-based
    line, or, without ``on_error``, reported as a :class:`JsonlWarning`.
    """
    path = Path(path)
    with open(path, "rb") as raw, closing(decompressed_reader(raw, compression_of(path))) as lines:
        for number, line in enumerate(lines, 1):
            if line.isspace():
                continue
            try:
                yield parse_line(line)
            except MalformedLineError as exc:
                error = LineError(str(path), number, str(exc))
                if on_error is None:
                    warnings.warn(f"{error} (the line is skipped)", JsonlWarning, stacklevel=2)
                else:
                    on_error(error)


def _new_file_mode() -> int:
    # What open() would give a new file: the umask can only be read by setting it.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def write_jsonl(path: str | Path, records: Iterable[Mapping[str, Any]]) -> int:
    """Write records as JSON Lines (compressed by the name), atomically; returns how many.

    The file appears whole or not at all: the lines go to a temporary file beside it, which
    replaces ``path`` only after the last record.
    """
    path = Path(path)
    mode = path.stat().st_mode & 0o7777 if path.exists() else _new_file_mode()
    count = 0
    with AtomicWriter(path, mode=mode) as out:
        sink = compressed_writer(out.stream, compression_of(path))
        for record in records:
            sink.write(record_line(record))
            count += 1
        sink.close()
        out.commit()
    return count


Problem = Literal["malformed", "record", "internal"]


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """What cleaning one line of a JSON Lines file gave: its output line, or why it failed."""

    line: int
    #: The line to write, newline included; None when the line failed and is left out.
    output: bytes | None
    record_id: Any = None
    #: The cleaned text differs from the text field the record had.
    changed: bool = False
    #: ``output`` is not the input line as it was.
    rewritten: bool = False
    removed: tuple[tuple[str, int], ...] = ()
    #: The report's records for this line (only when asked for).
    report: tuple[dict[str, Any], ...] = ()
    problem: Problem | None = None
    #: Why the line failed, without the file and line (which the caller knows).
    message: str = ""
    #: For ``problem="record"``: the field that was missing or not a string.
    field: str | None = None

    def __reduce__(self) -> tuple[type[LineOutcome], tuple[Any, ...]]:
        # Pickled as its fields in order: a chunk's outcomes go from worker to run, and the
        # generic pickling of a frozen dataclass with slots looks its fields up per object.
        return LineOutcome, (
            self.line, self.output, self.record_id, self.changed, self.rewritten,
            self.removed, self.report, self.problem, self.message, self.field,
        )  # fmt: skip


def clean_lines(
    lines: Sequence[tuple[int, bytes]],
    cleaner: Cleaner,
    spec: RecordFields,
    file: str,
    *,
    report: bool = False,
    corpus: Mapping[int, ArticleCorpus] | None = None,
) -> list[LineOutcome]:
    """Clean numbered raw lines of a JSON Lines file. Never raises for one line.

    A record whose text the cleaner leaves as it is keeps its line byte for byte, so a file
    cleaned again is not rewritten. ``file`` names the lines in the report records.
    ``corpus`` holds the corpus pass's word on some lines, by line number.
    """
    extract = html_extractor() if spec.html_field is not None else None
    outcomes: dict[int, LineOutcome] = {}
    # First every line's record and text, then the texts cleaned a batch at a time
    # (Cleaner.clean_batch), then each line's outcome, in input order.
    todo: list[tuple[int, bytes, dict[str, Any], Any, str]] = []
    for position, (number, raw) in enumerate(lines):
        try:
            record = parse_line(raw)
        except MalformedLineError as exc:
            outcomes[position] = LineOutcome(number, None, problem="malformed", message=str(exc))
            continue
        record_id = record.get(spec.id_field) if spec.id_field is not None else None
        try:
            text = record_text(record, spec, extract, record_id)
        except RecordError as exc:
            outcomes[position] = LineOutcome(number, None, record_id, problem="record",
                                             message=str(exc), field=exc.field)  # fmt: skip
            continue
        except Exception as exc:  # one bad record must not end the run
            outcomes[position] = _internal_error(number, record_id, exc)
            continue
        todo.append((position, raw, record, record_id, text))
    for start in range(0, len(todo), BATCH_DOCUMENTS):
        batch = todo[start : start + BATCH_DOCUMENTS]
        documents = [
            (text, corpus.get(lines[position][0]) if corpus else None)
            for position, _, _, _, text in batch
        ]
        try:
            results: list[Result | Exception] = list(cleaner.clean_batch(documents))
        except Exception:  # find the record that fails: each alone
            results = []
            for document in documents:
                try:
                    results.append(cleaner.clean(*document))
                except Exception as exc:
                    results.append(exc)
        for (position, raw, record, record_id, _), result in zip(batch, results, strict=True):
            number = lines[position][0]
            if isinstance(result, Exception):
                outcomes[position] = _internal_error(number, record_id, result)
                continue
            try:
                cleaned, result, changed, keep = _cleaned_mapping(
                    record, spec, result.text, result
                )
                if keep:
                    output = raw if raw.endswith(b"\n") else raw + b"\n"
                else:
                    output = record_line(cleaned)
            except Exception as exc:  # one bad record must not end the run
                outcomes[position] = _internal_error(number, record_id, exc)
                continue
            where = {"file": file, "line": number, "record": record_id}
            outcomes[position] = LineOutcome(
                number, output, record_id,
                changed=changed,
                rewritten=not keep,
                removed=tuple(sorted(result.removed_chars().items())),
                report=tuple({**where, **r} for r in result.records()) if report else (),
            )  # fmt: skip
    return [outcomes[position] for position in range(len(lines))]


def _internal_error(number: int, record_id: Any, exc: Exception) -> LineOutcome:
    who = f"record {record_id!r}: " if record_id is not None else ""
    return LineOutcome(
        number, None, record_id, problem="internal",
        message=f"{who}internal error ({type(exc).__name__}: {exc}); this is a bug in "
        "cleaner, please report it with this record",
    )  # fmt: skip
