"""Where a crawl goes next: the links of a page, the pages a sitemap lists, and the part of the site in scope.

Pure functions over text and bytes; the fetching is ``fetcher``'s.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from tts_service.errors import InvalidInput
from tts_service.urls import canonical_url, site_of

# Links to these are documents and media, never article pages: not fetched at all (a CMS links a 附件 from
# every notice), so they cost the site nothing and the crawl none of its --limit.
NOT_PAGES = frozenset(
    ".7z .apk .avi .bmp .css .csv .doc .docx .dmg .epub .exe .flv .gif .gz .ico .jpeg .jpg .js .json .m4a"
    " .mov .mp3 .mp4 .mpeg .ogg .pdf .png .ppt .pptx .rar .rss .svg .tar .tif .tiff .txt .wav .webm .webp"
    " .wmv .wps .xls .xlsx .xml .zip".split()
)
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one file, uncompressed


@dataclass(frozen=True)
class Scope:
    """The pages a crawl may visit: one site (origin), under one path prefix, as canonical URLs."""

    site: str
    prefix: str
    keep_query: frozenset[str] = frozenset()

    @classmethod
    def of(cls, start: str, *, whole_site: bool = False, keep_query: frozenset[str] = frozenset()) -> Scope:
        """The start URL's site, and its directory as the prefix (``/xwzx/`` for ``/xwzx/index.html``)
        unless ``whole_site``. InvalidInput for anything but an absolute http(s) URL."""
        path = urlsplit(canonical_url(start)).path
        prefix = "/" if whole_site else path[: path.rfind("/") + 1]
        return cls(site_of(start), prefix, keep_query)

    def page(self, url: str) -> str | None:
        """The canonical URL of ``url`` if it is a page in scope, else None."""
        try:
            canonical = canonical_url(url, self.keep_query)
        except InvalidInput:
            return None  # mailto:, javascript:, a malformed href
        path = urlsplit(canonical).path
        suffix = path[path.rfind(".") :].lower() if "." in path.rsplit("/", 1)[-1] else ""
        if site_of(canonical) != self.site or not path.startswith(self.prefix) or suffix in NOT_PAGES:
            return None
        return canonical


def page_links(html: str, url: str) -> list[str]:
    """The absolute targets of a page's ``<a href>`` and ``<area href>``, in document order, with a
    ``<base href>`` honoured; fragments and non-http links are the caller's to drop (``Scope.page``)."""
    try:
        doc = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return []
    base = url
    for element in doc.iter("base"):
        if element.get("href"):
            base = urljoin(url, element.get("href", "").strip())
            break
    found = []
    for element in doc.iter("a", "area"):
        href = (element.get("href") or "").strip()
        if href and not href.startswith("#"):
            found.append(urljoin(base, href))
    return found


@dataclass(frozen=True)
class Sitemap:
    """What one sitemap file lists: pages (a ``<urlset>``) or further sitemaps (a ``<sitemapindex>``)."""

    pages: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()


def _unzipped(content: bytes) -> bytes:
    """The XML of a sitemap, gunzipped if it is a .xml.gz, and never more than MAX_SITEMAP_BYTES."""
    if not content.startswith(b"\x1f\x8b"):
        return content
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # a zip bomb stops at the limit
    try:
        xml = inflater.decompress(content, MAX_SITEMAP_BYTES + 1)
    except zlib.error as exc:
        raise InvalidInput(f"the sitemap is not valid gzip: {exc}") from None
    if len(xml) > MAX_SITEMAP_BYTES:
        raise InvalidInput(f"the sitemap is larger than {MAX_SITEMAP_BYTES // 2**20} MB unpacked")
    return xml


def sitemap(content: bytes, url: str) -> Sitemap:
    """The page and sitemap URLs a sitemap file lists (sitemaps.org), made absolute against its URL. No
    entity is expanded and no DTD or network resource is loaded."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=False)
    try:
        root = etree.fromstring(_unzipped(content), parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(f"{url} is not a sitemap: {exc}") from None
    if etree.QName(root).localname not in ("urlset", "sitemapindex"):
        raise InvalidInput(f"{url} is not a sitemap: no <urlset> or <sitemapindex>")
    locations = tuple(
        urljoin(url, (loc.text or "").strip())
        for entry in root
        if isinstance(entry.tag, str)
        for loc in entry
        if isinstance(loc.tag, str) and etree.QName(loc).localname == "loc" and (loc.text or "").strip()
    )
    if etree.QName(root).localname == "sitemapindex":
        return Sitemap(sitemaps=locations)
    return Sitemap(pages=locations)
