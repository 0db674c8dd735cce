"""HTML pages to article text and metadata. Pure: no files, no printing.

Three steps, each a function that a test or a benchmark can call alone:

1. :func:`decode_html`: bytes to text. Gzip bytes are recognised by their magic number and
   unpacked. Then a byte order mark decides; else the charset of the HTTP header (when the
   caller has one, as a WARC record does); else the page's ``<meta charset>`` or
   ``http-equiv`` declaration, read from its first bytes; else
   :func:`cleaner.decode.decode_bytes` detects it.
2. :func:`prune_html`: selectolax drops scripts and styles, and the nodes whose own id,
   class, role or label mark them as a consent dialog, a share bar, a newsletter box, a
   related-articles widget, a comments section, a caption, a social-media embed or a
   disclosure (the rules are data: :data:`PRUNE_RULES`). Each removed node is a
   :class:`PrunedNode` record.
3. trafilatura extracts the main text and the metadata from what is left.

:func:`clean_html` also runs the text engine (:class:`cleaner.Cleaner`) on the text. The
defaults of :class:`HtmlConfig` were chosen on naeb-dev by ``benchmarks/naeb_html.py``.
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from cleaner.config import with_changes
from cleaner.core import Cleaner
from cleaner.decode import decode_bytes
from cleaner.model import Result

__all__ = [
    "DEFAULT_HTML_CONFIG",
    "HTML_SUFFIXES",
    "METADATA_FIELDS",
    "PRUNE_RULES",
    "DecodedHtml",
    "Extracted",
    "HtmlConfig",
    "HtmlError",
    "PruneRule",
    "PrunedNode",
    "charset_label",
    "clean_html",
    "declared_charset",
    "decode_html",
    "extract",
    "is_html_name",
    "prune_html",
    "sidecar_name",
    "text_name",
]

#: File names that HTML mode reads, each also with ``.gz`` after it.
HTML_SUFFIXES: tuple[str, ...] = (".html", ".htm")


class HtmlError(ValueError):
    """A page that cannot be read: broken or cut-off gzip data, or a page over the size limit."""


# --------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True, slots=True)
class HtmlConfig:
    """Everything that changes how a page becomes text; derive variants with :meth:`with_`."""

    #: Remove the nodes that :data:`PRUNE_RULES` match before extraction.
    prune: bool = True
    #: Concepts of :data:`PRUNE_RULES` that may fire (``"consent"``, ``"related"``, ...);
    #: None means all of them.
    prune_concepts: frozenset[str] | None = None
    #: A match holding more than this share of the page's text is left in place: that is the
    #: page's own wrapper carrying a token, not a widget. (Not lower: on a short article page
    #: the consent dialog alone can hold most of the text.)
    max_pruned_share: float = 0.8
    #: Drop scripts (JSON-LD stays, for the metadata), styles, SVG, iframes and other nodes
    #: without article text before trafilatura parses the page: a quarter of the bytes to parse.
    strip_non_text: bool = True
    #: trafilatura: when unsure, keep less (it also drops ``<header>`` and link-heavy blocks).
    #: Neither setting is safe everywhere on naeb-dev: this one cuts the words of some
    #: in-text links out of sentences (7 gold sentences that the default keeps whole), the
    #: default extracts a donation box instead of a whole HuffPost article. Pages that lose
    #: most of their text: 4 with it, 5 without; F1 0.908 with it, 0.903 without.
    favor_precision: bool = True
    #: trafilatura: when unsure, keep more.
    favor_recall: bool = False
    #: trafilatura: keep the text of ``<table>`` elements.
    include_tables: bool = True
    #: trafilatura: skip its fallback extractors (readability, jusText).
    fast: bool = False
    #: htmldate's extensive date search, which loads dateparser (seconds at the first page).
    extensive_date_search: bool = False
    #: Pages larger than this (bytes, after gunzip) raise :class:`HtmlError`.
    max_bytes: int = 64 * 1024 * 1024

    def with_(self, **changes: Any) -> HtmlConfig:
        """A copy with some fields changed; unknown names raise ``TypeError``."""
        return with_changes(self, changes, "html")

    def trafilatura_options(self) -> dict[str, Any]:
        """Keyword arguments for ``trafilatura.bare_extraction``.

        Comments are never included (a reader's comment is not the article), and
        trafilatura's deduplication stays off: its cache is process-wide, so a page's text
        would depend on the pages before it. The text engine removes repeated paragraphs.
        """
        return {
            "favor_precision": self.favor_precision,
            "favor_recall": self.favor_recall,
            "include_comments": False,
            "include_tables": self.include_tables,
            "deduplicate": False,
            "fast": self.fast,
            "date_extraction_params": {
                "original_date": True,
                "extensive_search": self.extensive_date_search,
            },
        }


DEFAULT_HTML_CONFIG = HtmlConfig()


# --------------------------------------------------------------------------------------------
# Bytes to text


@dataclass(frozen=True, slots=True)
class DecodedHtml:
    """A page's text and how its charset was decided."""

    text: str
    #: Python's codec name: "utf-8", "cp1252", "shift_jis", ...
    charset: str
    #: What decided: "bom", "http", "meta", "utf8_over_http" or "utf8_over_meta" (a declared
    #: legacy charset, but the bytes are UTF-8), or, when nothing usable was declared, the
    #: :class:`cleaner.decode.DecodeMethod` value ("utf8", "detected", ...).
    source: str
    #: Bytes that the charset could not decode; each became U+FFFD.
    errors: int = 0


_GZIP_MAGIC = b"\x1f\x8b"
_BOMS = (
    codecs.BOM_UTF8,
    codecs.BOM_UTF32_LE,
    codecs.BOM_UTF32_BE,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
)
#: How far the meta declaration is looked for. Browsers stop at 1,024 bytes; real pages put it
#: later, behind long comments and preload lists (naeb-dev has declarations at 1 to 5 KB).
PRESCAN_BYTES = 16 * 1024
_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.IGNORECASE
)
# Labels that the WHATWG Encoding Standard (what browsers follow) reads as another charset:
# latin-1 and ASCII as windows-1252, and UTF-16 declared in bytes that an ASCII scan could
# read as UTF-8.
_LABEL_ALIASES = {
    **dict.fromkeys(
        ("latin1", "latin-1", "iso-8859-1", "iso8859-1", "iso_8859-1", "l1", "us-ascii",
         "ascii", "x-user-defined"),
        "cp1252",
    ),
    **dict.fromkeys(("utf-16", "utf-16le", "utf-16be", "unicode"), "utf-8"),
}  # fmt: skip


def _gunzip(data: bytes, limit: int) -> bytes:
    """Unpack gzip bytes (every member), refusing more than ``limit`` bytes of output."""
    out = bytearray()
    while data[:2] == _GZIP_MAGIC:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise HtmlError(f"broken gzip data ({exc})") from None
        if len(out) > limit:
            raise HtmlError(f"page larger than {limit} bytes after gunzip")
        if not inflater.eof:
            raise HtmlError("gzip data is cut off")
        data = inflater.unused_data
    return bytes(out)


def charset_label(label: str | bytes | None) -> str | None:
    """Python's codec name for a charset label of a page or a header (None if unknown)."""
    if label is None:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "replace")
    key = label.strip().strip("\"'").lower()
    try:
        return codecs.lookup(_LABEL_ALIASES.get(key, key)).name
    except LookupError:
        return None


def declared_charset(data: bytes) -> str | None:
    """The charset of the first ``<meta>`` in the page's first bytes that names one.

    Both forms: ``<meta charset="...">`` and ``<meta http-equiv="Content-Type"
    content="text/html; charset=...">``.
    """
    for match in _META_CHARSET.finditer(data[:PRESCAN_BYTES]):
        charset = charset_label(match.group(1))
        if charset is not None:
            return charset
    return None


def _strict(data: bytes, charset: str) -> str | None:
    try:
        return data.decode(charset)
    except UnicodeDecodeError:
        return None


def decode_html(
    data: bytes, http_charset: str | None = None, max_bytes: int = DEFAULT_HTML_CONFIG.max_bytes
) -> DecodedHtml:
    """Decode a page's bytes (gzip allowed). Never raises for the charset, only for gzip.

    Order: a BOM; the HTTP header's charset; the meta declaration; detection. A declared
    charset is used only if the bytes decode in it without error, and a declared legacy
    charset loses to bytes that are valid UTF-8 beyond ASCII: a page served as UTF-8 under a
    stale latin-1 template is common, legacy text that happens to be valid UTF-8 next to
    unknown.
    """
    if data[:2] == _GZIP_MAGIC:
        data = _gunzip(data, max_bytes)
    elif len(data) > max_bytes:
        raise HtmlError(f"page larger than {max_bytes} bytes")
    if data.startswith(_BOMS):
        decoded = decode_bytes(data)
        return DecodedHtml(decoded.text, decoded.encoding, "bom", decoded.errors)
    for source, charset in (
        ("http", charset_label(http_charset)),
        ("meta", declared_charset(data)),
    ):
        if charset is None:
            continue
        text = _strict(data, charset)
        if text is None:
            continue
        if charset != "utf-8" and not data.isascii():
            utf8 = _strict(data, "utf-8")
            if utf8 is not None:
                return DecodedHtml(utf8, "utf-8", f"utf8_over_{source}")
        return DecodedHtml(text, charset, source)
    decoded = decode_bytes(data)
    return DecodedHtml(decoded.text, decoded.encoding, decoded.method.value, decoded.errors)


# --------------------------------------------------------------------------------------------
# Pruning with selectolax


@dataclass(frozen=True, slots=True)
class PruneRule:
    """One kind of page furniture, found by a CSS selector.

    Selectors name what a node *is* by its own id, class, role or accessible name
    (``cookie-banner``, ``share-bar``, ``role=dialog``): never by words in its text, and never
    by tokens that article containers also carry (``content``, ``story``, ``paywall``,
    ``hidden``, ``article``).
    """

    #: Stable id, ``concept.name``; records and reports name it.
    id: str
    #: A CSS selector (a selector list is allowed), as selectolax's lexbor engine reads it.
    selector: str
    #: Why such nodes are never the article's text.
    why: str
    #: An HTML fragment that the rule must remove (the tests put it into an article page).
    example: str

    @property
    def concept(self) -> str:
        return self.id.partition(".")[0]


def _id_or_class(needles: Iterable[str]) -> str:
    """A selector list: any needle inside the id or the class, in any case."""
    return ", ".join(f'[{attr}*="{n}" i]' for n in needles for attr in ("id", "class"))


# Vocabularies, by concept: the names that the widgets' own markup gives them. Each is a
# substring of an id or a class, so "newsletter" also finds "footer-newsletter" and
# "ContentFooterNewsletterContentWrapper"; none is a word that an article container carries.
_CONSENT_NAMES = (
    "cookie-banner", "cookie-consent", "cookie-notice", "cookie-bar", "cookie-law-info",
    "cookiebanner", "cookieconsent", "cookienotice", "cookie_banner", "cookie_notice",
    "consent-banner", "consent-modal", "consent-dialog", "consent_banner", "privacy-modal",
    "privacy-banner", "gdpr", "onetrust", "cybotcookiebot", "didomi", "qc-cmp", "sp_message",
    "truste", "usercentrics", "cmp-container",
)  # fmt: skip
_SHARE_NAMES = (
    "share-bar", "sharebar", "share-buttons", "sharing-buttons", "share-tools", "share-links",
    "social-share", "socialshare", "social-links", "social-icons", "social-follow",
    "follow-us", "sharedaddy", "addtoany", "a2a_kit", "sharethis",
)  # fmt: skip
_NEWSLETTER_NAMES = (
    "newsletter", "signup-form", "sign-up-form", "subscribe-box", "subscribe-form",
    "subscription-box", "email-signup", "mailchimp", "mc4wp",
)  # fmt: skip
_RELATED_NAMES = (
    "related-articles", "related-posts", "related-stories", "related-content",
    "related-links", "relatedarticles", "relatedposts", "read-more-container", "more-stories",
    "more-articles", "recommended", "recirculation", "read-next", "readnext", "you-may-also",
    "you-might-also", "most-popular", "most-read", "mostpopular", "trending", "taboola",
    "outbrain", "zergnet", "revcontent",
)  # fmt: skip

PRUNE_RULES: tuple[PruneRule, ...] = (
    PruneRule(
        "consent.container",
        _id_or_class(_CONSENT_NAMES),
        "containers of cookie notices and consent-management platforms, by the names they use",
        '<div id="onetrust-consent-sdk"><p>We use cookies to improve your experience.</p></div>',
    ),
    PruneRule(
        "consent.labelled",
        ", ".join(
            f'[role="{role}"][aria-label*="{word}" i]'
            for role, word in (
                ("dialog", "cookie"),
                ("dialog", "consent"),
                ("dialog", "privacy"),
                ("alertdialog", "cookie"),
                ("region", "cookie"),
            )
        ),
        "a dialog or region whose accessible name says it is about cookies or consent",
        '<div role="region" aria-label="Cookie notice"><p>This site stores cookies.</p></div>',
    ),
    PruneRule(
        "dialog.modal",
        'dialog, [role="dialog"], [role="alertdialog"], [aria-modal="true"]',
        "a modal dialog (sign-in, consent, disclosure, newsletter pop-up) is not running text",
        "<dialog open><p>Sign in to keep reading this story.</p></dialog>",
    ),
    PruneRule(
        "dialog.modal_class",
        '[class*="modal" i]',
        "the same dialogs where only the class says so (modal, c-globalModal, ez-modal)",
        '<div class="c-globalModal"><p>Our editors choose every product.</p></div>',
    ),
    PruneRule(
        "share.bar",
        _id_or_class(_SHARE_NAMES),
        "rows of share and follow buttons",
        '<ul class="social-share"><li>Facebook</li><li>Email this story</li></ul>',
    ),
    PruneRule(
        "share.labelled",
        '[aria-label*="share" i]:not(article):not(main):not(section), [aria-label*="follow us" i]',
        "a control group whose accessible name says it shares or follows",
        '<div aria-label="Share this article"><a href="#">Copy link to story</a></div>',
    ),
    PruneRule(
        "newsletter.box",
        _id_or_class(_NEWSLETTER_NAMES),
        "newsletter and e-mail sign-up boxes",
        '<form class="newsletter-signup"><p>Get the morning briefing by email.</p></form>',
    ),
    PruneRule(
        "related.widget",
        _id_or_class(_RELATED_NAMES),
        "lists of other articles: related, recommended, most read, sponsored recirculation",
        '<div class="related-articles"><a href="/b">Another story about the port</a></div>',
    ),
    PruneRule(
        "comments.section",
        "#comments, #disqus_thread, #respond, .comment-respond, .comments-area, "
        + _id_or_class(("comments-section", "comment-section", "commentlist")),
        "readers' comments and the comment form",
        '<section id="comments"><p>Join the conversation below.</p></section>',
    ),
    PruneRule(
        "caption.figure",
        'figcaption, [class*="caption" i]',
        "photo captions and credits describe a picture, not the story (and often repeat it)",
        '<figure><img src="a.jpg"><figcaption>The new ferry. Photo: Jane Roe</figcaption></figure>',
    ),
    PruneRule(
        "embed.social",
        "blockquote.twitter-tweet, blockquote.instagram-media, blockquote.tiktok-embed, "
        "blockquote.reddit-embed-bq, .fb-post",
        "embedded posts are someone else's words with their own boilerplate, not the article",
        '<blockquote class="twitter-tweet"><p>Huge news for the islands today!</p></blockquote>',
    ),
    PruneRule(
        "disclosure.box",
        _id_or_class(("disclosure", "disclaimer")),
        "affiliate and editorial-policy boxes in the site's voice, the same on every page",
        '<div class="affiliate-disclosure"><p>We may earn a commission from links.</p></div>',
    ),
)


@dataclass(frozen=True, slots=True)
class PrunedNode:
    """A node that the pruning removed, and the rule that matched it."""

    rule_id: str
    #: ``tag#id.class1.class2``, cut to 120 characters.
    node: str
    #: Characters of text the node held (whitespace runs counted as one).
    chars: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": "pruned", "rule_id": self.rule_id, "node": self.node, "chars": self.chars}


#: Elements without article text; trafilatura drops them too, but only after parsing them.
_NON_TEXT_TAGS = ["style", "noscript", "svg", "template", "iframe", "canvas", "video", "audio"]
#: Never removed, nor any node that holds one of them: the page's main container and the
#: headline (a widget does not hold the story's own headline).
_MAIN_TAGS = frozenset({"html", "body", "main"})
_MAIN_ANCHORS = "main, [role='main'], [itemprop='articleBody'], h1"


def _describe(node: LexborNode) -> str:
    attrs = node.attributes
    out = node.tag or "?"
    if attrs.get("id"):
        out += f"#{attrs['id']}"
    if attrs.get("class"):
        out += "." + ".".join((attrs["class"] or "").split())
    return out[:120]


def _text_chars(node: LexborNode) -> int:
    return len(node.text(separator=" ", strip=True))


def _rules_for(config: HtmlConfig) -> Iterable[PruneRule]:
    concepts = config.prune_concepts
    return (r for r in PRUNE_RULES if concepts is None or r.concept in concepts)


def prune_html(
    html: str, config: HtmlConfig = DEFAULT_HTML_CONFIG
) -> tuple[str, tuple[PrunedNode, ...]]:
    """The page without what the rules match, and a record of each node removed.

    A node matched inside another match goes with the outer one (and is not recorded). A
    match is kept when it is, or holds, the main container (``body``, ``main``,
    ``[role=main]``, ``[itemprop=articleBody]``) or a headline (``h1``), or holds more than
    ``config.max_pruned_share`` of the page's text.
    """
    tree = LexborHTMLParser(html)
    if config.strip_non_text:
        for script in tree.css("script"):
            if (script.attributes.get("type") or "").strip().lower() != "application/ld+json":
                script.decompose()
        tree.strip_tags(_NON_TEXT_TAGS)
    root = tree.body
    pruned: list[PrunedNode] = []
    if config.prune and root is not None:
        # All matches are found before anything is removed, so that no node is touched after
        # an ancestor of it was freed.
        matched: dict[int, tuple[LexborNode, str]] = {}
        for rule in _rules_for(config):
            for node in root.css(rule.selector):
                matched.setdefault(node.mem_id, (node, rule.id))
        outermost = []
        for node, rule_id in matched.values():
            parent = node.parent
            while parent is not None and parent.mem_id not in matched:
                parent = parent.parent
            if parent is None and node.tag not in _MAIN_TAGS:
                outermost.append((node, rule_id))
        page_chars = _text_chars(root)
        for node, rule_id in outermost:
            chars = _text_chars(node)
            if chars > config.max_pruned_share * page_chars:
                continue
            if node.css_first(_MAIN_ANCHORS) is not None:
                continue
            pruned.append(PrunedNode(rule_id, _describe(node), chars))
            node.decompose()
    return tree.html or "", tuple(pruned)


# --------------------------------------------------------------------------------------------
# Extraction

#: The metadata fields of :attr:`Extracted.metadata`, in order.
METADATA_FIELDS: tuple[str, ...] = (
    "title",
    "author",
    "date",
    "sitename",
    "url",
    "hostname",
    "description",
    "charset",
    "charset_source",
)


@dataclass(frozen=True, slots=True)
class Extracted:
    """A page's main text (not yet cleaned) and its metadata."""

    #: One paragraph a line, no blank lines; "" when the page has no main text.
    text: str
    #: :data:`METADATA_FIELDS`, each a string or None: the page's title, author(s), date of
    #: publication (YYYY-MM-DD), site name, URL (its canonical URL if it names one, else the
    #: URL given), host name and description, and the charset it was decoded from and what
    #: decided that (see :class:`DecodedHtml`; "text" when the page was given as text).
    metadata: dict[str, str | None] = field(default_factory=dict)
    #: The nodes removed before extraction, in document order.
    pruned: tuple[PrunedNode, ...] = ()


def extract(
    html: str | bytes,
    url: str | None = None,
    config: HtmlConfig | None = None,
    *,
    http_charset: str | None = None,
) -> Extracted:
    """The main text and the metadata of one page.

    ``html`` is the page as text, or as bytes in any charset (gzip allowed); ``url`` is where
    it came from; ``http_charset`` is the charset of its HTTP Content-Type header, if known.
    Raises :class:`HtmlError` (a ``ValueError``) only for gzip data that cannot be unpacked
    and for pages over ``config.max_bytes``.
    """
    import trafilatura  # here, so that text mode never pays for importing it

    config = config or DEFAULT_HTML_CONFIG
    if isinstance(html, bytes):
        decoded = decode_html(html, http_charset, config.max_bytes)
        text, charset, source = decoded.text, decoded.charset, decoded.source
    else:
        text, charset, source = html, None, "text"
    pruned: tuple[PrunedNode, ...] = ()
    if text.strip() and (config.prune or config.strip_non_text):
        text, pruned = prune_html(text, config)
    document = None
    if text.strip():
        document = trafilatura.bare_extraction(
            text, url=url, with_metadata=True, **config.trafilatura_options()
        )
    metadata: dict[str, str | None] = dict.fromkeys(METADATA_FIELDS)
    body = ""
    if document is not None and not isinstance(document, dict):  # a dict only with as_dict
        # bare_extraction leaves the whitespace of the markup around some lines.
        body = "\n".join(s for line in (document.text or "").splitlines() if (s := line.strip()))
        for name in METADATA_FIELDS[:7]:
            value = getattr(document, name, None)
            metadata[name] = value if isinstance(value, str) and value else None
    metadata["url"] = metadata["url"] or url
    metadata["charset"] = charset
    metadata["charset_source"] = source
    return Extracted(body, metadata, pruned)


def clean_html(
    html: str | bytes,
    url: str | None = None,
    cleaner: Cleaner | None = None,
    config: HtmlConfig | None = None,
) -> tuple[Result, dict[str, str | None]]:
    """Extract a page and clean its text: the cleaner's :class:`Result` and the metadata."""
    extracted = extract(html, url, config)
    return (cleaner or Cleaner()).clean(extracted.text), extracted.metadata


# --------------------------------------------------------------------------------------------
# Names of files


def _html_stem(name: str) -> str | None:
    lower = name.lower()
    cut = 3 if lower.endswith(".gz") else 0
    base = lower[: len(lower) - cut]
    for suffix in HTML_SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix):
            return name[: len(name) - cut - len(suffix)]
    return None


def is_html_name(name: str | PurePath) -> bool:
    """Whether HTML mode reads this file: ``.html`` or ``.htm``, each maybe with ``.gz``."""
    return _html_stem(PurePath(name).name) is not None


def text_name(path: str | PurePath) -> PurePath:
    """Where a page's text goes: ``a/b.html`` and ``a/b.html.gz`` become ``a/b.txt``."""
    path = PurePath(path)
    stem = _html_stem(path.name)
    if stem is None:
        raise ValueError(f"{path} is not an HTML file name ({', '.join(HTML_SUFFIXES)}[.gz])")
    return path.with_name(stem + ".txt")


def sidecar_name(path: str | PurePath) -> PurePath:
    """Where a page's metadata goes: ``a/b.html`` becomes ``a/b.json``."""
    return text_name(path).with_suffix(".json")
