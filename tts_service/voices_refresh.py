"""``tts-service voices refresh``: Microsoft's voice list fetched through edge-tts, kept in TTS_HOME."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import edge_tts
from edge_tts.exceptions import EdgeTTSException

from tts_service.engines.edge import failure_reason  # the engine's wording of edge-tts's failures
from tts_service.errors import Unreachable
from tts_service.files import write_atomic
from tts_service.voices import EDGE_LIST_FILE, offered_voices, shipped_edge_ids

_CANNOT = "cannot fetch Microsoft's voice list"
SOURCE = f"Microsoft's Read Aloud voice list, through edge-tts {edge_tts.__version__} (list_voices)"


@dataclass(frozen=True)
class Refreshed:
    """What a refresh wrote: where, how many voices Microsoft listed, and the Chinese ones we offer."""

    path: Path
    listed: int
    offered: tuple[str, ...]
    new: tuple[str, ...]  # offered, but not in the list shipped with the package
    gone: tuple[str, ...]  # shipped, but no longer listed (still accepted: they may come back, or work)


async def fetch(
    *, seconds: float, connector_factory: Callable[[], aiohttp.BaseConnector] | None = None
) -> list[dict[str, Any]]:
    """The voice list as edge-tts gets it within ``seconds``; Unreachable, with a reason a person can act on,
    if it cannot."""
    connector = connector_factory() if connector_factory else None
    try:
        async with asyncio.timeout(seconds):
            voices = await edge_tts.list_voices(connector=connector)
    except (ValueError, TypeError) as exc:  # an answer that is not JSON, or JSON but not a list of objects
        raise Unreachable(f"{_CANNOT}: the answer is not a voice list ({exc})") from exc
    except (EdgeTTSException, aiohttp.ClientError, TimeoutError) as exc:
        raise Unreachable(f"{_CANNOT}: {failure_reason(exc, '', seconds)}") from exc
    return [dict(voice) for voice in voices]


async def refresh(
    home: Path, *, seconds: float, connector_factory: Callable[[], aiohttp.BaseConnector] | None = None
) -> Refreshed:
    """Fetch the list and write it to TTS_HOME/edge_voices.json at once (a reader sees the old list or the
    new one); a list without usable Chinese voices is refused and the one in place kept."""
    voices = await fetch(seconds=seconds, connector_factory=connector_factory)
    try:
        offered = tuple(sorted(voice.id for voice in offered_voices(voices)))
    except ValueError as exc:
        raise Unreachable(f"Microsoft's voice list is unusable ({exc}); the current one is kept") from exc
    document = {"source": SOURCE, "date": datetime.now(UTC).isoformat(timespec="seconds"), "voices": voices}
    data = json.dumps(document, ensure_ascii=False, indent=1).encode() + b"\n"
    path = await asyncio.to_thread(write_atomic, home / EDGE_LIST_FILE, data)
    shipped = shipped_edge_ids()
    new = tuple(v for v in offered if v not in shipped)
    return Refreshed(path, len(voices), offered, new, tuple(v for v in shipped if v not in offered))
