"""End to end on a generated dump: cleaner as a user runs it, and its peers on the same dump.

cleaner runs exactly as on the command line (``cleaner clean DUMP --format jsonl --exclude
'truth-*' -o OUT --report REPORT --jobs N``, the corpus pass on as by default); its output is
scored against the dump's truth (``dump_truth.py``): removed lines (by category, and
cleaner's own categories by precision), gold characters lost, and near-duplicate pairs from
the report's ``duplicate_article`` lines. The peers run on the same dump in the same run,
each in its own process:

- ``c4``: datatrove's ``C4QualityFilter`` with its defaults (a line filter that also drops
  pages), and ``gopher_c4``: datatrove's ``GopherRepetitionFilter``, ``GopherQualityFilter``
  and then ``C4QualityFilter``, the order of FineWeb's pipeline (Gopher drops whole pages).
  datatrove tokenises English with ``spacy.blank("en")`` (no model download; ``pip install
  'cleaner[bench]'``). Without spacy, ``c4`` applies the same published rules from
  ``common.C4_DATATROVE`` (sentences counted by end marks) and says so in its results.
- ``trafilatura``: its own deduplication, as its extraction applies it with ``deduplicate``
  on: every line goes through ``trafilatura.deduplication.duplicate_test`` with one
  ``LRUCache`` of its default size over the whole dump (a line over 100 characters already
  seen 3 times among the last 4,096 distinct lines goes), and each article's
  ``Simhash`` (the content fingerprint) pairs articles within 3 differing bits of 64
  (Manku et al. 2007's setting, found by 4 exact 16-bit blocks).
- ``datasketch``: a plain loop over whole articles: a ``MinHash`` (cleaner's 64
  permutations and seed) of the article's per-line 5-gram shingles, as ``dump_truth``
  defines the Jaccard (``update_batch``), one ``MinHashLSH.query`` and ``insert`` per
  article at threshold 0.8 (cleaner's ``article_threshold``), candidates kept at estimated
  Jaccard >= 0.8.
- ``cleaner_corpus``: cleaner's duplicate stage through the API on the same articles as the
  datasketch loop (``PassageIndex.add_many`` then ``decide``: every passage and every
  article, not only articles), since the command line prints no stage times.

Line peers are scored against the dump's lines as they are (they repair nothing); cleaner
against the repaired lines. Duplicate peers give clusters (connected components of their
pairs), scored with ``score_pairs``. A peer slower than cleaner can run on the first
``--sample`` articles; its time at the dump's size is then extrapolated linearly and labelled.

Memory: the process tree (the process started and all its descendants, e.g. cleaner's
workers) is sampled from /proc every 0.1 s. Two peaks are reported: the summed RSS of the
tree (sampled: a peak shorter than 0.1 s can be missed) and the largest single process's
VmHWM (exact). ``ru_maxrss`` is not used: it is one process's, and Linux starts a child's at
the RSS of the process that forked it. CPU seconds are user + system of the whole tree.

    .venv/bin/python benchmarks/dump_bench.py --dump /tmp/dump-10k --jobs 2
    .venv/bin/python benchmarks/dump_bench.py --articles 20000 --work /tmp/bench
    .venv/bin/python benchmarks/dump_bench.py --scaling 10000,100000 --dumps-dir /tmp
    .venv/bin/python benchmarks/dump_bench.py --scaling 100000 --engines local,dask
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cleaner
from benchmarks.common import (
    C4_DATATROVE,
    REPO_ROOT,
    RESULTS_DIR,
    format_table,
    run_metadata,
    write_json,
)
from benchmarks.dump_truth import (
    LineScore,
    PairScore,
    Truth,
    iter_truth,
    line_texts,
    read_jsonl,
    removed_from_cleaned,
    score_pairs,
    shard_paths,
    shingles,
)
from cleaner.corpus import CorpusConfig, PassageIndex, source_key

SYSTEMS = ("cleaner", "cleaner_corpus", "c4", "gopher_c4", "trafilatura", "datasketch")
#: Systems that remove lines, and those that find near-duplicate articles.
LINE_SYSTEMS = ("cleaner", "c4", "gopher_c4", "trafilatura")
PAIR_SYSTEMS = ("cleaner", "cleaner_corpus", "trafilatura", "datasketch")
SAMPLE_DEFAULT = 10_000
#: Differing bits of 64 within which two Simhashes are near-duplicates (Manku et al. 2007).
SIMHASH_BITS = 3
POLL_SECONDS = 0.1
MB = 1_000_000
MIB = 2**20

Record = dict[str, Any]


# --------------------------------------------------------------------------------------------
# Reading the dump


@dataclass(frozen=True, slots=True)
class Article:
    shard: str
    line: int
    record: Record


def dump_articles(folder: Path, limit: int | None = None) -> Iterator[Article]:
    """The dump's records in order (shards by name, lines from 1), the first ``limit``."""

    def every() -> Iterator[Article]:
        for path in shard_paths(folder, "dump"):
            with path.open(encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    if line.strip():
                        yield Article(path.name, number, json.loads(line))

    return islice(every(), limit)


def raw_lines(truth: Truth, text: str) -> list[str]:
    """The dump's own text of each truth line (mojibake left in): what a peer that repairs
    nothing gives back."""
    return [text[line["start"] : line["end"]] for line in truth["lines"]]


# --------------------------------------------------------------------------------------------
# cleaner's report


def _report(path: Path) -> Iterator[Record]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def report_clusters(report: Path, dump: Path) -> list[list[str]]:
    """Near-duplicate clusters from the report's ``duplicate_article`` lines, as article ids.
    A copy names itself by ``record`` (its id) and the kept copy by ``FILE:LINE``; the
    kept ones' ids are looked up in the dump."""
    copies: dict[tuple[str, int], list[str]] = {}
    for record in _report(report):
        if record.get("kind") == "duplicate_article":
            file, line = record["kept"].rsplit(":", 1)
            copies.setdefault((Path(file).name, int(line)), []).append(record["record"])
    kept: dict[tuple[str, int], str] = {}
    for path in shard_paths(dump, "dump"):
        wanted = {line for shard, line in copies if shard == path.name}
        if not wanted:
            continue
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if number in wanted:
                    kept[path.name, number] = json.loads(line)["id"]
    return [[kept[key], *members] for key, members in sorted(copies.items())]


def removals_by_article(report: Path) -> Iterator[tuple[tuple[str, int], list[Record]]]:
    """The report's removal records grouped by article (shard name, line), in report order."""
    key: tuple[str, int] | None = None
    group: list[Record] = []
    for record in _report(report):
        if record.get("kind") != "removal" or "line" not in record:
            continue
        here = (Path(record["file"]).name, int(record["line"]))
        if here != key:
            if key is not None:
                yield key, group
            key, group = here, []
        group.append(record)
    if key is not None:
        yield key, group


UNATTRIBUTED = "(no removal record)"


def attribute_removals(
    texts: Sequence[str], removed: Sequence[bool], removals: Sequence[Record]
) -> list[str | None]:
    """For each truth line, the category of the removal record that took it (None: kept).

    A removal's ``text`` is one or more whole lines (with the line break before them) or a
    span inside a line; its lines are matched to the removed truth lines in order, by equal
    text first, else one containing the other."""
    pieces = [
        (s, record["category"])
        for record in removals
        for piece in record["text"].split("\n")
        if (s := piece.strip())
    ]
    out: list[str | None] = []
    start = 0
    for text, gone in zip(texts, removed, strict=True):
        if not gone:
            out.append(None)
            continue
        line = text.strip()
        rest = range(start, len(pieces))
        found = next((k for k in rest if pieces[k][0] == line), None)
        if found is None:  # a span cut from the line, or a line repaired since
            found = next((k for k in rest if pieces[k][0] in line or line in pieces[k][0]), None)
        if found is None:
            out.append(UNATTRIBUTED)
        else:
            out.append(pieces[found][1])
            start = found + 1
    return out


@dataclass(slots=True)
class CategoryPrecision:
    """Per category a system named: [lines removed, of them boilerplate of any truth
    category, of them of the same truth category]."""

    counts: dict[str, list[int]] = field(default_factory=dict)

    def add(self, truth: Truth, named: Sequence[str | None]) -> None:
        for line, category in zip(truth["lines"], named, strict=True):
            if category is None:
                continue
            counts = self.counts.setdefault(category, [0, 0, 0])
            counts[0] += 1
            counts[1] += line.get("category") is not None
            counts[2] += line.get("category") == category

    def to_json(self) -> dict[str, Any]:
        return {
            name: {
                "removed": n,
                "boilerplate": b,
                "same_category": same,
                "precision": round(b / n, 4),
                "category_agreement": round(same / n, 4),
            }
            for name, (n, b, same) in sorted(self.counts.items())
        }


@dataclass(slots=True)
class TextSize:
    articles: int = 0
    text_bytes: int = 0

    def add(self, text: str) -> None:
        self.articles += 1
        self.text_bytes += len(text.encode("utf-8"))


def score_cleaner_output(
    dump: Path, output: Path, report: Path, limit: int | None = None
) -> tuple[LineScore, CategoryPrecision, TextSize]:
    """Score ``cleaner clean`` output (``output`` holds the cleaned shards under the dump's
    names) with its report; one article at a time. Records whose cleaned copy is missing
    count as removed entirely."""
    score, precision, size = LineScore(), CategoryPrecision(), TextSize()
    groups = removals_by_article(report)
    pending = next(groups, None)
    outputs = _OutputShards(output)
    truths = iter_truth(dump)
    for article in dump_articles(dump, limit):
        truth = next(truths)
        text = article.record["text"]
        if truth["id"] != article.record["id"]:
            raise ValueError(f"truth and dump differ at {article.shard}:{article.line}")
        size.add(text)
        key = (article.shard, article.line)
        removals: list[Record] = []
        if pending is not None and pending[0] == key:
            removals = pending[1]
            pending = next(groups, None)
        elif pending is not None and pending[0] < key:
            raise ValueError(f"report not in the dump's order: {pending[0]} before {key}")
        cleaned = outputs.get(key, "")
        texts = line_texts(truth, text)
        removed = removed_from_cleaned(texts, cleaned)
        score.add(truth, removed, texts)
        precision.add(truth, attribute_removals(texts, removed, removals))
    outputs.close()
    return score, precision, size


class _OutputShards:
    """Cleaned records by (shard name, line), read forward shard by shard: flat memory."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.shard: str | None = None
        self.handle: IO[str] | None = None
        self.lines: Iterator[tuple[int, str]] = iter(())
        self.ahead: tuple[int, str] | None = None

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def get(self, key: tuple[str, int], default: str) -> str:
        shard, line = key
        if shard != self.shard:
            self.close()
            self.shard = shard
            path = self.folder / shard
            self.handle = path.open(encoding="utf-8") if path.exists() else None
            self.lines = enumerate(self.handle, 1) if self.handle is not None else iter(())
            self.ahead = next(self.lines, None)
        # Without --drop-duplicates every record is written, one output line per input line.
        while self.ahead is not None and self.ahead[0] < line:
            self.ahead = next(self.lines, None)
        if self.ahead is not None and self.ahead[0] == line:
            text: str = json.loads(self.ahead[1])["text"]
            return text
        return default


def score_peer_output(
    dump: Path, output: Path, limit: int | None = None
) -> tuple[LineScore, TextSize]:
    """Score a line peer's output (JSON Lines ``{"id", "text"}`` in the dump's order, the
    first ``limit`` articles) against the dump's own lines."""
    score, size = LineScore(), TextSize()
    outputs = read_jsonl(output)
    for truth, article in zip(iter_truth(dump), dump_articles(dump, limit), strict=False):
        text = article.record["text"]
        out = next(outputs)
        if not truth["id"] == article.record["id"] == out["id"]:
            raise ValueError(f"peer output differs from the dump at {article.record['id']}")
        size.add(text)
        lines = raw_lines(truth, text)
        score.add(truth, removed_from_cleaned(lines, out["text"]), lines)
    return score, size


def score_clusters(
    dump: Path, clusters: Iterable[Sequence[str]], limit: int | None = None
) -> PairScore:
    """Pairs against the truth of the first ``limit`` articles; predicted clusters are cut
    to those articles (a sample's truth pairs name only earlier articles, in the sample)."""
    truths = list(islice(iter_truth(dump), limit)) if limit else list(iter_truth(dump))
    ids = {t["id"] for t in truths}
    cut = [[a for a in cluster if a in ids] for cluster in clusters]
    return score_pairs(truths, cut)


# --------------------------------------------------------------------------------------------
# The peers (each runs in its own process: see ``run_child``)


def connected(pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Clusters: connected components of the pairs, each sorted, by first member."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for x in parent:
        groups.setdefault(root(x), []).append(x)
    return sorted(sorted(members) for members in groups.values())


class LineFilter:
    """datatrove's C4 (and Gopher) filters on one article's text: the text they keep, ""
    for a dropped page."""

    def __init__(self, gopher: bool) -> None:
        self.implementation = "datatrove"
        self.steps: list[Any] = []
        try:
            import spacy  # noqa: F401  datatrove's English word tokenizer
            from datatrove.pipeline.filters import (
                C4QualityFilter,
                GopherQualityFilter,
                GopherRepetitionFilter,
            )
        except ImportError as exc:
            if gopher:
                raise SystemExit("gopher_c4 needs datatrove and spacy: pip install spacy") from exc
            # The same rules as datatrove's C4QualityFilter defaults; sentences are counted
            # by end marks instead of spacy's sentencizer.
            self.implementation = "common.C4_DATATROVE (no spacy)"
            return
        if gopher:
            self.steps += [GopherRepetitionFilter(), GopherQualityFilter()]
        self.steps.append(C4QualityFilter())

    def __call__(self, article_id: str, text: str) -> str:
        if not self.steps:
            return C4_DATATROVE.filter_text(text)
        from datatrove.data import Document

        doc = Document(text=text, id=article_id)
        for step in self.steps:
            verdict = step.filter(doc)
            if verdict is False or (isinstance(verdict, tuple) and not verdict[0]):
                return ""
        kept: str = doc.text
        return kept


class TrafilaturaLineDedup:
    """trafilatura's ``duplicate_test`` on every line, one LRU over the whole run, as its
    extraction with ``deduplicate=True`` treats paragraphs across the pages it extracts."""

    def __init__(self) -> None:
        from lxml.etree import Element
        from trafilatura.deduplication import LRUCache, duplicate_test
        from trafilatura.settings import LRU_SIZE, Extractor

        self.options = Extractor(dedup=LRUCache(maxsize=LRU_SIZE))
        self.element = Element("p")
        self.test = duplicate_test

    def __call__(self, text: str) -> str:
        kept = []
        for line in text.split("\n"):
            if line.strip():
                self.element.text = line
                if self.test(self.element, self.options):
                    continue
            kept.append(line)
        return "\n".join(kept)


def simhash_pairs(
    articles: Sequence[tuple[str, str]], bits: int = SIMHASH_BITS
) -> list[tuple[str, str]]:
    """Pairs of articles whose trafilatura Simhashes (64 bits) differ in at most ``bits``
    bits: any such pair agrees exactly on one of ``bits + 1`` blocks (pigeonhole)."""
    from trafilatura.deduplication import Simhash

    hashes = [Simhash(text).hash for _, text in articles]
    blocks = bits + 1
    width = -(-64 // blocks)
    mask = (1 << width) - 1
    found: set[tuple[int, int]] = set()
    for b in range(blocks):
        buckets: dict[int, list[int]] = {}
        for i, h in enumerate(hashes):
            buckets.setdefault((h >> (b * width)) & mask, []).append(i)
        for members in buckets.values():
            for x, i in enumerate(members):
                for j in members[x + 1 :]:
                    if (hashes[i] ^ hashes[j]).bit_count() <= bits:
                        found.add((i, j))
    return [(articles[i][0], articles[j][0]) for i, j in sorted(found)]


def datasketch_pairs(
    articles: Sequence[tuple[str, str]], config: CorpusConfig
) -> list[tuple[str, str]]:
    """The plain loop: per article a MinHash of its shingles, one query and one insert."""
    from datasketch import MinHash, MinHashLSH

    threshold = config.article_threshold
    lsh = MinHashLSH(threshold=threshold, num_perm=config.num_perm)
    seen: dict[str, MinHash] = {}
    pairs = []
    for article_id, text in articles:
        minhash = MinHash(num_perm=config.num_perm, seed=config.seed)
        minhash.update_batch([s.encode("utf-8") for s in shingles(text)])
        for other in lsh.query(minhash):
            if minhash.jaccard(seen[other]) >= threshold:
                pairs.append((other, article_id))
        lsh.insert(article_id, minhash)
        seen[article_id] = minhash
    return pairs


def cleaner_corpus_clusters(
    articles: Sequence[tuple[str, str | None, str]], config: CorpusConfig
) -> list[list[str]]:
    """cleaner's corpus pass over (id, source, text): its near-duplicate clusters."""
    index = PassageIndex(config)
    index.add_many(articles)
    decisions = index.decide()
    return [[c.kept, *(copy for copy, _ in c.copies)] for c in decisions.clusters]


def run_child(name: str, dump: Path, limit: int | None, out: Path) -> dict[str, Any]:
    """One peer on the first ``limit`` articles of the dump, in this process: writes
    ``output.jsonl`` (line peers) and ``clusters.jsonl`` (duplicate peers) under ``out``
    and returns the seconds of its own stages, outside reading and writing."""
    out.mkdir(parents=True, exist_ok=True)
    stats: dict[str, Any] = {"system": name}
    stages: dict[str, float] = {}
    if name in ("c4", "gopher_c4", "trafilatura"):
        step: Any = LineFilter(gopher=name == "gopher_c4") if name != "trafilatura" else None
        dedup = TrafilaturaLineDedup() if name == "trafilatura" else None
        if step is not None:
            stats["implementation"] = step.implementation
        spent = 0.0
        kept: list[tuple[str, str]] = []
        with (out / "output.jsonl").open("w", encoding="utf-8") as handle:
            for article in dump_articles(dump, limit):
                record = article.record
                started = time.perf_counter()
                text = dedup(record["text"]) if dedup else step(record["id"], record["text"])
                spent += time.perf_counter() - started
                handle.write(json.dumps({"id": record["id"], "text": text}) + "\n")
                if name == "trafilatura":
                    kept.append((record["id"], record["text"]))
        stages["lines"] = spent
        if name == "trafilatura":
            started = time.perf_counter()
            clusters = connected(simhash_pairs(kept))
            stages["duplicates"] = time.perf_counter() - started
            _write_clusters(out / "clusters.jsonl", clusters)
    elif name in ("datasketch", "cleaner_corpus"):
        records = [a.record for a in dump_articles(dump, limit)]
        config = CorpusConfig()
        started = time.perf_counter()
        if name == "datasketch":
            articles = [(r["id"], r["text"]) for r in records]
            clusters = connected(datasketch_pairs(articles, config))
        else:
            with_sources = [
                (r["id"], source_key(r.get("url"), r.get("site"), mode="url"), r["text"])
                for r in records
            ]
            clusters = cleaner_corpus_clusters(with_sources, config)
        stages["duplicates"] = time.perf_counter() - started
        _write_clusters(out / "clusters.jsonl", clusters)
    else:
        raise ValueError(f"unknown peer {name!r}")
    stats["stage_seconds"] = {k: round(v, 3) for k, v in stages.items()}
    write_json(out / "stats.json", stats)
    return stats


def _write_clusters(path: Path, clusters: Iterable[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for cluster in clusters:
            handle.write(json.dumps(list(cluster)) + "\n")


def read_clusters(path: Path) -> list[list[str]]:
    return [list(c) for c in read_jsonl(path)]


# --------------------------------------------------------------------------------------------
# Measuring a process tree


def _status_kib(pid: int | str, *fields: str) -> list[int]:
    """Fields of ``/proc/PID/status`` in KiB (0 for a field not there)."""
    values = dict.fromkeys(fields, 0)
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in values:
            values[name] = int(rest.split()[0])
    return [values[f] for f in fields]


def _tree_rss(root: int, high_water: dict[int, int]) -> tuple[int, int]:
    """(summed RSS, processes) of ``root`` and all its descendants now; ``high_water`` gets
    each one's VmHWM (its peak RSS since it started or exec'd: exact between samples)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total = count = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            rss, hwm = _status_kib(pid, "VmRSS", "VmHWM")
        except (OSError, IndexError, ValueError):
            continue
        total += rss * 1024
        high_water[pid] = max(high_water.get(pid, 0), hwm * 1024)
        count += 1
        todo.extend(children.get(pid, ()))
    return total, count


@dataclass(slots=True)
class Measured:
    seconds: float
    cpu_seconds: float
    returncode: int
    #: Peak of the summed RSS of the process tree, sampled every POLL_SECONDS.
    peak_tree_rss: int
    #: Peak RSS of the largest single process (its VmHWM, as last sampled).
    peak_process_rss: int
    processes: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    #: CPU time the hypervisor gave other guests while the run wanted it (all CPUs), from
    #: /proc/stat: on a shared virtual machine, why one run is slower than the same run later.
    steal_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 2),
            "cpu_seconds": round(self.cpu_seconds, 2),
            "peak_tree_rss_mib": round(self.peak_tree_rss / MIB, 1),
            "peak_process_rss_mib": round(self.peak_process_rss / MIB, 1),
            "processes_seen": self.processes,
            "load_before": [round(x, 2) for x in self.load_before],
            "load_after": [round(x, 2) for x in self.load_after],
            "steal_seconds": None if self.steal_seconds is None else round(self.steal_seconds, 1),
        }


def _steal_seconds() -> float | None:
    """Seconds of stolen CPU time since boot, summed over the CPUs (None off Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    if fields[0] != "cpu" or len(fields) < 9:
        return None
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")


def measure(command: Sequence[str], log: Path) -> Measured:
    """Run ``command``, sampling its process tree's memory until it ends.

    Not ``ru_maxrss``: Linux starts a child's at the RSS of the process that forked it (exec
    keeps the old image's high-water mark), so a child of a big parent reads big."""
    load_before = os.getloadavg()
    steal_before = _steal_seconds()
    peaks = [0, 0]
    high_water: dict[int, int] = {}
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                total, count = _tree_rss(process.pid, high_water)
                peaks[0] = max(peaks[0], total)
                peaks[1] = max(peaks[1], count)
                done.wait(POLL_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        returncode=process.returncode,
        peak_tree_rss=peaks[0],
        peak_process_rss=max(high_water.values(), default=0),
        processes=peaks[1],
        load_before=load_before,
        load_after=os.getloadavg(),
        steal_seconds=None if steal_before is None else (_steal_seconds() or 0.0) - steal_before,
    )


def cleaner_command(
    dump: Path, output: Path, report: Path, jobs: int, engine: str = "local"
) -> list[str]:
    script = Path(sys.executable).parent / "cleaner"
    program = [str(script)] if script.exists() else [sys.executable, "-m", "cleaner"]
    return [
        *program, "clean", str(dump), "--format", "jsonl", "--exclude", "truth-*",
        "-o", str(output), "--report", str(report), "--jobs", str(jobs),
        *(["--engine", engine] if engine != "local" else []),
    ]  # fmt: skip


def _checked(measured: Measured, name: str, log: Path) -> None:
    if measured.returncode != 0:
        tail = log.read_text("utf-8", "replace")[-2000:]
        raise SystemExit(f"{name} exited with {measured.returncode}:\n{tail}")


# --------------------------------------------------------------------------------------------
# A whole run


def _rate(count: float, seconds: float, digits: int = 1) -> float | None:
    return round(count / seconds, digits) if seconds > 0 else None


def run_cleaner(
    dump: Path, work: Path, jobs: int, score: bool = True, engine: str = "local"
) -> dict[str, Any]:
    output, report, log = work / "cleaner-out", work / "cleaner-report.jsonl", work / "cleaner.log"
    shutil.rmtree(output, ignore_errors=True)
    measured = measure(cleaner_command(dump, output, report, jobs, engine), log)
    _checked(measured, "cleaner", log)
    result: dict[str, Any] = {
        "system": "cleaner",
        "engine": engine,
        "command": " ".join(cleaner_command(dump, Path("OUT"), Path("REPORT"), jobs, engine)),
        "jobs": jobs,
        **measured.to_json(),
        "output_digest": output_digest(output, report),
        "summary": [
            line.removeprefix("cleaner: ")
            for line in log.read_text("utf-8").splitlines()
            if line.startswith("cleaner: ")
        ],
    }
    manifest = json.loads((dump / "manifest.json").read_text("utf-8"))
    result["articles"] = manifest["articles"]
    if score:
        lines, precision, size = score_cleaner_output(dump, output, report)
        result["text_bytes"] = size.text_bytes
        result["lines"] = lines.to_json()
        result["cleaner_categories"] = precision.to_json()
        result["pairs"] = score_clusters(dump, report_clusters(report, dump)).to_json()
    else:
        result["text_bytes"] = _text_bytes(dump)
    result["articles_per_second"] = _rate(result["articles"], measured.seconds)
    result["mb_per_second"] = _rate(result["text_bytes"] / MB, measured.seconds, 2)
    return result


def output_digest(output: Path, report: Path) -> str:
    """SHA-256 over every output file (by name) and the report: equal runs, equal digests."""
    digest = hashlib.sha256()
    for path in sorted(p for p in output.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(output)).encode("utf-8") + b"\0")
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    with report.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _text_bytes(dump: Path, limit: int | None = None) -> int:
    size = TextSize()
    for article in dump_articles(dump, limit):
        size.add(article.record["text"])
    return size.text_bytes


def run_peer(name: str, dump: Path, work: Path, limit: int | None) -> dict[str, Any]:
    out = work / name
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", name,
               "--dump", str(dump), "--child-out", str(out)]  # fmt: skip
    if limit is not None:
        command += ["--sample", str(limit)]
    log = work / f"{name}.log"
    measured = measure(command, log)
    _checked(measured, name, log)
    stats = json.loads((out / "stats.json").read_text("utf-8"))
    result: dict[str, Any] = {"system": name, **measured.to_json(), **stats}
    if (out / "output.jsonl").exists():
        lines, size = score_peer_output(dump, out / "output.jsonl", limit)
        result["lines"] = lines.to_json()
        result["articles"], result["text_bytes"] = size.articles, size.text_bytes
    else:
        result["articles"] = sum(1 for _ in dump_articles(dump, limit))
        result["text_bytes"] = _text_bytes(dump, limit)
    if (out / "clusters.jsonl").exists():
        result["pairs"] = score_clusters(dump, read_clusters(out / "clusters.jsonl"), limit)
        result["pairs"] = result["pairs"].to_json()
    result["articles_per_second"] = _rate(result["articles"], measured.seconds)
    result["mb_per_second"] = _rate(result["text_bytes"] / MB, measured.seconds, 2)
    return result


def compare(results: dict[str, dict[str, Any]], articles: int) -> dict[str, Any]:
    """Ratios against cleaner, per article (a peer on a sample is extrapolated linearly).

    Line peers against ``cleaner clean`` end to end (wall and CPU seconds: cleaner runs
    ``--jobs`` processes, a peer one); duplicate peers' duplicate stage against cleaner's
    (``cleaner_corpus``), with the pair recall of each, on the same articles."""
    out: dict[str, Any] = {}
    base = results.get("cleaner")
    for name, r in results.items():
        if name not in LINE_SYSTEMS or name == "cleaner" or base is None:
            continue
        out[name] = {
            "cleaner_speedup_wall": round(
                (r["seconds"] / r["articles"]) / (base["seconds"] / base["articles"]), 2
            ),
            "cleaner_speedup_cpu": round(
                (r["cpu_seconds"] / r["articles"]) / (base["cpu_seconds"] / base["articles"]), 2
            ),
            "seconds_at_dump_size": round(r["seconds"] * articles / r["articles"], 1),
            "extrapolated": r["articles"] < articles,
        }
    corpus = results.get("cleaner_corpus")
    for name in ("datasketch", "trafilatura"):
        peer = results.get(name)
        if corpus is None or peer is None or "duplicates" not in peer["stage_seconds"]:
            continue
        theirs = peer["stage_seconds"]["duplicates"] / peer["articles"]
        ours = corpus["stage_seconds"]["duplicates"] / corpus["articles"]
        recalls = (corpus["pairs"]["recall"] or 0.0, peer["pairs"]["recall"] or 0.0)
        out.setdefault(name, {})["duplicate_stage"] = {
            "articles": peer["articles"],
            "cleaner_corpus_seconds": corpus["stage_seconds"]["duplicates"],
            "seconds": peer["stage_seconds"]["duplicates"],
            "seconds_at_dump_size": round(theirs * articles, 1),
            "cleaner_speedup": round(theirs / ours, 1),
            "recall": {"cleaner_corpus": recalls[0], name: recalls[1]},
            "goal_10x_at_equal_recall": theirs / ours >= 10 and recalls[0] >= recalls[1],
        }
    return out


def bench(
    dump: Path, work: Path, systems: Sequence[str], jobs: int, sample: int | None
) -> dict[str, Any]:
    manifest = json.loads((dump / "manifest.json").read_text("utf-8"))
    articles = manifest["articles"]
    limit = sample if sample is not None and sample < articles else None
    results: dict[str, dict[str, Any]] = {}
    for name in systems:
        print(f"running {name}...", file=sys.stderr, flush=True)
        if name == "cleaner":
            results[name] = run_cleaner(dump, work, jobs)
        else:
            results[name] = run_peer(name, dump, work, limit)
    return {
        "meta": run_metadata(
            cleaner_package=str(Path(cleaner.__file__).parent),
            dump=str(dump),
            articles=articles,
            dump_chars=manifest["chars"],
            shards=manifest["shards"],
            planted_near_duplicate_pairs=manifest["near_duplicate_pairs"],
            sample=limit,
        ),
        "systems": results,
        "ratios": compare(results, articles),
    }


def print_bench(data: dict[str, Any]) -> None:
    results = data["systems"]
    meta = data["meta"]
    print(
        f"dump {meta['dump']}: {meta['articles']:,} articles in {meta['shards']} shard(s); "
        f"peers on {meta['sample'] or meta['articles']:,}; {meta['date']}, {meta['source']}"
    )
    header = ["system", "articles", "seconds", "art/s", "MB/s", "cpu s", "tree MiB", "proc MiB",
              "line P", "line R", "gold loss", "pair P", "pair R", "x cleaner"]  # fmt: skip
    rows = []
    for name, r in results.items():
        lines, pairs = r.get("lines", {}), r.get("pairs", {})
        ratios = data["ratios"].get(name, {})
        ratio = ratios.get(
            "cleaner_speedup_wall", ratios.get("duplicate_stage", {}).get("cleaner_speedup")
        )
        rows.append([
            name, r["articles"], r["seconds"], r["articles_per_second"], r["mb_per_second"],
            r["cpu_seconds"], r["peak_tree_rss_mib"], r["peak_process_rss_mib"],
            lines.get("precision"), lines.get("recall"), lines.get("gold_char_loss"),
            pairs.get("precision"), pairs.get("recall"), ratio,
        ])  # fmt: skip
    print(format_table(rows, header))
    print(
        "x cleaner: the system's seconds per article over cleaner's: line filters against "
        "`cleaner clean` end to end, duplicate finders' duplicate stage against cleaner_corpus"
    )
    for name, r in results.items():
        if "stage_seconds" in r:
            stages = ", ".join(f"{k} {v} s" for k, v in r["stage_seconds"].items())
            extra = f" ({r['implementation']})" if "implementation" in r else ""
            print(f"  {name}{extra}: stages {stages}")
    for name, r in data["ratios"].items():
        stage = r.get("duplicate_stage")
        if stage:
            print(
                f"duplicate stage, {name} on {stage['articles']:,} articles: {stage['seconds']} s"
                f" against cleaner_corpus {stage['cleaner_corpus_seconds']} s, cleaner "
                f"{stage['cleaner_speedup']}x faster; pair recall {stage['recall']}; 10x at "
                f"equal or better recall: {'yes' if stage['goal_10x_at_equal_recall'] else 'no'}"
            )
    names = [n for n in results if "lines" in results[n]]
    categories = sorted({c for n in names for c in results[n]["lines"]["categories"]})
    rows = [
        [c, results[names[0]]["lines"]["categories"].get(c, {}).get("lines")]
        + [results[n]["lines"]["categories"].get(c, {}).get("recall") for n in names]
        for c in categories
    ]
    print("\nrecall by truth category")
    print(format_table(rows, ["category", "lines", *names]))
    if "cleaner" in results and "cleaner_categories" in results["cleaner"]:
        rows = [
            [c, v["removed"], v["precision"], v["category_agreement"]]
            for c, v in results["cleaner"]["cleaner_categories"].items()
        ]
        print("\ncleaner's categories: lines removed, share that is boilerplate, same category")
        print(format_table(rows, ["category", "removed", "precision", "agreement"]))


# --------------------------------------------------------------------------------------------
# Scaling


def _label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def scaling_dump(dumps_dir: Path, articles: int) -> Path:
    """``DUMPS_DIR/dump-10k`` and so on; generated (10,000-article shards) when missing."""
    folder = dumps_dir / f"dump-{_label(articles)}"
    manifest = folder / "manifest.json"
    if not manifest.exists():
        print(f"generating {folder}...", file=sys.stderr, flush=True)
        generate(folder, articles)
    found = json.loads(manifest.read_text("utf-8"))["articles"]
    if found != articles:
        raise SystemExit(f"{folder} holds {found} articles, not {articles}")
    return folder


def generate(folder: Path, articles: int) -> None:
    script = Path(__file__).resolve().parent / "generate_dump.py"
    subprocess.run(
        [sys.executable, str(script), "--out", str(folder), "--articles", str(articles)],
        check=True,
    )


def scaling(
    sizes: Sequence[int],
    dumps_dir: Path,
    work: Path,
    jobs: int,
    score: bool,
    engines: Sequence[str] = ("local",),
    rounds: int = 1,
) -> dict[str, Any]:
    """cleaner alone on each size, with each engine (the Dask engine on a local cluster of
    ``jobs`` workers): time, memory, and whether its output and report equal the local
    engine's, byte for byte. With ``rounds`` above 1 the engines take turns that many times
    (local, dask, local, dask, ...), and each run is compared with the local run of its own
    round: the machine's speed drifts less within a round than over the whole benchmark."""
    rows = []
    for articles in sizes:
        dump = scaling_dump(dumps_dir, articles)
        for turn in range(1, rounds + 1):
            for engine in engines:
                print(f"cleaner ({engine} engine) on {dump}, round {turn}...", file=sys.stderr,
                      flush=True)  # fmt: skip
                result = run_cleaner(dump, work, jobs, score=score, engine=engine)
                shutil.rmtree(work / "cleaner-out", ignore_errors=True)
                rows.append({"dump": str(dump), "round": turn, **result})
    firsts = {r["engine"]: r for r in reversed(rows)}
    local = {(r["articles"], r["round"]): r for r in rows if r["engine"] == "local"}
    for row in rows:
        first = firsts[row["engine"]]
        per_article = row["seconds"] / row["articles"]
        row["time_per_article_vs_first"] = round(
            per_article / (first["seconds"] / first["articles"]), 2
        )
        base = local.get((row["articles"], row["round"]))
        if row["engine"] != "local" and base is not None:
            row["seconds_vs_local"] = round(row["seconds"] / base["seconds"], 2)
            row["same_output_as_local"] = row["output_digest"] == base["output_digest"]
    meta = run_metadata(jobs=jobs, cleaner_package=str(Path(cleaner.__file__).parent))
    return {"meta": meta, "runs": rows}


def print_scaling(data: dict[str, Any]) -> None:
    header = ["engine", "round", "articles", "seconds", "art/s", "MB/s", "cpu s", "steal s",
              "tree MiB", "proc MiB", "s/article vs first", "vs local", "same output",
              "load before"]  # fmt: skip
    rows = [
        [r.get("engine", "local"), r.get("round", 1), r["articles"], r["seconds"],
         r["articles_per_second"], r["mb_per_second"], r["cpu_seconds"], r.get("steal_seconds"),
         r["peak_tree_rss_mib"], r["peak_process_rss_mib"], r["time_per_article_vs_first"],
         r.get("seconds_vs_local"), {True: "yes", False: "NO"}.get(r.get("same_output_as_local")),
         r["load_before"][0]]
        for r in data["runs"]
    ]  # fmt: skip
    print(format_table(rows, header))


# --------------------------------------------------------------------------------------------


def _update_results(path: Path, key: str, data: dict[str, Any]) -> None:
    """Keep the other mode's results in the same file."""
    old: dict[str, Any] = {}
    if path.exists():
        try:
            old = json.loads(path.read_text("utf-8"))
        except ValueError:
            old = {}
    old[key] = data
    write_json(path, old)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dump", type=Path, help="a folder that generate_dump.py wrote")
    parser.add_argument("--articles", type=int, help="generate a dump of this size instead")
    parser.add_argument("--work", type=Path, help="outputs and generated dumps (default: temp)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=", ".join(SYSTEMS))
    parser.add_argument(
        "--sample", type=int, default=SAMPLE_DEFAULT,
        help="peers run on the first N articles (cleaner always on the whole dump)",
    )  # fmt: skip
    parser.add_argument("--scaling", help="sizes, e.g. 10000,100000: cleaner alone per size")
    parser.add_argument(
        "--engines", default="local",
        help="scaling: engines to run each size with, e.g. local,dask (a local Dask cluster)",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="scaling: the engines take turns this many times, each compared within its round",
    )  # fmt: skip
    parser.add_argument("--dumps-dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--score", action="store_true", help="scaling: score each run too")
    parser.add_argument("--keep", action="store_true", help="keep the outputs under --work")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "dump_bench.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        run_child(args.child, args.dump, args.sample, args.child_out)
        return 0
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")
    made_work = args.work is None
    work = Path(tempfile.mkdtemp(prefix="dump-bench-")) if made_work else args.work
    if work.resolve() == REPO_ROOT or REPO_ROOT in work.resolve().parents:
        parser.error("--work must be outside the repository")
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.scaling:
            sizes = [int(s) for s in args.scaling.split(",")]
            engines = [e.strip() for e in args.engines.split(",") if e.strip()]
            data = scaling(sizes, args.dumps_dir, work, args.jobs, args.score, engines,
                           args.rounds)  # fmt: skip
            _update_results(args.output, "scaling", data)
            print_scaling(data)
        else:
            if args.dump is None and args.articles is None:
                parser.error("give --dump DIR or --articles N")
            dump = args.dump
            if dump is None:
                dump = work / f"dump-{_label(args.articles)}"
                if not (dump / "manifest.json").exists():
                    generate(dump, args.articles)
            data = bench(dump, work, systems, args.jobs, args.sample)
            _update_results(args.output, "bench", data)
            print_bench(data)
        print(f"results written to {args.output}")
    finally:
        if made_work and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
