"""Realistic news dumps with ground truth, generated from real text.

Article text is real: each of 7 to 12 paragraphs joins a sentence or two of one real article
(read in order, so an article follows one story) with two sentences drawn from all of them
(the naeb-dev gold bodies and the seeds' cleaned bodies, ``fixtures/seeds/expected``), so that
a million articles hardly ever repeat a paragraph by chance; the headline joins the first
words of the lead to those of another real sentence, for the same reason. Into that the
generator plants what the cleaner is for, and writes down each plant:

- boilerplate of every category of :class:`cleaner.model.Category`, at the head, between
  paragraphs and at the tail, from the rules' must-remove examples (``cleaner/rules/*.toml``,
  verbatim), lines removed from the seed articles, and templates filled per site and article.
  Each synthetic site (``site0001.example``) has its own layout, date style, byline style,
  footer, newsletter pitch and teaser heading on every page (site boilerplate); a few
  platform strings and consent dialogs run on many sites (corpus boilerplate). Teasers carry
  the headline of another article of the dump, of the same site where one is recent;
- recycled paragraphs: a later copy of an earlier paragraph of the article, with 1 to 5 word
  edits (``duplicate_in_document``);
- shared quotes: one long real paragraph in 3 to 6 articles of different sites, to be kept;
- near-duplicate articles: a copy of a recent article with a few word edits, on another site
  (syndication) or its own (a re-post), at whole-article Jaccard >= 0.8 on character 5-grams
  (checked; a copy that falls below is planted again with less boilerplate, then as a re-post);
- mojibake: a few articles encoded as UTF-8 and decoded as Windows-1252 (ftfy's
  ``sloppy-windows-1252``), line by line where ftfy gives the line back.

The truth format is documented in ``benchmarks/dump_truth.py``, which also scores a cleaner's
output against it. Output is deterministic from ``--seed`` (every article and every block of
1,000 articles draws from its own ``random.Random`` seeded with a string) and streamed: memory
holds the real text, a cache of site profiles and the last 200 articles, whatever ``--articles``.

    .venv/bin/python benchmarks/generate_dump.py --out /tmp/dump --articles 100000 \\
        [--shard-size 10000] [--seed 1] [--gzip] [--overwrite]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import re
import sys
import time
import tomllib
import unicodedata
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ftfy
import ftfy.bad_codecs  # registers the sloppy-windows-1252 codec

from benchmarks.common import NAEB_DIR, REPO_ROOT, SENTENCE_BREAK, write_json
from benchmarks.dump_truth import NEAR_DUPLICATE_THRESHOLD, jaccard, line_shingles
from cleaner.model import Category

RULES_DIR = REPO_ROOT / "cleaner" / "rules"
SEED_EXPECTED_DIR = REPO_ROOT / "fixtures" / "seeds" / "expected"

#: Articles planned together: sites, near-duplicates, mojibake and shared quotes.
BLOCK = 1000
#: Recent articles that a near-duplicate may copy, and recent headlines for teasers.
WINDOW = 200
HEADLINES = 512
#: Site profiles kept (and each site's latest headline); an evicted profile is made again
#: from the seed, the same. With the two above, the only state that outlives an article, so
#: memory does not grow with the dump.
SITE_CACHE = 8192
MOJIBAKE_CODEC = "sloppy-windows-1252"


@dataclass(frozen=True, slots=True)
class DumpConfig:
    """How much of each kind of thing a dump holds. Rates are shares of articles."""

    articles: int = 10_000
    seed: int = 1
    shard_size: int = 10_000
    articles_per_site: int = 100
    min_sites: int = 20
    #: Near-duplicate copies of a recent article.
    copy_rate: float = 0.03
    #: Articles in mojibake (at least one per block of 1,000).
    mojibake_rate: float = 0.005
    #: Articles that carry a shared quote (each quote runs in 3 to 6 articles of a block).
    quote_rate: float = 0.03
    #: Articles with a recycled paragraph.
    recycle_rate: float = 0.12
    gzip: bool = False

    @property
    def sites(self) -> int:
        return max(self.min_sites, self.articles // self.articles_per_site)


# --------------------------------------------------------------------------------------------
# Real text


@dataclass(frozen=True, slots=True)
class Story:
    """A real article: its title (a teaser's headline before the dump has its own) and its
    sentences, in order."""

    title: str
    sentences: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Sources:
    stories: tuple[Story, ...]
    sentences: tuple[str, ...]
    #: Real paragraphs of 200 to 1,200 characters, for shared quotes.
    long_paragraphs: tuple[str, ...]
    #: People, from naeb-dev's author fields: bylines and photographers.
    names: tuple[str, ...]
    #: Must-remove examples per rule id ("teaser.heading"), strong and weak alike.
    examples: dict[str, tuple[str, ...]]
    #: Lines removed from each seed article, by category, in runs: (seed stem, lines).
    seed_runs: dict[str, tuple[tuple[str, tuple[str, ...]], ...]]


_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def normalise(text: str) -> str:
    """The form a cleaner's repair leaves alone: NFC, plain spaces, no zero-width characters."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text).translate(_INVISIBLE)).strip()


#: A few of the sites' own prompts that the gold bodies kept ("If you buy something, we may
#: earn an affiliate commission."); drawn into other articles they would be article text in
#: the truth, so they are left out. (Cookie recipes and articles about newsletters stay.)
_GOLD_PROMPTS = re.compile(
    r"independently selected by our editors|we may earn an affiliate commission|"
    r"\bsign up for\b.{0,40}\bnewsletter\b",
    re.IGNORECASE,
)


def _stable(text: str) -> bool:
    """ftfy (without restyling quotes) leaves it as it is, so a repaired dump equals its truth."""
    if text.isascii() and text.isprintable() and "&" not in text:
        return True
    return ftfy.fix_text(text, uncurl_quotes=False) == text


def load_sources(
    naeb_dir: Path = NAEB_DIR,
    seed_expected: Path = SEED_EXPECTED_DIR,
    rules_dir: Path = RULES_DIR,
) -> Sources:
    records = json.loads((naeb_dir / "articles.json").read_text("utf-8"))
    texts = [(r.get("title", ""), r.get("articleBody", "")) for _, r in sorted(records.items())]
    for path in sorted(seed_expected.glob("*.txt")):
        body = path.read_text("utf-8")
        first = body.strip().split("\n", 1)[0].strip()
        title = first if len(first) < 120 and not first.endswith(".") else ""
        texts.append((title, body if not title else body.strip()[len(first) :]))
    stories: list[Story] = []
    sentences: set[str] = set()
    paragraphs: set[str] = set()
    for title, body in texts:
        story = []
        for raw in body.split("\n"):
            line = normalise(raw)
            if 200 <= len(line) <= 1200 and _stable(line) and not _GOLD_PROMPTS.search(line):
                paragraphs.add(line)
            for sentence in SENTENCE_BREAK.split(line):
                if 40 <= len(sentence) <= 300 and _stable(sentence):
                    if _GOLD_PROMPTS.search(sentence):
                        continue
                    story.append(sentence)
        sentences.update(story)
        title = normalise(title)
        if len(story) >= 5 and title and _stable(title):
            stories.append(Story(title, tuple(story)))
    names: set[str] = set()
    for record in records.values():
        for name in str(record.get("authors", "")).split(","):
            name = normalise(name)
            if 2 <= len(name.split()) <= 3 and re.fullmatch(r"[^\W\d_][\w.'’ -]+", name):
                names.add(name)
    examples: dict[str, tuple[str, ...]] = {}
    for path in sorted(rules_dir.glob("*.toml")):
        data = tomllib.loads(path.read_text("utf-8"))
        for rule in data.get("rules", []):
            examples[f"{data['category']}.{rule['id']}"] = tuple(rule.get("remove", ()))
    return Sources(
        stories=tuple(stories),
        sentences=tuple(sorted(sentences)),
        long_paragraphs=tuple(sorted(paragraphs)),
        names=tuple(sorted(names)),
        examples=examples,
        seed_runs=_seed_runs(seed_expected),
    )


def _seed_runs(folder: Path) -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """Consecutive removals of one category in each seed's expected removals: the seed's own
    boilerplate blocks (its comment policy, its consent dialog, its photo caption)."""
    runs: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for path in sorted(folder.glob("*.removals.json")):
        stem = path.name.removesuffix(".removals.json")
        current: list[str] = []
        category = None
        for removal in [*json.loads(path.read_text("utf-8")), {"category": None}]:
            if removal["category"] != category and current and category:
                runs.setdefault(category, []).append((stem, tuple(current)))
                current = []
            category = removal["category"]
            rule = removal.get("rule_id", "")
            # A repeated caption or paragraph is a removal only because of its first copy.
            if category and category != "duplicate_in_document" and ".repeated" not in rule:
                current.append(removal["text"])
    return {k: tuple(v) for k, v in runs.items()}


# --------------------------------------------------------------------------------------------
# What is planted: lines and sites


@dataclass(slots=True, eq=False)
class Line:
    """One line of an article; ``category`` None is article text."""

    text: str
    category: str | None = None
    source: str = ""
    repeats: str = "article"
    copy_of: Line | None = None
    edits: int = 0
    jaccard: float | None = None
    shared: str | None = None
    role: str | None = None
    #: A planted string at the end of this article line: (its length, category, source).
    tail_span: tuple[int, str, str] | None = None


def bp(text: str, category: Category, source: str, repeats: str = "article") -> Line:
    """A planted line."""
    return Line(text, category.value, source, repeats)


def rule_line(
    sources: Sources,
    rng: random.Random,
    key: str,
    category: Category,
    fallback: str = "",
    repeats: str = "corpus",
) -> Line:
    """A must-remove example of rule ``key`` (``category.rule_id``), verbatim; the fallback
    if the rule has gone from the rule files."""
    options = sources.examples.get(key)
    if options:
        return bp(rng.choice(options), category, f"rule:{key}", repeats)
    return bp(fallback or category.value, category, "template:fallback", repeats)


CITIES = (
    "Ashford", "Bayview", "Brookfield", "Cedar Falls", "Clearwater", "Eastport", "Elmwood",
    "Fairview", "Glenwood", "Harbor City", "Highland", "Kingsbridge", "Lakeside", "Maple Grove",
    "Millbrook", "Northfield", "Oakdale", "Pinecrest", "Riverton", "Rockport", "Springdale",
    "Stonebridge", "Westbury", "Willow Creek",
)  # fmt: skip
PAPERS = (
    "Herald", "Gazette", "Times", "Post", "Tribune", "Courier", "Chronicle", "Observer",
    "Sentinel", "Ledger", "Star", "Journal", "News", "Dispatch", "Review", "Monitor", "Record",
    "Examiner", "Bulletin", "Independent",
)  # fmt: skip
SECTIONS = (
    "News", "World", "Politics", "Business", "Economy", "Tech", "Science", "Health", "Sport",
    "Culture", "Opinion", "Local", "Europe", "US", "Middle East", "Asia", "Entertainment",
    "Lifestyle", "Climate", "Markets",
)  # fmt: skip
AGENCIES = ("AFP", "AP", "Reuters", "AA", "dpa", "Anadolu Agency", "Xinhua", "EFE")
NETWORKS = (
    "Facebook",
    "Twitter",
    "WhatsApp",
    "Email",
    "LinkedIn",
    "Pinterest",
    "Reddit",
    "Telegram",
)
TAGLINES = (
    "Independent journalism for {city} and beyond.", "News you can trust, every day.",
    "Your source for local news, sport and events.", "Reporting without fear or favour.",
    "The stories that matter to {city}.",
)  # fmt: skip
#: The same strings on many sites: what a CMS or theme puts on every page it serves.
PLATFORM_HEAD = ("Skip to content", "Toggle navigation", "Search for:", "Menu")
PLATFORM_TAIL = (
    "Powered by WordPress", "Back to top", "Proudly powered by WordPress", "Load more",
    "Print Friendly, PDF & Email", "Theme by Colorlib",
)  # fmt: skip
#: Consent dialogs that plugins show on many sites, word for word.
PLATFORM_COOKIE = (
    (
        "We use cookies to ensure that we give you the best experience on our website. If you "
        "continue to use this site we will assume that you are happy with it.",
        "OkPrivacy policy",
    ),
    ("This site uses cookies to give you the best experience.", "Accept All Reject All"),
    (
        "We and our partners use cookies to personalise ads and analyse traffic.",
        "Cookie Settings",
        "Accept cookies",
    ),
)
#: Capitalised words that make poor tags.
STOP = frozenset(
    {
        "The", "This", "That", "There", "They", "Their", "When", "What", "Where", "With",
        "After", "Before", "While", "Which", "Although", "But", "And", "For", "From", "Into",
        "About", "Over", "Under", "Some", "Many", "Most", "More", "Other", "Such", "These",
        "Those", "Since", "During", "According", "However", "Also", "Still", "Even", "Just",
        "Here", "Then",
    }
)  # fmt: skip
_CAPITALISED = re.compile(r"\b[A-Z][a-z]{3,}\b")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def _stamp(style: int, t: datetime) -> str:
    """A date line in one of the formats news sites print (the timestamp rules' examples)."""
    month, day, year, weekday = MONTHS[t.month - 1], t.day, t.year, WEEKDAYS[t.weekday()]
    hour12 = (t.hour % 12) or 12
    ampm = "AM" if t.hour < 12 else "PM"
    styles = (
        f"{t.hour:02d}:{t.minute:02d} - {day:02d}/{t.month:02d}/{year} {weekday}",
        f"{month} {day}, {year}",
        f"Published: {day} {month} {year}",
        f"Updated {hour12}:{t.minute:02d} {ampm} EDT, {weekday[:3]} {month} {day}, {year}",
        f"{year}-{t.month:02d}-{day:02d}T{t.hour:02d}:{t.minute:02d}:00Z",
        f"Posted on {month} {day}, {year} at {hour12}:{t.minute:02d} {ampm.lower()}",
        f"{weekday} {day} {month} {year} {t.hour:02d}:{t.minute:02d}, UK",
        f"Published {month[:3]} {day}, {year}",
        f"Update: {t.hour:02d}:{t.minute:02d} - {day}/{t.month:02d}/{year} {weekday}",
    )
    return styles[style % len(styles)]


DATE_STYLES = 9

#: Pieces that the first sites (the largest: see DumpGenerator._site_index) show whatever
#: their draw, so that every dump has every category, however few its sites.
FIRST_SITES = (
    frozenset({"disclosure", "comment_policy", "separator", "reading_time"}),
    frozenset({"cookie_tail", "breadcrumb", "tags", "embed_credit", "relative_time"}),
    frozenset({"cookie_head", "author_box", "byline_tail", "teaser_block", "caption", "ad"}),
)


@dataclass(frozen=True, slots=True)
class Site:
    """A synthetic site: the same layout and the same strings on every page."""

    index: int
    host: str
    name: str
    sep: str
    title_in_text: bool
    date_style: int
    byline_style: int
    agency: str | None
    staff: tuple[str, ...]
    sections: tuple[str, ...]
    #: Piece kinds in page order, each with the share of the site's articles that show it.
    before_title: tuple[tuple[str, float], ...]
    after_title: tuple[tuple[str, float], ...]
    between: tuple[tuple[str, float], ...]
    tail: tuple[tuple[str, float], ...]
    #: The site's own strings, the same on each page that shows them.
    footer: tuple[Line, ...]
    platform_head: tuple[Line, ...]
    platform_tail: tuple[Line, ...]
    cookie: tuple[Line, ...]
    comment_policy: tuple[Line, ...]
    newsletter: Line
    copyright: Line
    disclosure: Line
    teaser_heading: Line
    share_row: Line
    ad_label: Line
    tags_style: int


# --------------------------------------------------------------------------------------------
# The generator


@dataclass(slots=True)
class Article:
    number: int
    id: str
    site: Site
    url: str
    title: str
    lines: list[Line]
    text: str
    #: The text before mojibake (the same text when there is none).
    source: str
    spans: list[tuple[int, int]]
    mojibake: bool = False
    near_duplicates: list[tuple[str, float]] = field(default_factory=list)
    cluster: str | None = None
    #: How a near-duplicate was made: "dressed", "light" or "repost" (see DumpGenerator._copy).
    copy_kind: str | None = None

    def clean(self) -> str:
        """The article lines, planted spans cut out, repaired."""
        out = []
        for line in self.lines:
            if line.category is None:
                cut = line.tail_span[0] if line.tail_span else 0
                out.append(line.text[: len(line.text) - cut].rstrip())
        return "\n".join(out)


@dataclass(slots=True)
class _Root:
    """A recent article that a near-duplicate may copy, with the copies made of it so far."""

    site: int
    id: str
    title: str
    date: datetime
    body: list[Line]
    lines: list[Line]
    #: (id, shingles) of each copy so far.
    members: list[tuple[str, set[str]]] = field(default_factory=list)
    shingles: set[str] | None = None
    #: Shingles of the lines of this article and its copies, once it is copied.
    memo: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Plan:
    """Decisions for a block of articles, drawn together so that a quote's articles are on
    different sites and every block has its mojibake."""

    sites: list[int]
    copies: frozenset[int]
    mojibake: frozenset[int]
    quotes: dict[int, int]


class DumpGenerator:
    """Articles one at a time, deterministically from the config's seed."""

    def __init__(self, config: DumpConfig, sources: Sources) -> None:
        self.config = config
        self.sources = sources
        self.seed = config.seed
        self._sites: OrderedDict[int, Site] = OrderedDict()
        self._roots: deque[_Root] = deque(maxlen=WINDOW)
        self._headlines: deque[str] = deque(maxlen=HEADLINES)
        self._site_headlines: OrderedDict[int, str] = OrderedDict()
        self._host_width = max(4, len(str(config.sites - 1)))
        order = list(range(len(sources.long_paragraphs)))
        random.Random(f"{self.seed}:quotes").shuffle(order)
        self._quote_order = order
        self._start = datetime(2018, 1, 1)

    # -- the plan of a block ---------------------------------------------------------------

    def _site_index(self, rng: random.Random) -> int:
        # Skewed: a few large sites, many small ones.
        return min(self.config.sites - 1, int(self.config.sites * rng.random() ** 1.5))

    def _plan(self, block: int) -> _Plan:
        first = block * BLOCK
        size = min(BLOCK, self.config.articles - first)
        rng = random.Random(f"{self.seed}:block:{block}")
        sites = [self._site_index(rng) for _ in range(size)]
        candidates = [i for i in range(size) if first + i > 0]
        copies = frozenset(
            rng.sample(candidates, min(len(candidates), round(size * self.config.copy_rate)))
        )
        rest = [i for i in range(size) if i not in copies]
        n_moji = min(len(rest), max(1, round(size * self.config.mojibake_rate)))
        mojibake = frozenset(rng.sample(rest, n_moji))
        quotes: dict[int, int] = {}
        free = [i for i in rest if i not in mojibake]
        per_block = self._quotes_per_block()
        for j in range(per_block):
            rng.shuffle(free)
            wanted = rng.randint(3, 6)
            chosen: list[int] = []
            seen: set[int] = set()
            for i in free:
                if i not in quotes and sites[i] not in seen:
                    chosen.append(i)
                    seen.add(sites[i])
                    if len(chosen) == wanted:
                        break
            if len(chosen) >= 2:
                for i in chosen:
                    quotes[i] = block * per_block + j
        return _Plan(sites, copies, mojibake, quotes)

    def _quotes_per_block(self) -> int:
        return max(1, round(BLOCK * self.config.quote_rate / 4.5))

    def _quote(self, k: int) -> str:
        """Quote ``k``: a long real paragraph; once every one is used (after about 2,500
        quotes, 360,000 articles), with a real sentence after it, so that no two quotes are the
        same passage (but such a quote is near one used much earlier)."""
        pool = self.sources.long_paragraphs
        text = pool[self._quote_order[k % len(pool)]]
        if k >= len(pool):
            text += " " + random.Random(f"{self.seed}:quote:{k}").choice(self.sources.sentences)
        return text

    # -- sites -----------------------------------------------------------------------------

    def site(self, index: int) -> Site:
        site = self._sites.get(index)
        if site is None:
            site = self._make_site(index)
            self._sites[index] = site
            if len(self._sites) > SITE_CACHE:
                self._sites.popitem(last=False)
        else:
            self._sites.move_to_end(index)
        return site

    def _make_site(self, index: int) -> Site:
        rng = random.Random(f"{self.seed}:site:{index}")
        host = f"site{index:0{self._host_width}d}.example"
        city = rng.choice(CITIES)
        name = f"{'The ' if rng.random() < 0.4 else ''}{city} {rng.choice(PAPERS)}"
        year = rng.randint(1950, 2015)

        def own(text: str, category: Category, template: str) -> Line:
            return bp(text, category, f"template:{template}", "site")

        def rule(key: str, category: Category) -> Line:
            return rule_line(self.sources, rng, key, category)

        street = rng.choice(("High", "Market", "Station", "Church", "Mill"))
        phone = f"0{rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        footer_options = [
            f"{name} — " + rng.choice(TAGLINES).format(city=city),
            f"{name} is an independent news site serving {city} since {year}.",
            f"{name}, {rng.randint(1, 250)} {street} Street, {city}. Tel: {phone}",
            f"Got a story? Email newsroom@{host}",
            "About us | Contact | Advertise with us | Careers | "
            + rng.choice(("Terms", "Corrections")),
        ]
        footer = tuple(
            own(text, Category.SITE_BOILERPLATE, "site_footer")
            for text in rng.sample(footer_options, rng.randint(1, 3))
        )
        platform_head = tuple(
            bp(t, Category.CORPUS_BOILERPLATE, "template:platform", "corpus")
            for t in rng.sample(PLATFORM_HEAD, rng.choice((0, 0, 1, 2)))
        )
        platform_tail = tuple(
            bp(t, Category.CORPUS_BOILERPLATE, "template:platform", "corpus")
            for t in rng.sample(PLATFORM_TAIL, rng.choice((0, 0, 1, 2)))
        )
        sub = Category.SUBSCRIPTION
        newsletter = rng.choice(
            (
                own(f"Sign up for the {name} daily newsletter", sub, "newsletter"),
                own(
                    f"Get the {city} morning briefing from {name} in your inbox.", sub, "newsletter"
                ),
                rule("subscription.newsletter_signup", sub),
                rule("subscription.imperative_signup", sub),
                rule("subscription.paywall", sub),
            )
        )
        since = rng.randint(2018, 2024)
        copyright_line = rng.choice(
            (
                own(f"© {since} {name}. All rights reserved.", Category.COPYRIGHT, "copyright"),
                own(f"Copyright © {name} {year}-2024", Category.COPYRIGHT, "copyright"),
                rule("copyright.copyright_line", Category.COPYRIGHT),
                rule("copyright.rights_reserved", Category.COPYRIGHT),
            )
        )
        disclosure = rng.choice(
            (
                own(
                    f"{name} has affiliate partnerships. We receive compensation when you click "
                    "on a link and make a purchase.",
                    Category.DISCLOSURE,
                    "disclosure",
                ),
                own(
                    f"All products featured on {name} are independently selected by our "
                    "editors. When you buy something through our retail links, we may earn an "
                    "affiliate commission.",
                    Category.DISCLOSURE,
                    "disclosure",
                ),
                rule("disclosure.affiliate_links", Category.DISCLOSURE),
                rule("disclosure.editorial_policy", Category.DISCLOSURE),
                rule("disclosure.recommendation_note", Category.DISCLOSURE),
            )
        )
        networks = rng.sample(NETWORKS, rng.randint(2, 5))
        share = Category.SHARE_PROMPT
        share_row = rng.choice(
            (
                own(" ".join(networks), share, "share_row"),
                own(" | ".join(f"Share on {n}" for n in networks[:2]), share, "share_row"),
                rule("share_prompt.share_row", share),
                rule("share_prompt.share_label", share),
            )
        )
        teaser_heading = rule_line(
            self.sources, rng, "teaser.heading", Category.TEASER, "Read more:", "site"
        )

        def layout(options: Sequence[tuple[str, float, float]]) -> tuple[tuple[str, float], ...]:
            """The pieces this site shows; each option: kind, share of sites that show it,
            share of their articles."""
            chosen = []
            for kind, per_site, per_page in options:
                if rng.random() < per_site or kind in forced:
                    chosen.append((kind, per_page))
            return tuple(chosen)

        forced = FIRST_SITES[index] if index < len(FIRST_SITES) else frozenset()

        before_title = layout(
            [("platform_head", 1.0, 1.0), ("breadcrumb", 0.4, 0.95), ("cookie_head", 0.1, 1.0)]
        )
        after_title = layout(
            [
                ("byline", 0.7, 0.9), ("timestamp", 0.8, 0.95), ("reading_time", 0.2, 1.0),
                ("share_head", 0.3, 1.0), ("caption", 0.5, 0.5), ("ad", 0.2, 0.6),
                ("disclosure", 0.05, 1.0), ("separator", 0.1, 1.0),
            ]
        )  # fmt: skip
        between = layout(
            [
                ("ad", 0.4, 0.6), ("teaser_inline", 0.35, 0.5), ("newsletter", 0.2, 0.4),
                ("caption", 0.3, 0.3), ("separator", 0.1, 0.5), ("embed_credit", 0.1, 0.3),
            ]
        )  # fmt: skip
        tail = list(
            layout(
                [
                    ("tags", 0.45, 0.9), ("share_tail", 0.4, 0.9), ("author_box", 0.15, 0.9),
                    ("disclosure", 0.1, 0.9), ("teaser_block", 0.4, 0.8), ("newsletter", 0.35, 0.9),
                    ("copyright", 0.5, 1.0), ("comment_policy", 0.2, 0.95),
                    ("relative_time", 0.1, 1.0), ("byline_tail", 0.15, 0.8),
                ]
            )
        )  # fmt: skip
        rng.shuffle(tail)  # each site has its own order of tail pieces
        if not any(kind == "cookie_head" for kind, _ in before_title):
            tail += layout([("cookie_tail", 0.25, 1.0)])
        tail += [("footer", 0.95), ("platform_tail", 1.0)]
        names = self.sources.names or ("Jane Doe",)
        return Site(
            index=index,
            host=host,
            name=name,
            sep=rng.choice(("\n", "\n", "\n", "\n\n")),
            title_in_text=rng.random() < 0.5,
            date_style=rng.randrange(DATE_STYLES),
            byline_style=rng.randrange(7),
            agency=rng.choice(AGENCIES) if rng.random() < 0.4 else None,
            staff=tuple(rng.sample(names, min(len(names), rng.randint(3, 8)))),
            sections=tuple(rng.sample(SECTIONS, rng.randint(3, 6))),
            before_title=before_title,
            after_title=after_title,
            between=between,
            tail=tuple(tail),
            footer=footer,
            platform_head=platform_head,
            platform_tail=platform_tail,
            cookie=self._site_cookie(rng, name, host),
            comment_policy=self._site_comment_policy(rng, name, host),
            newsletter=newsletter,
            copyright=copyright_line,
            disclosure=disclosure,
            teaser_heading=teaser_heading,
            share_row=share_row,
            ad_label=rule("advertisement.ad_label", Category.ADVERTISEMENT),
            tags_style=rng.randrange(4),
        )

    def _site_cookie(self, rng: random.Random, name: str, host: str) -> tuple[Line, ...]:
        """The site's consent dialog: a plugin's, word for word as on many sites (a seed
        page's, or a common one), one put together from the rules' examples, or the site's
        own notice and a button."""
        roll = rng.random()
        runs = self.sources.seed_runs.get("cookie_banner", ())
        cookie = Category.COOKIE_BANNER

        def rule(key: str, fallback: str) -> Line:
            return rule_line(self.sources, rng, f"cookie_banner.{key}", cookie, fallback)

        if roll < 0.25 and runs:
            stem, seed_lines = rng.choice(runs)
            return tuple(bp(t, cookie, f"seed:{stem}", "corpus") for t in seed_lines)
        if roll < 0.55:
            variant = rng.randrange(len(PLATFORM_COOKIE))
            return tuple(
                bp(t, cookie, f"template:platform_cookie_{variant}", "corpus")
                for t in PLATFORM_COOKIE[variant]
            )
        if roll < 0.8:
            notice = rng.choice(
                (
                    "site_uses_cookies",
                    "we_use_cookies",
                    "continuing_agrees",
                    "updated_privacy_policy",
                )
            )
            lines: list[Line] = [
                rule(notice, "This site uses cookies to give you the best experience.")
            ]
            if rng.random() < 0.4:  # the dialog's own prose: evidence next to the notice
                lines.append(
                    rule(
                        rng.choice(("cookie_category_text", "cookie_mention")),
                        "These cookies will be stored in your browser only with your consent.",
                    )
                )
            if rng.random() < 0.4:
                lines.insert(0, rule("policy_heading", "Privacy Overview"))
            if rng.random() < 0.15:
                lines = [
                    rule(
                        "notice_with_buttons",
                        "By continuing to use this site, you agree to our use of cookies. "
                        "Accept Read More",
                    )
                ]
            else:
                lines.append(rule(rng.choice(("buttons", "got_it")), "Accept All Reject All"))
            return tuple(lines)
        notice_text = rng.choice(
            (
                f"{name} uses cookies to improve your experience. By using our website, you "
                "agree to our use of cookies.",
                f"This website uses cookies to improve your experience on {host}. Read our "
                "cookie policy to find out more.",
            )
        )
        return (
            bp(notice_text, cookie, "template:cookie_notice", "site"),
            rule(rng.choice(("buttons", "got_it")), "Accept All Reject All"),
        )

    def _site_comment_policy(self, rng: random.Random, name: str, host: str) -> tuple[Line, ...]:
        """A seed site's comment policy under this site's name, or headings and rules from
        the rules' examples and a sentence of the site's own."""
        runs = self.sources.seed_runs.get("comment_policy", ())
        if rng.random() < 0.35 and runs:
            _, lines = rng.choice(runs)
            return tuple(
                bp(
                    t.replace("The Herald", name).replace("heraldscotland.com", host),
                    Category.COMMENT_POLICY,
                    "template:seed_comment_policy",
                    "site",
                )
                for t in lines
            )
        policy = Category.COMMENT_POLICY

        def rule(key: str, fallback: str) -> Line:
            return rule_line(self.sources, rng, f"comment_policy.{key}", policy, fallback)

        heading = rng.choice(("comments_moderation_heading", "why_subscribers_only"))
        out = [rule(heading, "Leave a Reply")]
        for key in ("liable_for_comments", "moderation_talk", "subscriber_comments"):
            if rng.random() < 0.4:
                out.append(rule(key, "Please keep your comments civil and on topic."))
        own = f"Comments on {name} are moderated. Keep your comments civil and on topic."
        out.append(bp(own, policy, "template:comment_rules", "site"))
        if rng.random() < 0.6:
            out.append(
                rule(rng.choice(("login_to_comment", "report_comment")), "Log in to comment")
            )
        return tuple(out)

    # -- articles --------------------------------------------------------------------------

    def articles(self) -> Iterator[Article]:
        plan = self._plan(0)
        for number in range(self.config.articles):
            block, position = divmod(number, BLOCK)
            if position == 0 and block:
                plan = self._plan(block)
            yield self._article(
                number,
                plan.sites[position],
                copy=position in plan.copies,
                mojibake=position in plan.mojibake,
                quote=plan.quotes.get(position),
            )

    def _article(
        self, number: int, site_index: int, copy: bool, mojibake: bool, quote: int | None
    ) -> Article:
        rng = random.Random(f"{self.seed}:article:{number}")
        article_id = hashlib.blake2b(f"{self.seed}:{number}".encode(), digest_size=8).hexdigest()
        article = self._copy(rng, number, article_id) if copy and self._roots else None
        if article is None:
            story = rng.choice(self.sources.stories)
            start = rng.randrange(max(1, len(story.sentences) // 3))
            # A headline from the lead and one more real sentence: the real titles are too
            # few, and a million articles under 210 titles would repeat each one thousands of
            # times, which a corpus pass would rightly call boilerplate.
            other = self.sources.sentences[int(rng.random() * len(self.sources.sentences))]
            title = f"{_cut(story.sentences[start], rng, 4, 8)}: {_cut(other, rng, 3, 6)}"
            when = self._start + timedelta(seconds=rng.randrange(7 * 365 * 86400))
            body = self._body(rng, story, start, quote)
            site = self.site(site_index)
            lines = self._dress(rng, site, title, when, body)
            article = self._assemble(number, article_id, site, title, when, lines)
            if mojibake:
                self._mojibake(article)
            else:
                root = _Root(site_index, article_id, title, when, body, lines)
                self._roots.append(root)
        self._headlines.append(article.title)
        self._site_headlines[article.site.index] = article.title
        self._site_headlines.move_to_end(article.site.index)
        if len(self._site_headlines) > SITE_CACHE:
            self._site_headlines.popitem(last=False)
        return article

    def _body(self, rng: random.Random, story: Story, start: int, quote: int | None) -> list[Line]:
        """7 to 12 paragraphs, each a sentence or two of the story, in order, and two sentences
        drawn from all real text; perhaps a recycled copy, perhaps a shared quote."""
        sentences = self.sources.sentences
        drawn = len(sentences)
        own_sentences = story.sentences
        uniform = rng.random  # sentences[int(uniform() * n)]: rng.choice's draw, but faster
        body: list[Line] = []
        at = start
        for _ in range(rng.randint(7, 12)):
            own = 2 if uniform() < 0.25 else 1
            parts = [own_sentences[(at + k) % len(own_sentences)] for k in range(own)]
            at += own
            parts.append(sentences[int(uniform() * drawn)])
            parts.append(sentences[int(uniform() * drawn)])
            body.append(Line(" ".join(parts)))
        if rng.random() < self.config.recycle_rate:
            for _ in range(rng.choice((1, 1, 2))):
                self._recycle(rng, body)
        if quote is not None:
            line = Line(self._quote(quote), shared=f"q{quote:06d}")
            body.insert(rng.randint(1, len(body)), line)
        return body

    def _recycle(self, rng: random.Random, body: list[Line]) -> None:
        """A later copy of an earlier paragraph with 1 to 5 word edits."""
        options = [
            i for i, line in enumerate(body[:-1])
            if line.category is None and line.shared is None and len(line.text) >= 150
        ]  # fmt: skip
        if not options:
            return
        i = rng.choice(options)
        edits = rng.randint(1, 5)
        text = edit_words(body[i].text, rng, edits)
        score = jaccard(line_shingles(body[i].text), line_shingles(text))
        copy = Line(
            text,
            Category.DUPLICATE_IN_DOCUMENT.value,
            "recycled",
            copy_of=body[i],
            edits=edits,
            jaccard=round(score, 4),
        )
        body.insert(rng.randint(i + 2, len(body)), copy)

    @staticmethod
    def _shingles(lines: list[Line], memo: dict[str, frozenset[str]]) -> set[str]:
        """An article's shingles (:func:`shingles` of its text) from its lines', kept in
        ``memo``: a copy shares most of its lines with its original."""
        out: set[str] = set()
        for line in lines:
            found = memo.get(line.text)
            if found is None:
                found = memo[line.text] = line_shingles(line.text)
            out |= found
        return out

    def _copy(self, rng: random.Random, number: int, article_id: str) -> Article | None:
        """A near-duplicate of a recent article: its body with a few word edits, on another
        site (syndication, 70%) or its own. Planted with the new site's boilerplate; below the
        threshold, again with only the site's footer and date; then as a re-post of the same
        page. None when even that falls below (the caller writes an ordinary article)."""
        root = rng.choice(self._roots)
        if len(root.members) >= 3:
            return None
        mapping: dict[int, Line] = {}
        body: list[Line] = []
        editable = [
            i for i, line in enumerate(root.body) if line.category is None and not line.shared
        ]
        to_edit = set(rng.sample(editable, min(len(editable), rng.randint(1, 3))))
        for i, old in enumerate(root.body):
            text = edit_words(old.text, rng, rng.randint(1, 3)) if i in to_edit else old.text
            new = Line(
                text, old.category, old.source, old.repeats,
                None if old.copy_of is None else mapping[id(old.copy_of)],
                old.edits, old.jaccard, old.shared, old.role,
            )  # fmt: skip
            mapping[id(old)] = new
            body.append(new)
        when = root.date + timedelta(hours=rng.randint(1, 72))
        site_index = root.site
        if rng.random() < 0.7 and self.config.sites > 1:
            while site_index == root.site:
                site_index = self._site_index(rng)
        if root.shingles is None:
            root.shingles = self._shingles(root.lines, root.memo)
        for attempt in ("dressed", "light", "repost"):
            if attempt == "repost":
                site = self.site(root.site)
                lines = [mapping.get(id(line), line) for line in root.lines]
            else:
                site = self.site(site_index)
                lines = self._dress(rng, site, root.title, when, body, light=attempt == "light")
            article = self._assemble(number, article_id, site, root.title, when, lines)
            mine = self._shingles(lines, root.memo)
            score = jaccard(mine, root.shingles)
            if score >= NEAR_DUPLICATE_THRESHOLD:
                break
        else:
            return None
        article.cluster = root.id
        article.near_duplicates.append((root.id, round(score, 4)))
        article.copy_kind = attempt
        for other_id, other in root.members:
            article.near_duplicates.append((other_id, round(jaccard(mine, other), 4)))
        root.members.append((article.id, mine))
        return article

    # -- boilerplate around the body -------------------------------------------------------

    def _dress(
        self,
        rng: random.Random,
        site: Site,
        title: str,
        when: datetime,
        body: list[Line],
        light: bool = False,
    ) -> list[Line]:
        """The page: the site's head, the title, the body with pieces between paragraphs,
        and the site's tail. ``light`` keeps only the date and the site's footer."""
        ctx = _Context(self, rng, site, title, when, body)
        head: list[Line] = []
        for kind, share in site.before_title:
            if rng.random() < share and not light:
                head += ctx.piece(kind)
        if site.title_in_text:
            head.append(Line(title, role="title"))
        for kind, share in site.after_title:
            if rng.random() < share and (not light or kind == "timestamp"):
                head += ctx.piece(kind)
        middle = list(body)
        if not light:
            gaps: list[tuple[int, list[Line]]] = []
            for kind, share in site.between:
                if rng.random() < share:
                    gaps.append((rng.randint(1, len(body) - 1), ctx.piece(kind)))
            for at, piece in sorted(gaps, key=lambda gap: -gap[0]):
                middle[at:at] = piece
            last = middle[-1]
            if site.agency and last.category is None and not last.shared and rng.random() < 0.1:
                # A wire credit at the end of the last paragraph: only the span goes. (No
                # recycled copy points at the last paragraph: copies come after their original.)
                credit = f"(Reporting by {ctx.author()}; Editing by {ctx.author()})"
                source = "template:trailing_credit"
                # The rule's examples are whole paragraphs; their credit is the span.
                examples = self.sources.examples.get("byline.trailing_credit", ())
                if examples and rng.random() < 0.3:
                    found = re.search(r"\([^()]*\)$", rng.choice(examples))
                    if found:
                        credit, source = found.group(), "rule:byline.trailing_credit"
                middle[-1] = Line(
                    f"{last.text} {credit}", tail_span=(len(credit), Category.BYLINE.value, source)
                )
        tail: list[Line] = []
        for kind, share in site.tail:
            if rng.random() < share and (not light or kind == "footer"):
                tail += ctx.piece(kind)
        return head + middle + tail

    def _assemble(
        self,
        number: int,
        article_id: str,
        site: Site,
        title: str,
        when: datetime,
        lines: list[Line],
    ) -> Article:
        spans = []
        at = 0
        for line in lines:
            spans.append((at, at + len(line.text)))
            at += len(line.text) + len(site.sep)
        text = site.sep.join(line.text for line in lines)
        slug = "-".join(re.findall(r"[a-z0-9]+", title.lower())[:8]) or "article"
        section = site.sections[number % len(site.sections)].lower().replace(" ", "-")
        url = f"https://{site.host}/{section}/{when:%Y/%m}/{slug}-{article_id[:6]}"
        return Article(number, article_id, site, url, title, lines, text, text, spans)

    def _mojibake(self, article: Article) -> None:
        """UTF-8 read as Windows-1252, line by line, where ftfy gives the line back (it cannot
        always: 'Strangelove™' stays broken), so the truth can say what repair should give."""
        texts = []
        for line in article.lines:
            broken = line.text.encode("utf-8").decode(MOJIBAKE_CODEC)
            if broken != line.text and ftfy.fix_text(broken, uncurl_quotes=False) == line.text:
                texts.append(broken)
            else:
                texts.append(line.text)
        if all(t is line.text for t, line in zip(texts, article.lines, strict=True)):
            return  # all ASCII: nothing to break
        sep = article.site.sep
        article.text = sep.join(texts)
        article.spans = []
        at = 0
        for text in texts:
            article.spans.append((at, at + len(text)))
            at += len(text) + len(sep)
        article.mojibake = True

    # -- records ---------------------------------------------------------------------------

    def records(self, article: Article) -> tuple[dict[str, Any], dict[str, Any]]:
        """The dump record and the truth record of an article."""
        index = {id(line): k for k, line in enumerate(article.lines)}
        lines: list[dict[str, Any]] = []
        for line, (start, end) in zip(article.lines, article.spans, strict=True):
            entry: dict[str, Any] = {"start": start, "end": end, "category": line.category}
            if line.category is not None:
                entry["source"] = line.source
                if line.copy_of is not None:
                    entry["copy_of"] = index[id(line.copy_of)]
                    entry["edits"] = line.edits
                    entry["jaccard"] = line.jaccard
                else:
                    entry["repeats"] = line.repeats
            if line.shared:
                entry["shared"] = line.shared
            if line.role:
                entry["role"] = line.role
            if line.tail_span:
                length, category, source = line.tail_span
                entry["spans"] = [[end - length, end, category, source]]
            lines.append(entry)
        truth: dict[str, Any] = {
            "id": article.id,
            "site": article.site.host,
            "title": article.title,
            "lines": lines,
            "mojibake": article.mojibake,
            "clean": article.clean(),
            "near_duplicates": [{"id": i, "jaccard": j} for i, j in article.near_duplicates],
            "cluster": article.cluster,
        }
        if article.mojibake:
            truth["source"] = article.source
        dump = {
            "id": article.id,
            "url": article.url,
            "site": article.site.host,
            "text": article.text,
        }
        return dump, truth

    def recent_headline(self, rng: random.Random, site: int, exclude: str) -> str:
        """The headline of the site's latest article, else of a recent article elsewhere."""
        title = self._site_headlines.get(site)
        if title is not None and title != exclude:
            return title
        if self._headlines:
            title = rng.choice(self._headlines)
            if title != exclude:
                return title
        return rng.choice(self.sources.stories).title


def _cut(sentence: str, rng: random.Random, low: int, high: int) -> str:
    """The first few words of a sentence, without the punctuation they end on."""
    return " ".join(sentence.split()[: rng.randint(low, high)]).rstrip(",;:.—–-")


def edit_words(text: str, rng: random.Random, edits: int) -> str:
    """``edits`` word edits: a word replaced, dropped or added. Drawn again (up to ten times)
    while the result reads the same as the text, case aside: a word dropped and then put back,
    "The" made "the"."""
    fillers = ("said", "also", "new", "the", "on Monday", "reportedly", "now", "last week")
    for _ in range(10):
        words = text.split(" ")
        for _ in range(edits):
            roll = rng.random()
            k = rng.randrange(len(words))
            if roll < 0.5:
                words[k] = rng.choice([f for f in fillers if f != words[k].casefold()])
            elif roll < 0.75 and len(words) > 1:
                del words[k]
            else:
                words.insert(k, rng.choice(fillers))
        edited = " ".join(words)
        if edited.casefold() != text.casefold():
            return edited
    return f"{text} {fillers[0]}"


class _Context:
    """What the pieces of one page are made from; ``piece(kind)`` builds one piece."""

    def __init__(
        self,
        generator: DumpGenerator,
        rng: random.Random,
        site: Site,
        title: str,
        when: datetime,
        body: list[Line],
    ) -> None:
        self.g = generator
        self.rng = rng
        self.site = site
        self.title = title
        self.when = when
        self.body = body

    def piece(self, kind: str) -> list[Line]:
        build: Callable[[], list[Line]] = getattr(self, f"_{kind}")
        return build()

    def rule_line(self, key: str, fallback: str, category: Category) -> Line:
        return rule_line(self.g.sources, self.rng, key, category, fallback)

    def seed_lines(self, category: Category, repeats: str = "corpus") -> list[Line]:
        """A seed page's run of lines of this category, verbatim ([] when there is none)."""
        runs = self.g.sources.seed_runs.get(category.value)
        if not runs:
            return []
        stem, lines = self.rng.choice(runs)
        return [bp(t, category, f"seed:{stem}", repeats) for t in lines]

    def author(self) -> str:
        return self.rng.choice(self.site.staff)

    # The site's own lines, the same on each of its pages.

    def _platform_head(self) -> list[Line]:
        return list(self.site.platform_head)

    def _platform_tail(self) -> list[Line]:
        return list(self.site.platform_tail)

    def _footer(self) -> list[Line]:
        return list(self.site.footer)

    def _cookie(self) -> list[Line]:
        return list(self.site.cookie)

    _cookie_head = _cookie_tail = _cookie

    def _disclosure(self) -> list[Line]:
        return [self.site.disclosure]

    def _copyright(self) -> list[Line]:
        return [self.site.copyright]

    # Pieces drawn per article. Each uses a rule's must-remove example now and then, verbatim.

    def maybe_rule(self, share: float, keys: Sequence[str], category: Category) -> Line | None:
        """With probability ``share``, an example of one of the rules ``keys``."""
        if self.rng.random() >= share:
            return None
        key = self.rng.choice(keys)
        if not self.g.sources.examples.get(key):
            return None
        return self.rule_line(key, "", category)

    def _comment_policy(self) -> list[Line]:
        lines = list(self.site.comment_policy)
        if self.rng.random() < 0.5:
            count = self.rng.randint(0, 240)
            text = "1 Comment" if count == 1 else f"{count} Comments"
            lines.insert(0, bp(text, Category.COMMENT_POLICY, "template:comment_count"))
        return lines

    def _breadcrumb(self) -> list[Line]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.05 and (seed := self.seed_lines(Category.BREADCRUMB)):
            return seed
        keys = ("breadcrumb.home_trail", "breadcrumb.section_trail")
        if line := self.maybe_rule(0.12, keys, Category.BREADCRUMB):
            return [line]
        a, b = rng.sample(self.site.sections, 2)
        text = rng.choice(
            (
                f"Home / {a} / {self.title}",
                f"Home » {a} » {b}",
                f"{a} › {b} › {self.title}",
                f"Home > {a}",
            )
        )
        return [bp(text, Category.BREADCRUMB, "template:breadcrumb")]

    def _timestamp(self) -> list[Line]:
        rng = self.rng
        keys = ("timestamp.date_line", "timestamp.stamp_with_label", "timestamp.bare_label")
        if line := self.maybe_rule(0.08, keys, Category.TIMESTAMP):
            return [line]
        stamp = _stamp(self.site.date_style, self.when)
        out = [bp(stamp, Category.TIMESTAMP, "template:date_line")]
        if rng.random() < 0.25:
            later = self.when + timedelta(minutes=rng.randint(30, 30 * 24 * 60))
            out.append(bp(f"Updated: {_stamp(1, later)}", Category.TIMESTAMP, "template:date_line"))
        return out

    def _relative_time(self) -> list[Line]:
        if line := self.maybe_rule(0.3, ("timestamp.relative_time",), Category.TIMESTAMP):
            return [line]
        n = self.rng.randint(2, 9)
        text = self.rng.choice(
            (f"{n} years ago", f"Updated {n} hours ago", f"{n} days ago", "an hour ago")
        )
        return [bp(text, Category.TIMESTAMP, "template:relative_time")]

    def _reading_time(self) -> list[Line]:
        if line := self.maybe_rule(0.3, ("timestamp.reading_time",), Category.TIMESTAMP):
            return [line]
        n = max(1, sum(len(line.text) for line in self.body) // 1200)
        text = self.rng.choice((f"{n} min read", f"Reading time: {n} minutes", f"{n} mins read"))
        return [bp(text, Category.TIMESTAMP, "template:reading_time")]

    def _byline(self) -> list[Line]:
        site, rng = self.site, self.rng
        name = self.author()
        style = site.byline_style
        by = Category.BYLINE
        if style == 0:
            lines = [bp(f"By {name}", by, "template:by_author")]
        elif style == 1:
            lines = [bp(f"By {name} and {self.author()}", by, "template:by_author")]
        elif style == 2:
            lines = [bp(f"By {name} | {site.agency or site.name}", by, "template:by_author")]
        elif style == 3:
            lines = [bp(f"Written by {name}", by, "template:by_author")]
        elif style == 4:  # a bare name, over the date where the site prints one (seed 000)
            bare = self.maybe_rule(0.2, ("byline.name_next_to_stamp",), by)
            lines = [bare or bp(name, by, "template:name_next_to_stamp")]
        elif style == 5:
            handle = rng.choice(("admin", "editor", "newsdesk"))
            lines = [bp(f"Posted by {handle}", by, "template:by_author", "site")]
        else:
            lines = [self.rule_line("byline.by_author", "By John Smith", by)]
        if site.agency and rng.random() < 0.5:
            credit = self.maybe_rule(0.3, ("byline.agency_credit",), by)
            lines.append(credit or bp(site.agency, by, "template:agency_credit", "corpus"))
        return lines

    def _byline_tail(self) -> list[Line]:
        by = Category.BYLINE
        keys = ("byline.staff_credit", "byline.contact_reporter", "byline.materials_provided")
        if line := self.maybe_rule(0.3, keys, by):
            return [line]
        name = self.author()
        first, _, last = name.partition(" ")
        if self.rng.random() < 0.5:
            return [bp(f"{name} contributed to this report.", by, "template:staff_credit")]
        address = f"{first[:1].lower()}{last.split(' ')[-1].lower()}@{self.site.host}"
        return [bp(f"Contact reporter {name} at {address}", by, "template:contact_reporter")]

    def _author_box(self) -> list[Line]:
        if line := self.maybe_rule(0.2, ("byline.about_author",), Category.BYLINE):
            return [line]
        name = self.author()
        heading = self.rng.choice(
            (
                f"About {name}",
                "About admin",
                f"More articles by {name}",
                f"View all posts by {name}",
            )
        )
        return [bp(heading, Category.BYLINE, "template:about_author")]

    def _embed_credit(self) -> list[Line]:
        """The credit line an embedded post leaves between paragraphs."""
        if line := self.maybe_rule(0.3, ("byline.embed_credit",), Category.BYLINE):
            return [line]
        name = self.author()
        handle = re.sub(r"\W", "", name.title())[:15]
        when = f"{MONTHS[self.when.month - 1]} {self.when.day}, {self.when.year}"
        return [bp(f"— {name} (@{handle}) {when}", Category.BYLINE, "template:embed_credit")]

    def _share(self) -> list[Line]:
        rng = self.rng
        lines = [self.site.share_row]
        if rng.random() < 0.3:
            count = f"{rng.randint(2, 900)} shares"
            lines.append(bp(count, Category.SHARE_PROMPT, "template:share_count"))
        keys = ("share_prompt.follow_us", "share_prompt.share_story_prompt")
        if line := self.maybe_rule(0.2, keys, Category.SHARE_PROMPT):
            lines.append(line)
        return lines

    _share_head = _share_tail = _share

    def _caption(self) -> list[Line]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.05 and (seed := self.seed_lines(Category.CAPTION)):
            return seed
        # What the photo shows: a real sentence from elsewhere (a caption that repeats the
        # article's own words is another case, a duplicate).
        sentences = self.g.sources.sentences
        subject = sentences[int(rng.random() * len(sentences))].rstrip(".")
        if len(subject) > 220:
            subject = subject[:220].rsplit(" ", 1)[0]
        date = f"{MONTHS[self.when.month - 1]} {self.when.day}, {self.when.year}"
        photographer = rng.choice(self.g.sources.names or ("Jane Doe",))
        agency = rng.choice(("AFP", "AP", "Reuters", "EPA"))
        caption = self.maybe_rule(0.15, ("caption.file_photo",), Category.CAPTION) or bp(
            rng.choice(
                (
                    f"(FILES) In this file photo taken on {date}, {subject}.",
                    f"FILE PHOTO: {subject}.",
                    f"TOPSHOT - {subject}.",
                    f"{subject}. (Photo: {photographer})",
                    f"{subject}.",
                )
            ),
            Category.CAPTION,
            "template:caption",
        )
        keys = ("caption.photo_credit", "caption.labelled_credit", "caption.agency_photo_credit")
        credit = self.maybe_rule(0.2, keys, Category.CAPTION) or bp(
            rng.choice(
                (
                    f"{photographer} | {agency} | Getty Images",
                    f"/ {agency} PHOTO / {photographer}",
                    f"{photographer}/Getty Images",
                    f"Photo: {agency}",
                    f"Image credit: {photographer}",
                )
            ),
            Category.CAPTION,
            "template:photo_credit",
        )
        lines = [caption, credit]
        if roll < 0.25:
            lines.insert(
                0, self.rule_line("caption.image_label", "Image caption", Category.CAPTION)
            )
        elif roll < 0.4:
            lines = lines[1:]  # the credit alone
        return lines

    def _ad(self) -> list[Line]:
        keys = ("advertisement.sponsor_label", "advertisement.ad_label")
        return [self.maybe_rule(0.2, keys, Category.ADVERTISEMENT) or self.site.ad_label]

    def _separator(self) -> list[Line]:
        return [self.rule_line("separator.lone_punctuation", "|", Category.SEPARATOR)]

    def _teaser_inline(self) -> list[Line]:
        if line := self.maybe_rule(0.15, ("teaser.inline_link",), Category.TEASER):
            return [line]
        headline = self.g.recent_headline(self.rng, self.site.index, self.title)
        label = self.rng.choice(("Read more", "READ MORE", "Related", "Also read", "See also"))
        return [bp(f"{label}: {headline}", Category.TEASER, "template:inline_link")]

    def _teaser_block(self) -> list[Line]:
        rng = self.rng
        if rng.random() < 0.05 and (seed := self.seed_lines(Category.TEASER)):
            return seed
        lines = [self.site.teaser_heading]
        for _ in range(rng.choice((1, 1, 2, 3))):
            headline = self.g.recent_headline(rng, self.site.index, self.title)
            lines.append(bp(headline, Category.TEASER, "template:teaser_headline"))
        return lines

    def _newsletter(self) -> list[Line]:
        lines = [self.site.newsletter]
        keys = (
            "subscription.newsletter_label", "subscription.privacy_on_signup",
            "subscription.install_app", "subscription.be_first_to_know", "subscription.listen_on",
            "subscription.follow_our_coverage", "subscription.newsletters_heading",
        )  # fmt: skip
        if line := self.maybe_rule(0.3, keys, Category.SUBSCRIPTION):
            lines.append(line)
        return lines

    def _tags(self) -> list[Line]:
        rng = self.rng
        if rng.random() < 0.03 and (seed := self.seed_lines(Category.TAGS, "article")):
            return seed
        keys = ("tags.hashtag_line", "tags.tags_label")
        if line := self.maybe_rule(0.1, keys, Category.TAGS):
            return [line]
        found = _CAPITALISED.findall(f"{self.title} {self.body[0].text}")
        tags = list(dict.fromkeys(w for w in found if w not in STOP))[:4]
        tags = tags or list(self.site.sections[:2])
        style = self.site.tags_style
        if style == 0:
            return [bp(f"#{t}", Category.TAGS, "template:hashtag") for t in tags]
        if style == 1:
            return [bp("Tags: " + ", ".join(tags), Category.TAGS, "template:tags_label")]
        if style == 2:
            heading = self.maybe_rule(0.3, ("tags.tags_heading",), Category.TAGS)
            heading = heading or bp("Tags", Category.TAGS, "template:tags_heading", "site")
            return [heading, *(bp(t, Category.TAGS, "template:tags_heading") for t in tags[:3])]
        section = rng.choice(self.site.sections)
        return [bp(f"Filed under: {section}", Category.TAGS, "template:tags_label")]


# --------------------------------------------------------------------------------------------
# Writing shards


try:  # orjson is in the test extras; 20 times faster than json on the truth records
    import orjson

    def _line(record: dict[str, Any]) -> bytes:
        return orjson.dumps(record) + b"\n"

except ImportError:  # pragma: no cover

    def _line(record: dict[str, Any]) -> bytes:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class _Shards:
    """Writes ``dump-NNNNN.jsonl`` and ``truth-NNNNN.jsonl``, each through a temporary file
    that becomes the shard only when it is complete."""

    def __init__(self, out: Path, compress: bool) -> None:
        self.out = out
        self.suffix = ".jsonl.gz" if compress else ".jsonl"
        self.compress = compress
        self.open_files: list[tuple[IO[bytes], IO[bytes], Path, Path]] = []
        self.sizes = {"dump": 0, "truth": 0}

    def open(self, shard: int) -> tuple[IO[bytes], IO[bytes]]:
        self.close()
        writers = []
        for kind in ("dump", "truth"):
            final = self.out / f"{kind}-{shard:05d}{self.suffix}"
            tmp = final.with_name(final.name + ".tmp")
            raw: IO[bytes] = tmp.open("wb")
            writer: IO[bytes] = raw
            if self.compress:  # no name and no time in the header: the same bytes every run
                writer = gzip.GzipFile(  # type: ignore[assignment]
                    filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0
                )
            self.open_files.append((writer, raw, tmp, final))
            writers.append(writer)
        return writers[0], writers[1]

    def close(self, complete: bool = True) -> None:
        for writer, raw, tmp, final in self.open_files:
            writer.close()
            raw.close()
            if complete:
                os.replace(tmp, final)
                self.sizes[final.name.split("-", 1)[0]] += final.stat().st_size
            else:
                tmp.unlink()
        self.open_files = []


def write_dump(out: Path, config: DumpConfig, sources: Sources | None = None) -> dict[str, Any]:
    """Generate the dump into ``out`` (which must hold no dump yet) and return its manifest."""
    sources = sources or load_sources()
    generator = DumpGenerator(config, sources)
    out.mkdir(parents=True, exist_ok=True)
    shards = _Shards(out, config.gzip)
    counts: dict[str, int] = {}
    totals = {"articles": 0, "chars": 0, "mojibake": 0, "near_duplicate_pairs": 0, "spans": 0}
    copies: dict[str, int] = {}
    shared: set[str] = set()  # a few quotes per thousand articles
    dump_file = truth_file = None
    try:
        for article in generator.articles():
            if article.number % config.shard_size == 0:
                dump_file, truth_file = shards.open(article.number // config.shard_size)
            assert dump_file is not None and truth_file is not None
            dump, truth = generator.records(article)
            dump_file.write(_line(dump))
            truth_file.write(_line(truth))
            totals["articles"] += 1
            totals["chars"] += len(article.text)
            totals["mojibake"] += article.mojibake
            totals["near_duplicate_pairs"] += len(article.near_duplicates)
            if article.copy_kind:
                copies[article.copy_kind] = copies.get(article.copy_kind, 0) + 1
            for line in article.lines:
                if line.category is not None:
                    counts[line.category] = counts.get(line.category, 0) + 1
                if line.shared:
                    shared.add(line.shared)
                totals["spans"] += line.tail_span is not None
    except BaseException:
        shards.close(complete=False)
        raise
    shards.close()
    manifest = {
        "generator": "benchmarks/generate_dump.py",
        "config": {
            "articles": config.articles,
            "seed": config.seed,
            "shard_size": config.shard_size,
            "sites": config.sites,
            "copy_rate": config.copy_rate,
            "mojibake_rate": config.mojibake_rate,
            "quote_rate": config.quote_rate,
            "recycle_rate": config.recycle_rate,
            "gzip": config.gzip,
        },
        **totals,
        "shared_quotes": len(shared),
        "near_duplicate_copies": dict(sorted(copies.items())),
        "planted_lines": dict(sorted(counts.items())),
        "shards": -(-config.articles // config.shard_size),
    }
    write_json(out / "manifest.json", manifest)
    return {**manifest, "bytes": dict(shards.sizes)}


def _existing(out: Path) -> list[Path]:
    if not out.is_dir():
        return []
    return [
        p for p in out.iterdir()
        if p.name == "manifest.json" or re.match(r"(dump|truth)-\d{5}\.jsonl", p.name)
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the shards")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--shard-size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gzip", action="store_true", help="write .jsonl.gz shards (level 1)")
    parser.add_argument("--overwrite", action="store_true", help="replace a dump already in --out")
    args = parser.parse_args(argv)

    if args.articles < 1 or args.shard_size < 1:
        parser.error("--articles and --shard-size must be positive")
    out = args.out.resolve()
    if out == REPO_ROOT or REPO_ROOT in out.parents:
        parser.error(f"{out} is inside the repository; generated dumps go elsewhere (e.g. /tmp)")
    old = _existing(out)
    if old and not args.overwrite:
        parser.error(f"{out} already holds a dump ({len(old)} files); pass --overwrite")
    for path in old:
        path.unlink()

    config = DumpConfig(
        articles=args.articles, seed=args.seed, shard_size=args.shard_size, gzip=args.gzip
    )
    started = time.perf_counter()
    sources = load_sources()
    loaded = time.perf_counter()
    manifest = write_dump(out, config, sources)
    seconds = time.perf_counter() - loaded
    size = manifest["bytes"]
    print(
        f"{manifest['articles']:,} articles on {config.sites:,} sites in {manifest['shards']} "
        f"shards to {out}: {seconds:.1f} s ({manifest['articles'] / seconds:,.0f} articles/s; "
        f"loading the real text {loaded - started:.1f} s)"
    )
    print(
        f"dump {size['dump'] / 2**20:,.1f} MiB, truth {size['truth'] / 2**20:,.1f} MiB; "
        f"{manifest['chars'] / manifest['articles']:,.0f} characters an article; "
        f"{manifest['near_duplicate_pairs']:,} near-duplicate pairs, "
        f"{manifest['mojibake']:,} mojibake articles, {manifest['shared_quotes']:,} shared quotes"
    )
    print("planted lines: " + ", ".join(f"{k} {v:,}" for k, v in manifest["planted_lines"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
