"""Content-addressed audio: the keys, the one interface of an audio store, and the store of local files.

Two stores stand behind ``AudioStore``: ``AudioCache`` (files under ``TTS_HOME/audio_cache``, the default)
and ``objects.S3AudioStore`` (an S3-compatible bucket), chosen by ``TTS_AUDIO_STORE`` (``open_store``).
Callers never ask which one they have, except the web layer, which serves a local file itself
(``local_path``) and an object by streaming or a presigned URL.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tts_service.engines.base import Prosody
from tts_service.errors import NotFound, StorageError, StorageFull
from tts_service.files import write_atomic

# Bump when the stored bytes change for the same inputs (container, bitrate, post-processing).
# 2: one MP3 format for every engine, loudness-normalised. 3: true peaks under -1 dBTP once decoded, and
# loudness made up after limiting by the measured slope.
FORMAT_VERSION = 3
_KEY_RE = re.compile(r"[0-9a-f]{64}")  # always fullmatch: "$" matches before a final "\n"
QUARANTINE = "quarantine"  # where `cache verify --quarantine` moves bad audio, beside the two-level layout
IMMUTABLE = "public, max-age=31536000, immutable"  # a key names its content: cache it for a year


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


def relative_name(key: str) -> str:
    """Where ``key`` lives below a store's root: ``ab/<key>.mp3`` (two levels keep directories small)."""
    if not is_key(key):
        raise NotFound("no such audio")
    return f"{key[:2]}/{key}.mp3"


@dataclass(frozen=True)
class Stored:
    """What a write stored: the audio's size and SHA-256, to record once the write succeeded."""

    size: int
    sha256: str

    @classmethod
    def of(cls, audio: bytes) -> Stored:
        return cls(len(audio), hashlib.sha256(audio).hexdigest())


@dataclass(frozen=True)
class Entry:
    """One stored file or object, as a listing finds it: ``name`` below the store's root (``ab/x.mp3``,
    or a stray such as a temp file), its key if the name is a well-formed one, its size and mtime."""

    name: str
    key: str | None
    size: int
    mtime: float  # seconds since the epoch (an object's Last-Modified)


@dataclass(frozen=True)
class ObjectInfo:
    """What a reader needs before the bytes: the size and when it was stored."""

    size: int
    mtime: float


class AudioStore(Protocol):
    """Where audio lives, by content key. Blocking calls: async callers use ``asyncio.to_thread``."""

    def exists(self, key: str) -> bool: ...
    def read(self, key: str) -> bytes:
        """The whole audio; NotFound if there is none."""
        ...

    def write(self, key: str, audio: bytes) -> Stored:
        """Store the whole ``audio`` or nothing (no reader sees a part); record it only after this returns."""
        ...

    def delete(self, key: str) -> bool:
        """Remove the audio; whether there was any."""
        ...

    def entries(self) -> Iterator[Entry]:
        """Everything stored in the audio layout, strays included, the quarantine not."""
        ...

    def remove(self, entry: Entry) -> None:
        """Remove what ``entries`` listed (a stray has no key to ``delete`` it by)."""
        ...

    def quarantine(self, keys: Iterable[str]) -> list[str]:
        """Move the audio of ``keys`` aside for a person to look at; the keys that had audio to move."""
        ...

    def object_key(self, key: str) -> str:
        """The audio's path below what ``TTS_AUDIO_BASE_URL`` serves (the bucket, or the cache directory)."""
        ...

    def info(self, key: str) -> ObjectInfo:
        """Size and mtime; NotFound if there is no such audio."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The audio's file when it is on this machine (served from memory or disk); None for objects."""
        ...

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the audio (a reader's Range); NotFound if there is none."""
        ...

    def presigned_url(self, key: str, seconds: int) -> str | None:
        """A URL any client may GET the audio from for ``seconds``; None where there is no such thing."""
        ...

    def describe(self) -> str:
        """Where the audio is, for messages and /healthz (never a credential)."""
        ...

    def probe(self) -> None:
        """Quickly check that audio can be stored (for /healthz); StorageError with the reason if not."""
        ...

    def close(self) -> None: ...


class AudioCache:
    """MP3 files under ``root/ab/<key>.mp3``; readers never see a partial file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / relative_name(key)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def read(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound("no such audio") from None

    def write(self, key: str, audio: bytes) -> Stored:
        """Store ``audio`` under ``key`` atomically: no reader ever sees a partial file. StorageFull when
        the disk is full (the temporary file is removed, so nothing half-written stays behind)."""
        try:
            write_atomic(self.path(key), audio)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull(f"no space left on the audio store ({self.root})") from exc
            raise
        return Stored.of(audio)

    def delete(self, key: str) -> bool:
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def entries(self) -> Iterator[Entry]:
        if not self.root.is_dir():
            return
        for sub in sorted(self.root.iterdir()):
            if not sub.is_dir() or sub.name == QUARANTINE:
                continue
            for path in sorted(p for p in sub.iterdir() if p.is_file()):
                stat = path.stat()
                key = path.stem if is_key(path.stem) and path.suffix == ".mp3" else None
                yield Entry(f"{sub.name}/{path.name}", key, stat.st_size, stat.st_mtime)

    def remove(self, entry: Entry) -> None:
        (self.root / entry.name).unlink(missing_ok=True)

    def quarantine(self, keys: Iterable[str]) -> list[str]:
        target = self.root / QUARANTINE
        target.mkdir(parents=True, exist_ok=True)
        moved = []
        for key in keys:
            source = self.path(key)
            if source.exists():
                shutil.move(source, target / source.name)
                moved.append(key)
        return moved

    def object_key(self, key: str) -> str:
        return relative_name(key)

    def info(self, key: str) -> ObjectInfo:
        try:
            stat = os.stat(self.path(key))
        except FileNotFoundError:
            raise NotFound("no such audio") from None
        return ObjectInfo(stat.st_size, stat.st_mtime)

    def local_path(self, key: str) -> Path:
        return self.path(key)

    def read_range(self, key: str, start: int, end: int) -> bytes:
        try:
            with self.path(key).open("rb") as file:
                file.seek(start)
                return file.read(end - start)
        except FileNotFoundError:
            raise NotFound("no such audio") from None

    def presigned_url(self, key: str, seconds: int) -> None:
        return None  # files are served by this service, or by a front server from the directory

    def describe(self) -> str:
        return str(self.root)

    def probe(self) -> None:
        """Free space is /healthz's own check; here, that the directory is one (or can become one)."""
        if self.root.exists() and not self.root.is_dir():
            raise StorageError(f"the audio cache {self.root} is not a directory")

    def close(self) -> None:
        """Nothing to close: files are opened per call."""
