"""The file edge: discovery order and filters, safe reads, atomic writes, messages."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from cleaner.files import (
    FileChangedError,
    FileStamp,
    NotRegularFileError,
    describe_os_error,
    discover,
    is_temp_name,
    read_file,
    write_atomic,
)


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _displays(root: Path, **kwargs: object) -> list[str]:
    found = discover([root], **kwargs)  # type: ignore[arg-type]
    return [os.path.relpath(c.display, root) for c in found.candidates]


def test_walk_is_sorted_and_takes_txt_but_not_hidden(tmp_path: Path) -> None:
    _tree(tmp_path, {
        "b.txt": b"b", "a.txt": b"a", "notes.md": b"m", "sub/c.txt": b"c", "sub/z/d.txt": b"d",
        ".hidden.txt": b"h", ".git/x.txt": b"x", "sub/.cache/e.txt": b"e",
    })  # fmt: skip
    assert _displays(tmp_path) == ["a.txt", "b.txt", "sub/c.txt", "sub/z/d.txt"]


def test_include_and_exclude(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.txt": b"", "b.md": b"", "drafts/c.txt": b"", "keep/drafts.txt": b""})
    # A folder matching --exclude is not entered; a file must match --include.
    assert _displays(tmp_path, include=["*.md", "*.txt"], exclude=["drafts"]) == [
        "a.txt", "b.md", "keep/drafts.txt",
    ]  # fmt: skip
    # A pattern with a slash matches the path below the folder.
    assert _displays(tmp_path, exclude=["keep/*"]) == ["a.txt", "drafts/c.txt"]
    # Case matters.
    assert _displays(tmp_path, include=["*.TXT"]) == []


def test_named_files_are_taken_whatever_their_name_and_only_once(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.txt": b"", "b.md": b""})
    found = discover([tmp_path / "b.md", tmp_path, tmp_path / "a.txt"])
    names = [c.path.name for c in found.candidates]
    assert names == ["b.md", "a.txt"]
    assert found.candidates[0].explicit


def test_missing_argument_fails_alone(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.txt": b""})
    found = discover([tmp_path / "nope.txt", tmp_path])
    assert [c.problem for c in found.candidates] == ["failed", None]
    assert "no such file" in found.candidates[0].message


def test_temp_files_of_a_killed_run_are_never_input(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.txt": b"", ".a.txt.cleaner-tmp-abc123": b"half"})
    found = discover([tmp_path], include=["*"])
    assert [c.path.name for c in found.candidates] == ["a.txt"]
    assert [Path(p).name for p in found.stale_temp_files] == [".a.txt.cleaner-tmp-abc123"]
    named = discover([tmp_path / ".a.txt.cleaner-tmp-abc123"]).candidates
    assert named[0].problem == "skipped"
    assert is_temp_name(".a.txt.cleaner-tmp-abc123") and not is_temp_name("a.cleaner-tmp-1")


def test_symlinks_out_of_the_root_are_not_followed(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    _tree(root, {"a.txt": b"a"})
    _tree(outside, {"secret.txt": b"s", "deep/x.txt": b"x"})
    (root / "out.txt").symlink_to(outside / "secret.txt")
    (root / "outdir").symlink_to(outside)
    (root / "in.txt").symlink_to(root / "a.txt")
    (root / "indir").symlink_to(root)
    by_name = {c.path.name: c for c in discover([root]).candidates}
    assert sorted(by_name) == ["a.txt", "in.txt", "out.txt", "outdir"]
    assert by_name["out.txt"].problem == "skipped"
    assert "outside" in by_name["out.txt"].message
    assert by_name["outdir"].problem == "skipped"
    assert by_name["in.txt"].problem is None
    assert by_name["in.txt"].link_target == (root / "a.txt").resolve()
    assert by_name["a.txt"].link_target is None


def test_output_folder_inside_the_input_is_not_walked(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.txt": b"", "out/a.txt": b""})
    assert _displays(tmp_path, skip_real_paths=[tmp_path / "out"]) == ["a.txt"]


def test_read_file_refuses_symlinks_when_asked(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.txt": b"text"})
    (tmp_path / "link.txt").symlink_to(tmp_path / "a.txt")
    assert read_file(tmp_path / "link.txt")[0] == b"text"
    with pytest.raises(OSError) as caught:
        read_file(tmp_path / "link.txt", follow_symlinks=False)
    assert caught.value.errno == errno.ELOOP


def test_read_file_does_not_block_on_a_pipe(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(NotRegularFileError):
        read_file(tmp_path / "pipe.txt")
    with pytest.raises(IsADirectoryError):
        read_file(tmp_path)


def test_write_atomic_keeps_mode_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"old")
    path.chmod(0o640)
    _, stamp = read_file(path)
    write_atomic(path, b"new", keep=stamp)
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["a.txt"]


def test_write_atomic_does_not_overwrite_a_file_that_changed(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"old")
    _, stamp = read_file(path)
    path.write_bytes(b"edited meanwhile")
    with pytest.raises(FileChangedError):
        write_atomic(path, b"cleaned", keep=stamp)
    assert path.read_bytes() == b"edited meanwhile"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_write_atomic_replaces_a_symlink_never_its_target(tmp_path: Path) -> None:
    target, link = tmp_path / "target.txt", tmp_path / "link.txt"
    target.write_bytes(b"target")
    link.symlink_to(target)
    write_atomic(link, b"new", mode=0o644)
    assert target.read_bytes() == b"target"
    assert not link.is_symlink() and link.read_bytes() == b"new"


def test_file_stamp_tells_versions_apart(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"one")
    first = FileStamp.of(path.stat())
    assert first.same_version(FileStamp.of(path.stat()))
    path.write_bytes(b"three")
    assert not first.same_version(FileStamp.of(path.stat()))


def test_messages_say_what_to_do() -> None:
    denied = describe_os_error(PermissionError(errno.EACCES, "Permission denied"), "cannot read")
    assert denied.startswith("cannot read: permission denied") and "permissions" in denied
    full = describe_os_error(OSError(errno.ENOSPC, "No space left"), "cannot write x")
    assert "free some space" in full
    odd = describe_os_error(OSError(errno.EXDEV, "Invalid cross-device link"), "cannot write")
    assert odd == "cannot write: Invalid cross-device link"
