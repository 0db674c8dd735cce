"""Files at the edge: finding inputs, reading bytes, telling text from binary, atomic writes.

Nothing here cleans or prints. The rules that keep an in-place run safe live here:

* a file is replaced, never rewritten: the new bytes go to a temporary file in the same
  folder (``.NAME.cleaner-tmp-XXXXXXXX``), are flushed and fsynced, and then ``os.replace``
  swaps it in, so a run killed at any moment leaves the old file or the new one, never half;
* the replacement keeps the file's permission bits (and owner, when allowed);
* a file that changed between reading and writing is not overwritten;
* symlinks are never written through, and a walk never follows one out of its root;
* leftover temporary files from a killed run are never taken as input.

Large files (JSON Lines) are streamed: :func:`open_input` opens with the same checks as
:func:`read_file`, :class:`AtomicWriter` writes through a temporary file in pieces, and
``.gz`` and ``.zst`` files are read and written compressed, by their name.

Outputs made from an input (the text and metadata of an HTML page, the JSON Lines of a WARC
file) are compared with what is already there (:func:`holds`, :func:`content_digest`), so that
running again rewrites nothing.
"""

from __future__ import annotations

import errno
import fnmatch
import gzip
import hashlib
import io
import os
import stat
import tempfile
from collections.abc import Iterable, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Literal, Protocol

from cleaner.decode import looks_binary

__all__ = [
    "DEFAULT_INCLUDE",
    "STALE_TEMP_MESSAGE",
    "TEMP_MARK",
    "AtomicWriter",
    "ByteSink",
    "Candidate",
    "Compression",
    "Discovery",
    "FileChangedError",
    "FileStamp",
    "NotRegularFileError",
    "compressed_writer",
    "compression_of",
    "content_digest",
    "decompressed_reader",
    "describe_os_error",
    "discover",
    "holds",
    "is_temp_name",
    "looks_binary",
    "open_input",
    "read_file",
    "sniff_compression",
    "write_atomic",
]

#: Which files a folder walk takes when no ``--include`` is given.
DEFAULT_INCLUDE: tuple[str, ...] = ("*.txt",)

#: Marks the temporary files of an atomic write: ``.NAME.cleaner-tmp-XXXXXXXX``.
TEMP_MARK = ".cleaner-tmp-"


STALE_TEMP_MESSAGE = (
    "a temporary file left by an interrupted run, never taken as input; it is safe to delete "
    "once no cleaner run is writing in its folder"
)


def is_temp_name(name: str) -> bool:
    """A temporary file of :func:`write_atomic`, possibly left by a killed run."""
    return name.startswith(".") and TEMP_MARK in name


class FileChangedError(OSError):
    """The file changed on disk after it was read, so the cleaned bytes would overwrite news."""


class NotRegularFileError(OSError):
    """A FIFO, socket or device: reading it could block or never end."""


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What identifies one version of a file, and the metadata a replacement must keep."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    mode: int
    uid: int
    gid: int
    links: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileStamp:
        return cls(
            st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
            stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_nlink,
        )  # fmt: skip

    def same_version(self, other: FileStamp) -> bool:
        return (self.device, self.inode, self.size, self.mtime_ns) == (
            other.device, other.inode, other.size, other.mtime_ns,
        )  # fmt: skip


Problem = Literal["skipped", "failed"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One input found by :func:`discover`.

    ``display`` is the path as the user would type it (the argument joined with the path
    below it); ``relative`` is where the file sits below its argument, which is where a
    cleaned copy goes under an output folder. ``link_target`` is set for a symlink.
    ``problem`` marks an input that is not to be read, with the reason in ``message``.
    """

    path: Path
    display: str
    relative: Path
    explicit: bool = False
    link_target: Path | None = None
    problem: Problem | None = None
    message: str = ""


@dataclass(slots=True)
class Discovery:
    candidates: list[Candidate] = field(default_factory=list)
    #: Temporary files of an earlier, killed run: never input, reported so they can go.
    stale_temp_files: list[str] = field(default_factory=list)


def _matches(relative: Path, patterns: Sequence[str]) -> bool:
    # A pattern with a slash is matched against the path below the argument, one without
    # against the name alone, as in .gitignore. Case matters, on every platform.
    posix = relative.as_posix()
    return any(fnmatch.fnmatchcase(posix if "/" in p else relative.name, p) for p in patterns)


def _inside(target: Path, root: Path) -> bool:
    return target == root or target.is_relative_to(root)


def discover(
    paths: Iterable[str | Path],
    *,
    include: Sequence[str] = DEFAULT_INCLUDE,
    exclude: Sequence[str] = (),
    skip_real_paths: Iterable[str | Path] = (),
) -> Discovery:
    """Find the input files under ``paths``, in a stable order.

    A file named on the command line is taken whatever its name. A folder is walked
    recursively: hidden files and folders are left out, files must match ``include`` and
    not ``exclude``, folders matching ``exclude`` are not entered. Symlinks are not followed
    into folders; a symlinked file pointing outside the folder is skipped with a message.
    ``skip_real_paths`` (the output folder, the report file) are never walked or taken.
    Files of each argument come in sorted order, the arguments in the order given, and a file
    reached twice is taken once.
    """
    found = Discovery()
    seen: set[str] = set()
    skip = {os.path.realpath(p) for p in skip_real_paths}

    def add(candidate: Candidate) -> None:
        key = os.path.abspath(candidate.path)
        if key not in seen:
            seen.add(key)
            found.candidates.append(candidate)

    for arg in paths:
        arg_path = Path(arg)
        try:
            st = arg_path.lstat()
        except OSError as exc:
            message = describe_os_error(exc, "cannot open")
            add(Candidate(arg_path, str(arg), Path(arg_path.name), explicit=True,
                          problem="failed", message=message))  # fmt: skip
            continue
        if stat.S_ISDIR(st.st_mode) or (stat.S_ISLNK(st.st_mode) and arg_path.is_dir()):
            for candidate in _walk(arg_path, str(arg), include, exclude, skip, found):
                add(candidate)
            continue
        link = Path(os.path.realpath(arg_path)) if stat.S_ISLNK(st.st_mode) else None
        if is_temp_name(arg_path.name):
            add(Candidate(arg_path, str(arg), Path(arg_path.name), explicit=True,
                          link_target=link, problem="skipped",
                          message=STALE_TEMP_MESSAGE))  # fmt: skip
            continue
        add(Candidate(arg_path, str(arg), Path(arg_path.name), explicit=True, link_target=link))
    return found


def _walk(
    root: Path,
    display_root: str,
    include: Sequence[str],
    exclude: Sequence[str],
    skip: set[str],
    found: Discovery,
) -> list[Candidate]:
    real_root = Path(os.path.realpath(root))
    out: list[Candidate] = []

    def show(relative: Path) -> str:
        return display_root if relative == Path() else os.path.join(display_root, relative)

    def problem(relative: Path, kind: Problem, message: str, link: Path | None = None) -> None:
        out.append(Candidate(root / relative, show(relative), relative, link_target=link,
                             problem=kind, message=message))  # fmt: skip

    pending: list[Path] = [Path()]
    while pending:
        below = pending.pop()
        try:
            with os.scandir(root / below) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problem(below, "failed", describe_os_error(exc, "cannot list the folder"))
            continue
        for entry in entries:
            relative = below / entry.name
            if is_temp_name(entry.name):
                found.stale_temp_files.append(show(relative))
                continue
            if entry.name.startswith(".") or os.path.realpath(entry.path) in skip:
                continue
            if _matches(relative, exclude):
                continue
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file(follow_symlinks=False)
            except OSError as exc:
                problem(relative, "failed", describe_os_error(exc, "cannot open"))
                continue
            if is_dir:
                pending.append(relative)
            elif is_link:
                target = Path(os.path.realpath(entry.path))
                outside = not _inside(target, real_root)
                if os.path.isdir(entry.path):
                    # A link to a folder inside the root adds nothing: the walk reaches the
                    # folder itself. A link out of the root is not followed.
                    if outside:
                        problem(relative, "skipped", f"a symlinked folder pointing outside "
                                f"{display_root} (to {target}); not followed", target)  # fmt: skip
                elif not _matches(relative, include):
                    continue
                elif outside:
                    problem(relative, "skipped", f"a symlink pointing outside {display_root} "
                            f"(to {target}); not followed", target)  # fmt: skip
                else:
                    out.append(Candidate(root / relative, show(relative), relative,
                                         link_target=target))  # fmt: skip
            elif _matches(relative, include):
                if is_file:
                    out.append(Candidate(root / relative, show(relative), relative))
                else:
                    problem(relative, "skipped", "not a regular file (a pipe, socket or device)")
    out.sort(key=lambda c: c.relative.parts)
    return out


def open_input(path: Path, *, follow_symlinks: bool = True) -> tuple[IO[bytes], FileStamp]:
    """A regular file opened for reading, and the stamp of the version that was opened.

    With ``follow_symlinks=False`` a symlink raises ``OSError(ELOOP)`` instead of being opened,
    so a file swapped for a link after discovery is never read, let alone replaced.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
            raise NotRegularFileError(errno.EINVAL, "not a regular file", str(path))
        return os.fdopen(fd, "rb", buffering=1 << 20), FileStamp.of(st)
    except BaseException:
        os.close(fd)
        raise


def read_file(path: Path, *, follow_symlinks: bool = True) -> tuple[bytes, FileStamp]:
    """The bytes of a regular file and the stamp of the version that was read.

    With ``follow_symlinks=False`` a symlink raises ``OSError(ELOOP)`` instead of being read,
    so a file swapped for a link after discovery is never read, let alone replaced.
    """
    handle, stamp = open_input(path, follow_symlinks=follow_symlinks)
    with handle:
        return handle.read(), stamp


class AtomicWriter:
    """A new version of ``path``, written in pieces to a temporary file in its folder.

    Nothing changes at ``path`` until :meth:`commit`, which flushes, fsyncs and moves the
    temporary file over it with ``os.replace``. Leaving the ``with`` block without a commit
    (an error, or a decision not to write) deletes the temporary file and leaves ``path`` as
    it was. ``keep`` is the stamp of the version the new data was made from: at the commit the
    file must still be that version (else :class:`FileChangedError`), and the new file gets
    its mode and owner. ``mode`` sets the mode of a new file instead.
    """

    def __init__(
        self, path: Path, *, keep: FileStamp | None = None, mode: int | None = None
    ) -> None:
        self.path = path
        self.keep = keep
        self.mode = keep.mode if keep is not None else mode
        fd, self._tmp = tempfile.mkstemp(prefix=f".{path.name}{TEMP_MARK}", dir=path.parent)
        self.stream: IO[bytes] = os.fdopen(fd, "wb")
        self.committed = False

    def write(self, data: bytes) -> None:
        self.stream.write(data)

    def commit(self) -> None:
        out = self.stream
        try:
            out.flush()
            keep = self.keep
            if keep is not None:
                with suppress(OSError):
                    if (keep.uid, keep.gid) != (os.getuid(), os.getgid()):
                        os.fchown(out.fileno(), keep.uid, keep.gid)
            if self.mode is not None:
                os.fchmod(out.fileno(), self.mode)
            os.fsync(out.fileno())
            out.close()
            if keep is not None:
                now = FileStamp.of(os.lstat(self.path))
                if not now.same_version(keep):
                    raise FileChangedError(
                        0, "changed on disk while it was being cleaned", str(self.path)
                    )
            os.replace(self._tmp, self.path)
        except BaseException:
            self.discard()
            raise
        self.committed = True
        _fsync_folder(self.path.parent)

    def discard(self) -> None:
        with suppress(OSError):
            self.stream.close()
        with suppress(OSError):
            os.unlink(self._tmp)

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.committed:
            self.discard()


def write_atomic(
    path: Path,
    data: bytes,
    *,
    keep: FileStamp | None = None,
    mode: int | None = None,
) -> None:
    """Replace ``path`` with ``data`` so that it is either the old file or the new one.

    ``keep`` is the stamp of the version the data was made from: the file must still be that
    version (else :class:`FileChangedError`), and the new file gets its mode and owner.
    ``mode`` sets the mode of a new file instead.
    """
    with AtomicWriter(path, keep=keep, mode=mode) as out:
        out.write(data)
        out.commit()


Compression = Literal["gzip", "zstd"] | None

_SUFFIXES: dict[str, Compression] = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}
_MAGIC: dict[bytes, Compression] = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd"}


def compression_of(name: str | Path) -> Compression:
    """The compression that a file's name says it has (``.gz``, ``.zst``), or None."""
    return _SUFFIXES.get(Path(name).suffix.lower())


def sniff_compression(head: bytes) -> Compression:
    """The compression that a stream's first bytes show (standard input has no name)."""
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def decompressed_reader(raw: IO[bytes], compression: Compression) -> io.BufferedIOBase:
    """``raw`` read decompressed, line by line. Closing the reader leaves ``raw`` open."""
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "zstd":
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(
            raw, read_across_frames=True, closefd=False
        )
        return io.BufferedReader(reader, buffer_size=1 << 20)
    return _Unclosing(raw)


class ByteSink(Protocol):
    def write(self, data: bytes, /) -> int: ...

    def close(self) -> None: ...


def compressed_writer(raw: IO[bytes], compression: Compression) -> ByteSink:
    """A writer that compresses into ``raw``. Closing it ends the stream; ``raw`` stays open.

    gzip gets no name and no time in its header, so the same input gives the same bytes.
    """
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, filename="", mtime=0)
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False)
    return _Unclosing(raw)


class _Unclosing(io.BufferedIOBase):
    # The uncompressed case: like the gzip and zstd streams, closing it leaves ``raw`` open.
    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._raw.read(-1 if size is None else size)

    def readline(self, size: int | None = -1) -> bytes:
        return self._raw.readline(-1 if size is None else size)

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self._raw.write(data)

    def close(self) -> None:
        if not self.closed:
            self._raw.flush()
        super().close()


def holds(path: Path, data: bytes) -> bool:
    """Whether ``path`` is a regular file (not a symlink) that holds exactly ``data``."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def content_digest(path: Path) -> bytes | None:
    """SHA-256 of what a regular file holds, decompressed as its name says (``.gz``, ``.zst``).

    None when there is no such regular file or it cannot be read to its end, so that it never
    equals the digest of new content.
    """
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        digest = hashlib.sha256()
        with (
            open(path, "rb") as raw,
            closing(decompressed_reader(raw, compression_of(path))) as reader,
        ):
            while block := reader.read(1 << 20):
                digest.update(block)
        return digest.digest()
    except Exception:  # OSError, a broken .gz or .zst (zstandard's errors have no common base)
        return None


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not every platform lets a folder be opened.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


_ADVICE: dict[int, str] = {
    errno.EACCES: "permission denied; check its permissions, or run as a user who may use it",
    errno.EPERM: "operation not permitted; check its permissions and attributes",
    errno.ENOENT: "no such file or folder (or a symlink to nothing)",
    errno.EISDIR: "is a folder, not a file",
    errno.ELOOP: "is a symlink, which is never written through",
    errno.ENOSPC: "no space left on the device; free some space and run again",
    errno.EROFS: "read-only file system; write cleaned copies elsewhere with -o DIR",
    errno.ENAMETOOLONG: "the name is too long for the file system",
}


def describe_os_error(exc: OSError, doing: str) -> str:
    """One line for a person: what failed, why, and what to do about it."""
    if isinstance(exc, NotRegularFileError):
        return f"{doing}: not a regular file (a pipe, socket or device)"
    if isinstance(exc, FileChangedError):
        return f"{doing}: it changed on disk while it was being cleaned; run again"
    reason = _ADVICE.get(exc.errno or 0) or exc.strerror or str(exc)
    return f"{doing}: {reason}"
