"""One file of a published site, before it is written."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from tts_service.cache import AudioStore
from tts_service.files import copy_atomic, write_atomic


@dataclass(frozen=True)
class StoredAudio:
    """Audio in the audio store, to copy into the site when it is written (not read before)."""

    store: AudioStore
    key: str

    def copy_to(self, target: Path) -> None:
        """Copy the audio to ``target`` atomically; NotFound (or FileNotFoundError) if it went."""
        local = self.store.local_path(self.key)
        if local is not None:
            copy_atomic(local, target)  # streamed: a long whole-article file is never held in memory
        else:
            write_atomic(target, self.store.read(self.key))  # an object: a few MB at most


@dataclass(frozen=True)
class Output:
    """One file of the site: its path in the site, and its bytes or the file whose bytes it takes.

    ``fingerprint`` decides whether a published file is still right: the bytes' SHA-256, or for audio the
    cache key, which names the content (so a site's MP3s are not read again at every run to be compared).
    """

    path: str
    fingerprint: str
    data: bytes | None = None
    source: Path | StoredAudio | None = None

    @classmethod
    def of_bytes(cls, path: str, data: bytes) -> Output:
        return cls(path, "sha256:" + hashlib.sha256(data).hexdigest(), data=data)
