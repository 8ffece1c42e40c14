"""Atomic file writes: readers, and other processes, see the old file or the whole new one, never a part."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _replace(path: Path, fill: Callable[[BinaryIO], object]) -> Path:
    """Fill a temp file in ``path``'s directory, fsync it, then rename it over ``path``; on any failure the
    temp file goes and ``path`` is as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:12]}-", suffix=".part")
    try:
        os.fchmod(fd, 0o644)  # readable by a front server (nginx) running as another user, like any file
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_atomic(path: Path, data: bytes) -> Path:
    """Write to a temp file in the same directory, fsync, then rename over ``path``."""
    return _replace(path, lambda fh: fh.write(data))


def copy_atomic(source: Path, path: Path) -> Path:
    """Copy ``source`` to ``path`` as ``write_atomic`` writes; streamed, so that a long whole-article MP3 is
    never held in memory."""

    def fill(fh: BinaryIO) -> None:
        with source.open("rb") as src:
            shutil.copyfileobj(src, fh, 1 << 20)

    return _replace(path, fill)
