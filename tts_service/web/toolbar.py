"""``GET /embed.js``: the toolbar a host page adds with one line (README: "Add 语音播报 to your site").

One script: the player core the reader page uses too (``static/player-core.js``), the toolbar's modules, and
its CSS as strings (constructed stylesheets: the host page needs no 'unsafe-inline' and loads no stylesheet).
It is put together once per process and versioned by a hash of its content: ``/embed.js?v=<hash>`` may be
cached for ever (``immutable``); ``/embed.js`` itself, or with a stale ``v``, is revalidated (``no-cache``,
``ETag``), so a site that left out the version still gets each release.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from tts_service import resources

router = APIRouter(include_in_schema=False)

# In the order they run: the core first, the element last (it starts the toolbar).
SCRIPTS = (
    "player-core.js",
    "embed/page-text.js",
    "embed/highlight.js",
    "embed/article-style.js",
    "embed/toolbar.js",
)
STYLES = {"toolbar": "embed/toolbar.css", "page": "embed/page.css"}
IMMUTABLE = "public, max-age=31536000, immutable"
MEDIA_TYPE = "text/javascript; charset=utf-8"


@dataclass(frozen=True)
class Bundle:
    """embed.js as served: its bytes and their version (the start of their SHA-256)."""

    body: bytes
    version: str

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def build(static: Path) -> Bundle:
    """The scripts joined, with the stylesheets as strings on the namespace between the core and the rest."""
    read = {name: (static / name).read_text(encoding="utf-8") for name in SCRIPTS}
    styles = {key: (static / name).read_text(encoding="utf-8") for key, name in STYLES.items()}
    parts = [
        '// tts_service embed.js: the 语音播报 toolbar. See the README\'s "Add 语音播报 to your site".',
        read[SCRIPTS[0]],
        f"globalThis.ttsService.styles = {json.dumps(styles, ensure_ascii=False)};",
        *(read[name] for name in SCRIPTS[1:]),
    ]
    body = "\n".join(parts).encode("utf-8")
    return Bundle(body, hashlib.sha256(body).hexdigest()[:16])


_bundles: dict[Path, Bundle] = {}


async def bundle() -> Bundle:
    """The process's embed.js, built on first use (read in a thread: no file I/O on the event loop)."""
    static = resources.static_dir()
    found = _bundles.get(static)
    if found is None:
        found = _bundles[static] = await asyncio.to_thread(build, static)
    return found


async def versioned_url(request: Request) -> str:
    """The address a host page should load: with the current version, so it may be cached for ever."""
    current = await bundle()
    return str(request.url_for("embed_js").include_query_params(v=current.version))


def _matches(if_none_match: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


@router.get("/embed.js", name="embed_js")
async def embed_js(
    request: Request, v: Annotated[str | None, Query(max_length=64, description="The version.")] = None
) -> Response:
    """The toolbar script: immutable under its current version, revalidated otherwise."""
    current = await bundle()
    headers = {"ETag": current.etag, "Cache-Control": IMMUTABLE if v == current.version else "no-cache"}
    if _matches(request.headers.get("if-none-match", ""), current.etag):
        return Response(status_code=304, headers=headers)
    return Response(current.body, media_type=MEDIA_TYPE, headers=headers)
