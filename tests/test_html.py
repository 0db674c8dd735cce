"""HTML mode: charsets, pruning rules and their examples, and real naeb-dev pages against gold."""

from __future__ import annotations

import codecs
import gzip
import json
import os
import sys
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from cleaner import Cleaner
from cleaner.html import (
    METADATA_FIELDS,
    PRUNE_RULES,
    HtmlConfig,
    HtmlError,
    PruneRule,
    charset_label,
    clean_html,
    declared_charset,
    decode_html,
    extract,
    is_html_name,
    prune_html,
    sidecar_name,
    text_name,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "html"
SHARED = Path(os.environ.get("CLEANER_SHARED_DIR", ROOT.parent / "shared"))
NAEB = SHARED / "data" / "naeb-dev"

LATIN1_PAGE = (FIXTURES / "latin1_meta.html").read_bytes()
LATIN1_SENTENCE = "The “Café Müller” on the market square reopened on Saturday"
CONSENT_PAGE = (FIXTURES / "consent_dialog.html").read_bytes()


def visible_text(html: str) -> str:
    body = LexborHTMLParser(html).body
    return " ".join(body.text(separator=" ").split()) if body is not None else ""


# --------------------------------------------------------------------------------------------
# Charsets


def test_a_latin1_label_reads_as_windows_1252() -> None:
    # The page says ISO-8859-1 and uses 0x93/0x94 quotes and 0x80 for the euro, as pages
    # labelled latin-1 do; browsers (and we) read them as windows-1252.
    decoded = decode_html(LATIN1_PAGE)
    assert (decoded.charset, decoded.source, decoded.errors) == ("cp1252", "meta", 0)
    assert LATIN1_SENTENCE in decoded.text
    assert "costs €4.50 a slice – fifty cents" in decoded.text


def test_the_latin1_page_extracts_and_cleans() -> None:
    result, metadata = clean_html(LATIN1_PAGE)
    assert LATIN1_SENTENCE in result.text
    assert metadata["title"] == "Café Müller reopens on the market square"
    assert (metadata["charset"], metadata["charset_source"]) == ("cp1252", "meta")


def test_a_bom_outranks_the_meta_declaration() -> None:
    text = LATIN1_PAGE.decode("cp1252")
    decoded = decode_html(codecs.BOM_UTF8 + text.encode("utf-8"))
    assert (decoded.charset, decoded.source) == ("utf-8", "bom")
    assert decoded.text == text
    utf16 = decode_html(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert (utf16.charset, utf16.source, utf16.text) == ("utf-16-le", "bom", text)


def test_gzip_bytes_are_unpacked_by_their_magic_number() -> None:
    assert decode_html(gzip.compress(LATIN1_PAGE)) == decode_html(LATIN1_PAGE)
    half = len(LATIN1_PAGE) // 2
    two_members = gzip.compress(LATIN1_PAGE[:half]) + gzip.compress(LATIN1_PAGE[half:])
    assert decode_html(two_members).text == decode_html(LATIN1_PAGE).text
    assert LATIN1_SENTENCE in extract(gzip.compress(LATIN1_PAGE)).text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (gzip.compress(LATIN1_PAGE)[:-20], "cut off"),
        (b"\x1f\x8b\x08\x00garbage-not-deflate", "broken gzip"),
        (gzip.compress(b"<p>" + b"x" * 5000), "larger than"),
    ],
)
def test_bad_gzip_and_oversized_pages_raise_html_error(data: bytes, message: str) -> None:
    with pytest.raises(HtmlError, match=message):
        decode_html(data, max_bytes=4096)


def test_http_charset_outranks_meta_and_utf8_outranks_a_legacy_label() -> None:
    page = '<meta charset="windows-1251"><p>Grüße</p>'
    assert decode_html(page.encode("cp1252"), http_charset="ISO-8859-1").source == "http"
    # Bytes that are valid UTF-8 beyond ASCII under a legacy label: a stale template.
    stale = decode_html(page.encode("utf-8"))
    assert (stale.charset, stale.source) == ("utf-8", "utf8_over_meta")
    assert "Grüße" in stale.text


def test_a_declaration_the_bytes_contradict_falls_back_to_detection() -> None:
    page = '<meta charset="utf-8"><p>Résumé, naïve café: déjà vu</p>'.encode("cp1252")
    decoded = decode_html(page)
    assert decoded.source == "detected"
    assert "Résumé, naïve café: déjà vu" in decoded.text


def test_meta_declarations_in_both_forms() -> None:
    assert declared_charset(b'<meta charset="Shift_JIS">') == "shift_jis"
    http_equiv = b'<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=koi8-r">'
    assert declared_charset(b"<!-- " + b"x" * 3000 + b" -->" + http_equiv) == "koi8-r"
    assert declared_charset(b'<meta charset="no-such-charset">') is None
    assert charset_label("US-ASCII") == "cp1252"
    assert charset_label(None) is None


def test_text_input_is_taken_as_is() -> None:
    extracted = extract(CONSENT_PAGE.decode("utf-8"))
    assert (extracted.metadata["charset"], extracted.metadata["charset_source"]) == (
        None,
        "text",
    )


# --------------------------------------------------------------------------------------------
# Pruning rules: each rule's example, and what no rule may remove

ARTICLE = (
    "<p>The council voted on Monday to extend the harbour ferry service to the three outer "
    "islands from the first of May, ending a campaign that residents began a decade ago.</p>"
    "<p>The new timetable adds four crossings a day in summer and two in winter, and the first "
    "boat leaves the harbour at seven in the morning so that commuters reach the mainland.</p>"
)


def page_with(fragment: str, *, body_attrs: str = "") -> str:
    return (
        f"<html><head><title>Ferry</title></head><body {body_attrs}><main><article>"
        f"<h1>Harbour ferry service extended</h1>{ARTICLE}{fragment}</article></main></body></html>"
    )


def test_rule_ids_are_unique_and_name_their_concept() -> None:
    ids = [rule.id for rule in PRUNE_RULES]
    assert len(ids) == len(set(ids))
    assert all(rule.concept and "." in rule.id and rule.why for rule in PRUNE_RULES)


@pytest.mark.parametrize("rule", PRUNE_RULES, ids=lambda rule: rule.id)
def test_each_rule_removes_its_example_and_nothing_else(rule: PruneRule) -> None:
    example_text = visible_text(rule.example)
    assert example_text
    config = HtmlConfig(prune_concepts=frozenset({rule.concept}))
    pruned_html, pruned = prune_html(page_with(rule.example), config)
    assert [node.rule_id for node in pruned] == [rule.id]
    assert pruned[0].chars == len(example_text)
    assert example_text not in visible_text(pruned_html)
    assert visible_text(pruned_html) == visible_text(page_with(""))


KEPT = [
    # Real markup from naeb-dev pages that the rules must not take.
    pytest.param('<p class="paywall">Schneider said the film was his last.</p>', id="paywall"),
    pytest.param('<div class="article-content"><p>Body text here.</p></div>', id="content"),
    pytest.param('<p class="cookie-recipe">Cream the butter and sugar.</p>', id="cookie-prose"),
    pytest.param('<section aria-label="Share of the vote"><p>52%</p></section>', id="share-of"),
]


@pytest.mark.parametrize("fragment", KEPT)
def test_article_markup_is_kept(fragment: str) -> None:
    pruned_html, pruned = prune_html(page_with(fragment))
    assert pruned == ()
    assert visible_text(fragment) in visible_text(pruned_html)


def test_the_guard_keeps_the_page_wrapper_and_the_headline() -> None:
    # scientificamerican.com sets "newsletter-promo--active" on <body>.
    html = page_with("", body_attrs='class="site newsletter-promo--active"')
    assert prune_html(html)[1] == ()
    wrapped = (
        '<html><body><div class="trending-layout"><h1>Harbour ferry service extended</h1>'
        f"{ARTICLE}</div></body></html>"
    )
    assert prune_html(wrapped)[1] == ()
    mostly = f'<html><body><div class="recommended">{ARTICLE}</div><p>Short.</p></body></html>'
    assert prune_html(mostly)[1] == ()


def test_scripts_go_but_json_ld_stays_for_the_metadata() -> None:
    html = (
        '<html><head><script>var tracking = "x";</script><script type="application/ld+json">'
        '{"@type": "NewsArticle", "author": {"name": "Jane Roe"}}</script></head>'
        f"<body>{ARTICLE}<style>p {{ color: red }}</style></body></html>"
    )
    out, _ = prune_html(html, HtmlConfig(prune=False))
    assert "tracking" not in out and "color: red" not in out
    assert "Jane Roe" in out and "harbour ferry" in out


def test_a_consent_dialog_is_pruned_from_a_hand_made_page() -> None:
    # trafilatura alone keeps the dialog's paragraphs here: they outweigh the short article,
    # as on washingtontechnology.com in naeb-dev.
    cookie_line = "Some of these cookies are strictly necessary for the site to work"
    assert cookie_line in visible_text(CONSENT_PAGE.decode("utf-8"))
    extracted = extract(CONSENT_PAGE, "https://gazette.example/news/harbour-ferry?ref=rss")
    assert [node.rule_id for node in extracted.pruned] == ["consent.container"]
    assert extracted.pruned[0].node == "div.privacy-modal"
    assert cookie_line not in extracted.text
    assert "Accept all" not in extracted.text
    assert extracted.text.startswith("Harbour ferry service extended to the islands\n")
    assert "the first boat will leave the harbour at seven" in extracted.text
    assert extracted.metadata == {
        "title": "Harbour ferry service extended to the islands",
        "author": "Jane Roe",
        "date": "2024-03-05",
        "sitename": "Example Gazette",
        "url": "https://gazette.example/news/harbour-ferry",
        "hostname": "gazette.example",
        "description": None,
        "charset": "utf-8",
        "charset_source": "meta",
    }
    assert tuple(extracted.metadata) == METADATA_FIELDS
    json.dumps(extracted.metadata)


def test_an_empty_page_gives_no_text_and_the_given_url() -> None:
    extracted = extract(b"", "https://example.org/empty")
    assert extracted.text == ""
    assert extracted.metadata["url"] == "https://example.org/empty"


def test_config_rejects_unknown_options() -> None:
    with pytest.raises(TypeError, match="no_such_option"):
        HtmlConfig().with_(no_such_option=True)
    assert HtmlConfig().with_(fast=True).fast


# --------------------------------------------------------------------------------------------
# Real pages from naeb-dev against the hand-cleaned gold


def naeb_page(key: str) -> tuple[bytes, dict[str, str]]:
    if not (NAEB / "articles.json").exists():
        pytest.skip(f"naeb-dev is not at {NAEB}")
    articles = json.loads((NAEB / "articles.json").read_text("utf-8"))
    return gzip.decompress((NAEB / "html" / f"{key}.html.gz").read_bytes()), articles[key]


# Each case: a page, gold sentences that the cleaned text must hold, and boilerplate that
# stands on the page (and in trafilatura's own output) that it must not hold.
REAL_PAGES = [
    pytest.param(
        "9387fdb2afcd9bb53b9ce55c34f27a8c",
        [
            "Jennifer Felix, chief executive of ASRC Federal, explains what drove the company",
            "The pace of change across the entire federal landscape is not getting slower",
        ],
        [
            # The privacy-settings dialog, longer than the article.
            "Those cookies are set by us and called first-party cookies.",
            "Visit www.allaboutcookies.org",
        ],
        id="washingtontechnology-consent-dialog",
    ),
    pytest.param(
        "337929dffd1f1b7710c649d669cbe1a7",
        [
            "The Model Garden includes multiple third-party neural networks for the first time",
            'Google Cloud declined to "speculate on this forward-looking question"',
        ],
        [
            # The affiliate disclosure, a modal on every page.
            "ZDNET's recommendations are based on many hours of testing",
            "'ZDNET Recommends': What exactly does it mean?",
        ],
        id="zdnet-disclosure-modal",
    ),
    pytest.param(
        "700d03cce95246610c32f7d1ce57bf7f",
        [
            "Ivanka and her husband, Jared Kushner, both 42, arrived in Israel on Thursday",
            "President Herzog praised Ivanka and Jared on Instagram",
        ],
        [
            # Photo captions.
            "The former White House senior advisor wore a bulletproof vest",
        ],
        id="dailymail-captions",
    ),
    pytest.param(
        "0de6ef58bd5d689a1ecedc3597cf5e11",
        [
            "Charlie Sheen’s neighbor was arrested after being accused of assaulting the actor",
            "Authorities arrived at the residence Wednesday afternoon",
        ],
        [
            # A reader-support appeal.
            "At HuffPost, we believe that everyone needs high-quality journalism",
        ],
        id="huffpost-support-appeal",
    ),
]


@pytest.mark.parametrize(("key", "must_contain", "must_not_contain"), REAL_PAGES)
def test_real_pages_keep_gold_sentences_and_lose_boilerplate(
    key: str, must_contain: list[str], must_not_contain: list[str]
) -> None:
    html, gold = naeb_page(key)
    result, metadata = clean_html(html, gold["url"], Cleaner())
    page_text = visible_text(html.decode("utf-8"))
    for sentence in must_contain:
        assert sentence in gold["articleBody"]
        assert sentence in result.text
    for line in must_not_contain:
        assert line in page_text  # the boilerplate really is on the page
        assert line not in result.text
    assert metadata["title"] and metadata["title"] in gold["title"]
    assert metadata["sitename"]
    assert (metadata["charset"], metadata["charset_source"]) == ("utf-8", "meta")


def test_real_page_metadata_matches_the_gold() -> None:
    html, gold = naeb_page("9387fdb2afcd9bb53b9ce55c34f27a8c")
    metadata = extract(html, gold["url"]).metadata
    assert metadata["title"] == gold["title"]
    assert metadata["author"] == gold["authors"]
    assert metadata["date"] == gold["date"]
    # The page's canonical URL, without the tracking parameter of the URL it was fetched by.
    assert metadata["url"] == gold["url"].replace("http:", "https:").split("?")[0]


# --------------------------------------------------------------------------------------------
# File names, and the benchmark's metric


@pytest.mark.parametrize(
    ("name", "text", "sidecar"),
    [
        ("a/b.html", "a/b.txt", "a/b.json"),
        ("a/b.HTM", "a/b.txt", "a/b.json"),
        ("a/b.html.gz", "a/b.txt", "a/b.json"),
        ("a/v1.2.htm.gz", "a/v1.2.txt", "a/v1.2.json"),
    ],
)
def test_output_names(name: str, text: str, sidecar: str) -> None:
    assert is_html_name(name)
    assert str(text_name(name)) == text
    assert str(sidecar_name(name)) == sidecar


@pytest.mark.parametrize("name", ["a/b.txt", "a/b.gz", "a/.html", "a/b.html.zst", "b.xhtml"])
def test_other_names_are_not_html(name: str) -> None:
    assert not is_html_name(name)
    with pytest.raises(ValueError, match="not an HTML file name"):
        text_name(name)


def test_benchmark_token_scores() -> None:
    if str(ROOT) not in sys.path:  # benchmarks/ is not installed
        sys.path.insert(0, str(ROOT))
    from benchmarks.naeb_html import Scores, token_scores

    # Bags of words: "the" twice in the output but once in the gold counts once.
    page = token_scores("The ferry, the ferry!", "The ferry sails.")
    assert (page.overlap, page.predicted, page.gold) == (2, 4, 3)
    assert page.precision == 0.5 and page.recall == pytest.approx(2 / 3)
    assert token_scores("", "Gold text").f1 == 0.0
    total = Scores.micro([page, token_scores("", "Gold text")])
    assert (total.overlap, total.predicted, total.gold) == (2, 4, 5)
