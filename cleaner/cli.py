"""The command line: ``cleaner clean`` and ``cleaner explain``, a thin shell over the core.

Everything a run touches on disk goes through :mod:`cleaner.files`; the cleaning itself is
:class:`~cleaner.Cleaner` (and, for JSON Lines, :mod:`cleaner.records`; for HTML pages and
WARC files, :mod:`cleaner.html` and :mod:`cleaner.warc`); what is shown comes from
:mod:`cleaner.explain`. This module plans the run, fans it out to processes, and turns what
happened into messages and exit codes.

Text files and HTML pages are cleaned whole, several at a time. A JSON Lines file is
streamed: its lines go out in chunks to the processes and come back in order, so memory
stays flat however large the file is, and the output does not depend on the number of
processes. A WARC file is streamed the same way: it is read here, one record at a time, and
its HTML responses go out in chunks to be extracted and cleaned. All of it goes through one
:class:`Workers`, whose processes each hold one Cleaner for the whole run.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, closing, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Literal

import click

from cleaner.config import DEFAULT_CONFIG
from cleaner.core import Cleaner
from cleaner.corpus import (
    ArticleCorpus,
    ArticleRows,
    CorpusConfig,
    CorpusDecisions,
    PassageIndex,
)
from cleaner.corpus_pass import (
    CorpusSettings,
    Signed,
    SiteFrom,
    block_texts,
    line_key,
    sign_files,
    sign_lines,
)
from cleaner.dedup_report import build_report, report_table
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
    content_digest,
    decompressed_reader,
    describe_os_error,
    discover,
    holds,
    looks_binary,
    open_input,
    read_file,
    sniff_compression,
    write_atomic,
)
from cleaner.html import (
    DEFAULT_HTML_CONFIG,
    HTML_SUFFIXES,
    HtmlError,
    extract,
    is_html_name,
    sidecar_name,
    text_name,
)
from cleaner.records import (
    JSONL_SUFFIXES,
    LineOutcome,
    RecordFields,
    clean_lines,
    is_jsonl_name,
    record_line,
)
from cleaner.store import IndexStore, StoreError, open_store
from cleaner.warc import (
    WARC_SUFFIXES,
    SkipReason,
    WarcResponse,
    WarcSkip,
    extract_response,
    is_warc_name,
    iter_responses,
)
from cleaner.workers import Workers, orphaned

Status = Literal["changed", "unchanged", "failed", "skipped", "moved"]
Format = Literal["auto", "text", "jsonl", "html", "warc"]
#: What one input is, and so how it is read and where its output goes.
Kind = Literal["text", "jsonl", "html", "warc"]
#: What became of an HTML page: text written (or shown), no article text in it, unreadable.
PageState = Literal["text", "empty", "failed"]
#: Kinds of input cleaned whole, several files at a time; the others are streamed.
WHOLE_FILES: frozenset[Kind] = frozenset({"text", "html"})

#: Below this many files a run is short and gets no progress bar.
PROGRESS_MIN_FILES = 50
#: The most files one worker process takes at a time.
MAX_CHUNK = 64
STDIN_NAME = "-"
#: Which files a folder walk takes with ``--format jsonl`` and no ``--include``.
JSONL_INCLUDE: tuple[str, ...] = tuple(f"*{suffix}" for suffix in JSONL_SUFFIXES)
#: ... with ``--format html``: *.html, *.htm, *.html.gz, *.htm.gz.
HTML_INCLUDE: tuple[str, ...] = tuple(f"*{s}{gz}" for gz in ("", ".gz") for s in HTML_SUFFIXES)
#: ... with ``--format warc``: *.warc, *.warc.gz.
WARC_INCLUDE: tuple[str, ...] = tuple(f"*{suffix}" for suffix in WARC_SUFFIXES)
#: A chunk of a JSON Lines file sent to a process: at most this many lines or bytes.
CHUNK_LINES = 256
CHUNK_BYTES = 4 << 20
#: Failed lines of one file shown on standard error; the report has them all.
MAX_LINE_ERRORS_SHOWN = 20
#: A chunk of a WARC file sent to a process: at most this many pages (each takes tens of
#: milliseconds to extract), CHUNK_BYTES of their HTML, or CHUNK_LINES records in all.
WARC_CHUNK_PAGES = 8
#: Skipped WARC records worth a line on standard error (the others are only counted): a page
#: that could not be read or extracted.
SHOWN_SKIPS = frozenset({SkipReason.UNREADABLE, SkipReason.EXTRACT_ERROR})
_LEAVE_OUT = " (with --exclude GLOB, in a folder)"


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
    #: Text and HTML files are cleaned whole; JSON Lines and WARC files are streamed.
    kind: Kind = "text"
    #: An HTML page's metadata goes here (and its text to ``target``, also in place).
    sidecar: Path | None = None
    #: What the corpus pass decided about this file's blocks.
    corpus: ArticleRows | None = None
    #: A near-duplicate article, moved (in place) or copied (-o) here instead of cleaned.
    move_to: Path | None = None
    #: The file's path below the folder it was found in (its name, when given itself).
    relative: Path = Path()


def _corpus_of(job: Job) -> ArticleCorpus | None:
    """The corpus pass's records for a file, made in the process that cleans it."""
    return job.corpus.corpus() if job.corpus is not None else None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one input: the record of it in the run."""

    display: str
    status: Status
    message: str = ""
    records: tuple[dict[str, Any], ...] = ()
    removed: tuple[tuple[str, int], ...] = ()
    output: bytes | None = None
    #: For an HTML page that was read: what became of it.
    page: PageState | None = None


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
        result = cleaner.clean(data, _corpus_of(job))
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


def clean_page(cleaner: Cleaner, job: Job, data: bytes, stamp: FileStamp | None) -> Outcome:
    """Extract an HTML page's text and metadata, clean the text, and write both where the
    job says (or hand the text back). Never raises for one page.

    Each output is written atomically, the text before the metadata: a run stopped between
    the two leaves a text without its sidecar, which the next run completes, and never a
    sidecar that describes a text that is not there. An output that already holds the same
    bytes is not rewritten, so running again changes nothing.
    """
    try:
        extracted = extract(data, None, DEFAULT_HTML_CONFIG)
        result = cleaner.clean(extracted.text, _corpus_of(job))
    except HtmlError as exc:
        return Outcome(
            job.display, "failed",
            f"cannot read it as an HTML page: {exc}; fetch (or unpack) it again and run again",
            page="failed",
        )  # fmt: skip
    except Exception as exc:  # one bad page must not end the run
        return Outcome(
            job.display, "failed",
            f"internal error ({type(exc).__name__}: {exc}); this is a bug in cleaner, please "
            "report it with this page",
            page="failed",
        )  # fmt: skip
    if not result.text.strip():
        return Outcome(job.display, "skipped", "no article text found in the page; nothing "
                       "written", page="empty")  # fmt: skip
    # A text file ends with a newline; cleaning it again as text changes nothing.
    text = result.text if result.text.endswith("\n") else result.text + "\n"
    cleaned = text.encode("utf-8")
    metadata = (json.dumps(extracted.metadata, ensure_ascii=False, indent=2) + "\n").encode()
    changed = True
    if job.target is not None:
        assert job.sidecar is not None
        outputs = ((job.target, cleaned), (job.sidecar, metadata))  # the text first
        due = [(path, content) for path, content in outputs if not holds(path, content)]
        changed = bool(due)
        if not job.dry_run:
            for path, content in due:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    write_atomic(path, content, mode=_output_mode(path, stamp))
                except OSError as exc:
                    message = describe_os_error(exc, f"cannot write {path}")
                    return Outcome(job.display, "failed", message, page="text")
    records = [{"file": job.display, **node.to_json()} for node in extracted.pruned]
    return Outcome(
        job.display,
        "changed" if changed else "unchanged",
        records=(*records, *file_records(result, job.display)),
        removed=tuple(sorted(result.removed_chars().items())),
        output=cleaned if job.keep_output else None,
        page="text",
    )


def move_duplicate(job: Job) -> Outcome:
    """Move a near-duplicate article to the job's ``move_to`` (copy it there when the run
    writes to -o DIR: the input folder is never changed then). Never raises for one file."""
    assert job.source is not None and job.move_to is not None
    if job.dry_run:
        return Outcome(job.display, "moved", f"a near-duplicate; would go to {job.move_to}")
    try:
        data, stamp = read_file(job.source, follow_symlinks=not job.in_place)
        job.move_to.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(job.move_to, data, mode=stamp.mode)
        if job.in_place:
            os.unlink(job.source)  # after its copy is complete: a stop leaves both
    except OSError as exc:
        return Outcome(job.display, "failed", describe_os_error(exc, f"cannot move it to "
                                                                    f"{job.move_to}"))
    verb = "moved" if job.in_place else "copied"
    return Outcome(job.display, "moved", f"a near-duplicate; {verb} to {job.move_to}")


def _output_mode(path: Path, stamp: FileStamp | None) -> int | None:
    """An output keeps the mode it has; a new one gets its input's."""
    try:
        return os.lstat(path).st_mode & 0o7777
    except OSError:
        return stamp.mode if stamp is not None else None


def clean_file(cleaner: Cleaner, job: Job) -> Outcome:
    assert job.source is not None
    if job.move_to is not None:
        return move_duplicate(job)
    try:
        # In place, a symlink is never followed: one swapped in since discovery is refused.
        # An HTML page is only read, even in place, so it may be a symlink.
        data, stamp = read_file(job.source, follow_symlinks=not job.in_place or job.kind == "html")
    except NotRegularFileError as exc:
        return Outcome(job.display, "skipped", describe_os_error(exc, "not read"))
    except OSError as exc:
        return Outcome(job.display, "failed", describe_os_error(exc, "cannot read it"))
    if job.kind == "html":
        return clean_page(cleaner, job, data, stamp)
    return clean_bytes(cleaner, job, data, stamp)


def _clean_files(cleaner: Cleaner, jobs: Sequence[Job]) -> list[Outcome]:
    outcomes = []
    for job in jobs:
        if orphaned():
            # The run was killed: the files written so far are complete, and no more are.
            raise SystemExit(1)
        outcomes.append(clean_file(cleaner, job))
    return outcomes


def run_jobs(jobs: Sequence[Job], workers: Workers) -> Iterator[Outcome]:
    """Outcomes of whole files (text, HTML) in the order of ``jobs``, whatever the number of
    processes. Work goes out in chunks of files."""
    if workers.processes <= 1 or len(jobs) < 2:
        size = 1  # each outcome as soon as it is done
    else:
        size = max(1, min(MAX_CHUNK, -(-len(jobs) // (workers.processes * 4))))
    chunks = (jobs[i : i + size] for i in range(0, len(jobs), size))
    for done in workers.map(_clean_files, chunks, here=len(jobs) < 2):
        yield from done


@dataclass(slots=True)
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    #: Records of JSON Lines files: changed, unchanged, failed.
    records: Counter[str] = field(default_factory=Counter)
    #: HTML pages that were read, by :data:`PageState`.
    pages: Counter[str] = field(default_factory=Counter)
    #: Records of WARC files: "page" for each page, else the :class:`SkipReason` value.
    warc: Counter[str] = field(default_factory=Counter)
    #: What the corpus pass found, as summary lines.
    corpus: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.status] += 1
        self.removed.update(dict(outcome.removed))
        if outcome.page is not None:
            self.pages[outcome.page] += 1

    def summary(self, dry_run: bool) -> list[str]:
        c = self.counts
        seen = sum(c.values())
        head = (
            f"{seen} file{'s' if seen != 1 else ''} seen: {c['changed']} changed, "
            f"{c['unchanged']} unchanged, {c['failed']} failed, {c['skipped']} skipped"
        )
        if c["moved"]:
            head += f", {c['moved']} near-duplicate{'s' if c['moved'] != 1 else ''} moved"
        if dry_run:
            head += " (dry run: nothing was written)"
        lines = [head]
        if self.records:
            r = self.records
            n = sum(r.values())
            line = (
                f"{n} record{'s' if n != 1 else ''} in JSON Lines: {r['changed']} changed, "
                f"{r['unchanged']} unchanged, {r['failed']} failed"
            )
            if r["dropped"]:
                line += f", {r['dropped']} near-duplicate{'s' if r['dropped'] != 1 else ''} dropped"
            lines.append(line)
        if self.pages:
            p = self.pages
            n = sum(p.values())
            lines.append(
                f"{n} HTML page{'s' if n != 1 else ''}: {p['text']} with text, "
                f"{p['empty']} without text, {p['failed']} failed"
            )
        if self.warc:
            pages = self.warc["page"]
            skipped = sorted(
                ((reason, n) for reason, n in self.warc.items() if reason != "page"),
                key=lambda kv: (-kv[1], kv[0]),
            )
            n = sum(self.warc.values())
            line = (
                f"{n} WARC record{'s' if n != 1 else ''}: {pages} page{'s' if pages != 1 else ''}"
                f", {n - pages} skipped"
            )
            if skipped:
                line += " (" + ", ".join(f"{reason} {k}" for reason, k in skipped) + ")"
            lines.append(line)
        lines.extend(self.corpus)
        if self.removed:
            ranked = sorted(self.removed.items(), key=lambda kv: (-kv[1], kv[0]))
            lines.append("characters removed: " + ", ".join(f"{name} {n}" for name, n in ranked))
        else:
            lines.append("characters removed: none")
        return lines


def _workers(engine: Literal["local", "dask"], scheduler: str | None, jobs: int | None) -> Workers:
    if engine == "local":
        return Workers(DEFAULT_CONFIG, jobs or available_cores())
    try:
        from cleaner.dask_engine import DaskWorkers
    except ImportError as exc:
        raise click.ClickException(
            f"--engine dask needs dask and distributed ({exc}): pip install 'cleaner[dask]'"
        ) from exc
    try:
        return DaskWorkers(DEFAULT_CONFIG, scheduler, jobs or available_cores())
    except OSError as exc:  # no scheduler at that address, or a port taken
        raise click.ClickException(f"--engine dask: cannot reach the cluster: {exc}") from exc


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and taskset
    narrow), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _say(message: str) -> None:
    click.echo(f"cleaner: {message}", err=True)


def corpus_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that ``clean`` and ``dedup`` share: how the corpus pass names sources,
    where its index lives, and when two articles are near-duplicates."""
    for option in reversed((
        click.option(
            "--site-from", type=click.Choice(["url", "dir", "none"]), default="url",
            show_default=True,
            help="An article's source: the host of its URL (JSON Lines url or site field, an "
            "HTML page's canonical URL; text files have none), its folder, or none.",
        ),
        click.option(
            "--index", metavar="PATH|redis://HOST:PORT",
            help="Keep the corpus index between runs: in an SQLite file at PATH, or in a "
            "Redis server. Articles of earlier runs count as evidence.",
        ),
        click.option(
            "--duplicate-threshold", type=click.FloatRange(0.5, 1.0), default=0.8,
            show_default=True, metavar="J",
            help="Whole-article Jaccard (estimated) at or above which two articles are "
            "near-duplicates.",
        ),
    )):  # fmt: skip
        command = option(command)
    return command


def _open_index(
    index: str | None, config: CorpusConfig, create: bool = True
) -> IndexStore | None:
    if index is None:
        return None
    try:
        return open_store(index, config, create)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc


def _sign_chunk(
    cleaner: Cleaner, settings: CorpusSettings, files: list[tuple[str, Path, str]]
) -> Signed:
    return sign_files(cleaner, settings, files)


def _sign_line_chunk(
    cleaner: Cleaner,
    settings: CorpusSettings,
    spec: RecordFields,
    display: str,
    lines: _Lines,
) -> Signed:
    return sign_lines(cleaner, settings, spec, display, _lines_of(lines))


def _decide(index: PassageIndex) -> CorpusDecisions:
    """``index.decide()`` with the garbage collector off, and what it made (with the run's
    names and digests) then frozen out of the collector's sight. The decisions are millions
    of objects (per group of copies a tuple of names and a dict of sources) that live until
    the run ends and make no cycles: collections while they were made walked them again
    and again (deciding on a million articles' signatures took 117.5 s of processor time
    with the collector off, 129.0 s with it, side by side); frozen, they are not walked by
    the collections while the run cleans (not measured apart)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        decisions = index.decide()
        gc.freeze()
    finally:
        if enabled:
            gc.enable()
    return decisions


@dataclass(slots=True)
class _CorpusRun:
    """A run's corpus pass: every article read and signed once (in the run's workers), the
    stored index loaded, and the decisions over all of them."""

    #: The signed articles, until the index store has them (then let go of: cleaning needs
    #: only the decisions, and a million articles' signatures are most of a gigabyte).
    index: PassageIndex | None
    decisions: CorpusDecisions
    settings: CorpusSettings
    #: Each article's digest of its normalised text, as signed.
    digests: dict[str, bytes]
    previous: int
    #: Where each JSON Lines record of the run is: (file, line, record id).
    records: dict[str, tuple[str, int, Any]]

    def named(self, key: str) -> dict[str, Any]:
        """How the report names an article: its file, and a record's line and id."""
        if key not in self.records:
            return {"file": key}
        file, line, record_id = self.records[key]
        return {"file": file, "line": line, "record": record_id}

    @classmethod
    def read(
        cls,
        plan: Sequence[Job | Outcome],
        workers: Workers,
        settings: CorpusSettings,
        spec: RecordFields,
        store: IndexStore | None,
    ) -> _CorpusRun:
        # The decisions are made in this process once the signing's processes have ended:
        # in as many threads as --jobs asks for (no more than this machine's cores).
        threads = min(workers.processes, available_cores())
        index = PassageIndex(settings.config, candidates=workers.candidates,
                             spill_dir=settings.spill_dir, threads=threads)  # fmt: skip
        previous = 0
        if store is not None:
            for batch in store.load():
                index.add_signed(batch, previous=True)
                previous += len(batch)
        digests: dict[str, bytes] = {}

        records: dict[str, tuple[str, int, Any]] = {}

        def add(signed: Signed) -> None:
            batch, batch_digests, where = signed
            index.add_signed(batch)
            digests.update(zip(batch.ids, batch_digests, strict=True))
            records.update(zip(batch.ids, where, strict=False))  # files have no lines

        jobs = [j for j in plan if isinstance(j, Job) and j.source is not None]
        files = [(j.display, j.source, j.kind) for j in jobs if j.kind in WHOLE_FILES]
        size = max(1, min(MAX_CHUNK, -(-len(files) // (workers.processes * 4))))
        chunks = (files[i : i + size] for i in range(0, len(files), size))
        # Signed by processes of the signing's own, ended before this process decides.
        with workers.phase() as signing:
            for signed in signing.map(_sign_chunk, chunks, settings, here=len(files) < 2):
                add(signed)
            for job in jobs:
                if job.kind != "jsonl":
                    continue
                assert job.source is not None
                try:
                    raw, stamp = open_input(job.source)
                    compression = compression_of(job.source)
                    with raw, closing(decompressed_reader(raw, compression)) as lines:
                        scale = signing.chunk_scale
                        chunked: Iterator[_Lines] = (
                            _located_chunks(lines, scale, job.source, stamp)
                            if signing.reads_files and compression is None
                            else _numbered_chunks(lines, scale)
                        )  # fmt: skip
                        for signed in signing.map(_sign_line_chunk, chunked, settings, spec,
                                                  job.display):  # fmt: skip
                            add(signed)
                except (OSError, _ReadError):
                    continue  # cleaning the file reports it
        return cls(index, _decide(index), settings, digests, previous, records)

    def for_article(self, key: str) -> ArticleRows | None:
        found = self.decisions.rows_for(key, self.settings.drop_shared)
        return None if found is None else found._replace(digest=self.digests.get(key))

    def is_copy(self, key: str) -> bool:
        """Whether this article is a near-duplicate of an article that is kept."""
        cluster = self.decisions.cluster_of(key)
        return cluster is not None and cluster.kept != key

    def attach(
        self, plan: Sequence[Job | Outcome], move_duplicates: Path | None
    ) -> list[Job | Outcome]:
        """The plan with each whole file's corpus decisions, and its near-duplicates set to
        move (with ``move_duplicates``)."""
        out: list[Job | Outcome] = []
        for item in plan:
            if isinstance(item, Job) and item.kind in WHOLE_FILES:
                if move_duplicates is not None and self.is_copy(item.display):
                    item = replace(item, move_to=move_duplicates / item.relative)
                else:
                    item = replace(item, corpus=self.for_article(item.display))
            out.append(item)
        return out

    def cluster_records(self) -> list[dict[str, Any]]:
        """The report's lines for near-duplicate articles: one per copy, naming the kept one."""
        return [
            {**self.named(copy), "kind": "duplicate_article", "kept": cluster.kept,
             "similarity": similarity}
            for cluster in self.decisions.clusters
            for copy, similarity in cluster.copies
        ]  # fmt: skip

    def summary(self, move_duplicates: Path | None, drop_duplicates: bool) -> list[str]:
        clusters = self.decisions.clusters
        copies = sum(len(c.copies) for c in clusters)
        shared, groups = self.decisions.shared_counts()
        articles = len(self.digests)
        line = f"corpus pass: {articles} article{'s' if articles != 1 else ''}"
        if self.previous:
            line += f" (and {self.previous} from the index)"
        line += (
            f", {copies} near-duplicate{'s' if copies != 1 else ''} in {len(clusters)} "
            f"cluster{'s' if len(clusters) != 1 else ''}, {groups} passage"
            f"{'s' if groups != 1 else ''} shared across sources ({shared} copies, "
            f"{'later ones dropped' if self.settings.drop_shared else 'kept'})"
        )
        if copies and move_duplicates is None and not drop_duplicates:
            line += " (near-duplicates are only reported: see --move-duplicates, "
            line += "--drop-duplicates)"
        return [line]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cleaner", prog_name="cleaner")
def main() -> None:
    """Strip boilerplate (cookie banners, bylines, teasers, repeated paragraphs...) from
    article text, and explain every line it removes."""


CLEAN_HELP = f"""Clean article text files, HTML pages and WARC crawls of boilerplate.

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

HTML pages (--format html, or by name in auto: *.html and *.htm, each also .gz): the main
text of each page is extracted, cleaned and written as UTF-8 text, and the page's metadata
(title, author, date, site name, URL, charset...) as a JSON sidecar. With -o DIR the page
a/b.html gives DIR/a/b.txt and DIR/a/b.json; with --in-place, a/b.txt and a/b.json next to
the page, which is never changed. A single page (or - with --format html) with neither
writes its text to standard output, without the metadata. In folders, --format html takes
{", ".join(HTML_INCLUDE)}; a walk never takes the .txt and .json files written next to
pages. Two pages that would write the same files (a/b.html and a/b.htm) are a usage error.
Outputs that already hold the same bytes are not rewritten; the text is written before its
sidecar. A page without article text is skipped; a page that cannot be read (a cut-off
.gz) fails alone. Report lines name the page, and also list the page furniture (consent
dialogs, share bars...) removed from the HTML ("kind": "pruned").

WARC files (--format warc, or by name in auto: {", ".join(WARC_INCLUDE)}): each HTML page
fetched (HTTP 200) becomes one JSON line with url, warc_record_id, date (of the capture),
text (extracted and cleaned), metadata and truncated, in file order. With -o DIR,
a/crawl.warc gives DIR/a/crawl.jsonl (and crawl.warc.gz gives crawl.jsonl.gz); with
--in-place the JSON Lines go next to the WARC file, which is never changed; a single WARC
file (or - with --format warc) with neither writes them to standard output. Other records
(requests, images, redirects, errors, pages without text) are skipped: counted in the
summary and listed in the report with their reason, url and warc_record_id, but not
failures. A WARC file that cannot be read to its end fails: its output file is not written
(on standard output, the pages stop there).

The corpus pass (on by default; --no-corpus turns it off): before cleaning, every article of
the run (text files, HTML pages, JSON Lines records; not WARC files or standard input) is
read once and its paragraphs are indexed with MinHash LSH. A passage that one source repeats
on several of its articles is removed as site_boilerplate; a short passage that many
sources carry, as corpus_boilerplate; the same quote or wire paragraph in articles of
different sources is reported and kept (--drop-shared removes its later copies). The source
of an article (--site-from): url, the host of a record's url or site field or of an HTML
page's canonical URL (text files have none, so each is its own source); dir, the folder
that holds the file; none. Articles whose whole texts nearly repeat each other (Jaccard at
or above --duplicate-threshold) are reported in clusters with the copy kept (the first by
name); --move-duplicates DIR moves the other copies of text files and pages there (copies
them, with -o), and --drop-duplicates leaves them out of JSON Lines output. --index PATH
keeps the index in a file between runs (redis://HOST:PORT keeps it in a Redis server), so
the next run recognises this run's boilerplate and duplicates. Decisions depend only on
the articles and their names, not on the order they are listed in or on --jobs.

A summary goes to standard error, with a line for JSON Lines records, HTML pages and WARC
records when there are any. Exit status: 0 when every file was cleaned or skipped, 1 when
any file (or any JSON Lines record) failed, 2 for a usage error.
"""


@main.command(help=CLEAN_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option(
    "--in-place", is_flag=True,
    help="Replace each file with its cleaned text (HTML, WARC: write the output beside it).",
)  # fmt: skip
@click.option(
    "-o", "--output", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
    help="Write cleaned copies under DIR, with the same relative paths.",
)  # fmt: skip
@click.option(
    "--include", multiple=True, metavar="GLOB",
    help=f"Take files in folders that match GLOB (repeatable; default {DEFAULT_INCLUDE[0]}, "
    "or the names of the --format given).",
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
    "--jobs", "-j", type=click.IntRange(min=1), default=None, metavar="N",
    help="Clean in N processes (default: one per core this process may use). The output "
    "and the report do not depend on N.",
)  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No summary and no progress bar.")
@click.option(
    "--format", "fmt", type=click.Choice(["auto", "text", "jsonl", "html", "warc"]),
    default="auto", show_default=True,
    help="What the files are: text, JSON Lines, HTML pages, WARC files, or auto (JSON Lines, "
    "HTML and WARC by name, else text; folders give *.txt; standard input is text unless a "
    "format is given).",
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
@click.option(
    "--corpus/--no-corpus", default=True, show_default=True,
    help="Find passages repeated across the run's articles before cleaning (see above).",
)  # fmt: skip
@corpus_options
@click.option(
    "--drop-shared", is_flag=True,
    help="Remove the later copies of passages shared by articles of different sources.",
)  # fmt: skip
@click.option(
    "--drop-duplicates", is_flag=True,
    help="JSON Lines: leave near-duplicate records (all but the first) out of the output.",
)  # fmt: skip
@click.option(
    "--move-duplicates", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
    help="Move near-duplicate text files and pages (all but the first) to DIR, with their "
    "relative paths, instead of cleaning them (with -o, copy them there).",
)  # fmt: skip
@click.option(
    "--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
    help="Where the work runs: processes of this machine, or a Dask cluster (the same "
    "output).",
)  # fmt: skip
@click.option(
    "--scheduler", metavar="ADDRESS",
    help="--engine dask: a running Dask scheduler (tcp://HOST:PORT), whose workers see the "
    "same paths; without it, a local cluster of --jobs worker processes.",
)  # fmt: skip
def clean(
    paths: tuple[str, ...],
    in_place: bool,
    output: Path | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    dry_run: bool,
    report: str | None,
    jobs: int | None,
    quiet: bool,
    fmt: Format,
    text_field: str,
    id_field: str,
    html_field: str | None,
    summary_field: str | None,
    corpus: bool,
    site_from: SiteFrom,
    index: str | None,
    duplicate_threshold: float,
    drop_shared: bool,
    drop_duplicates: bool,
    move_duplicates: Path | None,
    engine: Literal["local", "dask"],
    scheduler: str | None,
) -> None:
    if scheduler is not None and engine != "dask":
        raise click.UsageError("--scheduler ADDRESS: only with --engine dask")
    if in_place and output is not None:
        raise click.UsageError("choose one of --in-place and -o DIR")
    corpus_only = [name for name, given in (
        ("--drop-shared", drop_shared), ("--drop-duplicates", drop_duplicates),
        ("--move-duplicates", move_duplicates is not None), ("--index", index is not None),
    ) if given]  # fmt: skip
    if corpus_only and not corpus:
        raise click.UsageError(f"{', '.join(corpus_only)}: needs the corpus pass, not "
                               "--no-corpus")  # fmt: skip
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
    if fmt in ("text", "html", "warc") and record_options:
        raise click.UsageError(f"{', '.join(record_options)}: only for JSON Lines, not with "
                               f"--format {fmt}")  # fmt: skip
    spec = RecordFields(
        text_field=text_field,
        id_field=id_field or None,
        html_field=html_field or None,
        summary_field=summary_field or None,
    )

    kind_of = _kind_of(fmt)
    stdin_job = Job(None, STDIN_NAME, dry_run=dry_run, keep_output=to_stdout,
                    kind="text" if fmt == "auto" else fmt)  # fmt: skip
    if from_stdin:
        plan: list[Job | Outcome] = [stdin_job]
    else:
        made = (output, report, move_duplicates)
        skip = [p for p in made if p is not None and p != STDIN_NAME]
        candidates = _find(paths, fmt, include, exclude, skip)
        plan = _plan(candidates, in_place, output, dry_run, to_stdout, kind_of)

    if from_stdin and corpus_only:
        raise click.UsageError(f"{', '.join(corpus_only)}: the corpus pass reads files, not "
                               "standard input")  # fmt: skip
    settings = CorpusSettings(site_from, drop_shared,
                              CorpusConfig(article_threshold=duplicate_threshold))  # fmt: skip
    # A dry run writes nothing, not even a new index file: then there is nothing to load.
    new_file = index is not None and "://" not in index and not Path(index).exists()
    store = None if dry_run and new_file else _open_index(index, settings.config)
    report_file = _open_report(report)
    tally = Tally()
    show_bar = not quiet and len(plan) >= PROGRESS_MIN_FILES and _stderr_is_tty()
    shown = _Shown(report_file, show_bar)
    workers = _workers(engine, scheduler, jobs)
    corpus_run: _CorpusRun | None = None
    if corpus and not from_stdin:
        try:
            corpus_run = _CorpusRun.read(plan, workers, settings, spec, store)
            tally.corpus = corpus_run.summary(move_duplicates, drop_duplicates)
            if store is not None:
                # Saved before cleaning: a run stopped part way and run again still has this
                # run's evidence, although some files have lost their boilerplate since.
                if not dry_run:
                    assert corpus_run.index is not None
                    added = store.save(corpus_run.index.signed())
                    tally.corpus.append(f"index {index}: {added} new article"
                                        f"{'s' if added != 1 else ''} saved")  # fmt: skip
                store.close()
            corpus_run.index = None
        except StoreError as exc:
            workers.close()
            raise click.ClickException(str(exc)) from exc
        plan = corpus_run.attach(plan, move_duplicates)
        shown.report(corpus_run.cluster_records())
    records = _RecordRun(spec, workers, shown, tally, corpus_run, drop_duplicates)
    warcs = _WarcRun(workers, shown, tally)

    def streamed(job: Job) -> Outcome:
        return records.clean_file(job) if job.kind == "jsonl" else warcs.clean_file(job)

    if from_stdin and fmt in ("auto", "text", "html"):
        outcomes: Iterator[Outcome] = _stdin_outcome(stdin_job, workers.cleaner)
    else:
        todo = [item for item in plan if isinstance(item, Job) and item.kind in WHOLE_FILES]
        outcomes = _in_plan_order(plan, run_jobs(todo, workers), streamed)
    try:
        bar_or_none = (
            click.progressbar(length=len(plan), file=sys.stderr, label="cleaning")
            if show_bar
            else nullcontext(None)
        )
        with bar_or_none as bar:
            for outcome in outcomes:
                tally.add(outcome)
                if outcome.status in ("failed", "skipped", "moved"):
                    kind = {"failed": "error: ", "skipped": "skipped "}.get(outcome.status, "")
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
        workers.close()
        gc.unfreeze()  # what _decide froze: collected as usual again
        if report_file is not None and report != STDIN_NAME:
            report_file.close()
    if not quiet:
        for line in tally.summary(dry_run):
            _say(line)
    if tally.counts["failed"] or tally.records["failed"]:
        sys.exit(1)


def _kind_of(fmt: Format) -> Callable[[Candidate], Kind]:
    """What each input is, for a --format: given, or in auto by its name."""

    def kind_of(candidate: Candidate) -> Kind:
        if fmt != "auto":
            return fmt
        name = candidate.path.name
        if is_warc_name(name):
            return "warc"
        if is_html_name(name):
            return "html"
        return "jsonl" if is_jsonl_name(name) else "text"

    return kind_of


def _find(
    paths: Sequence[str],
    fmt: Format,
    include: Sequence[str],
    exclude: Sequence[str],
    skip: Sequence[str | Path],
) -> list[Candidate]:
    """The inputs under ``paths`` for a --format, less the outputs that runs write beside
    pages and crawls."""
    default_include = {"jsonl": JSONL_INCLUDE, "html": HTML_INCLUDE,
                       "warc": WARC_INCLUDE}.get(fmt, DEFAULT_INCLUDE)  # fmt: skip
    found = discover(paths, include=include or default_include, exclude=exclude,
                     skip_real_paths=skip)  # fmt: skip
    for stale in found.stale_temp_files:
        _say(f"note: {stale}: {STALE_TEMP_MESSAGE}")
    return _without_outputs(found.candidates, _kind_of(fmt))


def page_outputs(page: Path) -> tuple[Path, Path]:
    """Where an HTML page's text and metadata go: a/b.html -> a/b.txt and a/b.json. A page
    with another name (given with --format html) keeps it whole: a/b.php -> a/b.php.txt."""
    if is_html_name(page.name):
        return Path(text_name(page)), Path(sidecar_name(page))
    return page.with_name(page.name + ".txt"), page.with_name(page.name + ".json")


def warc_output(warc: Path) -> Path:
    """Where a WARC file's pages go: crawl.warc -> crawl.jsonl, crawl.warc.gz ->
    crawl.jsonl.gz (another name keeps its stem: crawl.arc.gz -> crawl.arc.jsonl.gz)."""
    name = warc.name
    gz = name.lower().endswith(".gz")
    stem = name[:-3] if gz else name
    if stem.lower().endswith(".warc"):
        stem = stem[:-5]
    return warc.with_name(stem + ".jsonl" + (".gz" if gz else ""))


def _outputs_beside(path: Path, kind: Kind) -> tuple[Path, ...]:
    if kind == "html":
        return page_outputs(path)
    if kind == "warc":
        return (warc_output(path),)
    return ()


def _without_outputs(
    candidates: Sequence[Candidate], kind_of: Callable[[Candidate], Kind]
) -> list[Candidate]:
    """The candidates less the files that HTML and WARC mode write next to the pages and
    crawls among them (a page's .txt and .json, a crawl's .jsonl): those are outputs, not
    inputs, whatever --include says. A file named on the command line is always kept."""
    made = {
        os.path.abspath(out)
        for c in candidates
        if c.problem is None
        for out in _outputs_beside(c.path, kind_of(c))
    }
    if not made:
        return list(candidates)
    return [c for c in candidates if c.explicit or os.path.abspath(c.path) not in made]


def _plan(
    candidates: Sequence[Candidate],
    in_place: bool,
    output: Path | None,
    dry_run: bool,
    to_stdout: bool,
    kind_of: Callable[[Candidate], Kind] = lambda c: "text",
) -> list[Job | Outcome]:
    """A job for each file to clean, an outcome already for each one that will not be read.

    Two inputs that would write the same file are a usage error, found before anything is
    written: two copies under -o DIR, two pages a/b.html and a/b.htm (both give a/b.txt), or
    a page whose text would replace a text file cleaned in place.
    """
    plan: list[Job | Outcome] = []
    targets: dict[Path, str] = {}

    def claim(path: Path, c: Candidate, hint: str) -> None:
        key = Path(os.path.abspath(path))
        if key in targets:
            raise click.UsageError(
                f"{targets[key]} and {c.display} would both be written to {path}; {hint}"
            )
        targets[key] = c.display

    for c in candidates:
        if c.problem is not None:
            plan.append(Outcome(c.display, c.problem, c.message))
            continue
        kind = kind_of(c)
        made_beside = kind in ("html", "warc")
        if in_place and c.link_target is not None and not made_beside:
            then = (
                "clean the target itself" if c.explicit
                else "its target is cleaned under its own name"
            )  # fmt: skip
            plan.append(Outcome(
                c.display, "skipped",
                f"a symlink to {c.link_target}; --in-place never writes through a symlink, {then}",
            ))  # fmt: skip
            continue
        target = sidecar = None
        if made_beside and (output is not None or in_place):
            # Text and metadata of a page, JSON Lines of a crawl: made from the input's name,
            # under DIR or next to it; the input itself is never written.
            base = output / c.relative if output is not None else c.path
            made = _outputs_beside(base, kind)
            target, sidecar = made[0], made[1] if len(made) > 1 else None
            for path in made:
                claim(path, c, f"rename one of them, or leave one out{_LEAVE_OUT}")
                if os.path.realpath(path) == os.path.realpath(c.path):
                    raise click.UsageError(f"{path} would overwrite {c.display} itself")
        elif output is not None:
            target = output / c.relative
            claim(target, c, "clean them in separate runs or to separate folders")
            if os.path.realpath(target) == os.path.realpath(c.path):
                raise click.UsageError(
                    f"-o {output} would overwrite {c.display} itself; use --in-place for that"
                )
        elif in_place:
            claim(c.path, c, f"leave one of them out{_LEAVE_OUT}")
        plan.append(Job(c.path, c.display, in_place=in_place, target=target, dry_run=dry_run,
                        keep_output=to_stdout, kind=kind, sidecar=sidecar,
                        relative=c.relative))  # fmt: skip
    return plan


def _in_plan_order(
    plan: Sequence[Job | Outcome],
    done: Iterator[Outcome],
    streamed: Callable[[Job], Outcome],
) -> Iterator[Outcome]:
    for item in plan:
        if isinstance(item, Outcome):
            yield item
        elif item.kind in WHOLE_FILES:
            yield next(done)
        else:
            yield streamed(item)


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

    def write(self, report_lines: str) -> None:
        """Report lines already serialised, each with its newline."""
        if self.report_file is not None and report_lines:
            self.report_file.write(report_lines)


@dataclass(frozen=True, slots=True)
class _LinesAt:
    """Numbered lines of a file that the worker reads itself (workers on this machine, so
    the lines need not be sent to them): ``size`` bytes from ``offset`` of the file at
    ``path``, the version with that device and inode; its first line is number ``first``,
    and of its lines those numbered in ``numbers`` are the chunk's."""

    path: str
    device: int
    inode: int
    offset: int
    size: int
    first: int
    numbers: tuple[int, ...]

    def read(self) -> list[tuple[int, bytes]]:
        """The chunk's lines, as :func:`_numbered_chunks` gave them to the main process."""
        try:
            with open(self.path, "rb") as file:
                found = os.fstat(file.fileno())
                file.seek(self.offset)
                data = file.read(self.size)
        except OSError as exc:
            raise _ReadError(_describe_read_error(exc, self.first)) from exc
        if (found.st_dev, found.st_ino) != (self.device, self.inode) or len(data) != self.size:
            raise _ReadError(f"it changed while it was read (at line {self.first}); run again")
        wanted = set(self.numbers)
        return [(n, line) for n, line in enumerate(io.BytesIO(data), self.first) if n in wanted]


#: Numbered lines of a JSON Lines file (or where a worker finds them).
_Lines = list[tuple[int, bytes]] | _LinesAt
#: A chunk of numbered lines of a JSON Lines file, and the corpus pass's word on some of them.
_LineChunk = tuple[_Lines, dict[int, ArticleRows]]


def _lines_of(lines: _Lines) -> list[tuple[int, bytes]]:
    return lines.read() if isinstance(lines, _LinesAt) else lines


def _line_numbers(lines: _Lines) -> Iterable[int]:
    return lines.numbers if isinstance(lines, _LinesAt) else (n for n, _ in lines)


#: A cleaned chunk of JSON Lines: each line's outcome (``output`` b"" when it was cleaned,
#: None when it failed; no report records), each line's report lines already as JSON, and
#: the output of all the lines that were cleaned, in order.
_ChunkDone = tuple[list[LineOutcome], list[str], bytes]
#: :data:`_ChunkDone` with the report lines and the output in a file of the run's parts
#: folder: the outcomes, each line's report characters, the file, and its output bytes.
_ChunkInFile = tuple[list[LineOutcome], list[int], str, int]


def _clean_line_chunk(
    cleaner: Cleaner, spec: RecordFields, file: str, report: bool, chunk: _LineChunk
) -> _ChunkDone:
    """Clean a chunk of lines. The report records are serialised here, in the worker, and
    the lines' output joined: the main process only writes them (and unpickles one string
    and one bytes object, not a dict and a bytes object per line)."""
    lines, rows = chunk
    corpus = {number: found.corpus() for number, found in rows.items()}
    outcomes = clean_lines(_lines_of(lines), cleaner, spec, file, report=report, corpus=corpus)
    output = b"".join(o.output for o in outcomes if o.output is not None)
    reports = [
        "".join(line + "\n" for line in json_lines(o.report)) if o.report else ""
        for o in outcomes
    ]  # fmt: skip
    slim = [
        o if o.output is None else replace(o, output=b"", report=())
        for o in outcomes
    ]  # fmt: skip
    return slim, reports, output


def _clean_line_chunk_to(
    cleaner: Cleaner, spec: RecordFields, file: str, report: bool, parts: str, chunk: _LineChunk
) -> _ChunkInFile:
    """:func:`_clean_line_chunk`, its output and report lines written to a new file in the
    folder ``parts`` (for workers on the run's machine: the results of a Dask task travel
    through the event loops of the worker, and of the client, which then has to take a
    chunk's megabytes off the wire while it writes)."""
    outcomes, reports, output = _clean_line_chunk(cleaner, spec, file, report, chunk)
    fd, path = tempfile.mkstemp(dir=parts, suffix=".part")
    with os.fdopen(fd, "wb") as part:
        part.write(output)
        part.write("".join(reports).encode("utf-8", "surrogatepass"))
    return outcomes, [len(r) for r in reports], path, len(output)


def _read_part(done: _ChunkInFile) -> _ChunkDone:
    """The chunk as :func:`_clean_line_chunk` gives it, from its file (then removed)."""
    outcomes, sizes, path, output_size = done
    with open(path, "rb") as part:
        data = part.read()
    os.unlink(path)
    text = data[output_size:].decode("utf-8", "surrogatepass")
    reports = []
    at = 0
    for size in sizes:
        reports.append(text[at : at + size])
        at += size
    return outcomes, reports, data[:output_size]


class _ReadError(Exception):
    """Reading or decompressing an input failed part way: the file fails, never half-written."""


def _numbered_chunks(
    lines: Iterable[bytes], scale: int = 1
) -> Iterator[list[tuple[int, bytes]]]:
    """Non-blank lines with their 1-based numbers, in chunks of bounded size (``scale``
    times CHUNK_LINES lines or CHUNK_BYTES bytes)."""
    for chunk, _, _ in _placed_chunks(lines, scale):
        yield chunk


def _located_chunks(
    lines: Iterable[bytes], scale: int, path: Path, stamp: FileStamp
) -> Iterator[_LinesAt]:
    """The chunks of :func:`_numbered_chunks` as where they are in the (uncompressed) file
    at ``path``, for workers that read it themselves."""
    where = str(path.absolute())
    for chunk, offset, size in _placed_chunks(lines, scale):
        numbers = tuple(n for n, _ in chunk)
        yield _LinesAt(where, stamp.device, stamp.inode, offset, size, numbers[0], numbers)


def _placed_chunks(
    lines: Iterable[bytes], scale: int
) -> Iterator[tuple[list[tuple[int, bytes]], int, int]]:
    """:func:`_numbered_chunks`, each chunk with the offset of its first line in the stream
    and the bytes from there to the end of its last line."""
    most_lines, most_bytes = CHUNK_LINES * scale, CHUNK_BYTES * scale
    chunk: list[tuple[int, bytes]] = []
    size = 0
    number = 0
    position = start = 0
    try:
        for number, line in enumerate(lines, 1):
            position += len(line)
            if line.isspace():
                if not chunk:
                    start = position
                continue
            chunk.append((number, line))
            size += len(line)
            if len(chunk) >= most_lines or size >= most_bytes:
                yield chunk, start, position - start
                chunk, size, start = [], 0, position
    except (OSError, EOFError, zlib.error) as exc:
        raise _ReadError(_describe_read_error(exc, number + 1)) from exc
    except Exception as exc:  # zstandard.ZstdError, which has no common base to name
        if type(exc).__module__.startswith("zstandard"):
            raise _ReadError(_describe_read_error(exc, number + 1)) from exc
        raise
    if chunk:
        yield chunk, start, position - start


def _describe_read_error(exc: BaseException, line: int) -> str:
    if isinstance(exc, OSError) and exc.errno is not None:
        return describe_os_error(exc, f"cannot read it (at line {line})")
    return (
        f"cannot read it past line {line - 1}: {exc or type(exc).__name__} (a broken or "
        "truncated compressed file?)"
    )


class _RecordRun:
    """Cleans JSON Lines files for one run: chunks of lines go to the run's workers, and each
    line's outcome is shown, reported and written in order."""

    def __init__(
        self,
        spec: RecordFields,
        workers: Workers,
        shown: _Shown,
        tally: Tally,
        corpus: _CorpusRun | None = None,
        drop_duplicates: bool = False,
    ) -> None:
        self.spec = spec
        self.workers = workers
        self.shown = shown
        self.tally = tally
        self.corpus = corpus
        self.drop_duplicates = drop_duplicates

    def _map(self, file: str, chunks: Iterator[_Lines]) -> Iterator[_ChunkDone]:
        """Each chunk cleaned, in input order; only a few chunks are in flight at once."""
        report = self.shown.report_file is not None
        with_corpus = self._with_corpus(file, chunks)
        parts = self.workers.parts()
        if parts is None:
            yield from self.workers.map(_clean_line_chunk, with_corpus, self.spec, file, report)
            return
        for done in self.workers.map(
            _clean_line_chunk_to, with_corpus, self.spec, file, report, parts
        ):
            yield _read_part(done)

    def _with_corpus(self, file: str, chunks: Iterator[_Lines]) -> Iterator[_LineChunk]:
        """Each chunk with the corpus pass's word on its lines, less the near-duplicate
        records that are dropped (counted and reported here)."""
        corpus = self.corpus
        for chunk in chunks:
            if corpus is None:
                yield chunk, {}
                continue
            keep: list[int] = []
            found: dict[int, ArticleRows] = {}
            for number in _line_numbers(chunk):
                key = line_key(file, number)
                if self.drop_duplicates and corpus.is_copy(key):
                    self.tally.records["dropped"] += 1
                    cluster = corpus.decisions.cluster_of(key)
                    assert cluster is not None
                    message = f"a near-duplicate of {cluster.kept}"
                    self.shown.report([{**corpus.named(key), "kind": "dropped",
                                        "message": message}])  # fmt: skip
                    continue
                keep.append(number)
                article = corpus.for_article(key)
                if article is not None:
                    found[number] = article
            if isinstance(chunk, _LinesAt):
                yield replace(chunk, numbers=tuple(keep)), found
            else:
                kept = set(keep)
                yield [(n, raw) for n, raw in chunk if n in kept], found

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
        located = None
        if self.workers.reads_files and compression is None and stamp is not None:
            assert job.source is not None
            located = (job.source, stamp)
        return self._stream(job, lines, writer, compression, located)

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
        located: tuple[Path, FileStamp] | None = None,
    ) -> Outcome:
        """``located``: the file's path and version, for workers that read their chunks
        themselves."""
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
            scale = self.workers.chunk_scale
            chunks: Iterator[_Lines] = (
                _located_chunks(lines, scale, *located) if located is not None
                else _numbered_chunks(lines, scale)
            )  # fmt: skip
            for outcomes, reports, out in self._map(job.display, chunks):
                for o, report_lines in zip(outcomes, reports, strict=True):
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
                    self.shown.write(report_lines)
                if sink is not None and out:
                    sink.write(out)
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


@dataclass(frozen=True, slots=True)
class WarcRecordOutcome:
    """One record of a WARC file after extraction: a page's JSON line, or why it gave none."""

    #: The page as one line of JSON Lines, newline included; None for a skipped record.
    output: bytes | None
    skip: WarcSkip | None = None
    removed: tuple[tuple[str, int], ...] = ()
    #: The report's records for this record (only when asked for).
    report: tuple[dict[str, Any], ...] = ()


def _extract_records(
    cleaner: Cleaner, file: str, report: bool, items: list[WarcResponse | WarcSkip]
) -> list[WarcRecordOutcome]:
    """Extract and clean the responses of a chunk of a WARC file (in a worker process)."""
    out = []
    for item in items:
        done = (
            item if isinstance(item, WarcSkip)
            else extract_response(item, DEFAULT_HTML_CONFIG, cleaner)
        )  # fmt: skip
        if isinstance(done, WarcSkip):
            lines = ({"file": file, **done.to_json()},) if report else ()
            out.append(WarcRecordOutcome(None, done, report=lines))
            continue
        result = done.result
        assert result is not None
        records: list[dict[str, Any]] = []
        if report:
            where = {"file": file, "url": done.url, "warc_record_id": done.record_id}
            records = [{**where, **node.to_json()} for node in done.pruned]
            records += [{**where, **r} for r in result.records()]
        out.append(WarcRecordOutcome(
            record_line(done.to_json()),
            removed=tuple(sorted(result.removed_chars().items())),
            report=tuple(records),
        ))  # fmt: skip
    return out


def _warc_chunks(
    items: Iterator[WarcResponse | WarcSkip],
) -> Iterator[list[WarcResponse | WarcSkip]]:
    """The records of a WARC file in chunks of bounded size, skips in their places. A reading
    error ends the stream with a ``broken_archive`` skip, as the reader's own do."""
    chunk: list[WarcResponse | WarcSkip] = []
    pages = size = 0
    try:
        for item in items:
            chunk.append(item)
            if isinstance(item, WarcResponse):
                pages += 1
                size += len(item.payload)
            if pages >= WARC_CHUNK_PAGES or size >= CHUNK_BYTES or len(chunk) >= CHUNK_LINES:
                yield chunk
                chunk, pages, size = [], 0, 0
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        chunk.append(WarcSkip(SkipReason.BROKEN_ARCHIVE, f"{type(exc).__name__}: {exc}"))
    if chunk:
        yield chunk


class _WarcRun:
    """Turns WARC files into JSON Lines of pages for one run: the file is read here, one
    record at a time, and its responses go in chunks to the run's workers, which extract and
    clean them; pages are written in file order as they come back."""

    def __init__(self, workers: Workers, shown: _Shown, tally: Tally) -> None:
        self.workers = workers
        self.shown = shown
        self.tally = tally

    def clean_file(self, job: Job) -> Outcome:
        """Convert one WARC file (or standard input). Never raises for the file."""
        with ExitStack() as stack:
            outcome = self._convert(job, stack)
        return outcome

    def _convert(self, job: Job, stack: ExitStack) -> Outcome:
        stamp: FileStamp | None = None
        if job.source is None:
            raw: IO[bytes] = sys.stdin.buffer
        else:
            try:
                raw, stamp = open_input(job.source)
            except NotRegularFileError as exc:
                return Outcome(job.display, "skipped", describe_os_error(exc, "not read"))
            except OSError as exc:
                return Outcome(job.display, "failed", describe_os_error(exc, "cannot read it"))
            stack.enter_context(raw)
        writer: AtomicWriter | None = None
        sink: ByteSink | None = None
        if job.target is not None and not job.dry_run:
            try:
                job.target.parent.mkdir(parents=True, exist_ok=True)
                writer = AtomicWriter(job.target, mode=_output_mode(job.target, stamp))
            except OSError as exc:
                return _write_failed(job, exc)
            stack.enter_context(writer)
            sink = compressed_writer(writer.stream, compression_of(job.target))
        elif job.keep_output:
            sink = sys.stdout.buffer
        # What the output holds, uncompressed: equal to what is there already, it is not
        # rewritten (compressed bytes could differ by the compressor's version).
        digest = hashlib.sha256()
        counts: Counter[str] = Counter()
        removed: Counter[str] = Counter()
        broken: WarcSkip | None = None
        report = self.shown.report_file is not None
        items = _warc_chunks(iter_responses(raw, DEFAULT_HTML_CONFIG.max_bytes))
        try:
            for outcomes in self.workers.map(_extract_records, items, job.display, report):
                out = bytearray()
                for o in outcomes:
                    if o.skip is not None and o.skip.reason == SkipReason.BROKEN_ARCHIVE:
                        broken = o.skip
                        break
                    self.shown.report(o.report)
                    if o.skip is not None:
                        counts[o.skip.reason.value] += 1
                        self._show_skip(job, o.skip, counts)
                        continue
                    assert o.output is not None
                    counts["page"] += 1
                    removed.update(dict(o.removed))
                    out += o.output
                if out:
                    digest.update(out)
                    if sink is not None:
                        sink.write(bytes(out))
                        if writer is None:  # standard output: each chunk as soon as it is done
                            sys.stdout.buffer.flush()
                if broken is not None:
                    break
        except OSError as exc:  # writing: reading errors end the stream as a broken archive
            return _write_failed(job, exc)
        finally:
            self.tally.warc.update(counts)
        if broken is not None:
            return Outcome(job.display, "failed", self._broken_message(job, broken))
        done = tuple(sorted(removed.items()))
        if job.target is None:
            return Outcome(job.display, "changed", removed=done)
        same = content_digest(job.target) == digest.digest()
        if writer is not None:
            assert sink is not None
            try:
                sink.close()
                if not same:
                    writer.commit()
            except OSError as exc:
                return _write_failed(job, exc)
        return Outcome(job.display, "unchanged" if same else "changed", removed=done)

    def _show_skip(self, job: Job, skip: WarcSkip, counts: Counter[str]) -> None:
        if skip.reason not in SHOWN_SKIPS:
            return
        shown = sum(counts[reason.value] for reason in SHOWN_SKIPS)
        if shown <= MAX_LINE_ERRORS_SHOWN:
            self.shown.say(f"skipped {job.display}: {skip.url} (record {skip.record_id}): "
                           f"{skip.reason.value}: {skip.detail}")  # fmt: skip
        elif shown == MAX_LINE_ERRORS_SHOWN + 1:
            where = "the report" if self.shown.report_file else "--report FILE"
            self.shown.say(f"skipped {job.display}: more pages that could not be read are "
                           f"not shown; {where} lists every skipped record")  # fmt: skip

    @staticmethod
    def _broken_message(job: Job, broken: WarcSkip) -> str:
        where = f"past byte {broken.offset}" if broken.offset is not None else "to its end"
        if broken.url:
            where += f" (in the record of {broken.url})"
        if job.dry_run:
            then = ""
        elif job.target is not None:
            then = f"; {job.target} was not written"
        else:
            then = "; the output stops there"
        return (
            f"cannot read it {where}: {broken.detail} (not a WARC file, or a truncated or "
            f"broken one: fetch it again){then}"
        )


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


def _stdin_outcome(job: Job, cleaner: Cleaner) -> Iterator[Outcome]:
    data = sys.stdin.buffer.read()
    if job.kind == "html":
        yield clean_page(cleaner, job, data, None)
    else:
        yield clean_bytes(cleaner, job, data, None)


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
    if outcome.status in ("failed", "skipped", "moved"):
        records = [{"file": outcome.display, "kind": outcome.status, "message": outcome.message}]
    for line in json_lines(records):
        out.write(line + "\n")


def _stderr_is_tty() -> bool:
    return sys.stderr.isatty()


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format", "fmt", type=click.Choice(["auto", "text", "jsonl", "html"]), default="auto",
    show_default=True, help="What the files are, as for clean (WARC files are not read).",
)  # fmt: skip
@click.option("--include", multiple=True, metavar="GLOB", help="As for clean.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="As for clean.")
@click.option("--text-field", default="text", show_default=True, metavar="NAME",
              help="JSON Lines: the field with the text.")  # fmt: skip
@click.option("--id-field", default="id", show_default=True, metavar="NAME",
              help="JSON Lines: the field that names a record.")  # fmt: skip
@click.option("--html-field", metavar="NAME", help="JSON Lines: a field with the page's HTML.")
@corpus_options
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
    help="Also write the whole report as JSON to FILE (- for standard output, instead of the "
    "table).",
)  # fmt: skip
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True, metavar="N",
              help="Rows shown in each part of the table.")  # fmt: skip
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=None, metavar="N",
    help="Read and sign in N processes (default: one per core this process may use). The "
    "report does not depend on N.",
)  # fmt: skip
def dedup(
    paths: tuple[str, ...],
    fmt: Format,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    text_field: str,
    id_field: str,
    html_field: str | None,
    site_from: SiteFrom,
    index: str | None,
    duplicate_threshold: float,
    json_out: str | None,
    top: int,
    jobs: int | None,
) -> None:
    """Report repeated text across the articles under PATHS, changing nothing.

    The corpus pass of clean, alone: clusters of near-duplicate articles (with the copy
    that clean keeps), passages repeated across articles with where they occur and what
    clean does with them (site_boilerplate and corpus_boilerplate go, shared passages
    stay), and each article's share of text found in other articles. Articles are named
    as clean names them: a file by its path, a JSON Lines record by its path and line.
    With --index, the stored articles of earlier runs count as evidence; the index is
    read, never written.
    """
    if STDIN_NAME in paths:
        raise click.UsageError("dedup reads files and folders, not standard input")
    spec = RecordFields(text_field=text_field, id_field=id_field or None,
                        html_field=html_field or None)  # fmt: skip
    skip = [json_out] if json_out not in (None, STDIN_NAME) else []
    plan = _plan(_find(paths, fmt, include, exclude, skip), False, None, True, False,
                 _kind_of(fmt))  # fmt: skip
    settings = CorpusSettings(site_from, config=CorpusConfig(article_threshold=duplicate_threshold))
    store = _open_index(index, settings.config, create=False)
    workers = Workers(DEFAULT_CONFIG, jobs or available_cores())
    try:
        run = _CorpusRun.read(plan, workers, settings, spec, store)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        workers.close()
        gc.unfreeze()  # what _decide froze: collected as usual again
        if store is not None:
            store.close()
    for item in plan:
        if isinstance(item, Outcome):
            _say(f"skipped {item.display}: {item.message}")
    # The text of each repeated passage: its first copy's block.
    firsts: dict[int, tuple[str, int]] = {}
    for found in run.decisions.passages.values():
        for d in found.values():
            firsts[d.group] = min(firsts.get(d.group, (d.article_id, d.block)),
                                  (d.article_id, d.block))  # fmt: skip
    wanted: dict[str, set[int]] = {}
    for article, block in firsts.values():
        wanted.setdefault(article, set()).add(block)
    files = [(j.display, j.source, j.kind) for j in plan
             if isinstance(j, Job) and j.source is not None and j.kind != "warc"]  # fmt: skip
    texts = block_texts(workers.cleaner, spec, files, wanted)
    report = build_report(run.decisions, texts, run.previous)
    if json_out is not None:
        data = json.dumps(report, ensure_ascii=False, indent=1) + "\n"
        if json_out == STDIN_NAME:
            click.echo(data, nl=False)
            return
        try:
            write_atomic(Path(json_out), data.encode("utf-8"))
        except OSError as exc:
            raise click.ClickException(
                f"--json {json_out}: " + describe_os_error(exc, "cannot write it")
            ) from exc
    click.echo("\n".join(report_table(report, top)))


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
