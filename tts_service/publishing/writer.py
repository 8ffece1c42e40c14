"""Bringing an output directory in line with a site: write what changed, remove what went, keep the rest.

Every file is written to a temp file beside it and renamed into place (``files.write_atomic``), so a web
server serving the directory meanwhile sends the old file or the new one, never a part. One run at a time
per directory (an advisory lock on the directory itself): ``publish --watch`` and a manual ``publish``
cannot interleave their records.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tts_service.errors import ForeignFiles, NotFound, OutputUnwritable, PublishBusy
from tts_service.files import copy_atomic, write_atomic
from tts_service.publishing.ledger import Ledger, site_path
from tts_service.publishing.output import Output, StoredAudio

SHOWN_FOREIGN = 5  # foreign files named in the error; the rest are counted


@dataclass(frozen=True)
class Report:
    """What a run did, by site path."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishBusy(f"another tts-service publish is writing to {root}") from None
        yield
    finally:
        os.close(fd)  # releases the lock


class Writer:
    """Publishes sites into ``root``, which must exist."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def apply(self, outputs: Mapping[str, Output]) -> Report:
        """Make ``root`` hold exactly ``outputs`` among the files this command wrote there. A file that
        cannot be written (a full disk, no permission) stops the run with OutputUnwritable: what was
        written so far is recorded, the file it failed on is as it was, and no temp file stays behind."""
        try:
            return self._apply(outputs)
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            raise OutputUnwritable(f"cannot write to {self.root}: {exc.strerror or exc}{where}") from exc

    def _apply(self, outputs: Mapping[str, Output]) -> Report:
        with _locked(self.root):
            ledger = Ledger.load(self.root)
            before = dict(ledger.entries)
            paths = sorted(site_path(p) for p in outputs)
            self._refuse_foreign(ledger, paths)
            ledger.claim(paths)
            if ledger.entries != before:
                ledger.save()
            try:
                written, unchanged = self._write(ledger, outputs, paths)
                removed = self._remove(ledger, set(paths))
            finally:
                if ledger.entries != before:
                    ledger.save()
        return Report(tuple(written), tuple(unchanged), tuple(removed))

    def _refuse_foreign(self, ledger: Ledger, paths: list[str]) -> None:
        """Stop before anything is written if the site would replace a file someone else put there."""
        foreign = [p for p in paths if p not in ledger.entries and os.path.lexists(self.root / p)]
        if foreign:
            shown = ", ".join(foreign[:SHOWN_FOREIGN])
            more = f" and {len(foreign) - SHOWN_FOREIGN} more" if len(foreign) > SHOWN_FOREIGN else ""
            raise ForeignFiles(
                f"{self.root} holds files that tts-service publish did not write and would replace: "
                f"{shown}{more}; publish into an empty directory, or move them away"
            )

    def _write(
        self, ledger: Ledger, outputs: Mapping[str, Output], paths: list[str]
    ) -> tuple[list[str], list[str]]:
        written, unchanged = [], []
        for path in paths:
            output = outputs[path]
            if ledger.current(path, output.fingerprint):
                unchanged.append(path)
                continue
            target = self.root / path
            if output.data is not None:
                write_atomic(target, output.data)
            else:
                assert output.source is not None
                source = output.source
                try:
                    if isinstance(source, Path):
                        copy_atomic(source, target)
                    else:
                        source.copy_to(target)
                except (FileNotFoundError, NotFound):
                    raise NotFound(f"{_named(source)} went from the audio cache while publishing") from None
            ledger.record(path, output.fingerprint)
            written.append(path)
        return written, unchanged

    def _remove(self, ledger: Ledger, keep: set[str]) -> list[str]:
        """Remove the files of earlier runs that the site no longer has (only files: a directory someone
        put in a file's place is theirs)."""
        removed = []
        for path in sorted(set(ledger.entries) - keep):
            target = self.root / path
            if not target.is_dir() or target.is_symlink():
                target.unlink(missing_ok=True)
            del ledger.entries[path]
            removed.append(path)
        return removed


def _named(source: Path | StoredAudio) -> str:
    return str(source) if isinstance(source, Path) else f"the audio {source.key}"
