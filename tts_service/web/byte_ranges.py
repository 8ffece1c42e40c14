"""HTTP Range requests (RFC 9110 §14) over bytes in memory, answered exactly as Starlette's FileResponse does.

Audio files used to go out through Starlette's ``FileResponse``; players, browsers and caches have seen its
answers since. These functions give the same answers for bytes already in memory, without its file machinery:
the same ranges for the same ``Range`` header (suffixes, open ends, ends past the size, overlaps merged), the
same 400 and 416 refusals, and the same ``multipart/byteranges`` body for several ranges.
``tests/web/test_audio.py`` checks every case against ``FileResponse`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_RANGES = 100  # more than this in one header: the whole file instead (a client trying to make work)


@dataclass(frozen=True)
class Refusal:
    """A Range header that gets no content: 400 (malformed) or 416 (nothing of the file asked for)."""

    status: int
    message: str = ""


def parse(header: str, size: int) -> list[tuple[int, int]] | Refusal:
    """The ``[start, end)`` ranges a ``Range`` header asks of ``size`` bytes, merged where they overlap;
    empty: answer with the whole file."""
    units, equals, ranges_part = header.partition("=")
    if not equals:
        return Refusal(400, "Malformed range header.")
    if units.strip().lower() != "bytes":
        return Refusal(400, "Only support bytes range")
    if ranges_part.count(",") + 1 > MAX_RANGES:
        return []
    ranges = _ranges(ranges_part, size)
    if not ranges:
        return Refusal(400, "Range header: range must be requested")
    if any(not 0 <= start < size for start, _ in ranges):
        return Refusal(416)
    if any(start >= end for start, end in ranges):
        return Refusal(400, "Range header: start must be less than end")
    return _merged(ranges)


def _ranges(spec: str, size: int) -> list[tuple[int, int]]:
    """Each well-formed ``start-end``, ``start-`` or ``-suffix`` in the list; the others are skipped."""
    ranges = []
    for part in (p.strip() for p in spec.split(",")):
        if not part or part == "-" or "-" not in part:
            continue
        first, _, last = part.partition("-")
        first, last = first.strip(), last.strip()
        try:
            start = int(first) if first else max(size - int(last), 0)
            end = int(last) + 1 if first and last and int(last) < size else size
        except ValueError:
            continue
        ranges.append((start, end))
    return ranges


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Several ranges in order of their start, those that overlap (or touch) joined into one."""
    if len(ranges) == 1:
        return ranges
    ranges = sorted(ranges)
    merged = [ranges[0]]
    for start, end in ranges[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end:
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


def multipart(data: bytes, ranges: list[tuple[int, int]], boundary: str, content_type: str) -> bytes:
    """The ``multipart/byteranges`` body of several ranges of ``data`` (RFC 9110 §14.6)."""
    parts = []
    for start, end in ranges:
        head = (
            f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Range: bytes {start}-{end - 1}/{len(data)}\r\n\r\n"
        )
        parts += [head.encode("latin-1"), data[start:end], b"\r\n"]
    parts.append(f"--{boundary}--".encode("latin-1"))
    return b"".join(parts)
