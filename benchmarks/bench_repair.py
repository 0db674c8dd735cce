"""Character repair on one core: ``ftfy.fix_text`` against ``repair_text`` (and its ftfy stage
alone), on the seed articles and on a mojibake copy of them; and ``decode_bytes`` on UTF-8 and
on Windows-1252 bytes of the same articles.

The five seed texts are repeated in order to ``--docs`` documents. Each system runs in this
process, one after another: a warm-up pass over the distinct texts, then ``--repeat`` timed
passes, of which the fastest counts (the others are slowed by the machine, not by the code).
Before timing, the ftfy stage is checked to give exactly ftfy's output on every distinct text.
Writes ``benchmarks/results/repair.json`` and prints a table.

    .venv/bin/python benchmarks/bench_repair.py [--docs 2000] [--repeat 3] [--pin-cpu 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ftfy  # also registers its "sloppy-windows-1252" codec

from benchmarks.common import RESULTS_DIR, SEEDS_DIR, format_table, run_metadata, write_json
from cleaner.decode import decode_bytes
from cleaner.repair import FTFY_CONFIG, ftfy_stage, repair_text


def mojibake(text: str) -> str:
    """The article as a Windows-1252 reader shows its UTF-8 bytes: every non-ASCII character
    broken, as in a page that was decoded with the wrong charset."""
    return text.encode("utf-8").decode("sloppy-windows-1252")


def time_passes(run: Callable[[Any], object], docs: Sequence[Any], repeat: int) -> list[float]:
    for doc in dict.fromkeys(docs):  # warm-up: each distinct document once
        run(doc)
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        for doc in docs:
            run(doc)
        seconds.append(time.perf_counter() - started)
    return seconds


def measure(
    corpus: str, system: str, run: Callable[[Any], object], docs: Sequence[Any], repeat: int
) -> dict[str, Any]:
    n_bytes = sum(len(d) if isinstance(d, bytes) else len(d.encode("utf-8")) for d in docs)
    seconds = time_passes(run, docs, repeat)
    best = min(seconds)
    return {
        "corpus": corpus,
        "system": system,
        "docs": len(docs),
        "bytes": n_bytes,
        "seconds_per_pass": [round(s, 4) for s in seconds],
        "seconds": round(best, 4),
        "docs_per_s": round(len(docs) / best, 1),
        "mb_per_s": round(n_bytes / 1e6 / best, 3),
        "us_per_doc": round(best / len(docs) * 1e6, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=2000, help="documents in a timed pass")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the best counts")
    parser.add_argument("--seeds-dir", type=Path, default=SEEDS_DIR)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "repair.json")
    parser.add_argument("--pin-cpu", type=int, default=None, help="pin the process to this CPU")
    args = parser.parse_args(argv)

    if args.pin_cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.pin_cpu})
    texts = [p.read_text("utf-8") for p in sorted(args.seeds_dir.glob("*.txt"))]
    if not texts:
        print(f"no seed texts under {args.seeds_dir}", file=sys.stderr)
        return 1

    corpora = {"seeds": texts, "seeds_mojibake": [mojibake(t) for t in texts]}
    for name, distinct in corpora.items():
        for text in distinct:
            if ftfy_stage(text)[0] != ftfy.fix_text(text, config=FTFY_CONFIG):
                print(f"ftfy_stage differs from ftfy.fix_text on {name}", file=sys.stderr)
                return 1

    def fix_text(text: str) -> str:
        return ftfy.fix_text(text, config=FTFY_CONFIG)

    systems: dict[str, Callable[[str], object]] = {
        "ftfy.fix_text": fix_text,
        "ftfy_stage": ftfy_stage,
        "repair_text": repair_text,
    }
    results = []
    for corpus, distinct in corpora.items():
        docs = [distinct[i % len(distinct)] for i in range(args.docs)]
        for system, run in systems.items():
            results.append(measure(corpus, system, run, docs, args.repeat))
    for corpus, codec in (("seeds_utf8_bytes", "utf-8"), ("seeds_cp1252_bytes", "cp1252")):
        encoded = [t.encode(codec) for t in texts]
        docs_bytes = [encoded[i % len(encoded)] for i in range(args.docs)]
        results.append(measure(corpus, "decode_bytes", decode_bytes, docs_bytes, args.repeat))

    by_key = {(r["corpus"], r["system"]): r for r in results}
    rows = []
    for r in results:
        baseline = by_key.get((r["corpus"], "ftfy.fix_text"))
        speedup = r["docs_per_s"] / baseline["docs_per_s"] if baseline else None
        r["speedup_vs_ftfy"] = None if speedup is None else round(speedup, 2)
        rows.append(
            [
                r["corpus"],
                r["system"],
                r["docs"],
                r["docs_per_s"],
                r["mb_per_s"],
                r["us_per_doc"],
                speedup,
            ]
        )
    sizes = sorted(len(t) for t in texts)
    print(
        f"{len(texts)} seed texts ({sizes[0]}..{sizes[-1]} chars) repeated to {args.docs} "
        f"documents; best of {args.repeat} passes; one process, one thread"
    )
    header = ["corpus", "system", "docs", "docs/s", "MB/s", "us/doc", "x ftfy"]
    print(format_table(rows, header))
    write_json(
        args.output,
        {
            "meta": run_metadata(
                ftfy=ftfy.__version__, pinned_cpu=args.pin_cpu, repeat=args.repeat
            ),
            "ftfy_config": FTFY_CONFIG._asdict(),
            "results": results,
        },
    )
    print(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
