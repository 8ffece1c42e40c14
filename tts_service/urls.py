"""Page URLs as keys: the canonical form a host page is stored under, and the site (origin) it belongs to."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from pathlib import PurePosixPath
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tts_service.errors import InvalidInput

MAX_URL_CHARS = 2000
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _parts(url: str) -> tuple[str, str, int | None, str, str]:
    """(scheme, host, port, path, query) of an absolute http(s) URL; InvalidInput for anything else."""
    if len(url) > MAX_URL_CHARS:
        raise InvalidInput(f"url is {len(url)} characters; the limit is {MAX_URL_CHARS}")
    try:
        split = urlsplit(url.strip())
        port = split.port
    except ValueError as exc:
        raise InvalidInput(f"url is not a valid URL: {exc}") from None
    scheme, host = split.scheme.lower(), (split.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or split.username is not None or split.password is not None:
        raise InvalidInput("url must be an absolute http or https URL with a host and no user name")
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    return scheme, host, port, split.path or "/", split.query


def _netloc(host: str, port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host  # an IPv6 address
    return host if port is None else f"{host}:{port}"


def canonical_url(url: str, keep_query: Collection[str] = ()) -> str:
    """The key a page is stored under: scheme and host in lower case, no default port, no fragment, and no
    query except the parameters named in ``keep_query`` (sites whose article id is in the query, such as
    ``?id=123``), kept in a fixed order. ``http://A.example:80/x?utm=1#top`` → ``http://a.example/x``."""
    scheme, host, port, path, query = _parts(url)
    kept = sorted((k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k in keep_query)
    return urlunsplit((scheme, _netloc(host, port), path, urlencode(kept), ""))


def site_of(url: str) -> str:
    """The origin a URL belongs to, as browsers send it in ``Origin``: ``https://news.example``."""
    scheme, host, port, _, _ = _parts(url)
    return f"{scheme}://{_netloc(host, port)}"


def page_slug(canonical: str) -> str:
    """The slug a page gets when the service stores it (the toolbar, ``crawl``): its host and file name,
    readable, then 8 hex digits of the URL's hash, so that two pages never share one."""
    split = urlsplit(canonical)
    words = re.sub(r"[^a-z0-9]+", "-", f"{split.hostname} {PurePosixPath(split.path).stem}".lower())
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]
    words = words[:70].strip("-")
    return f"{words}-{digest}" if words else digest
