"""The corpus pass: site and corpus boilerplate go, shared passages stay, near-duplicate
articles cluster, and nothing depends on the order articles are added in."""

from __future__ import annotations

import pickle
import random
import tempfile
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

import cleaner.corpus
from cleaner import Category, clean_and_explain
from cleaner.corpus import CorpusDecisions, PassageIndex, source_key
from cleaner.minhash import fold_texts, shingle_hashes
from cleaner.model import Verdict

SEEDS = sorted((Path(__file__).parent.parent / "fixtures" / "seeds" / "input").glob("*.txt"))
SANDERS = "It is a proposal that was made in sincerity by President Putin"

FOOTER = "Follow Example News on Twitter and Facebook for the latest local updates."
PLATFORM = "Comments are powered by the Widget platform."
PARAGRAPHS = [
    "The city council voted on Tuesday to extend the tram line to the northern suburbs, "
    "a project that has been debated for more than a decade.",
    "Opponents said the cost, estimated at 420 million, would crowd out spending on schools "
    "and the repair of existing roads.",
    "The harbour authority reported record container traffic in the second quarter, driven "
    "by exports of machinery and agricultural goods.",
    "Fishermen on the eastern pier said the new cranes had cut waiting times but that the "
    "noise now started before dawn.",
    "A local bakery has won a national award for its rye bread, baked to a recipe the owner "
    "says came from her grandmother in 1931.",
    "The museum will reopen in March after a renovation that added two galleries and a "
    "climate-controlled storage room for its textile collection.",
    "Heavy rain flooded the underpass near the station for the third time this year, and "
    "engineers blamed a blocked drain that had not been cleared.",
    "The university announced a new scholarship for students from rural districts, funded "
    "by a donation from a former vice-chancellor.",
]


def _article(*blocks: str) -> list[str]:
    return list(blocks)


def _corpus() -> Articles:
    """Two articles of one site sharing a footer; a platform line on four sites; a
    near-duplicate pair across sites; and an article of no known source."""
    story = [PARAGRAPHS[4], PARAGRAPHS[5], PARAGRAPHS[6], PARAGRAPHS[7]]
    edited = [*story[:3], story[3].replace("former vice-chancellor", "former chancellor")]
    return [
        ("ex-1", "example.com", _article(PARAGRAPHS[0], PARAGRAPHS[1], FOOTER)),
        ("ex-2", "example.com", _article(PARAGRAPHS[2], PARAGRAPHS[3], FOOTER)),
        ("a-1", "a.org", _article("Alpha reports a quiet week in the valley.", PLATFORM)),
        ("b-1", "b.org", _article("Bravo reports rising prices at the market.", PLATFORM)),
        ("c-1", "c.org", _article("Charlie reports a late frost in the orchards.", PLATFORM)),
        ("d-1", "d.org", _article("Delta reports a new ferry timetable.", PLATFORM)),
        ("z-copy", "z.net", story),
        ("y-copy", "y.net", edited),
        ("none-1", None, _article("An article whose source nobody knows, with its own text.")),
    ]


Articles = list[tuple[str, str | None, list[str]]]


def _decide(articles: Articles, **options: object) -> CorpusDecisions:
    index = PassageIndex(**options)
    index.add_many(articles)
    return index.decide()


def test_seeds_as_one_corpus_report_the_shared_quote_and_remove_nothing() -> None:
    index = PassageIndex()
    blocks = {}
    for path in SEEDS:
        result = clean_and_explain(path.read_bytes())
        index.add(path.stem, path.stem, result.normalised)
        blocks[path.stem] = result.blocks
    decisions = index.decide()
    assert decisions.clusters == ()
    for stem in blocks:
        assert decisions.verdicts(stem) == {}
    shared = decisions.shared()
    assert {d.article_id[:3] for d in shared} == {"000", "002"}
    assert decisions.shared_counts() == (len(shared), len({d.group for d in shared}))
    for decision in shared:
        assert SANDERS in blocks[decision.article_id][decision.block].text
        assert not decision.removed and decision.verdict() is None
        assert decision.others[0][:3] in {"000", "002"} - {decision.article_id[:3]}
        assert "jaccard" in decision.evidence


def test_a_footer_that_one_site_repeats_is_site_boilerplate_in_both_articles() -> None:
    decisions = _decide(_corpus())
    for article, other in (("ex-1", "ex-2"), ("ex-2", "ex-1")):
        assert set(decisions.passages[article]) == {2}
        verdict = decisions.verdicts(article)[2]
        assert verdict.category is Category.SITE_BOILERPLATE
        assert verdict.rule_id == "site_boilerplate.exact"
        assert other in verdict.evidence and "example.com" in verdict.evidence


def test_a_short_line_on_four_sources_is_corpus_boilerplate() -> None:
    decisions = _decide(_corpus())
    assert decisions.corpus_min_sources == 3
    for article in ("a-1", "b-1", "c-1", "d-1"):
        assert set(decisions.passages[article]) == {1}
        assert decisions.verdicts(article)[1].category is Category.CORPUS_BOILERPLATE
    # On three sources it still is; on two it is only shared.
    two = [a for a in _corpus() if a[0] in ("a-1", "b-1")]
    assert {d.kind for d in _decide(two).shared()} == {"shared"}


def test_near_duplicate_articles_cluster_and_the_first_by_id_is_kept() -> None:
    decisions = _decide(_corpus())
    (cluster,) = decisions.clusters
    assert cluster.kept == "y-copy"
    assert [copy for copy, _ in cluster.copies] == ["z-copy"]
    assert cluster.copies[0][1] >= 0.8
    assert decisions.cluster_of("z-copy") is cluster
    # Their common paragraphs are the cluster's business, not shared passages.
    assert "y-copy" not in decisions.passages and "z-copy" not in decisions.passages


def test_a_long_paragraph_repeated_in_one_source_and_quoted_elsewhere_is_kept() -> None:
    wire = " ".join(PARAGRAPHS[:3])  # longer than short_max_chars
    articles = [
        ("s-1", "s.com", [PARAGRAPHS[4], wire]),
        ("s-2", "s.com", [PARAGRAPHS[5], wire]),
        ("t-1", "t.com", [PARAGRAPHS[6], wire]),
    ]
    decisions = _decide(articles)
    assert all(decisions.verdicts(a) == {} for a, _, _ in articles)
    assert len(decisions.shared()) == 3
    assert decisions.shared_counts() == (3, 1)
    # A site that repeats it on three of its pages owns it, even if one other page quotes it.
    decisions = _decide([*articles, ("s-3", "s.com", [PARAGRAPHS[7], wire])])
    for article in ("s-1", "s-2", "s-3"):
        assert decisions.verdicts(article)[1].category is Category.SITE_BOILERPLATE
    assert [d.article_id for d in decisions.shared()] == ["t-1"]


@settings(max_examples=15, deadline=None)
@given(st.randoms(use_true_random=False), st.sampled_from([1, 2, 3, 512]))
def test_decisions_do_not_depend_on_add_order_or_batching(rng: random.Random, batch: int) -> None:
    articles = _corpus()
    expected = _decide(articles)
    rng.shuffle(articles)
    assert _decide(articles, batch_size=batch) == expected


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 70),
    st.lists(st.integers(0, 10**6), max_size=300),
    st.sampled_from([4096, 8192, 1 << 24]),
)
def test_spilled_rows_gathered_a_region_at_a_time_are_the_rows_written(
    width: int, picks: list[int], region: int
) -> None:
    # Rows of any width (so some cross a page and a region's end), gathered in any order
    # with repeats, regions of one or two pages or the default: the rows that were written.
    rows = np.random.default_rng(width).integers(0, 2**32, (400, width), dtype=np.uint64)
    rows = rows.astype(np.uint32)
    with tempfile.TemporaryDirectory() as folder:
        spilled = cleaner.corpus._SpilledRows(width, folder)
        spilled.REGION_BYTES = region  # type: ignore[misc]
        spilled.append(rows[:150])
        spilled.append(rows[150:])
        # int32, as the corpus pass gives them (a byte offset is larger than an int32 from
        # 8,388,608 rows of 256 bytes on: the regions are counted in int64).
        index = np.array([p % len(rows) for p in picks], dtype=np.int32)
        assert np.array_equal(spilled.take(index), rows[index])
        spilled.append(rows[:7])  # the map follows the file as it grows
        assert np.array_equal(spilled.take(np.array([402, 3])), rows[[2, 3]])


def test_spilled_rows_past_two_gib_are_gathered_from_their_own_region(tmp_path: Path) -> None:
    # 9,000,000 rows of 256 bytes: offsets past 2**31 (an int32 index times the row size
    # overflows). The file is made sparse, not written: only the last rows hold data.
    spilled = cleaner.corpus._SpilledRows(64, tmp_path)
    spilled._file.truncate(9_000_000 * 256)
    spilled._count = 9_000_000
    last = np.arange(3 * 64, dtype=np.uint32).reshape(3, 64) + 1
    spilled.append(last)
    taken = spilled.take(np.array([9_000_002, 5, 9_000_000], dtype=np.int32))
    assert np.array_equal(taken, np.stack([last[2], np.zeros(64, np.uint32), last[0]]))


def test_decisions_made_in_threads_are_those_made_in_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = _corpus()
    expected = _decide(articles)
    assert expected.verdicts("ex-2") and expected.clusters  # something to decide
    monkeypatch.setattr(cleaner.corpus, "_PAIR_STEP", 2)  # a few pairs a thread's task
    monkeypatch.setattr(cleaner.corpus, "_KEY_BYTES", 1)  # a band a step
    monkeypatch.setattr(cleaner.corpus._Chunked, "JOIN_BYTES", 300)  # keys a chunk a task
    monkeypatch.setattr(cleaner.corpus._SpilledRows, "READ_ROWS", 2)
    assert _decide(articles, batch_size=2, threads=2) == expected
    assert _decide(articles, batch_size=2, threads=2, spill_dir=tmp_path) == expected


def test_similarities_compared_in_threads_are_those_compared_in_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A long quote lightly edited on five sites: each copy differs from the first copy, so
    # every task of two pairs has two similarities to write.
    quote = " ".join(PARAGRAPHS[4:8])
    edits = ["former chancellor", "one-time vice-chancellor", "ex-vice-chancellor",
             "former deputy chancellor", "retired vice-chancellor"]  # fmt: skip
    own = [*PARAGRAPHS[:4], "Echo reports a new bridge.", "Foxtrot reports a dry summer."]
    articles: Articles = [("v-0", "v0.net", [own[0], quote])] + [
        (f"v-{n}", f"v{n}.net", [own[n], quote.replace("former vice-chancellor", edit)])
        for n, edit in enumerate(edits, 1)
    ]
    expected = _decide(articles)
    estimated = [
        d.similarity for p in expected.passages.values() for d in p.values() if d.similarity < 1
    ]
    assert len(estimated) >= 4
    monkeypatch.setattr(cleaner.corpus, "_PAIR_STEP", 2)
    assert _decide(articles, threads=2) == expected


def test_signatures_in_a_file_or_in_small_chunks_give_the_same_decisions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = _corpus()
    expected = _decide(articles)
    monkeypatch.setattr(cleaner.corpus._Chunked, "JOIN_BYTES", 300)  # chunks of a few rows
    monkeypatch.setattr(cleaner.corpus._SpilledRows, "READ_ROWS", 2)
    assert _decide(articles, batch_size=2) == expected
    spilled = PassageIndex(batch_size=2, spill_dir=tmp_path)
    spilled.add_many(articles)
    assert spilled.decide() == expected
    assert [f.name for f in tmp_path.iterdir()] == []  # an unnamed file, gone when closed
    # Only passages of at least near_min_chars are signed; a stored copy of each article
    # comes back with the same signatures.
    in_memory = PassageIndex(batch_size=2)
    in_memory.add_many(articles)
    for ours, theirs in zip(spilled.signed(), in_memory.signed(), strict=True):
        assert ours.ids == theirs.ids
        for name in ("article", "block", "length", "digest", "signed", "signatures"):
            assert np.array_equal(getattr(ours.passages, name), getattr(theirs.passages, name))
        near = ours.passages.length >= spilled.config.near_min_chars
        assert np.array_equal(ours.passages.signed >= 0, near)
    again = PassageIndex()
    for batch in spilled.signed():
        again.add_signed(batch)
    assert again.decide() == expected
    assert spilled.bytes_per_passage() < in_memory.bytes_per_passage() <= 4 * 64 + 24


def test_signatures_equal_datasketch_minhash_updated_per_shingle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cleaner.minhash, "SIGN_CHUNK", 50)  # many chunks, some one passage
    index = PassageIndex(num_perm=32, seed=3)
    texts = [*PARAGRAPHS[:3], "", "ab", FOOTER]
    rows = index.signatures(texts)
    hashes, offsets = shingle_hashes(fold_texts(texts), index.config.shingle_size)
    for i in range(len(texts)):
        reference = MinHash(num_perm=32, seed=3, hashfunc=int)
        for h in hashes[offsets[i] : offsets[i + 1]].tolist():
            reference.update(h)
        assert np.array_equal(rows[i], reference.hashvalues)
    # The article's signature is that of all its shingles together.
    index.add("x", None, texts)
    reference = MinHash(num_perm=32, seed=3, hashfunc=int)
    reference.update_batch(hashes.tolist())
    assert np.array_equal(index.article_signature("x"), reference.hashvalues)


def test_an_article_id_can_be_added_once() -> None:
    index = PassageIndex()
    index.add("a", None, "text")
    with pytest.raises(ValueError, match="already added"):
        index.add("a", None, "text")


def test_source_key() -> None:
    assert source_key("https://WWW.Example.com:8080/a/b") == "example.com"
    assert source_key(None, "http://aol.com") == "aol.com"
    assert source_key(None, "news.example.org") == "news.example.org"
    assert source_key("", "", "dump/site-a/1.txt") == "dump/site-a"
    assert source_key("https://example.com/x", None, "d/1.txt", mode="dir") == "d"
    assert source_key("https://example.com/x", mode="none") is None
    assert source_key(None, None, "1.txt") is None


def test_a_headline_teased_on_another_page_stays_in_its_own_article() -> None:
    headline = "Tram line to reach the northern suburbs by 2027"
    masthead = "Example News: the city's paper since 1898"
    articles: Articles = [
        ("ex-1", "example.com", [headline, PARAGRAPHS[0], PARAGRAPHS[1]]),
        ("ex-2", "example.com", [masthead, PARAGRAPHS[2], PARAGRAPHS[3], "Read next", headline]),
        ("ex-3", "example.com", [masthead, PARAGRAPHS[4], PARAGRAPHS[5]]),
    ]
    decisions = _decide(articles)
    # The teaser on the other page goes; the article's own first line stays, reported.
    assert decisions.verdicts("ex-2")[4].category is Category.SITE_BOILERPLATE
    assert decisions.verdicts("ex-1") == {}
    (kept,) = decisions.passages["ex-1"].values()
    assert kept.kind == "headline" and not kept.removed and kept.others == ("ex-2",)
    assert decisions.verdicts("ex-1", drop_shared=True) == {}  # never a "later copy"
    # A line first on every page that has it is the site's, there too.
    assert decisions.verdicts("ex-2")[0].category is Category.SITE_BOILERPLATE
    assert decisions.verdicts("ex-3")[0].category is Category.SITE_BOILERPLATE


def test_signing_in_small_groups_gives_the_same_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    articles = _corpus()
    whole = PassageIndex().sign(articles)
    monkeypatch.setattr(cleaner.corpus, "_SIGN_GROUP_CHARS", 150)  # an article or two a step
    grouped = PassageIndex().sign(articles)
    assert grouped.ids == whole.ids and grouped.sources == whole.sources
    assert np.array_equal(grouped.signatures, whole.signatures)
    assert np.array_equal(grouped.chars, whole.chars)
    for name in ("article", "block", "length", "digest", "signed", "signatures"):
        ours, theirs = getattr(grouped.passages, name), getattr(whole.passages, name)
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs), name


@pytest.mark.parametrize("drop_shared", [False, True])
def test_the_rows_sent_to_workers_make_the_records_and_share_their_words(
    drop_shared: bool,
) -> None:
    own = [
        "Alpha reports a quiet week in the valley.",
        "Bravo reports rising prices at the market.",
        "Charlie reports a late frost in the orchards.",
        "Delta reports a new ferry timetable.",
        "Echo reviews the season's last concert at the old theatre.",
        "Foxtrot lists the roads closed for the cycling race on Sunday.",
        "Golf counts the votes of a tight school board election.",
    ]
    sites = "abcdefg"
    articles = [
        (f"{n}-1", f"{n}.org", _article(line, PLATFORM))
        for n, line in zip(sites, own, strict=True)
    ]
    decisions = _decide(articles)
    rows = {a: decisions.rows_for(a, drop_shared) for a, _, _ in articles}
    back = pickle.loads(pickle.dumps(rows))  # as a chunk goes to a worker process
    assert back == rows
    for a, _, _ in articles:
        found = back[a]
        assert found is not None and found.corpus() == decisions.for_article(a, drop_shared)
        assert found._replace(digest=b"d").corpus().digest == b"d"
        block, _, rule_id, _, similarity, _ = found.rows[0]
        assert block == 1 and rule_id == "corpus_boilerplate.exact" and similarity == 1.0
    # The evidence names the first three articles; the others' words are one string, which
    # the chunk carries once.
    named = {f"{n}-1" for n in sites[:4]}
    unnamed = [r.rows[0][3] for a, r in back.items() if a not in named and r is not None]
    assert len(unnamed) == 3 and all(head is unnamed[0] for head in unnamed)
    assert all(r.rows[0][3] is not unnamed[0] for a, r in back.items() if a in named and r)


@pytest.mark.parametrize("drop_shared", [False, True])
def test_an_articles_corpus_word_is_its_decisions_verdicts_and_notes(drop_shared: bool) -> None:
    seeds = [
        (path.stem, path.stem, [b.text for b in clean_and_explain(path.read_bytes()).blocks])
        for path in SEEDS
    ]
    articles = [*_corpus(), *seeds]  # site and corpus boilerplate, shared passages
    decisions = _decide(articles)
    for article_id, _, _ in articles:
        passages = decisions.passages.get(article_id, {})
        found = decisions.for_article(article_id, drop_shared)
        if not passages:
            assert found is None
            continue
        assert found is not None
        verdicts = {b: v for b, d in passages.items() if (v := d.verdict(drop_shared))}
        assert found.verdicts == verdicts
        assert list(found.verdicts) == sorted(verdicts)
        assert found.notes == tuple(
            d.note() for b, d in sorted(passages.items()) if b not in verdicts
        )
        # As sent to a worker process (pickled as plain tuples), it comes back the same.
        again = pickle.loads(pickle.dumps(found._replace(digest=b"d")))
        assert again == found._replace(digest=b"d")
        assert all(type(v) is Verdict for v in again.verdicts.values())
