"""The record of what ``tts-service publish`` wrote into an output directory: ``.tts-published.json``.

It is how a run knows which files are its own. Only files listed here are ever removed or replaced; a file
the site needs where a file of someone else's already is stops the run (``ForeignFiles``). Each entry keeps
the file's fingerprint (what it was made from) and its size and modification time as written, so a file
changed or deleted behind the command's back is written again rather than taken for current.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from tts_service.errors import BadLedger
from tts_service.files import write_atomic

LEDGER = ".tts-published.json"
FORMAT = 1


@dataclass(frozen=True)
class Entry:
    """A published file: what it was made from, and how it was when written."""

    fingerprint: str
    size: int
    mtime_ns: int


def site_path(path: str) -> str:
    """``path`` if it is a plain relative path inside the site; ValueError for anything that could reach
    outside it (absolute, ``..``, backslashes) or for the ledger itself."""
    pure = PurePosixPath(path)
    bad = pure.is_absolute() or "\\" in path or any(part in ("", ".", "..") for part in path.split("/"))
    if bad or str(pure) != path or path == LEDGER:
        raise ValueError(f"not a path inside the site: {path!r}")
    return path


class Ledger:
    """The published files of one output directory, by site path."""

    def __init__(self, root: Path, entries: dict[str, Entry] | None = None) -> None:
        self.root = root
        self.entries: dict[str, Entry] = dict(entries or {})

    @property
    def file(self) -> Path:
        return self.root / LEDGER

    @classmethod
    def load(cls, root: Path) -> Ledger:
        """The directory's ledger; an empty one where there is none. BadLedger when it cannot be read, or
        names a path outside the directory: nothing is written or removed then."""
        file = root / LEDGER
        try:
            raw = json.loads(file.read_bytes())
        except FileNotFoundError:
            return cls(root)
        except (OSError, ValueError) as exc:
            raise BadLedger(f"cannot read {file}: {exc}") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT or not isinstance(raw.get("files"), dict):
            raise BadLedger(f"{file} is not a publish record of format {FORMAT}")
        try:
            entries = {site_path(path): Entry(**fields) for path, fields in raw["files"].items()}
        except (TypeError, ValueError) as exc:
            raise BadLedger(f"{file} has a bad entry: {exc}") from None
        return cls(root, entries)

    def save(self) -> None:
        document = {"format": FORMAT, "files": {p: asdict(e) for p, e in sorted(self.entries.items())}}
        write_atomic(self.file, json.dumps(document, indent=1).encode("utf-8"))

    def current(self, path: str, fingerprint: str) -> bool:
        """Whether the file at ``path`` is the one recorded, made from ``fingerprint``, untouched since."""
        entry = self.entries.get(path)
        if entry is None or entry.fingerprint != fingerprint:
            return False
        try:
            stat = (self.root / path).stat()
        except OSError:
            return False
        return (stat.st_size, stat.st_mtime_ns) == (entry.size, entry.mtime_ns)

    def record(self, path: str, fingerprint: str) -> None:
        """Remember the file just written at ``path``."""
        stat = os.stat(self.root / path)
        self.entries[path] = Entry(fingerprint, stat.st_size, stat.st_mtime_ns)

    def claim(self, paths: list[str]) -> None:
        """Mark paths as this command's before writing them (fingerprint unknown: written again next time),
        so that a run stopped half way leaves no file the next run would take for someone else's."""
        for path in paths:
            self.entries.setdefault(path, Entry("", -1, -1))
