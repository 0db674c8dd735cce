"""The corpus pass at scale: PassageIndex against a plain datasketch loop on the same articles.

Articles are generated from real text (sentences of the naeb-dev gold bodies and the seeds),
deterministically from ``--seed``: each article is 6 to 14 paragraphs of 1 to 4 sentences, on
one of N/50 fake sites. Planted: a footer line per site (on 90% of its articles), wire
paragraphs that run on several sites (N/1000 of them, each on 3 to 12 articles), and
near-duplicate article pairs (3% of the articles copy a recent one, on another site, with a
few words changed).

Both systems get the same articles and the same folded shingles, the same 64 permutations and
datasketch's own LSH bands for threshold 0.6, and verify at 0.8. The plain loop is
``MinHash.update`` per shingle, ``MinHashLSH.insert`` per passage and per article, then
``query`` for each; it runs on a ``--sample`` corpus (generated the same way, of that size)
and its time at the full size is extrapolated linearly, as the output says. Memory is
measured with tracemalloc in a separate pass on the sample (tracing slows Python-level code,
so timed runs are not traced).

    .venv/bin/python benchmarks/corpus_index.py [--articles 100000] [--sample 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datasketch import MinHash, MinHashLSH

from benchmarks.common import (
    NAEB_DIR,
    RESULTS_DIR,
    SENTENCE_BREAK,
    format_table,
    run_metadata,
    write_json,
)
from cleaner.corpus import CorpusConfig, PassageIndex
from cleaner.minhash import fold_texts, jaccard, shingle_hashes

SEEDS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "seeds" / "input"
_SENTENCE = SENTENCE_BREAK


# --------------------------------------------------------------------------------------------
# The generated corpus


@dataclass(slots=True)
class Corpus:
    ids: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    blocks: list[list[str]] = field(default_factory=list)
    #: (earlier id, copy id) for each planted near-duplicate article.
    pairs: set[tuple[str, str]] = field(default_factory=set)
    #: (article id, block) of every planted footer and wire paragraph.
    footers: set[tuple[str, int]] = field(default_factory=set)
    wires: set[tuple[str, int]] = field(default_factory=set)
    #: Articles of the planted pairs: their common paragraphs really repeat.
    copied: set[str] = field(default_factory=set)
    #: Paragraphs that the random draw repeated (two articles drew the same sentences).
    chance: set[tuple[str, int]] = field(default_factory=set)
    #: Planted pairs left out of the truth because their exact Jaccard is below the threshold.
    below_threshold: int = 0

    def articles(self) -> list[tuple[str, str, list[str]]]:
        return list(zip(self.ids, self.sources, self.blocks, strict=True))

    def chars(self) -> int:
        return sum(len(b) for blocks in self.blocks for b in blocks)


def real_sentences() -> list[str]:
    texts = [
        record.get("articleBody", "")
        for record in json.loads((NAEB_DIR / "articles.json").read_text("utf-8")).values()
    ]
    texts += [p.read_text("utf-8") for p in sorted(SEEDS_DIR.glob("*.txt"))]
    sentences: set[str] = set()
    for text in texts:
        for line in text.split("\n"):
            for sentence in _SENTENCE.split(line.strip()):
                if 40 <= len(sentence) <= 400:
                    sentences.add(sentence)
    return sorted(sentences)


def generate(
    count: int, seed: int, sentences: Sequence[str], threshold: float = 0.8
) -> Corpus:
    rng = random.Random(seed)
    sites = [f"site{n:05d}.example" for n in range(max(20, count // 50))]
    # A footer of its own per site: a site's name alone would make every footer nearly equal.
    footer = {site: f"{rng.choice(sentences)} ({site})" for site in sites}
    wires = [
        " ".join(rng.sample(sentences, 3)) for _ in range(max(2, count // 1000))
    ]
    wire_slots = {}  # article number -> wire paragraph
    for wire in wires:
        for number in rng.sample(range(count), rng.randint(3, 12)):
            wire_slots.setdefault(number, wire)
    corpus = Corpus()
    for number in range(count):
        article_id = f"a{rng.getrandbits(48):012x}"  # ids not in generation order
        site = rng.choice(sites)
        if number > 0 and rng.random() < 0.03:
            original = rng.randrange(max(0, number - 500), number)
            blocks = [
                _edit(b, rng) if rng.random() < 0.25 else b
                for b in corpus.blocks[original]
                if b != footer[corpus.sources[original]]
            ]
            while site == corpus.sources[original]:
                site = rng.choice(sites)
            corpus.pairs.add((corpus.ids[original], article_id))
            corpus.copied.update((corpus.ids[original], article_id))
        else:
            blocks = [
                " ".join(rng.sample(sentences, rng.randint(2, 4)))
                for _ in range(rng.randint(6, 14))
            ]
        if number in wire_slots:
            position = rng.randrange(1, len(blocks))
            blocks.insert(position, wire_slots[number])
        if rng.random() < 0.9:
            blocks.append(footer[site])
        corpus.ids.append(article_id)
        corpus.sources.append(site)
        corpus.blocks.append(blocks)
    footers = set(footer.values())
    # A paragraph's sentences as a set: two draws of the same sentences in another order
    # are near-identical paragraphs that nobody planted.
    seen: dict[frozenset[str], set[str]] = {}
    for article_id, blocks in zip(corpus.ids, corpus.blocks, strict=True):
        for k, block in enumerate(blocks):
            seen.setdefault(frozenset(_SENTENCE.split(block)), set()).add(article_id)
            if block in wires:
                corpus.wires.add((article_id, k))
            elif block in footers:
                corpus.footers.add((article_id, k))
    # The truth: planted pairs (and copies of copies) whose exact Jaccard reaches the
    # threshold; a short article with an edit and another footer can fall below it.
    blocks_of = dict(zip(corpus.ids, corpus.blocks, strict=True))
    closure = _closure(corpus.pairs)
    corpus.pairs = {
        (a, b) for a, b in closure if _exact(blocks_of[a], blocks_of[b]) >= threshold
    }
    corpus.below_threshold = len(closure) - len(corpus.pairs)
    corpus.chance = {
        (article_id, k)
        for article_id, blocks in zip(corpus.ids, corpus.blocks, strict=True)
        for k, block in enumerate(blocks)
        if len(seen[frozenset(_SENTENCE.split(block))]) > 1
    } - corpus.footers - corpus.wires
    return corpus


def _exact(a: list[str], b: list[str]) -> float:
    hashes_a, _ = shingle_hashes(fold_texts(a), CorpusConfig().shingle_size)
    hashes_b, _ = shingle_hashes(fold_texts(b), CorpusConfig().shingle_size)
    return jaccard(hashes_a, hashes_b)


def _closure(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Every pair within the groups the planted pairs make (a copy of a copy is a copy)."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b in pairs:
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for x in parent:
        groups.setdefault(root(x), []).append(x)
    return {
        (min(a, b), max(a, b))
        for members in groups.values()
        for i, a in enumerate(members)
        for b in members[i + 1 :]
    }


def _edit(paragraph: str, rng: random.Random) -> str:
    """A small edit: one word replaced."""
    words = paragraph.split(" ")
    words[rng.randrange(len(words))] = rng.choice(["said", "reported", "the", "new", "Monday"])
    return " ".join(words)


# --------------------------------------------------------------------------------------------
# The two systems; each returns (found article pairs, flagged passages)

Found = tuple[set[tuple[str, str]], set[tuple[str, int]], dict[str, int]]


def run_index(corpus: Corpus, config: CorpusConfig) -> Found:
    index = PassageIndex(config)
    index.add_many(corpus.articles())
    decisions = index.decide()
    pairs = set()
    for cluster in decisions.clusters:
        members = [cluster.kept, *(c for c, _ in cluster.copies)]
        pairs.update(
            tuple(sorted((a, b))) for i, a in enumerate(members) for b in members[i + 1 :]
        )
    flagged = set()
    kinds: dict[str, int] = {"footers_removed": 0, "wires_removed": 0}
    for article, blocks in decisions.passages.items():
        for block, decision in blocks.items():
            flagged.add((article, block))
            kinds[decision.kind] = kinds.get(decision.kind, 0) + 1
            if decision.removed:
                kinds["footers_removed"] += (article, block) in corpus.footers
                kinds["wires_removed"] += (article, block) in corpus.wires
    kinds["footers_planted"] = len(corpus.footers)
    kinds["wires_planted"] = len(corpus.wires)
    kinds["indexed_passages"] = index.passages
    kinds["bytes_per_passage"] = index.bytes_per_passage()
    return pairs, flagged, kinds  # type: ignore[return-value]


def run_datasketch(corpus: Corpus, config: CorpusConfig) -> Found:
    """The plain loop: a MinHash per passage updated shingle by shingle, an article's MinHash
    merged from its passages', one LSH insert per passage and per article, then a query each."""
    bands, rows = config.lsh_params()
    passage_lsh = MinHashLSH(num_perm=config.num_perm, params=(bands, rows))
    article_lsh = MinHashLSH(num_perm=config.num_perm, params=(bands, rows))
    passages: dict[tuple[str, int], MinHash] = {}
    articles: dict[str, MinHash] = {}
    for article_id, _, blocks in corpus.articles():
        folded = fold_texts(blocks)
        hashes, offsets = shingle_hashes(folded, config.shingle_size)
        sizes = folded.sizes()
        whole = MinHash(num_perm=config.num_perm, seed=config.seed, hashfunc=int)
        for k in range(len(blocks)):
            minhash = MinHash(num_perm=config.num_perm, seed=config.seed, hashfunc=int)
            for h in hashes[offsets[k] : offsets[k + 1]].tolist():
                minhash.update(h)
            whole.merge(minhash)
            if sizes[k] >= config.min_chars:
                passages[(article_id, k)] = minhash
                passage_lsh.insert((article_id, k), minhash)
        articles[article_id] = whole
        article_lsh.insert(article_id, whole)
    pairs = set()
    for article_id, minhash in articles.items():
        for other in article_lsh.query(minhash):
            if other != article_id and minhash.jaccard(articles[other]) >= config.article_threshold:
                pairs.add(tuple(sorted((article_id, other))))
    flagged = set()
    for key, minhash in passages.items():
        for other in passage_lsh.query(minhash):
            if other[0] != key[0] and minhash.jaccard(passages[other]) >= config.passage_threshold:
                flagged.add(key)
                break
    return pairs, flagged, {"indexed_passages": len(passages)}  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# Measuring


def scores(corpus: Corpus, found: Found) -> dict[str, Any]:
    pairs, flagged, _ = found
    planted = corpus.footers | corpus.wires
    hit = flagged & planted
    # Paragraphs of planted duplicate articles and chance repeats really repeat: neither
    # right nor wrong here.
    judged = {
        f for f in flagged if f in planted or (f[0] not in corpus.copied and f not in corpus.chance)
    }
    return {
        "pairs_planted": len(corpus.pairs),
        "pairs_planted_below_threshold": corpus.below_threshold,
        "pairs_found": len(pairs),
        "pair_precision": round(len(pairs & corpus.pairs) / len(pairs), 4) if pairs else None,
        "pair_recall": round(len(pairs & corpus.pairs) / len(corpus.pairs), 4)
        if corpus.pairs
        else None,
        "passages_planted": len(planted),
        "passages_flagged": len(flagged),
        "passage_precision": round(len(hit) / len(judged), 4) if judged else None,
        "passage_recall": round(len(hit) / len(planted), 4) if planted else None,
        "footer_recall": round(len(flagged & corpus.footers) / len(corpus.footers), 4)
        if corpus.footers
        else None,
        "wire_recall": round(len(flagged & corpus.wires) / len(corpus.wires), 4)
        if corpus.wires
        else None,
    }


Run = Callable[[Corpus, CorpusConfig], Found]


def timed(run: Run, corpus: Corpus, config: CorpusConfig) -> tuple[Found, float]:
    started = time.perf_counter()
    found = run(corpus, config)
    return found, time.perf_counter() - started


def traced_peak(run: Run, corpus: Corpus, config: CorpusConfig) -> int:
    tracemalloc.start()
    try:
        run(corpus, config)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000, help="corpus size for the plain loop")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "corpus_index.json")
    args = parser.parse_args(argv)

    config = CorpusConfig()
    sentences = real_sentences()
    started = time.perf_counter()
    sample = generate(args.sample, args.seed, sentences)
    full = generate(args.articles, args.seed, sentences)
    generation = time.perf_counter() - started

    rows: list[dict[str, Any]] = []
    index_sample, index_sample_s = timed(run_index, sample, config)
    plain_sample, plain_sample_s = timed(run_datasketch, sample, config)
    index_peak = traced_peak(run_index, sample, config)
    plain_peak = traced_peak(run_datasketch, sample, config)
    index_full, index_full_s = timed(run_index, full, config)
    index_full_peak = traced_peak(run_index, full, config)
    extrapolated = plain_sample_s * args.articles / args.sample
    per_passage = index_full[2]["bytes_per_passage"]
    rows = [
        {
            "system": "PassageIndex",
            "articles": args.sample,
            "seconds": round(index_sample_s, 2),
            "peak_bytes": index_peak,
            "peak_bytes_per_article": round(index_peak / args.sample),
            **scores(sample, index_sample),
            "kinds": index_sample[2],
        },
        {
            "system": "datasketch loop",
            "articles": args.sample,
            "seconds": round(plain_sample_s, 2),
            "peak_bytes": plain_peak,
            "peak_bytes_per_article": round(plain_peak / args.sample),
            **scores(sample, plain_sample),
            "kinds": plain_sample[2],
        },
        {
            "system": "PassageIndex",
            "articles": args.articles,
            "seconds": round(index_full_s, 2),
            "peak_bytes": index_full_peak,
            "peak_bytes_per_article": round(index_full_peak / args.articles),
            "maxrss_bytes_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            **scores(full, index_full),
            "kinds": index_full[2],
        },
        {
            "system": "datasketch loop (extrapolated)",
            "articles": args.articles,
            "seconds": round(extrapolated, 1),
            "peak_bytes": None,
            "peak_bytes_per_article": None,
            "note": f"linear from {args.sample} articles",
        },
    ]
    data = {
        "meta": run_metadata(),
        "config": {
            "seed": args.seed,
            "generation_seconds": round(generation, 1),
            "sample_chars": sample.chars(),
            "full_chars": full.chars(),
            "num_perm": config.num_perm,
            "lsh_params_bands_rows": config.lsh_params(),
            "passage_threshold": config.passage_threshold,
            "article_threshold": config.article_threshold,
            "bytes_per_indexed_passage": per_passage,
        },
        "speedup_same_data": round(plain_sample_s / index_sample_s, 1),
        "speedup_full_vs_extrapolated": round(extrapolated / index_full_s, 1),
        "runs": rows,
    }
    write_json(args.output, data)
    print(
        f"corpus index: {args.sample} and {args.articles} generated articles "
        f"({sample.chars()} and {full.chars()} chars), seed {args.seed}"
    )
    header = ["system", "articles", "seconds", "peak_MB", "B/article", "pair_P", "pair_R"]
    header += ["pass_P", "pass_R", "footer_R", "wire_R"]
    table = [
        [
            r["system"], r["articles"], r["seconds"],
            None if r["peak_bytes"] is None else round(r["peak_bytes"] / 2**20, 1),
            r["peak_bytes_per_article"], r.get("pair_precision"), r.get("pair_recall"),
            r.get("passage_precision"), r.get("passage_recall"), r.get("footer_recall"),
            r.get("wire_recall"),
        ]
        for r in rows
    ]  # fmt: skip
    print(format_table(table, header))
    print(
        f"speed: {data['speedup_same_data']}x on the same {args.sample} articles; "
        f"{data['speedup_full_vs_extrapolated']}x at {args.articles} against the plain loop "
        f"extrapolated linearly from {args.sample}"
    )
    print(
        f"PassageIndex holds {per_passage} bytes per indexed passage "
        f"({index_full[2]['indexed_passages']} passages at {args.articles} articles = "
        f"{per_passage * index_full[2]['indexed_passages'] / 2**20:.0f} MiB) plus "
        f"{4 * config.num_perm} bytes and two strings per article; "
        f"process max RSS {rows[2]['maxrss_bytes_process'] / 2**20:.0f} MiB"
    )
    print(f"decisions at {args.articles}: {index_full[2]}")
    print(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
