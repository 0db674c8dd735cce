"""What the compiled loops (numba, ``cleaner[fast]``) give on article-sized calls: cleaning
with them taking calls of every size, against numpy for the calls below
:data:`cleaner.minhash.COMPILED_MIN_SHINGLES` (the choice by call size alone, as before
2026-12-03, with the in-document pre-filter always in numpy).

Both ways run in this one process, on one core, taking turns every ``--step`` documents
(which goes first alternates), and each way's process time is summed: on a shared machine
whose speed moves by half from one minute to the next, two runs one after another compare
the machine, not the code. Both ways are first checked to give equal results on every
distinct text. The corpus is :mod:`benchmarks.speed`'s (the seeds and the naeb-dev texts),
cleaned one document at a time (``Cleaner.clean``) and 16 at a time
(``Cleaner.clean_batch``). Writes ``benchmarks/results/compiled_loops.json`` and prints a
table.

    .venv/bin/python benchmarks/compiled_loops.py [--docs 5000] [--step 48]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    CACHE_DIR,
    NAEB_DIR,
    RESULTS_DIR,
    SEEDS_DIR,
    format_table,
    run_metadata,
    write_json,
)
from benchmarks.speed import corpus, load_texts
from cleaner import Cleaner, duplicates, minhash

#: Documents per call of Cleaner.clean_batch (Cleaner.clean_many's batch).
BATCH = 16
WAYS = ("numpy below the size", "compiled for all")


def _by_size(name: str, size: int, compiled: bool | None) -> Callable[..., None] | None:
    """The loop choice by call size alone: numpy below COMPILED_MIN_SHINGLES, and for the
    in-document pre-filter always (it had no compiled loop)."""
    if compiled is False or name == "may_pair_within":
        return None
    if compiled is None and size < minhash.COMPILED_MIN_SHINGLES:
        return None
    return minhash.compiled_loop(name)


@contextmanager
def way(name: str) -> Iterator[None]:
    """Clean the given way (one of :data:`WAYS`) within the block."""
    if name == WAYS[1]:
        yield
        return
    saved = minhash.loop_for, duplicates.loop_for
    minhash.loop_for = duplicates.loop_for = _by_size
    try:
        yield
    finally:
        minhash.loop_for, duplicates.loop_for = saved


def interleaved(
    run: Callable[[Sequence[str]], object], docs: Sequence[str], step: int
) -> dict[str, float]:
    """Process seconds of each way over ``docs``, the ways taking turns every ``step``."""
    seconds = dict.fromkeys(WAYS, 0.0)
    for turn, start in enumerate(range(0, len(docs), step)):
        part = docs[start : start + step]
        for name in WAYS if turn % 2 == 0 else WAYS[::-1]:
            with way(name):
                started = time.process_time()
                run(part)
                seconds[name] += time.process_time() - started
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=5000, help="documents in the timed pass")
    parser.add_argument("--step", type=int, default=48, help="documents per turn")
    parser.add_argument("--seeds-dir", type=Path, default=SEEDS_DIR)
    parser.add_argument("--naeb-dir", type=Path, default=NAEB_DIR)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "compiled_loops.json")
    args = parser.parse_args(argv)

    if minhash.compiled_loop("may_pair_within") is None:
        print("numba is not installed: pip install -e '.[fast]'", file=sys.stderr)
        return 1
    # As in speed.py: the corpus repeats its texts, so the rule matches a process keeps
    # for block texts it has seen are off, and a repeat costs what a new article costs.
    from cleaner import rules

    rules.MEMO_MAX_CHARS = 0
    texts = load_texts(args.seeds_dir, args.naeb_dir, args.cache_dir)
    if not texts:
        print(f"no input texts under {args.seeds_dir} or {args.naeb_dir}", file=sys.stderr)
        return 1
    cleaner = Cleaner()
    for text in texts:  # warm-up, and the check that both ways agree
        with way(WAYS[0]):
            by_size = cleaner.clean(text)
        if cleaner.clean(text) != by_size:
            print("the two ways give different results", file=sys.stderr)
            return 1

    def one_at_a_time(part: Sequence[str]) -> None:
        for text in part:
            cleaner.clean(text)

    def in_batches(part: Sequence[str]) -> None:
        for start in range(0, len(part), BATCH):
            cleaner.clean_batch([(text, None) for text in part[start : start + BATCH]])

    docs = corpus(texts, args.docs)
    step = max(BATCH, args.step // BATCH * BATCH)
    results: list[dict[str, Any]] = []
    rows = []
    for mode, run in (("clean", one_at_a_time), ("clean_batch", in_batches)):
        seconds = interleaved(run, docs, step)
        base = seconds[WAYS[0]]
        for name in WAYS:
            result = {
                "mode": mode,
                "way": name,
                "docs": len(docs),
                "cpu_seconds": round(seconds[name], 3),
                "articles_per_cpu_s": round(len(docs) / seconds[name], 1),
                "us_per_article": round(seconds[name] / len(docs) * 1e6, 1),
                "time_vs_numpy": round(seconds[name] / base, 3),
            }
            results.append(result)
            rows.append([mode, name, len(docs), result["articles_per_cpu_s"],
                         result["us_per_article"], result["time_vs_numpy"]])  # fmt: skip
    print(f"{len(texts)} distinct texts repeated to {len(docs)} documents; the two ways take "
          f"turns every {step} documents in one process")  # fmt: skip
    header = ["mode", "way", "docs", "articles/cpu s", "us/article", "time vs numpy"]
    print(format_table(rows, header))
    write_json(args.output, {"meta": run_metadata(step=step), "results": results})
    print(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
