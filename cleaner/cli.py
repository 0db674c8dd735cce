"""The command line: ``cleaner clean`` and ``cleaner explain``, a thin shell over the core.

Everything a run touches on disk goes through :mod:`cleaner.files`; the cleaning itself is
:class:`~cleaner.Cleaner` (and, for JSON Lines, :mod:`cleaner.records`); what is shown comes
from :mod:`cleaner.explain`. This module plans the run, fans it out to processes, and turns
what happened into messages and exit codes.

Text files are cleaned whole, several at a time. A JSON Lines file is streamed: its lines go
out in chunks to the processes and come back in order, so memory stays flat however large
the file is, and the output does not depend on the number of processes.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, closing, nullcontext
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, Literal

import click

from cleaner.config import DEFAULT_CONFIG, CleanerConfig
from cleaner.core import Cleaner
from cleaner.explain import BLOCK_INDENT, DEFAULT_WIDTH, explain_lines, file_records, json_lines
from cleaner.files import (
    DEFAULT_INCLUDE,
    STALE_TEMP_MESSAGE,
    AtomicWriter,
    ByteSink,
    Candidate,
    Compression,
    FileStamp,
    NotRegularFileError,
    compressed_writer,
    compression_of,
    decompressed_reader,
    describe_os_error,
    discover,
    looks_binary,
    open_input,
    read_file,
    sniff_compression,
    write_atomic,
)
from cleaner.records import (
    JSONL_SUFFIXES,
    HtmlSupportMissingError,
    LineOutcome,
    RecordFields,
    clean_lines,
    html_extractor,
    is_jsonl_name,
)

Status = Literal["changed", "unchanged", "failed", "skipped"]
Format = Literal["auto", "text", "jsonl"]

#: Below this many files a run is short and gets no progress bar.
PROGRESS_MIN_FILES = 50
#: The most files one worker process takes at a time.
MAX_CHUNK = 64
STDIN_NAME = "-"
#: Which files a folder walk takes with ``--format jsonl`` and no ``--include``.
JSONL_INCLUDE: tuple[str, ...] = tuple(f"*{suffix}" for suffix in JSONL_SUFFIXES)
#: A chunk of a JSON Lines file sent to a process: at most this many lines or bytes.
CHUNK_LINES = 256
CHUNK_BYTES = 4 << 20
#: Failed lines of one file shown on standard error; the report has them all.
MAX_LINE_ERRORS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Job:
    """One file to clean, and where its cleaned bytes go."""

    source: Path | None  # None: standard input, already read
    display: str
    in_place: bool = False
    target: Path | None = None
    dry_run: bool = False
    #: Hand the cleaned bytes back to the caller (for standard output).
    keep_output: bool = False
    #: A JSON Lines file, cleaned record by record as a stream.
    jsonl: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one input: the record of it in the run."""

    display: str
    status: Status
    message: str = ""
    records: tuple[dict[str, Any], ...] = ()
    removed: tuple[tuple[str, int], ...] = ()
    output: bytes | None = None


def clean_bytes(cleaner: Cleaner, job: Job, data: bytes, stamp: FileStamp | None) -> Outcome:
    """Clean one file's bytes and write them where the job says. Never raises for one file."""
    if looks_binary(data):
        return Outcome(job.display, "skipped", "looks like a binary file, not text; left as it is")
    if job.in_place and stamp is not None and stamp.links > 1:
        return Outcome(
            job.display, "skipped",
            f"has {stamp.links} hard links, and replacing it would split them; left as it is "
            "(clean a copy with -o DIR)",
        )  # fmt: skip
    try:
        result = cleaner.clean(data)
        cleaned = result.text.encode("utf-8")
    except UnicodeError as exc:
        return Outcome(
            job.display, "failed",
            f"cannot decode it as text ({exc}); convert it to UTF-8 (e.g. with iconv) and run "
            "again",
        )  # fmt: skip
    except Exception as exc:  # one bad document must not end the run
        return Outcome(
            job.display, "failed",
            f"internal error ({type(exc).__name__}: {exc}); this is a bug in cleaner, please "
            "report it with this file",
        )  # fmt: skip
    changed = cleaned != data
    if not job.dry_run:
        try:
            if job.in_place and changed and job.source is not None:
                write_atomic(job.source, cleaned, keep=stamp)
            elif job.target is not None:
                job.target.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(job.target, cleaned, mode=stamp.mode if stamp else None)
        except OSError as exc:
            where = job.target if job.target is not None else job.display
            return Outcome(job.display, "failed", describe_os_error(exc, f"cannot write {where}"))
    return Outcome(
        job.display,
        "changed" if changed else "unchanged",
        records=tuple(file_records(result, job.display)),
        removed=tuple(sorted(result.removed_chars().items())),
        output=cleaned if job.keep_output else None,
    )


def clean_file(cleaner: Cleaner, job: Job) -> Outcome:
    assert job.source is not None
    try:
        # In place, a symlink is never followed: one swapped in since discovery is refused.
        data, stamp = read_file(job.source, follow_symlinks=not job.in_place)
    except NotRegularFileError as exc:
        return Outcome(job.display, "skipped", describe_os_error(exc, "not read"))
    except OSError as exc:
        return Outcome(job.display, "failed", describe_os_error(exc, "cannot read it"))
    return clean_bytes(cleaner, job, data, stamp)


def _clean_chunk(config: CleanerConfig, jobs: Sequence[Job]) -> list[Outcome]:
    # One Cleaner per chunk: loading the rules once per few dozen files costs little, and
    # no state outlives the call.
    cleaner = Cleaner(config)
    return [clean_file(cleaner, job) for job in jobs]


def run_jobs(jobs: Sequence[Job], config: CleanerConfig, processes: int) -> Iterator[Outcome]:
    """Outcomes in the order of ``jobs``, whatever the number of processes.

    Work goes out in chunks, and only a few chunks are in flight at once, so memory does not
    grow with the number of files.
    """
    if processes <= 1 or len(jobs) < 2:
        cleaner = Cleaner(config)
        for job in jobs:
            yield clean_file(cleaner, job)
        return
    size = max(1, min(MAX_CHUNK, -(-len(jobs) // (processes * 4))))
    chunks = (jobs[i : i + size] for i in range(0, len(jobs), size))
    with ProcessPoolExecutor(max_workers=processes) as pool:
        window: deque[Future[list[Outcome]]] = deque(
            pool.submit(_clean_chunk, config, chunk) for chunk in islice(chunks, processes * 2)
        )
        while window:
            done = window.popleft().result()
            for chunk in islice(chunks, 1):
                window.append(pool.submit(_clean_chunk, config, chunk))
            yield from done


@dataclass(slots=True)
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    #: Records of JSON Lines files: changed, unchanged, failed.
    records: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.status] += 1
        self.removed.update(dict(outcome.removed))

    def summary(self, dry_run: bool) -> list[str]:
        c = self.counts
        seen = sum(c.values())
        head = (
            f"{seen} file{'s' if seen != 1 else ''} seen: {c['changed']} changed, "
            f"{c['unchanged']} unchanged, {c['failed']} failed, {c['skipped']} skipped"
        )
        if dry_run:
            head += " (dry run: nothing was written)"
        lines = [head]
        if self.records:
            r = self.records
            n = sum(r.values())
            lines.append(
                f"{n} record{'s' if n != 1 else ''} in JSON Lines: {r['changed']} changed, "
                f"{r['unchanged']} unchanged, {r['failed']} failed"
            )
        if self.removed:
            ranked = sorted(self.removed.items(), key=lambda kv: (-kv[1], kv[0]))
            lines.append("characters removed: " + ", ".join(f"{name} {n}" for name, n in ranked))
        else:
            lines.append("characters removed: none")
        return lines


def _say(message: str) -> None:
    click.echo(f"cleaner: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cleaner", prog_name="cleaner")
def main() -> None:
    """Strip boilerplate (cookie banners, bylines, teasers, repeated paragraphs...) from
    article text, and explain every line it removes."""


CLEAN_HELP = f"""Clean article text files and folders of boilerplate.

PATH is a file, a folder (walked recursively) or - for standard input. In folders, files
matching --include (default: {", ".join(DEFAULT_INCLUDE)}) and not --exclude are taken;
hidden files and folders are left out. A file named on the command line is taken whatever
its name. Patterns with a / match the path below the folder, others the file name; case
matters.

Where the cleaned text goes: --in-place replaces each file; -o DIR writes cleaned copies
under DIR with the same paths below each folder given; a single file or - with neither
goes to standard output. Cleaned text is always written as UTF-8 (it was decoded from
whatever charset the file had, and repaired).

In place, each file is replaced atomically through a temporary file in its folder, keeping
its permissions, so a run stopped at any moment leaves every file either as it was or fully
cleaned. Symlinks are never written through (use the target) and are not followed out of a
folder; binary files, pipes and files with several hard links are skipped. A file that
cannot be read or written fails alone and the run goes on.

JSON Lines (--format jsonl, or by name in auto: *.jsonl and *.ndjson, each also .gz or
.zst): each line is a JSON object; its --text-field is replaced by the cleaned text and every
other field passes through unchanged (with --html-field, the text is extracted from that
field's HTML first). A record whose text does not change keeps its line as it was. Files are
streamed line by line and written with the same compression under the same name; - reads
standard input (gzip or zstd are recognised) and writes plain JSON Lines to standard output.
In folders, --format jsonl takes {", ".join(JSONL_INCLUDE[:3])} and the same for .ndjson.
A line that is not a JSON object, or a record without a string text field, is reported as
FILE:LINE on standard error and in the report, and left out of the output; the run goes on
and exits with status 1. With --in-place, a file with such a line is left as it was. Report
lines of JSON Lines name the record by its --id-field and its line.

A summary goes to standard error. Exit status: 0 when every file was cleaned or skipped,
1 when any file (or any JSON Lines record) failed, 2 for a usage error.
"""


@main.command(help=CLEAN_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--in-place", is_flag=True, help="Replace each file with its cleaned text.")
@click.option(
    "-o", "--output", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
    help="Write cleaned copies under DIR, with the same relative paths.",
)  # fmt: skip
@click.option(
    "--include", multiple=True, metavar="GLOB",
    help=f"Take files in folders that match GLOB (repeatable; default {DEFAULT_INCLUDE[0]}).",
)  # fmt: skip
@click.option(
    "--exclude", multiple=True, metavar="GLOB",
    help="Leave out files and folders that match GLOB (repeatable).",
)  # fmt: skip
@click.option(
    "--dry-run", is_flag=True,
    help="Change nothing and write no text; still report and summarise what would change.",
)  # fmt: skip
@click.option(
    "--report", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
    help="Write one JSON line per repair, removal and note (and per skipped or failed file), "
    "each with its file, to FILE (- for standard output).",
)  # fmt: skip
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
    help="Clean in N processes. The output and the report do not depend on N.",
)  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No summary and no progress bar.")
@click.option(
    "--format", "fmt", type=click.Choice(["auto", "text", "jsonl"]), default="auto",
    show_default=True,
    help="What the files are: text, JSON Lines, or auto (JSON Lines by name, else text; "
    "standard input is text unless jsonl is given).",
)  # fmt: skip
@click.option(
    "--text-field", default="text", show_default=True, metavar="NAME",
    help="JSON Lines: the field with the text to clean.",
)  # fmt: skip
@click.option(
    "--id-field", default="id", show_default=True, metavar="NAME",
    help="JSON Lines: the field that names a record in messages and the report.",
)  # fmt: skip
@click.option(
    "--html-field", metavar="NAME",
    help="JSON Lines: a field with the page's HTML; its main text is extracted, cleaned and "
    "written to --text-field (the HTML field itself is kept).",
)  # fmt: skip
@click.option(
    "--summary-field", metavar="NAME",
    help="JSON Lines: add this field to each record with a summary of what was removed.",
)  # fmt: skip
def clean(
    paths: tuple[str, ...],
    in_place: bool,
    output: Path | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    dry_run: bool,
    report: str | None,
    jobs: int,
    quiet: bool,
    fmt: Format,
    text_field: str,
    id_field: str,
    html_field: str | None,
    summary_field: str | None,
) -> None:
    if in_place and output is not None:
        raise click.UsageError("choose one of --in-place and -o DIR")
    from_stdin = STDIN_NAME in paths
    if from_stdin and (len(paths) > 1 or in_place or output is not None):
        raise click.UsageError(
            "- reads standard input and writes standard output; give it alone, "
            "without --in-place or -o"
        )
    to_stdout = not in_place and output is None and not dry_run
    if to_stdout and (len(paths) > 1 or os.path.isdir(paths[0])):
        raise click.UsageError(
            "several files need a place for their cleaned text: give --in-place to replace "
            "them, -o DIR to write cleaned copies, or --dry-run to only report"
        )
    if report == STDIN_NAME and to_stdout:
        raise click.UsageError("--report - needs standard output, which the cleaned text uses")
    if output is not None and output.exists() and not output.is_dir():
        raise click.UsageError(f"-o {output}: exists and is not a folder")
    ctx = click.get_current_context()
    record_options = [
        f"--{name.replace('_', '-')}"
        for name in ("text_field", "id_field", "html_field", "summary_field")
        if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
    ]
    if fmt == "text" and record_options:
        raise click.UsageError(f"{', '.join(record_options)}: only for JSON Lines, not with "
                               "--format text")  # fmt: skip
    spec = RecordFields(
        text_field=text_field,
        id_field=id_field or None,
        html_field=html_field or None,
        summary_field=summary_field or None,
    )
    if spec.html_field is not None:
        try:
            html_extractor()
        except HtmlSupportMissingError as exc:
            raise click.ClickException(f"--html-field {spec.html_field}: {exc}") from exc

    def is_jsonl(candidate: Candidate) -> bool:
        return fmt == "jsonl" or (fmt == "auto" and is_jsonl_name(candidate.path.name))

    if from_stdin:
        plan: list[Job | Outcome] = [
            Job(None, STDIN_NAME, dry_run=dry_run, keep_output=to_stdout, jsonl=fmt == "jsonl")
        ]
    else:
        skip = [p for p in (output, report) if p is not None and p != STDIN_NAME]
        default_include = JSONL_INCLUDE if fmt == "jsonl" else DEFAULT_INCLUDE
        found = discover(paths, include=include or default_include, exclude=exclude,
                         skip_real_paths=skip)  # fmt: skip
        for stale in found.stale_temp_files:
            _say(f"note: {stale}: {STALE_TEMP_MESSAGE}")
        plan = _plan(found.candidates, in_place, output, dry_run, to_stdout, is_jsonl)

    report_file = _open_report(report)
    tally = Tally()
    show_bar = not quiet and len(plan) >= PROGRESS_MIN_FILES and _stderr_is_tty()
    shown = _Shown(report_file, show_bar)
    records = _RecordRun(spec, jobs, shown, tally)
    if from_stdin and fmt != "jsonl":
        outcomes: Iterator[Outcome] = _stdin_outcome(dry_run, to_stdout)
    else:
        todo = [item for item in plan if isinstance(item, Job) and not item.jsonl]
        outcomes = _in_plan_order(plan, run_jobs(todo, DEFAULT_CONFIG, jobs), records.clean_file)
    try:
        bar_or_none = (
            click.progressbar(length=len(plan), file=sys.stderr, label="cleaning")
            if show_bar
            else nullcontext(None)
        )
        with bar_or_none as bar:
            for outcome in outcomes:
                tally.add(outcome)
                if outcome.status in ("failed", "skipped"):
                    kind = "error: " if outcome.status == "failed" else "skipped "
                    shown.say(f"{kind}{outcome.display}: {outcome.message}")
                if report_file is not None:
                    _write_report(report_file, outcome)
                if outcome.output is not None:
                    stdout = sys.stdout.buffer
                    stdout.write(outcome.output)
                    stdout.flush()
                if bar is not None:
                    bar.update(1)
    except KeyboardInterrupt:
        _say("interrupted: every file is either as it was or fully cleaned; run again to finish")
        sys.exit(130)
    except BrokenProcessPool as exc:
        raise click.ClickException(
            f"a worker process died ({exc}); files already cleaned are complete, the others "
            "are untouched: run again, with fewer --jobs if memory is short"
        ) from exc
    finally:
        records.close()
        if report_file is not None and report != STDIN_NAME:
            report_file.close()
    if not quiet:
        for line in tally.summary(dry_run):
            _say(line)
    if tally.counts["failed"] or tally.records["failed"]:
        sys.exit(1)


def _plan(
    candidates: Sequence[Candidate],
    in_place: bool,
    output: Path | None,
    dry_run: bool,
    to_stdout: bool,
    is_jsonl: Callable[[Candidate], bool] = lambda c: False,
) -> list[Job | Outcome]:
    """A job for each file to clean, an outcome already for each one that will not be read."""
    plan: list[Job | Outcome] = []
    targets: dict[Path, str] = {}
    for c in candidates:
        if c.problem is not None:
            plan.append(Outcome(c.display, c.problem, c.message))
            continue
        if in_place and c.link_target is not None:
            then = (
                "clean the target itself" if c.explicit
                else "its target is cleaned under its own name"
            )  # fmt: skip
            plan.append(Outcome(
                c.display, "skipped",
                f"a symlink to {c.link_target}; --in-place never writes through a symlink, {then}",
            ))  # fmt: skip
            continue
        target = None
        if output is not None:
            target = output / c.relative
            key = Path(os.path.abspath(target))
            if key in targets:
                raise click.UsageError(
                    f"{targets[key]} and {c.display} would both be written to {target}; "
                    "clean them in separate runs or to separate folders"
                )
            if os.path.realpath(target) == os.path.realpath(c.path):
                raise click.UsageError(
                    f"-o {output} would overwrite {c.display} itself; use --in-place for that"
                )
            targets[key] = c.display
        plan.append(Job(c.path, c.display, in_place=in_place, target=target, dry_run=dry_run,
                        keep_output=to_stdout, jsonl=is_jsonl(c)))  # fmt: skip
    return plan


def _in_plan_order(
    plan: Sequence[Job | Outcome],
    done: Iterator[Outcome],
    clean_jsonl: Callable[[Job], Outcome],
) -> Iterator[Outcome]:
    for item in plan:
        if isinstance(item, Outcome):
            yield item
        elif item.jsonl:
            yield clean_jsonl(item)
        else:
            yield next(done)


@dataclass(slots=True)
class _Shown:
    """Where a run's messages and report lines go while it runs."""

    report_file: IO[str] | None
    show_bar: bool

    def say(self, message: str) -> None:
        # On a progress bar's line, clear it first so the message stands alone.
        prefix = "\r\033[K" if self.show_bar else ""
        click.echo(f"{prefix}cleaner: {message}", err=True)

    def report(self, records: Iterable[dict[str, Any]]) -> None:
        if self.report_file is not None:
            for line in json_lines(records):
                self.report_file.write(line + "\n")


# One Cleaner per worker process of a JSON Lines run, made once when the process starts
# (loading the rules per chunk of lines would cost more than some chunks take to clean).
_worker_cleaner: Cleaner | None = None


def _start_record_worker(config: CleanerConfig) -> None:
    global _worker_cleaner
    _worker_cleaner = Cleaner(config)


def _clean_line_chunk(
    spec: RecordFields, file: str, report: bool, lines: list[tuple[int, bytes]]
) -> list[LineOutcome]:
    assert _worker_cleaner is not None
    return clean_lines(lines, _worker_cleaner, spec, file, report=report)


class _ReadError(Exception):
    """Reading or decompressing an input failed part way: the file fails, never half-written."""


def _numbered_chunks(lines: Iterable[bytes]) -> Iterator[list[tuple[int, bytes]]]:
    """Non-blank lines with their 1-based numbers, in chunks of bounded size."""
    chunk: list[tuple[int, bytes]] = []
    size = 0
    number = 0
    try:
        for number, line in enumerate(lines, 1):
            if line.isspace():
                continue
            chunk.append((number, line))
            size += len(line)
            if len(chunk) >= CHUNK_LINES or size >= CHUNK_BYTES:
                yield chunk
                chunk, size = [], 0
    except (OSError, EOFError, zlib.error) as exc:
        raise _ReadError(_describe_read_error(exc, number + 1)) from exc
    except Exception as exc:  # zstandard.ZstdError, which has no common base to name
        if type(exc).__module__.startswith("zstandard"):
            raise _ReadError(_describe_read_error(exc, number + 1)) from exc
        raise
    if chunk:
        yield chunk


def _describe_read_error(exc: BaseException, line: int) -> str:
    if isinstance(exc, OSError) and exc.errno is not None:
        return describe_os_error(exc, f"cannot read it (at line {line})")
    return (
        f"cannot read it past line {line - 1}: {exc or type(exc).__name__} (a broken or "
        "truncated compressed file?)"
    )


class _RecordRun:
    """Cleans JSON Lines files for one run: the processes (started at the first file that
    needs them, shared by the files after it), and what each line's outcome shows."""

    def __init__(self, spec: RecordFields, jobs: int, shown: _Shown, tally: Tally) -> None:
        self.spec = spec
        self.jobs = jobs
        self.shown = shown
        self.tally = tally
        self._pool: ProcessPoolExecutor | None = None
        self._cleaner: Cleaner | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _map(
        self, file: str, chunks: Iterator[list[tuple[int, bytes]]]
    ) -> Iterator[list[LineOutcome]]:
        """Each chunk's outcomes in input order; only a few chunks are in flight at once."""
        report = self.shown.report_file is not None
        spec = self.spec
        if self.jobs <= 1:
            if self._cleaner is None:
                self._cleaner = Cleaner(DEFAULT_CONFIG)
            for chunk in chunks:
                yield clean_lines(chunk, self._cleaner, spec, file, report=report)
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs, initializer=_start_record_worker,
                initargs=(DEFAULT_CONFIG,),
            )  # fmt: skip
        pool = self._pool
        window: deque[Future[list[LineOutcome]]] = deque(
            pool.submit(_clean_line_chunk, spec, file, report, chunk)
            for chunk in islice(chunks, self.jobs * 2)
        )
        while window:
            done = window.popleft().result()
            for chunk in islice(chunks, 1):
                window.append(pool.submit(_clean_line_chunk, spec, file, report, chunk))
            yield done

    def clean_file(self, job: Job) -> Outcome:
        """Stream one JSON Lines file (or standard input) through the cleaner. Never raises
        for the file: what went wrong is in the outcome and, line by line, already shown."""
        with ExitStack() as stack:
            outcome = self._open_and_stream(job, stack)
        return outcome

    def _open_and_stream(self, job: Job, stack: ExitStack) -> Outcome:
        stamp: FileStamp | None = None
        if job.source is None:
            raw: IO[bytes] = sys.stdin.buffer
            compression = sniff_compression(_head(raw))
        else:
            try:
                raw, stamp = open_input(job.source, follow_symlinks=not job.in_place)
            except NotRegularFileError as exc:
                return Outcome(job.display, "skipped", describe_os_error(exc, "not read"))
            except OSError as exc:
                return Outcome(job.display, "failed", describe_os_error(exc, "cannot read it"))
            stack.enter_context(raw)
            compression = compression_of(job.source)
            if job.in_place and stamp.links > 1:
                return Outcome(
                    job.display, "skipped",
                    f"has {stamp.links} hard links, and replacing it would split them; "
                    "left as it is (clean a copy with -o DIR)",
                )  # fmt: skip
        lines = stack.enter_context(closing(decompressed_reader(raw, compression)))
        try:
            writer = self._writer(job, stamp)
        except OSError as exc:
            return _write_failed(job, exc)
        if writer is not None:
            stack.enter_context(writer)
        return self._stream(job, lines, writer, compression)

    def _writer(self, job: Job, stamp: FileStamp | None) -> AtomicWriter | None:
        if job.dry_run:
            return None
        if job.in_place and job.source is not None:
            return AtomicWriter(job.source, keep=stamp)
        if job.target is not None:
            job.target.parent.mkdir(parents=True, exist_ok=True)
            return AtomicWriter(job.target, mode=stamp.mode if stamp else None)
        return None

    def _stream(
        self,
        job: Job,
        lines: Iterable[bytes],
        writer: AtomicWriter | None,
        compression: Compression,
    ) -> Outcome:
        sink: ByteSink | None = None
        if writer is not None:
            sink = compressed_writer(writer.stream, compression)
        elif job.keep_output:
            sink = sys.stdout.buffer
        counts: Counter[str] = Counter()
        removed: Counter[str] = Counter()
        rewritten = False
        hint = self._hint(job)
        try:
            for outcomes in self._map(job.display, _numbered_chunks(lines)):
                out = bytearray()
                for o in outcomes:
                    if o.output is None:
                        counts["failed"] += 1
                        message = self._line_message(o, hint)
                        if counts["failed"] <= MAX_LINE_ERRORS_SHOWN:
                            self.shown.say(f"error: {job.display}:{o.line}: {message}")
                        self.shown.report([{"file": job.display, "line": o.line,
                                            "record": o.record_id, "kind": "failed",
                                            "message": message}])  # fmt: skip
                        continue
                    counts["changed" if o.changed else "unchanged"] += 1
                    rewritten = rewritten or o.rewritten
                    removed.update(dict(o.removed))
                    self.shown.report(o.report)
                    out += o.output
                if sink is not None and out:
                    sink.write(bytes(out))
                    if writer is None:  # standard output: each chunk as soon as it is done
                        sys.stdout.buffer.flush()
        except _ReadError as exc:
            self.tally.records.update(counts)
            if job.dry_run:
                then = ""
            elif job.in_place:
                then = "; the file is left as it was"
            elif job.target is not None:
                then = f"; {job.target} was not written"
            else:
                then = "; the output stops there"
            return Outcome(job.display, "failed", f"{exc}{then}")
        except OSError as exc:  # writing: reading errors come as _ReadError
            self.tally.records.update(counts)
            return _write_failed(job, exc)
        self.tally.records.update(counts)
        failed = counts["failed"]
        if failed > MAX_LINE_ERRORS_SHOWN:
            more = failed - MAX_LINE_ERRORS_SHOWN
            where = "the report lists them all" if self.shown.report_file else (
                "--report FILE lists them all")  # fmt: skip
            self.shown.say(f"error: {job.display}: {more} more failed lines not shown; {where}")
        changed = rewritten or failed > 0
        done = tuple(sorted(removed.items()))
        if writer is not None:
            assert sink is not None
            try:
                sink.close()
                if job.in_place and failed:
                    return Outcome(
                        job.display, "failed",
                        f"{failed} line{'s' if failed != 1 else ''} could not be cleaned (shown "
                        "above); the file is left as it was: fix or remove them and run again",
                        removed=(),
                    )  # fmt: skip
                if changed or not job.in_place:
                    writer.commit()
            except OSError as exc:
                return _write_failed(job, exc)
        return Outcome(job.display, "changed" if changed else "unchanged", removed=done)

    @staticmethod
    def _hint(job: Job) -> str:
        if job.in_place and not job.dry_run:
            return "the file is left as it was"
        return "the line is skipped"

    def _line_message(self, o: LineOutcome, skipped: str) -> str:
        if o.problem == "malformed":
            return f"{o.message} ({skipped}; fix or remove it)"
        if o.field is not None:
            option = "--html-field" if o.field == self.spec.html_field else "--text-field"
            return f"{o.message}; name the right field with {option} ({skipped})"
        return f"{o.message} ({skipped})"


def _write_failed(job: Job, exc: OSError) -> Outcome:
    if job.target is not None:
        where = str(job.target)
    else:
        where = job.display if job.in_place else "standard output"
    return Outcome(job.display, "failed", describe_os_error(exc, f"cannot write {where}"))


def _head(stream: IO[bytes]) -> bytes:
    """The first bytes of a stream, left to be read again (standard input has no name to
    tell its compression by)."""
    peek = getattr(stream, "peek", None)
    if peek is not None:  # a BufferedReader, as standard input is
        return bytes(peek(4)[:4])
    if stream.seekable():  # a test's stand-in
        head = stream.read(4)
        stream.seek(-len(head), io.SEEK_CUR)
        return head
    return b""


def _stdin_outcome(dry_run: bool, to_stdout: bool) -> Iterator[Outcome]:
    data = sys.stdin.buffer.read()
    job = Job(None, STDIN_NAME, dry_run=dry_run, keep_output=to_stdout)
    yield clean_bytes(Cleaner(DEFAULT_CONFIG), job, data, None)


def _open_report(report: str | None) -> IO[str] | None:
    if report is None:
        return None
    if report == STDIN_NAME:
        return sys.stdout
    try:
        return open(report, "w", encoding="utf-8")  # closed after the run
    except OSError as exc:
        raise click.ClickException(
            f"--report {report}: " + describe_os_error(exc, "cannot create it")
        ) from exc


def _write_report(out: IO[str], outcome: Outcome) -> None:
    records: Sequence[dict[str, Any]] = outcome.records
    if outcome.status in ("failed", "skipped"):
        records = [{"file": outcome.display, "kind": outcome.status, "message": outcome.message}]
    for line in json_lines(records):
        out.write(line + "\n")


def _stderr_is_tty() -> bool:
    return sys.stderr.isatty()


@main.command()
@click.argument("file", type=click.Path(allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON lines instead.")
@click.option(
    "--color/--no-color", default=None,
    help="Colour the output (default: on a terminal, unless NO_COLOR is set).",
)  # fmt: skip
@click.option("--full", is_flag=True, help="Show whole blocks, not one shortened line each.")
def explain(file: str, as_json: bool, color: bool | None, full: bool) -> None:
    """Show what cleaning FILE (or - for standard input) would keep and remove, and why.

    Each block (a line, or a hard-wrapped paragraph) is shown as keep, remove, or part (a
    span inside it removed), with the category, the rule id and the evidence; then the
    character repairs and notes. Nothing is written.
    """
    if file == STDIN_NAME:
        data = sys.stdin.buffer.read()
    else:
        try:
            data, _ = read_file(Path(file))
        except OSError as exc:
            raise click.ClickException(
                f"{file}: " + describe_os_error(exc, "cannot read it")
            ) from exc
    if looks_binary(data):
        raise click.ClickException(
            f"{file}: looks like a binary file, not text; nothing to explain"
        )
    try:
        result = Cleaner(DEFAULT_CONFIG).clean(data)
    except UnicodeError as exc:
        raise click.ClickException(
            f"{file}: cannot decode it as text ({exc}); convert it to UTF-8 and try again"
        ) from exc
    if as_json:
        for line in json_lines(file_records(result, file)):
            click.echo(line)
        return
    if color is None:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    width = None
    if not full:
        width = DEFAULT_WIDTH
        if sys.stdout.isatty():
            width = max(40, shutil.get_terminal_size().columns - BLOCK_INDENT)
    lines = explain_lines(result, color=color, width=width)
    click.echo("\n".join(lines), color=color)
