"""The static site's pages, rendered from the reader's own templates.

The article and index templates are the server's. Templates under ``templates/published/`` stand in for
the few that need a server (the frame with its cookie forms, the type controls, the pending player), found
first by the loader; they reach the server's version of a template they replace as ``shared/<name>``.
``url_for`` is the server's route names, answered with the site's relative links.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    select_autoescape,
)

from tts_service import resources
from tts_service.article import Article
from tts_service.manifest import Manifest
from tts_service.planning import Plan
from tts_service.publishing.links import FEED, INDEX, Links
from tts_service.states import AudioStatus
from tts_service.store import AssemblyRecord

# The files of static/ the pages load; favicon.ico is linked from the pages (the site may not be at a root).
ASSETS = ("reader.css", "local-prefs.js", "player-core.js", "reader.js", "favicon.ico")
# The reader's choices, as web/pages.py offers them (a test holds the two together).
CHOICES = {
    "size": {"s": "小", "m": "中", "l": "大", "xl": "特大"},
    "scheme": {"auto": "标准", "contrast": "高对比"},
    "words": {"on": "开", "off": "关"},
}
DEFAULTS = {"size": "m", "scheme": "auto", "words": "on"}
# The app's policy (web/middleware.py) as far as a <meta> can carry it: frame-ancestors is for headers only.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'{media};"
    " connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
)
UrlFor = Callable[..., str]


def _environment() -> Environment:
    shared = resources.templates_dir()
    loader = ChoiceLoader(
        [
            FileSystemLoader(shared / "published"),
            PrefixLoader({"shared": FileSystemLoader(shared)}),
            FileSystemLoader(shared),
        ]
    )
    env = Environment(loader=loader, autoescape=select_autoescape(), undefined=StrictUndefined)
    env.globals["AudioStatus"] = AudioStatus
    return env


def asset_versions(static_dir: Path) -> dict[str, str]:
    """Each asset's version: the first hex digits of its hash, added to its links (``?v=``), so that a
    browser or CDN holding last release's script fetches the new one, and pages change with their assets."""
    return {name: hashlib.sha256((static_dir / name).read_bytes()).hexdigest()[:12] for name in ASSETS}


class Renderer:
    """Renders the index and article pages of a site laid out by ``links``."""

    def __init__(self, links: Links, versions: Mapping[str, str]) -> None:
        self.links, self.versions = links, versions
        self.env = _environment()
        media = f" {links.audio_base_url}" if links.audio_base_url else ""
        self.csp = _CSP.format(media=media)

    def url_for(self, here: str, whole: AssemblyRecord | None = None) -> UrlFor:
        """The templates' ``url_for`` on the page at ``here``: the server's route names, site links."""
        links = self.links

        def url_for(name: str, **params: str) -> str:
            if name == "static":
                path = params["path"]
                return f"{links.href(here, links.static(path))}?v={self.versions[path]}"
            if name == "index":
                return links.href(here, INDEX)
            targets = {
                "article_page": links.page,
                "article_audio": links.manifest,
                "article_captions": links.captions,
            }
            if name in targets:
                return links.href(here, targets[name](params["slug"]))
            if name == "audio_file":
                return links.audio_href(here, params["key"])
            if name == "article_mp3" and whole is not None:
                return links.audio_href(here, whole.key)
            raise KeyError(f"no static link for the route {name!r}")

        return url_for

    def _render(self, name: str, here: str, context: dict[str, Any], whole: AssemblyRecord | None) -> bytes:
        base = {
            "url_for": self.url_for(here, whole),
            "prefs": DEFAULTS,
            "choices": CHOICES,
            "csp": self.csp,
            "canonical": self.links.absolute(here),
            "feed_url": self.links.absolute(FEED),
        }
        return self.env.get_template(name).render({**base, **context}).encode("utf-8")

    def index(self, items: list[tuple[Article, Manifest]]) -> bytes:
        return self._render("index.html", INDEX, {"items": items}, None)

    def article(self, article: Article, manifest: Manifest, whole: AssemblyRecord | None) -> bytes:
        here = self.links.page(article.slug)
        context = {
            "article": article,
            "paragraphs": paragraphs(manifest.plan),
            "manifest": manifest,
            "whole": whole,
        }
        return self._render("article.html", here, context, whole)


def paragraphs(plan: Plan) -> list[list[tuple[str, int | None]]]:
    """Each paragraph as (text, spoken chunk index or None) pieces, as the server's page marks them."""
    spoken_index = {id(c): i for i, c in enumerate(plan.spoken)}
    result: list[list[tuple[str, int | None]]] = []
    paragraph = None
    for chunk in plan.chunks:
        if chunk.paragraph != paragraph:
            result.append([])
            paragraph = chunk.paragraph
        result[-1].append((chunk.text, spoken_index.get(id(chunk))))
    return result
