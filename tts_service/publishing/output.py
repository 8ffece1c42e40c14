"""One file of a published site, before it is written."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Output:
    """One file of the site: its path in the site, and its bytes or the file whose bytes it takes.

    ``fingerprint`` decides whether a published file is still right: the bytes' SHA-256, or for audio the
    cache key, which names the content (so a site's MP3s are not read again at every run to be compared).
    """

    path: str
    fingerprint: str
    data: bytes | None = None
    source: Path | None = None

    @classmethod
    def of_bytes(cls, path: str, data: bytes) -> Output:
        return cls(path, "sha256:" + hashlib.sha256(data).hexdigest(), data=data)
