"""The command line: ``cleaner clean`` and ``cleaner explain``, a thin shell over the core.

Everything a run touches on disk goes through :mod:`cleaner.files`; the cleaning itself is
:class:`~cleaner.Cleaner`; what is shown comes from :mod:`cleaner.explain`. This module plans
the run, fans it out to processes, and turns what happened into messages and exit codes.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
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
    Candidate,
    FileStamp,
    NotRegularFileError,
    describe_os_error,
    discover,
    looks_binary,
    read_file,
    write_atomic,
)

Status = Literal["changed", "unchanged", "failed", "skipped"]

#: Below this many files a run is short and gets no progress bar.
PROGRESS_MIN_FILES = 50
#: The most files one worker process takes at a time.
MAX_CHUNK = 64
STDIN_NAME = "-"


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

A summary goes to standard error. Exit status: 0 when every file was cleaned or skipped,
1 when any file failed, 2 for a usage error.
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

    if from_stdin:
        outcomes, planned = _stdin_outcome(dry_run, to_stdout), 1
    else:
        skip = [p for p in (output, report) if p is not None and p != STDIN_NAME]
        found = discover(paths, include=include or DEFAULT_INCLUDE, exclude=exclude,
                         skip_real_paths=skip)  # fmt: skip
        for stale in found.stale_temp_files:
            _say(f"note: {stale}: {STALE_TEMP_MESSAGE}")
        plan = _plan(found.candidates, in_place, output, dry_run, to_stdout)
        todo = [item for item in plan if isinstance(item, Job)]
        outcomes, planned = _in_plan_order(plan, run_jobs(todo, DEFAULT_CONFIG, jobs)), len(plan)

    report_file = _open_report(report)
    tally = Tally()
    show_bar = not quiet and planned >= PROGRESS_MIN_FILES and _stderr_is_tty()
    try:
        bar_or_none = (
            click.progressbar(length=planned, file=sys.stderr, label="cleaning")
            if show_bar
            else nullcontext(None)
        )
        with bar_or_none as bar:
            for outcome in outcomes:
                tally.add(outcome)
                if outcome.status in ("failed", "skipped"):
                    prefix = "\r\033[K" if show_bar else ""
                    kind = "error: " if outcome.status == "failed" else "skipped "
                    click.echo(f"{prefix}cleaner: {kind}{outcome.display}: {outcome.message}",
                               err=True)  # fmt: skip
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
        if report_file is not None and report != STDIN_NAME:
            report_file.close()
    if not quiet:
        for line in tally.summary(dry_run):
            _say(line)
    if tally.counts["failed"]:
        sys.exit(1)


def _plan(
    candidates: Sequence[Candidate],
    in_place: bool,
    output: Path | None,
    dry_run: bool,
    to_stdout: bool,
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
                        keep_output=to_stdout))  # fmt: skip
    return plan


def _in_plan_order(plan: Sequence[Job | Outcome], done: Iterator[Outcome]) -> Iterator[Outcome]:
    for item in plan:
        yield next(done) if isinstance(item, Job) else item


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
