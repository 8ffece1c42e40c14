"""An article's audio manifest as a static JSON file: the API's shape (``GET /api/articles/{slug}/audio``),
so the reader's player and apps read it as they read the API's.

Differences, all because no service answers behind a static site: URLs are relative to the JSON file (or
absolute under ``audio_base_url``); there is no ``job``; and only articles whose audio is ready get a
manifest. The site carries each article's whole-article MP3, not its chunks' files, so a chunk's ``url``
is null unless the audio is kept elsewhere (where every chunk is too); its ``start`` and ``end`` place it in
the whole file, which is how the player reads it anyway.
"""

from __future__ import annotations

import json
from typing import Any

from tts_service import timing
from tts_service.article import Article
from tts_service.audio import mp3
from tts_service.manifest import Manifest
from tts_service.publishing.links import Links
from tts_service.store import AssemblyRecord


def _chunks(manifest: Manifest, whole: AssemblyRecord, links: Links, here: str) -> list[dict[str, Any]]:
    chunks = []
    offsets = manifest.plan.spoken_offsets
    for index, chunk in enumerate(manifest.plan.spoken):
        record = manifest.records[chunk.key]
        start, end = whole.spans[index]
        source, marks = timing.manifest_marks(
            chunk.text,
            chunk.spoken,
            record.marks,
            record.duration,
            offsets[index][0],
            start,
            mp3.LEAD_SECONDS,
        )
        chunks.append(
            {
                "index": index,
                "paragraph": chunk.paragraph,
                "sentence": chunk.sentences[0],
                "sentences": list(chunk.sentences),
                "text": chunk.text.strip(),
                "url": None if links.copies_audio else links.audio_href(here, chunk.key),
                "duration": record.duration,
                "start": start,
                "end": end,
                "offsets": list(offsets[index]),
                "marks": marks,
                "timing": source,
            }
        )
    return chunks


def audio_json(article: Article, manifest: Manifest, whole: AssemblyRecord, links: Links) -> bytes:
    """The manifest file of an article whose audio is ready; the same bytes for the same audio."""
    here = links.manifest(article.slug)
    document = {
        "slug": article.slug,
        "revision": article.revision,
        "engine": manifest.plan.engine,
        "voice": manifest.plan.voice,
        "status": manifest.status.value,
        "progress": round(manifest.progress, 4),
        "error": manifest.error,
        "url": links.audio_href(here, whole.key),
        "duration": whole.duration,
        "captions_url": links.href(here, links.captions(article.slug)),
        "chunks": _chunks(manifest, whole, links, here),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
