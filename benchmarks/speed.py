"""Throughput on one core: articles/s and MB/s of ``Cleaner().clean(text)`` on article-sized text,
and of ``Cleaner().clean_many(texts)`` (``cleaner_stream``: 16 documents at a time).

The corpus is the five seed texts and the naeb-dev texts that trafilatura extracts (cached by
``naeb_text.py``; extracted here if missing), repeated in order to ``--docs`` documents. Each
system runs in a child process of its own (single-threaded, so on one core), one after
another: a warm-up pass, then the timed pass, so the peak memory of one does not hide in
another's. Side by side: ``ftfy.fix_text`` alone and the C4 line filter alone. Writes
``benchmarks/results/speed.json`` and prints a table.

    .venv/bin/python benchmarks/speed.py [--docs 5000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    C4_TFDS,
    CACHE_DIR,
    EXTRACTIONS,
    NAEB_DIR,
    RESULTS_DIR,
    SEEDS_DIR,
    extracted_text,
    format_table,
    load_naeb,
    run_metadata,
    write_json,
)

TARGET_ARTICLES_PER_SECOND = 2000
SYSTEMS = ("cleaner", "cleaner_stream", "cleaner_no_repair", "ftfy", "c4")
#: Systems that take the whole stream of documents (``Cleaner.clean_many``: a batch at a
#: time), so that only the pass, not each document, is timed.
STREAMS = ("cleaner_stream",)


def load_texts(seeds_dir: Path, naeb_dir: Path, cache_dir: Path) -> list[str]:
    """The distinct texts: seeds first, then the naeb-dev extracted texts (empty ones left out)."""
    texts = [p.read_text("utf-8") for p in sorted(seeds_dir.glob("*.txt"))]
    if naeb_dir.exists():
        extraction = EXTRACTIONS["default"]
        texts += [extracted_text(page, extraction, cache_dir) for page in load_naeb(naeb_dir)]
    return [t for t in texts if t.strip()]


def corpus(texts: Sequence[str], docs: int) -> list[str]:
    return [texts[i % len(texts)] for i in range(docs)]


def make_system(name: str) -> Callable[[str], object]:
    if name == "cleaner":
        from cleaner import Cleaner

        return Cleaner().clean
    if name == "cleaner_no_repair":
        from cleaner import Cleaner, CleanerConfig

        return Cleaner(CleanerConfig(repair=False)).clean
    if name == "ftfy":
        import ftfy

        return ftfy.fix_text
    if name == "c4":
        return C4_TFDS.filter_text
    raise ValueError(f"unknown system {name!r}; choose from {', '.join(SYSTEMS)}")


def make_stream(name: str) -> Callable[[Sequence[str]], object]:
    if name == "cleaner_stream":
        from cleaner import Cleaner

        cleaner = Cleaner()
        return lambda docs: sum(1 for _ in cleaner.clean_many(docs))
    raise ValueError(f"unknown stream system {name!r}")


def maxrss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, docs: Sequence[str], warmup: int, memory_docs: int) -> dict[str, Any]:
    """Run one system over ``docs`` in this process and return its timings and memory."""
    rss_loaded = maxrss_mb()
    if name in STREAMS:
        return _measure_stream(name, docs, warmup, memory_docs, rss_loaded)
    run = make_system(name)
    for text in docs[:warmup]:
        run(text)
    latencies = []
    started = time.perf_counter()
    for text in docs:
        t0 = time.perf_counter_ns()
        run(text)
        latencies.append(time.perf_counter_ns() - t0)
    seconds = time.perf_counter() - started
    rss_after = maxrss_mb()
    # Python-heap peak of single documents, in an untimed pass (tracemalloc slows everything).
    tracemalloc.start()
    heap_peak = 0
    for text in docs[:memory_docs]:
        tracemalloc.reset_peak()
        run(text)
        heap_peak = max(heap_peak, tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()
    latencies.sort()
    n_bytes = sum(len(t.encode("utf-8")) for t in docs)
    return {
        "system": name,
        "docs": len(docs),
        "bytes": n_bytes,
        "seconds": round(seconds, 4),
        "articles_per_s": round(len(docs) / seconds, 1),
        "mb_per_s": round(n_bytes / 1e6 / seconds, 3),
        "latency_ms": {
            "p50": round(latencies[len(latencies) // 2] / 1e6, 4),
            "p99": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] / 1e6, 4),
            "max": round(latencies[-1] / 1e6, 4),
        },
        "maxrss_mb": {
            "after_loading": round(rss_loaded, 1),
            "peak": round(rss_after, 1),
            "added": round(rss_after - rss_loaded, 1),
        },
        "heap_peak_per_doc_kb": round(heap_peak / 1024, 1),
    }


def _measure_stream(
    name: str, docs: Sequence[str], warmup: int, memory_docs: int, rss_loaded: float
) -> dict[str, Any]:
    """:func:`measure` for a system that takes the stream: the pass is timed, not each
    document (no latencies), and the heap peak is of the stream of ``memory_docs``."""
    run = make_stream(name)
    run(docs[:warmup])
    started = time.perf_counter()
    run(docs)
    seconds = time.perf_counter() - started
    rss_after = maxrss_mb()
    tracemalloc.start()
    run(docs[:memory_docs])
    heap_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    n_bytes = sum(len(t.encode("utf-8")) for t in docs)
    return {
        "system": name,
        "docs": len(docs),
        "bytes": n_bytes,
        "seconds": round(seconds, 4),
        "articles_per_s": round(len(docs) / seconds, 1),
        "mb_per_s": round(n_bytes / 1e6 / seconds, 3),
        "latency_ms": {"p50": None, "p99": None, "max": None},
        "maxrss_mb": {
            "after_loading": round(rss_loaded, 1),
            "peak": round(rss_after, 1),
            "added": round(rss_after - rss_loaded, 1),
        },
        "heap_peak_per_doc_kb": round(heap_peak / 1024, 1),
    }


def pin_to_cpu(cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def run_child(args: argparse.Namespace) -> int:
    pin_to_cpu(args.pin_cpu)
    # The corpus repeats each text about 24 times; the rule matches that a process keeps
    # for the block texts it has seen (cleaner.rules.MEMO_MAX_CHARS) would make every
    # repeat cost less than a new article does. Off here: each document costs what an
    # article never seen costs (but for the lines that recur within it).
    from cleaner import rules

    rules.MEMO_MAX_CHARS = 0
    texts = load_texts(args.seeds_dir, args.naeb_dir, args.cache_dir)
    result = measure(args.child, corpus(texts, args.docs), args.warmup, args.memory_docs)
    result["pinned_cpu"] = args.pin_cpu
    result["loadavg_1min_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))
    return 0


def spawn(name: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        name,
        "--docs",
        str(args.docs),
        "--warmup",
        str(args.warmup),
        "--memory-docs",
        str(args.memory_docs),
        "--seeds-dir",
        str(args.seeds_dir),
        "--naeb-dir",
        str(args.naeb_dir),
        "--cache-dir",
        str(args.cache_dir),
    ]
    if args.pin_cpu is not None:
        command += ["--pin-cpu", str(args.pin_cpu)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr.strip()}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_rounds(
    names: Sequence[str], args: argparse.Namespace
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Each system's runs, ``args.repeat`` rounds of one each, one after another, the order
    rotated by one every round; and the failures (a system that fails is not run again)."""
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    failed: list[str] = []
    broken: set[str] = set()
    for number in range(max(args.repeat, 1)):
        shift = number % len(names) if names else 0
        for name in [*names[shift:], *names[:shift]]:
            if name in broken:
                continue
            try:
                result = spawn(name, args)
            except RuntimeError as exc:
                broken.add(name)
                failed.append(str(exc))
                print(exc, file=sys.stderr)
                continue
            result["round"] = number
            rounds[name].append(result)
    return rounds, failed


def median_run(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median articles/s (the lower middle one of an even count), with every
    run's articles/s beside it."""
    ordered = sorted(runs, key=lambda r: r["articles_per_s"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["articles_per_s_by_round"] = [r["articles_per_s"] for r in runs]
    return chosen


def round_ratios(rounds: dict[str, list[dict[str, Any]]]) -> dict[str, list[float]]:
    """For each cleaner system, its articles/s over ftfy's in the same round."""
    ftfy = {r["round"]: r["articles_per_s"] for r in rounds.get("ftfy", [])}
    ratios: dict[str, list[float]] = {}
    for name in ("cleaner", "cleaner_stream"):
        values = [
            round(r["articles_per_s"] / ftfy[r["round"]], 3)
            for r in rounds.get(name, [])
            if r["round"] in ftfy
        ]
        if values:
            ratios[name] = values
    return ratios


def profile(texts: Sequence[str], docs: int, top: int = 25) -> str:
    """cProfile of the cleaner over ``docs`` documents: the top functions by cumulative time."""
    run = make_system("cleaner")
    items = corpus(texts, docs)
    for text in items[:50]:
        run(text)
    profiler = cProfile.Profile()
    profiler.enable()
    for text in items:
        run(text)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=5000, help="documents in the timed pass")
    parser.add_argument("--warmup", type=int, default=200, help="documents run before timing")
    parser.add_argument(
        "--memory-docs", type=int, default=200, help="documents in the tracemalloc pass"
    )
    parser.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help=f"comma-separated, from {', '.join(SYSTEMS)}",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of timing, profile the cleaner and print the top 25 by cumulative time",
    )
    parser.add_argument("--profile-docs", type=int, default=1000)
    parser.add_argument("--seeds-dir", type=Path, default=SEEDS_DIR)
    parser.add_argument("--naeb-dir", type=Path, default=NAEB_DIR)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "speed.json")
    parser.add_argument(
        "--pin-cpu",
        type=int,
        default=None,
        help="pin each run to this CPU (steadier on a quiet machine; worse if that CPU is busy)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of all the systems, one after another, the order rotated each round: "
        "each system's median round is reported, with the range and each round's ratio "
        "of the cleaner to ftfy (this machine drifts by a fifth from minute to minute)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        return run_child(args)

    texts = load_texts(args.seeds_dir, args.naeb_dir, args.cache_dir)
    if not texts:
        print(f"no input texts under {args.seeds_dir} or {args.naeb_dir}", file=sys.stderr)
        return 1
    if args.profile:
        pin_to_cpu(args.pin_cpu)
        print(f"cProfile of Cleaner().clean over {args.profile_docs} documents")
        print(profile(texts, args.profile_docs))
        return 0

    sizes = sorted(len(t) for t in texts)
    load_before = os.getloadavg()[0]
    if load_before > 0.5:
        print(
            f"warning: 1-minute load average is {load_before:.2f} before the run; other work "
            "on this machine slows the timings",
            file=sys.stderr,
        )
    print(
        f"{len(texts)} distinct texts ({sizes[0]}..{sizes[-1]} chars, median "
        f"{sizes[len(sizes) // 2]}), repeated to {args.docs} documents; one process per "
        f"system, one after another{f', {args.repeat} rounds' if args.repeat > 1 else ''}"
    )
    names = [s.strip() for s in args.systems.split(",") if s.strip()]
    rounds, failed = run_rounds(names, args)
    results = [median_run(runs) for runs in rounds.values() if runs]
    rows = []
    for result in results:
        name = result["system"]
        rows.append(
            [
                name,
                result["docs"],
                result["seconds"],
                result["articles_per_s"],
                result["mb_per_s"],
                result["latency_ms"]["p50"],
                result["latency_ms"]["p99"],
                result["maxrss_mb"]["peak"],
                result["maxrss_mb"]["added"],
                result["heap_peak_per_doc_kb"],
            ]
        )
    header = ["system", "docs", "seconds", "articles/s", "MB/s", "p50 ms", "p99 ms"]
    print(format_table(rows, [*header, "maxrss MB", "rss added", "heap/doc KB"]))
    ratios = round_ratios(rounds)
    if args.repeat > 1:
        for name, runs in rounds.items():
            rates = [r["articles_per_s"] for r in runs]
            if rates:
                print(f"{name}: articles/s over {len(rates)} rounds {min(rates)} .. {max(rates)}")
        for name, values in ratios.items():
            print(
                f"{name} / ftfy, round by round: median {statistics.median(values):.2f}, "
                f"{min(values):.2f} .. {max(values):.2f}"
            )
    target = None
    for cleaner in (r for r in results if r["system"] in ("cleaner", "cleaner_stream")):
        met = cleaner["articles_per_s"] >= TARGET_ARTICLES_PER_SECOND
        target = target or {}
        target[cleaner["system"]] = {"value": cleaner["articles_per_s"], "met": met}
        print(
            f"{cleaner['system']}: target >= {TARGET_ARTICLES_PER_SECOND} articles/s: "
            f"{cleaner['articles_per_s']} ({'met' if met else 'NOT met'})"
        )
    write_json(
        args.output,
        {
            "meta": run_metadata(),
            "corpus": {
                "distinct_texts": len(texts),
                "docs": args.docs,
                "warmup": args.warmup,
                "chars_min": sizes[0],
                "chars_median": sizes[len(sizes) // 2],
                "chars_max": sizes[-1],
            },
            "loadavg_1min_before": round(load_before, 2),
            "rounds": args.repeat,
            "results": results,
            "ratio_to_ftfy_by_round": ratios,
            f"target_articles_per_s >= {TARGET_ARTICLES_PER_SECOND}": target,
            "failed": failed,
        },
    )
    print(f"results written to {args.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
