"""Two versions of the cleaner on one core, taking turns: microseconds an article of
``Cleaner().clean(text)`` for a git revision (checked out in a temporary worktree) and for the
working tree.

``speed.py`` times one system after another, so a machine that speeds up or slows down between
two runs (shared hosts do, by 1.5x within an hour, and by 20% from one second to the next) moves
the comparison. Here each version runs in a child process of its own that stays up for the whole
comparison: both load the same documents (the texts ``speed.py`` uses, written once to a file),
warm up, and then time one pass over them in process CPU time each time they are asked, taking
turns, the order swapped every round. A round's two passes are a second or so apart, so each
round's ratio is little moved by the machine's drift; the median of those ratios is the figure,
beside the medians of each version's passes. Output identity is not checked here: the tests do
that.

Writes ``benchmarks/results/ab.json`` and prints a table.

    .venv/bin/python benchmarks/ab.py BASE_REV [--rounds 10] [--docs 1050]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    CACHE_DIR,
    NAEB_DIR,
    REPO_ROOT,
    RESULTS_DIR,
    SEEDS_DIR,
    format_table,
    run_metadata,
    write_json,
)
from benchmarks.speed import corpus, load_texts

#: Runs in a child with the tree to time first on ``sys.path``: argv is the tree, the texts
#: file, the warm-up count, the mode ("clean": ``Cleaner.clean`` a document at a time;
#: "stream": ``Cleaner.clean_many`` over them all). Prints "ready" once warm, then for each
#: line read, one timed pass: microseconds an article (process time).
CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import cleaner
from cleaner import Cleaner, rules
assert cleaner.__file__.startswith(sys.argv[1]), cleaner.__file__
rules.MEMO_MAX_CHARS = 0  # each document costs what an unseen article costs (see speed.py)
docs = json.loads(open(sys.argv[2], encoding="utf-8").read())
cleaner = Cleaner()
if sys.argv[4] == "stream":
    def run_all(texts):
        for _ in cleaner.clean_many(texts):
            pass
else:
    def run_all(texts):
        for text in texts:
            cleaner.clean(text)
run_all(docs[: int(sys.argv[3])])
print("ready", flush=True)
for _ in sys.stdin:
    started = time.process_time()
    run_all(docs)
    print((time.process_time() - started) / len(docs) * 1e6, flush=True)
"""


def git(*args: str, cwd: Path = REPO_ROOT) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


class Child:
    """A child process that cleans the documents with one tree's code, a pass when asked."""

    def __init__(self, tree: Path, docs_file: Path, warmup: int, mode: str = "clean") -> None:
        self.tree = tree
        # A file, not a pipe, for what the child says on stderr: nobody reads a pipe until
        # the child fails, and a full one would stop the child.
        self.errors = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (close())
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tree), str(docs_file), str(warmup), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        self._read()  # "ready"

    def _read(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=60)
            self.errors.seek(0)
            raise RuntimeError(f"timing {self.tree} failed:\n{self.errors.read().strip()}")
        return line.strip()

    def time_pass(self) -> float:
        assert self.process.stdin is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        return float(self._read())

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.errors.close()


def compare(
    base: Path, head: Path, docs_file: Path, rounds: int, warmup: int, mode: str = "clean"
) -> dict[str, list[float]]:
    """Microseconds an article for each tree, a pass each a round, order swapped every
    round, from two children that stay up."""
    times: dict[str, list[float]] = {"base": [], "head": []}
    children: dict[str, Child] = {}
    try:
        for name, tree in (("base", base), ("head", head)):
            children[name] = Child(tree, docs_file, warmup, mode)
        for round_ in range(rounds):
            order = ("base", "head") if round_ % 2 == 0 else ("head", "base")
            for name in order:
                times[name].append(children[name].time_pass())
            print(
                f"round {round_ + 1}/{rounds}: base {times['base'][-1]:.1f}, "
                f"head {times['head'][-1]:.1f} us an article",
                file=sys.stderr,
            )
    finally:
        for child in children.values():
            child.close()
    return times


def summary(values: Sequence[float], digits: int = 1) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="git revision to compare the working tree with")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--docs", type=int, default=1050, help="documents a child times")
    parser.add_argument("--warmup", type=int, default=300, help="documents run before timing")
    parser.add_argument("--seeds-dir", type=Path, default=SEEDS_DIR)
    parser.add_argument("--naeb-dir", type=Path, default=NAEB_DIR)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "ab.json")
    parser.add_argument(
        "--mode",
        choices=("clean", "stream"),
        default="clean",
        help="clean: Cleaner.clean a document at a time; stream: Cleaner.clean_many",
    )
    args = parser.parse_args(argv)

    texts = load_texts(args.seeds_dir, args.naeb_dir, args.cache_dir)
    if not texts:
        print(f"no input texts under {args.seeds_dir} or {args.naeb_dir}", file=sys.stderr)
        return 1
    base_commit = git("rev-parse", "--short", args.base)
    with tempfile.TemporaryDirectory(prefix="cleaner-ab-") as scratch:
        docs_file = Path(scratch) / "docs.json"
        docs_file.write_text(json.dumps(corpus(texts, args.docs)), "utf-8")
        worktree = Path(scratch) / "base"
        git("worktree", "add", "--detach", "--force", str(worktree), base_commit)
        try:
            times = compare(worktree, REPO_ROOT, docs_file, args.rounds, args.warmup, args.mode)
        finally:
            git("worktree", "remove", "--force", str(worktree))
    base, head = summary(times["base"]), summary(times["head"])
    ratios = [b / h for b, h in zip(times["base"], times["head"], strict=True)]
    ratio = summary(ratios, 3)
    rows = [
        [name, row["median"], row["min"], row["max"], round(1e6 / row["median"], 1)]
        for name, row in ((f"base {base_commit}", base), ("head (working tree)", head))
    ]
    print(
        f"{len(texts)} distinct texts repeated to {args.docs} documents ({args.mode}); "
        f"{args.rounds} rounds of a pass per version, taking turns, order swapped every "
        "round; process CPU time"
    )
    print(format_table(rows, ["version", "us/article", "min", "max", "articles/s"]))
    print(
        f"speed-up (base / head, a round's two passes): median {ratio['median']}x, "
        f"min {ratio['min']}x, max {ratio['max']}x"
    )
    write_json(
        args.output,
        {
            "meta": run_metadata(
                base=base_commit, rounds=args.rounds, docs=args.docs, mode=args.mode
            ),
            "us_per_article": {"base": times["base"], "head": times["head"]},
            "base": base,
            "head": head,
            "speedup": ratio,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
