"""What a gather from spilled passage signatures does to the process's RSS.

The corpus pass keeps long passages' signatures in a temporary file (``_SpilledRows``) and
gathers rows through a map of it. This writes ``--gib`` GiB of random rows, then gathers
``--rows`` random rows at a time through ``_SpilledRows.take`` (the code the corpus pass
runs) and reads VmRSS, RssFile and VmHWM from ``/proc/self/status`` after each step; the
high-water mark is reset (``/proc/self/clear_refs``) before each gather, so each gather's own
peak is seen. On a kernel that maps the page cache's large folios whole, a fault maps up to
2 MiB: gathering a few thousand random rows at once, then letting the pages go, counted most
of the file in RSS during the gather (2,443-2,449 MiB of 2,352 MiB, at 097aca6). ``take`` now
gathers in row order a 16 MiB region at a time and lets each region go before the next.

    .venv/bin/python benchmarks/spill_rss.py --gib 2.3 --rows 8192
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import RESULTS_DIR, format_table, run_metadata, write_json
from cleaner.corpus import _SpilledRows

WIDTH = 64  # permutations: 256 bytes a row


def status() -> dict[str, int]:
    """VmRSS, RssFile and VmHWM of this process, in MiB."""
    found = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssFile", "VmHWM"):
                found[name] = int(value.split()[0]) // 1024
    return found


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
        f.write("5")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=2.3, help="size of the spilled rows")
    parser.add_argument("--rows", type=int, default=8192, help="rows a gather")
    parser.add_argument("--gathers", type=int, default=5)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "spill_rss.json")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    block = rng.integers(0, 2**32, size=(1 << 16, WIDTH), dtype=np.uint64).astype(np.uint32)
    blocks = max(1, round(args.gib * 2**30 / block.nbytes))
    with tempfile.TemporaryDirectory() as folder:
        spilled = _SpilledRows(WIDTH, folder)
        for _ in range(blocks):
            spilled.append(block)
        del block
        steps = [{"step": "written", **status()}]
        for gather in range(args.gathers):
            reset_peak()
            spilled.take(rng.integers(0, len(spilled), args.rows))
            steps.append({"step": f"gather {gather + 1}", **status()})
        del spilled
    data = {
        "meta": run_metadata(),
        "file_mib": blocks * (1 << 16) * WIDTH * 4 // 2**20,
        "rows_a_gather": args.rows,
        "steps": steps,
    }
    write_json(args.output, data)
    print(f"{data['file_mib']:,} MiB of rows; {args.rows:,} random rows a gather; MiB:")
    header = ["step", "VmRSS after", "RssFile after", "VmHWM during"]
    rows = [[s["step"], s["VmRSS"], s["RssFile"], s["VmHWM"]] for s in steps]
    print(format_table(rows, header))
    print(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
