"""Static publishing (``tts-service publish OUT_DIR``): the reader's site as files that any static file
server or CDN serves with no tts_service process behind it.

``site`` builds the files in memory from the store, ``writer`` brings the directory in line with them
(atomically, incrementally, touching only its own files, which ``ledger`` records), and ``watch``
publishes again whenever the store changes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from tts_service.config import Settings
from tts_service.errors import InvalidInput
from tts_service.pipeline import Pipeline
from tts_service.publishing.links import Links, absolute_base
from tts_service.publishing.site import Site, SiteBuilder
from tts_service.publishing.writer import Report, Writer

__all__ = ["Links", "Published", "Report", "Site", "absolute_base", "output_dir", "publish"]


@dataclass(frozen=True)
class Published:
    """One run: the site as built (what its articles carry) and what was done to the directory."""

    site: Site
    report: Report


async def publish(pipeline: Pipeline, root: Path, links: Links) -> Published:
    """Publish every article into ``root``: write what changed, remove what went, say what was done."""
    site = await SiteBuilder(pipeline, links).build()
    report = await asyncio.to_thread(Writer(root).apply, site.outputs)
    return Published(site, report)


def output_dir(path: Path, settings: Settings) -> Path:
    """``path`` checked as an output directory, and made if it is missing (its parent must exist, so a
    mistyped path does not grow a tree somewhere). InvalidInput for what cannot be one."""
    if path.exists() and not path.is_dir():
        raise InvalidInput(f"{path} exists and is not a directory")
    resolved = path.resolve()
    home, cache = settings.home.resolve(), settings.cache_dir.resolve()
    if resolved == home or resolved.is_relative_to(cache):
        raise InvalidInput(f"{path} is TTS_HOME or in its audio cache; publish into a directory of its own")
    if not path.exists():
        if not path.parent.is_dir():
            raise InvalidInput(f"the directory {path.parent} does not exist")
        path.mkdir()
    return path
