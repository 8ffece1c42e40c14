"""Read the PCM payload out of a WAV stream, including streamed WAVs whose size fields are bogus."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from tts_service.errors import SynthesisError


@dataclass(frozen=True)
class Pcm:
    data: bytes
    sample_rate: int
    channels: int
    sample_width: int


def read(wav: bytes) -> Pcm:
    """Parse RIFF chunks; a ``data`` chunk with a placeholder size runs to the end of the stream."""
    if len(wav) < 12 or wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise SynthesisError("engine output is not a WAV stream")
    pos, fmt = 12, None
    while pos + 8 <= len(wav):
        chunk_id, size = wav[pos : pos + 4], struct.unpack("<I", wav[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            _tag, channels, rate, _brate, _align, bits = struct.unpack("<HHIIHH", wav[body : body + 16])
            fmt = (rate, channels, bits // 8)
        elif chunk_id == b"data":
            if fmt is None:
                raise SynthesisError("WAV data chunk before its format chunk")
            end = len(wav) if size in (0, 0xFFFFFFFF) or body + size > len(wav) else body + size
            return Pcm(wav[body:end], *fmt)
        pos = body + size + (size & 1)
    raise SynthesisError("WAV stream has no data chunk")
