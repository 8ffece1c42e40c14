"""Content-addressed audio store: one MP3 per key, written atomically, shared by every article."""

from __future__ import annotations

import errno
import hashlib
import json
import re
from pathlib import Path

from tts_service.engines.base import Prosody
from tts_service.errors import NotFound, StorageFull
from tts_service.files import write_atomic

# Bump when the stored bytes change for the same inputs (container, bitrate, post-processing).
# 2: one MP3 format for every engine, loudness-normalised. 3: true peaks under -1 dBTP once decoded, and
# loudness made up after limiting by the measured slope.
FORMAT_VERSION = 3
_KEY_RE = re.compile(r"[0-9a-f]{64}")  # always fullmatch: "$" matches before a final "\n"


def audio_key(engine: str, engine_version: str, voice: str, prosody: Prosody, spoken: str) -> str:
    """The cache key: a hash of everything that affects the sound, and nothing else."""
    material = [
        FORMAT_VERSION,
        engine,
        engine_version,
        voice,
        [prosody.rate, prosody.pitch, prosody.volume],
        spoken,
    ]
    return hashlib.sha256(json.dumps(material, ensure_ascii=False).encode("utf-8")).hexdigest()


def is_key(key: str) -> bool:
    """True for a well-formed key; anything else (path tricks included) is not a key."""
    return bool(_KEY_RE.fullmatch(key))


class AudioCache:
    """MP3 files under ``root/ab/<key>.mp3``; readers never see a partial file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        if not is_key(key):
            raise NotFound("no such audio")
        return self.root / key[:2] / f"{key}.mp3"

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def read(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound("no such audio") from None

    def write(self, key: str, audio: bytes) -> Path:
        """Store ``audio`` under ``key`` atomically: no reader ever sees a partial file. StorageFull when
        the disk is full (the temporary file is removed, so nothing half-written stays behind)."""
        try:
            return write_atomic(self.path(key), audio)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull(f"no space left on the audio store ({self.root})") from exc
            raise
