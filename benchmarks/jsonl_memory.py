"""Peak memory and time of ``cleaner clean FILE -o OUT --format jsonl`` on large JSON Lines files.

The input is written to a temporary folder (deleted afterwards): the five seed texts
(``fixtures/seeds/input``, with their boilerplate) and the 205 hand-cleaned naeb-dev article
bodies, repeated in order with a new id each time, plus a nested pass-through field, until
the file reaches each size asked for. Each size is cleaned by the command line in a child
process of its own, and measured three ways:

* ``maxrss_mb``: the child's peak resident memory as the kernel reports it when it is reaped
  (``os.wait4``, the same number as ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` for a
  single child). With ``--jobs N`` it is the largest single process, not their sum;
* ``tree_rss_peak_mb``: the largest sum of resident memory over the whole process tree
  (the command and its worker processes), sampled every 0.1 s from ``/proc``;
* wall time, and input MB per second.

If memory is flat, the peaks are the same at every size. Writes
``benchmarks/results/jsonl_memory.json`` and prints a table.

    .venv/bin/python benchmarks/jsonl_memory.py [--sizes-mb 100,1000] [--jobs 1,2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    NAEB_DIR,
    REPO_ROOT,
    RESULTS_DIR,
    format_table,
    run_metadata,
    write_json,
)

SEEDS_INPUT = REPO_ROOT / "fixtures" / "seeds" / "input"
MB = 1_000_000


def corpus_texts() -> list[tuple[str, str]]:
    """(source key, text): the seed texts, then the naeb-dev gold bodies in key order."""
    texts = [(f"seed/{p.stem}", p.read_text("utf-8")) for p in sorted(SEEDS_INPUT.glob("*.txt"))]
    articles = json.loads((NAEB_DIR / "articles.json").read_text("utf-8"))
    for key, article in sorted(articles.items()):
        if article.get("articleBody"):
            texts.append((f"naeb/{key}", article["articleBody"]))
    return texts


def records(texts: list[tuple[str, str]]) -> Iterator[bytes]:
    """Lines of JSON, the texts over and over, each with its own id; never ends."""
    n = 0
    while True:
        for key, text in texts:
            record = {"id": f"doc-{n:09d}", "text": text, "meta": {"source": key, "copy": n}}
            yield json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"
            n += 1


def write_input(path: Path, size: int, texts: list[tuple[str, str]]) -> tuple[int, int]:
    """Write lines until the file holds at least ``size`` bytes; returns (bytes, lines)."""
    written = lines = 0
    with open(path, "wb", buffering=1 << 20) as out:
        for line in records(texts):
            out.write(line)
            written += len(line)
            lines += 1
            if written >= size:
                break
    return written, lines


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{entry}/statm", "rb") as f:
                resident = int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = resident
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def measure(source: Path, out_dir: Path, jobs: int) -> dict[str, Any]:
    """Clean ``source`` into ``out_dir`` with the command line; time and memory."""
    command = [
        str(Path(sys.executable).with_name("cleaner")), "clean", str(source),
        "-o", str(out_dir), "--format", "jsonl", "--jobs", str(jobs), "--quiet",
    ]  # fmt: skip
    peak = 0
    stop = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(command, stderr=subprocess.PIPE)

    def sample() -> None:
        nonlocal peak
        while not stop.wait(0.1):
            peak = max(peak, _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stderr is not None
    errors = proc.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"cleaner exited with {proc.returncode}:\n{errors}")
    return {
        "seconds": round(seconds, 1),
        "maxrss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "tree_rss_peak_mb": round(peak / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes-mb", default="100,1000", help="input sizes in MB (10^6 bytes)")
    parser.add_argument("--jobs", default="1", help="--jobs for the cleaner; several: 1,2")
    parser.add_argument("--tmp", type=Path, default=None, help="where the files are written")
    args = parser.parse_args(argv)
    sizes = [int(float(s) * MB) for s in args.sizes_mb.split(",")]
    job_counts = [int(j) for j in args.jobs.split(",")]

    texts = corpus_texts()
    rows = []
    results: list[dict[str, Any]] = []
    work = Path(tempfile.mkdtemp(prefix="cleaner-jsonl-", dir=args.tmp))
    try:
        for size in sizes:
            source = work / f"input-{size // MB}mb.jsonl"
            written, lines = write_input(source, size, texts)
            for jobs in job_counts:
                out_dir = work / f"out-{size // MB}mb-{jobs}"
                load_before = os.getloadavg()[0]
                got = measure(source, out_dir, jobs)
                output = out_dir / source.name
                with open(output, "rb") as f:
                    out_lines = sum(1 for _ in f)
                if out_lines != lines:
                    raise SystemExit(f"{output}: {out_lines} lines, expected {lines}")
                result = {
                    "input_mb": round(written / MB, 1),
                    "records": lines,
                    "output_mb": round(output.stat().st_size / MB, 1),
                    "jobs": jobs,
                    **got,
                    "mb_per_s": round(written / MB / got["seconds"], 2),
                    "records_per_s": round(lines / got["seconds"], 1),
                    # Other work on the machine slows a run (not its memory): shown, not hidden.
                    "loadavg_1min_before": round(load_before, 2),
                    "loadavg_1min_after": round(os.getloadavg()[0], 2),
                }
                results.append(result)
                rows.append([
                    result["input_mb"], lines, jobs, got["seconds"], result["mb_per_s"],
                    got["maxrss_mb"], got["tree_rss_peak_mb"],
                ])  # fmt: skip
                print(f"{result['input_mb']} MB, --jobs {jobs}: {got['seconds']} s",
                      file=sys.stderr)  # fmt: skip
                shutil.rmtree(out_dir)
            source.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    data = {
        "meta": run_metadata(
            corpus={"texts": len(texts), "chars": sum(len(t) for _, t in texts)},
            command="cleaner clean FILE -o OUT --format jsonl --jobs N --quiet",
        ),
        "results": results,
    }
    write_json(RESULTS_DIR / "jsonl_memory.json", data)
    header = ["input MB", "records", "jobs", "seconds", "MB/s", "maxrss MB", "tree RSS MB"]
    print(format_table(rows, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
