"""The OpenAI speech API's output formats: encoders that take float samples and emit a file piece by piece.

Each encoder is fed the whole answer's samples in pieces (a sentence, then its pause, ...) and returns the
bytes ready so far; everything it returned, joined, is one valid file. WAV, PCM and MP3 are written here and
by LAME (lameenc); Ogg Opus, FLAC and AAC by FFmpeg's libraries through PyAV, in-process. A streamed PyAV
file goes to a writer that cannot seek, so no muxer comes back to patch a header: the first bytes sent are
final.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol

import av
import lameenc
import numpy as np
from av.audio.stream import AudioStream

from tts_service.audio import mp3, pcm
from tts_service.errors import InvalidInput

# What api.openai.com labels each response_format with, as clients that proxy it report (it could not be
# checked from here: the API is out of reach). opus is Ogg Opus labelled audio/opus, not RFC 7845's
# audio/ogg: a client that switches on OpenAI's label gets the same one, and browsers sniff the Ogg
# signature whatever the label says. pcm has no registered type (audio/L16 is big-endian); OpenAI sends
# audio/pcm.
FORMATS: dict[str, str] = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}

# OpenAI documents pcm as 24 kHz 16-bit signed little-endian mono, and every chunk is 24 kHz already
# (mp3.SAMPLE_RATE), so a decoded chunk is encoded without resampling. Opus is coded at 48 kHz inside Ogg,
# but libopus takes 24 kHz input itself and the stream says so (OpusHead's input rate).
OUTPUT_RATE = 24_000

_UNKNOWN = 0xFFFFFFFF  # RIFF sizes of a WAV whose length is not known when the header goes out


class Encoder(Protocol):
    """One output file being written: feed it samples, send what it returns, then send finish()."""

    def feed(self, samples: np.ndarray) -> bytes:
        """Encode mono float samples (-1..1, at OUTPUT_RATE); the bytes ready so far, possibly b""."""
        ...

    def finish(self) -> bytes:
        """The rest of the file; the encoder is spent afterwards."""
        ...


def encoder(fmt: str, *, streaming: bool) -> Encoder:
    """A fresh encoder for ``fmt``; ``streaming`` when its bytes are sent before the last sample is known."""
    if fmt == "pcm":
        return _Pcm()
    if fmt == "wav":
        return _Wav(streaming=streaming)
    if fmt == "mp3":
        return _Mp3()
    spec = _AV_FORMATS.get(fmt)
    if spec is None:
        raise InvalidInput(f"unknown response_format {fmt!r}: use one of {', '.join(FORMATS)}")
    return _AvEncoder(spec, streaming=streaming)


def decode_mp3(data: bytes, rate: int = OUTPUT_RATE) -> np.ndarray:
    """Float32 mono samples of an MP3 at ``rate`` (SynthesisError if it does not decode)."""
    return pcm.resample(pcm.from_int16(mp3.decode(data)), mp3.SAMPLE_RATE, rate)


def _int16(samples: np.ndarray) -> bytes:
    if samples.ndim != 1:
        raise ValueError(f"expected mono samples (one dimension), got shape {samples.shape}")
    return pcm.to_int16(samples)


class _Pcm:
    """Raw s16le, mono, 24 kHz: the samples and nothing else."""

    def feed(self, samples: np.ndarray) -> bytes:
        return _int16(samples)

    def finish(self) -> bytes:
        return b""


class _Wav:
    """16-bit PCM WAV. Streamed, the sizes say "unknown" (0xFFFFFFFF), as OpenAI's and ffmpeg's streamed
    WAVs do, and readers take the data to the end; otherwise the file is held until its sizes are known."""

    def __init__(self, *, streaming: bool) -> None:
        self._streaming = streaming
        self._started = False
        self._held: list[bytes] = []

    def feed(self, samples: np.ndarray) -> bytes:
        data = _int16(samples)
        if not self._streaming:
            self._held.append(data)
            return b""
        if self._started:
            return data
        self._started = True
        return _wav_header(_UNKNOWN) + data

    def finish(self) -> bytes:
        if self._streaming:
            return b"" if self._started else _wav_header(_UNKNOWN)
        data = b"".join(self._held)
        self._held.clear()
        return _wav_header(len(data)) + data


def _wav_header(data_size: int) -> bytes:
    """The 44-byte canonical header: RIFF, a PCM fmt chunk (mono, 16 bit, OUTPUT_RATE), the data chunk's."""
    riff_size = _UNKNOWN if data_size == _UNKNOWN else 36 + data_size
    fmt = (1, 1, OUTPUT_RATE, 2 * OUTPUT_RATE, 2, 16)  # PCM, channels, rate, bytes/s, block align, bits
    chunks = (b"RIFF", riff_size, b"WAVE", b"fmt ", 16, *fmt, b"data", data_size)
    return struct.pack("<4sI4s4sIHHIIHH4sI", *chunks)


class _Mp3:
    """MP3 as the chunks are made (mp3.encode's settings): CBR, mono, 24 kHz, mp3.BITRATE kbps, by LAME."""

    def __init__(self) -> None:
        self._lame = lameenc.Encoder()
        self._lame.set_bit_rate(mp3.BITRATE)
        self._lame.set_in_sample_rate(OUTPUT_RATE)
        self._lame.set_out_sample_rate(OUTPUT_RATE)  # else LAME may pick another rate for the bitrate
        self._lame.set_channels(1)
        self._lame.set_quality(2)

    def feed(self, samples: np.ndarray) -> bytes:
        return bytes(self._lame.encode(_int16(samples)))

    def finish(self) -> bytes:
        return bytes(self._lame.flush())


@dataclass(frozen=True, slots=True)
class _AvFormat:
    """How PyAV writes one format: FFmpeg's muxer and encoder names, and their settings."""

    muxer: str
    codec: str
    bit_rate: int | None = None  # None for a lossless codec
    options: dict[str, str] = field(default_factory=dict)  # muxer options
    streaming_options: dict[str, str] = field(default_factory=dict)  # more, when streamed


_AV_FORMATS = {
    # Opus at the 48 kbps of the MP3 chunks it is made from: re-encoding speech then adds half the loss
    # one more MP3 generation would (log-spectral distance 0.27 dB against 0.53, benchmarks/
    # bench_formats.py --quality); 32 kbps adds nearly as much (0.44), and made a test sweep 8 dB too
    # loud for 0.2 s. When streamed, an Ogg page goes out every 200 ms instead of every second (FFmpeg's
    # default), for 1.7 % more bytes: the muxer holds a finished page back until the next one starts, so
    # up to two pages of sound wait for the next sentence.
    "opus": _AvFormat("ogg", "libopus", 48_000, streaming_options={"page_duration": "200000"}),
    "flac": _AvFormat("flac", "flac", options={"metadata_header_padding": "0"}),
    # ADTS: AAC-LC frames each with a header of its own, so the stream plays from any frame and needs no
    # index at the end (as MP4 does). FFmpeg's AAC encoder overshoots: 48 kbps asked is 57 on speech.
    "aac": _AvFormat("adts", "aac", 48_000),
}


class _Sink:
    """A write-only file for PyAV's muxer: without seek(), FFmpeg treats it as a pipe and never goes back."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


class _AvEncoder:
    """A format written by PyAV: s16 frames in, packets muxed as soon as the codec gives them out.

    PyAV's encoder converts the s16 frames to the codec's sample format (AAC wants planar float) and cuts
    them to its frame size (AAC 1024 samples, Opus 20 ms) with an av.AudioResampler of its own.
    Not streamed, the file goes to a seekable buffer and comes out whole from finish(): FLAC's muxer then
    writes the total length and MD5 into its header at the end.
    """

    def __init__(self, spec: _AvFormat, *, streaming: bool) -> None:
        self._file: _Sink | io.BytesIO = _Sink() if streaming else io.BytesIO()
        options = {"flush_packets": "1", **spec.options, **(spec.streaming_options if streaming else {})}
        self._out = av.open(self._file, "w", format=spec.muxer, container_options=options)
        stream = self._out.add_stream(spec.codec, rate=OUTPUT_RATE, layout="mono")
        if not isinstance(stream, AudioStream):  # narrows the type: an audio codec gives an audio stream
            raise TypeError(f"{spec.codec} is not an audio codec")
        self._stream = stream
        if spec.bit_rate is not None:
            self._stream.bit_rate = spec.bit_rate
        self._out.start_encoding()  # the header now, not at the first packet: FLAC fed nothing is a file
        self._pts = 0

    def feed(self, samples: np.ndarray) -> bytes:
        data = np.frombuffer(_int16(samples), dtype="<i2")
        if data.size:
            frame = av.AudioFrame.from_ndarray(data.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = OUTPUT_RATE
            frame.time_base = Fraction(1, OUTPUT_RATE)
            frame.pts = self._pts
            self._pts += data.size
            self._out.mux(self._stream.encode(frame))
        return self._take()

    def finish(self) -> bytes:
        self._out.mux(self._stream.encode(None))  # flush the codec's delayed packets
        self._out.close()  # writes the trailer (FLAC's totals when seekable; Ogg's last page)
        if isinstance(self._file, io.BytesIO):
            return self._file.getvalue()
        return self._take()

    def _take(self) -> bytes:
        return self._file.take() if isinstance(self._file, _Sink) else b""
