"""The speech API's output formats: every file decodes, with a decoder other than ours, to what went in.

The signal is 2.5 s: a rising sweep (0-0.8 s), silence (0.8-1.4 s), a falling sweep (1.4-2.5 s). Sweeps
rather than tones, so that a cross-correlation has one clear peak and a shifted decode cannot pass.
WAV is read back by the standard library's ``wave``, PCM by numpy, everything else by FFmpeg's demuxers and
decoders through PyAV (our encoders use its encoders and muxers, not those).
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import wave
from collections.abc import Callable
from dataclasses import dataclass

import av
import miniaudio
import numpy as np
import pytest
from scipy import signal

from tts_service.audio import formats, mp3, pcm
from tts_service.audio.formats import FORMATS, OUTPUT_RATE, decode_mp3, encoder
from tts_service.errors import InvalidInput, SynthesisError

R = OUTPUT_RATE
N = int(2.5 * R)
CUTS = [7000, 25000, 45000]  # four uneven pieces, the first 0.29 s; a cut inside the silence and each sweep
LOSSLESS = ("pcm", "wav", "flac")
LOSSY = ("mp3", "opus", "aac")


def _signal() -> np.ndarray:
    t = np.arange(N) / R
    out = np.zeros(N)
    first, second = t < 0.8, t >= 1.4
    out[first] = 0.5 * signal.chirp(t[first], 300, 0.8, 3000)
    out[second] = 0.4 * signal.chirp(t[second] - 1.4, 2000, 1.1, 500)
    return out


SIGNAL = _signal()
# What a 16-bit format must carry exactly: the samples as formats.encoder quantises them.
SIGNAL_S16 = np.frombuffer(pcm.to_int16(SIGNAL), dtype="<i2")


@dataclass(frozen=True)
class Framing:
    """Where the input starts in the decoded stream (``lead``) and how long the decode of n samples is."""

    lead: int
    length: Callable[[int], int]


# The decoded length is exact for every format, from how each codec frames its input:
# - PCM, WAV and FLAC store the samples and nothing else;
# - Ogg Opus carries the encoder's pre-skip (in OpusHead) and the end (the last page's granule position),
#   and decoders trim both (RFC 7845), so the decode is exactly the input;
# - LAME delays the input by 576 samples, the decoder adds its 529 (mp3.CODEC_DELAY), and LAME pads
#   with whole 576-sample granules (tts_service.audio.assemble); our MP3 has no LAME tag to say so;
# - FFmpeg's AAC encoder primes with one 1024-sample frame and pads to whole frames, and ADTS has no field
#   to tell a decoder either, so both are heard (43 ms of silence before the speech).
FRAMING = {
    "pcm": Framing(0, lambda n: n),
    "wav": Framing(0, lambda n: n),
    "flac": Framing(0, lambda n: n),
    "opus": Framing(0, lambda n: n),
    "mp3": Framing(mp3.CODEC_DELAY, lambda n: (math.ceil(n / 576) + 2) * 576),
    "aac": Framing(1024, lambda n: math.ceil((n + 1024) / 1024) * 1024),
}


def _expected_length(fmt: str, n: int) -> int:
    return FRAMING[fmt].length(n)


def _encode(fmt: str, *, streaming: bool, pieces: list[np.ndarray]) -> list[bytes]:
    """Every output of one encoder: one per feed(), then finish()'s."""
    enc = encoder(fmt, streaming=streaming)
    return [enc.feed(piece) for piece in pieces] + [enc.finish()]


def _decode(data: bytes, fmt: str) -> np.ndarray:
    """Float samples at 24 kHz, by a decoder independent of formats.py."""
    if fmt == "pcm":
        return np.frombuffer(data, dtype="<i2") / 32768
    if fmt == "wav":
        with wave.open(io.BytesIO(data)) as reader:
            assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, R)
            # A streamed WAV's data size says 0xFFFFFFFF: wave reads what there is.
            return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2") / 32768
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        assert stream.channels == 1
        frames = [frame.to_ndarray()[0] for frame in container.decode(stream)]
        rate = stream.rate
    samples = np.concatenate(frames).astype(np.float64) if frames else np.zeros(0)
    if samples.size and np.issubdtype(frames[0].dtype, np.integer):
        samples /= 32768
    assert rate == (48_000 if fmt == "opus" else R)  # an Opus decoder always runs at 48 kHz
    return pcm.resample(samples, rate, R).astype(np.float64)


def _level_db(x: np.ndarray) -> float:
    return 10 * math.log10(float(np.mean(x**2)) + 1e-20)


def _peak_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / R)[spectrum.argmax()])


def _check_content(fmt: str, decoded: np.ndarray) -> None:
    """The decode, from the codec's lead on, is the signal: exactly (lossless) or window by window."""
    lead = FRAMING[fmt].lead
    got = decoded[lead : lead + N]
    if fmt in LOSSLESS:
        assert np.array_equal(np.round(got * 32768).astype("<i2"), SIGNAL_S16)
        return
    # The lead is where the signal really is: the cross-correlation peaks there, not a sample off.
    correlation = signal.correlate(decoded[: lead + R], SIGNAL[: R // 2], mode="valid")
    assert int(correlation.argmax()) == lead
    window = R // 10
    for start in range(0, N - window + 1, window):
        want, have = SIGNAL[start : start + window], got[start : start + window]
        if start / R < 0.8 or start / R >= 1.4:  # a sweep: its pitch and its level
            assert _peak_hz(have) == pytest.approx(_peak_hz(want), abs=40), f"{fmt} at {start / R:.1f} s"
            # LAME plays 0.45 dB quiet (mp3.ENCODER_GAIN_DB); the others keep the level within a tenth.
            assert _level_db(have) == pytest.approx(_level_db(want), abs=1.0), f"{fmt} at {start / R:.1f} s"
        elif 0.9 <= start / R < 1.3:  # silence, 0.1 s clear of each sweep's edges (codec smear)
            assert _level_db(have) < -60, f"{fmt} at {start / R:.1f} s"


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "whole"])
def test_pieces_and_whole_decode_to_the_signal(fmt: str, streaming: bool) -> None:
    pieces = np.split(SIGNAL, CUTS) if streaming else [SIGNAL]
    decoded = _decode(b"".join(_encode(fmt, streaming=streaming, pieces=pieces)), fmt)
    assert decoded.size == _expected_length(fmt, N)
    _check_content(fmt, decoded)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_cutting_the_input_changes_nothing_in_the_sound(fmt: str) -> None:
    """Encoders are fed whole frames whatever the pieces: pieces and whole decode to the same samples."""
    pieces = _decode(b"".join(_encode(fmt, streaming=True, pieces=np.split(SIGNAL, CUTS))), fmt)
    whole = _decode(b"".join(_encode(fmt, streaming=False, pieces=[SIGNAL])), fmt)
    assert np.array_equal(pieces, whole)


def _decoded_samples(data: bytes, fmt: str) -> int:
    """Samples (at 24 kHz) in the first bytes of a stream, past the codec's lead."""
    try:
        samples = _decode(data, fmt).size
    except av.error.EOFError:  # Ogg with its header pages only
        return 0
    return max(0, samples - FRAMING[fmt].lead)


# The most sound an encoder may still hold after a feed(), in samples, from how each one buffers:
HELD = {
    "pcm": 0,
    "wav": 0,
    # LAME keeps its 576-sample lookahead, the granule it is filling and the bit reservoir's frames
    # (measured: at most 2,468 over 40 random cuts of speech); five granules.
    "mp3": 5 * 576,
    # FFmpeg's FLAC encoder codes blocks of 2,304 samples at 24 kHz (96 ms); a part-filled block waits.
    "flac": 2304,
    # The Ogg muxer keeps a finished page until the next one starts (to flag the last), and pages are
    # 200 ms: two pages, plus libopus's 20 ms frame and 6.5 ms lookahead.
    "opus": 2 * 4800 + 480 + 156,
    # The primed frame, the frame being filled and the encoder's one-frame lookahead.
    "aac": 3 * 1024,
}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_streaming_emits_all_but_a_bounded_tail(fmt: str) -> None:
    """After every feed(), what came out so far decodes to all the input but at most HELD[fmt] samples."""
    speech_like = np.tile(SIGNAL, 3)  # 7.5 s
    cuts = sorted(np.random.default_rng(7).integers(0, speech_like.size, 8).tolist())
    enc = encoder(fmt, streaming=True)
    sent, fed, held = b"", 0, []
    for piece in np.split(speech_like, cuts):
        sent += enc.feed(piece)
        fed += piece.size
        held.append(fed - _decoded_samples(sent, fmt))
    assert 0 <= max(held) <= HELD[fmt]
    sent += enc.finish()
    assert _decoded_samples(sent, fmt) == _expected_length(fmt, fed) - FRAMING[fmt].lead


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_the_first_feed_already_sends_bytes_but_opus(fmt: str) -> None:
    """0.29 s in: bytes out for all but Opus, whose first page waits for the second (see HELD)."""
    first = encoder(fmt, streaming=True).feed(SIGNAL[: CUTS[0]])
    if fmt == "opus":
        assert first.startswith(b"OggS") and _decoded_samples(first, fmt) == 0  # the header pages only
    else:
        assert _decoded_samples(first, fmt) > 0


def test_streamed_wav_says_its_sizes_are_unknown() -> None:
    data = b"".join(_encode("wav", streaming=True, pieces=np.split(SIGNAL, CUTS)))
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt " and data[36:40] == b"data"
    assert struct.unpack("<I", data[4:8]) == struct.unpack("<I", data[40:44]) == (0xFFFFFFFF,)
    assert len(data) == 44 + 2 * N


def test_whole_wav_has_exact_sizes() -> None:
    outputs = _encode("wav", streaming=False, pieces=np.split(SIGNAL, CUTS))
    assert outputs[:-1] == [b""] * len(CUTS + [0])  # held until the size is known
    data = outputs[-1]
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    assert struct.unpack("<I", data[40:44])[0] == 2 * N == len(data) - 44


def _streaminfo(data: bytes) -> tuple[int, bytes]:
    """FLAC's total samples and audio MD5 (its STREAMINFO block follows "fLaC" and a 4-byte header)."""
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0
    info = data[8:42]
    return int.from_bytes(info[13:18], "big") & (1 << 36) - 1, info[18:34]


def test_whole_flac_states_its_length_and_checksum() -> None:
    """Not streamed, the muxer goes back to fill in STREAMINFO, so players know the length up front."""
    total, md5 = _streaminfo(b"".join(_encode("flac", streaming=False, pieces=[SIGNAL])))
    assert total == N
    assert md5 == hashlib.md5(SIGNAL_S16.tobytes()).digest()


def test_streamed_flac_is_never_patched() -> None:
    """Streamed, the header is final when sent: STREAMINFO leaves length and MD5 unknown (0), as allowed."""
    outputs = _encode("flac", streaming=True, pieces=np.split(SIGNAL, CUTS))
    assert _streaminfo(outputs[0]) == (0, bytes(16))


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "whole"])
def test_flac_decodes_bit_exact_outside_ffmpeg_too(streaming: bool) -> None:
    """dr_flac (miniaudio), a decoder that shares no code with the FFmpeg that wrote the file."""
    data = b"".join(_encode("flac", streaming=streaming, pieces=np.split(SIGNAL, CUTS)))
    sound = miniaudio.flac_read_s16(data)
    assert (sound.sample_rate, sound.nchannels) == (R, 1)
    assert np.array_equal(np.array(sound.samples, dtype="<i2"), SIGNAL_S16)


def test_opus_is_ogg_and_says_its_input_rate() -> None:
    data = b"".join(_encode("opus", streaming=True, pieces=np.split(SIGNAL, CUTS)))
    head = data.index(b"OpusHead")
    channels, _pre_skip, rate = struct.unpack("<BHI", data[head + 9 : head + 16])
    assert data[:4] == b"OggS" and (channels, rate) == (1, R)


def test_aac_is_adts_lc_mono_24khz() -> None:
    data = b"".join(_encode("aac", streaming=True, pieces=np.split(SIGNAL, CUTS)))
    header = int.from_bytes(data[:7], "big")
    assert header >> 44 == 0xFFF  # syncword
    assert (header >> 38) & 0b11 == 1  # profile: AAC LC
    assert (header >> 34) & 0xF == 6  # sampling frequency index 6: 24,000 Hz
    assert (header >> 30) & 0b111 == 1  # one channel


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_float32_samples_are_taken_too(fmt: str) -> None:
    """The endpoint's samples may be float32 (decoded chunks) or float64 (numpy arithmetic)."""
    decoded = _decode(b"".join(_encode(fmt, streaming=True, pieces=[SIGNAL.astype(np.float32)])), fmt)
    assert decoded.size == _expected_length(fmt, N)
    lead = FRAMING[fmt].lead
    assert np.corrcoef(decoded[lead : lead + N], SIGNAL)[0, 1] > 0.99


def test_samples_are_clipped_not_wrapped() -> None:
    loud = np.array([1.5, -1.5, 0.5])
    assert np.frombuffer(encoder("pcm", streaming=True).feed(loud), dtype="<i2").tolist() == [
        32767,
        -32767,
        16383,
    ]


def test_stereo_is_refused() -> None:
    with pytest.raises(ValueError, match="mono"):
        encoder("wav", streaming=True).feed(np.zeros((2, 100)))


@pytest.mark.parametrize("fmt", ["ogg", "MP3", "m4a", ""])
def test_unknown_format_is_invalid_input_naming_the_formats(fmt: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        encoder(fmt, streaming=True)
    assert caught.value.status_code == 422 and caught.value.code == "invalid_input"
    assert all(name in caught.value.message for name in FORMATS)


def test_formats_are_openais() -> None:
    assert set(FORMATS) == {"mp3", "opus", "aac", "flac", "wav", "pcm"}
    assert FORMATS["mp3"] == "audio/mpeg" and FORMATS["wav"] == "audio/wav"
    assert all(media.startswith("audio/") for media in FORMATS.values())


def test_decode_mp3_gives_float_samples_at_the_rate_asked() -> None:
    encoded = mp3.encode(pcm.to_int16(SIGNAL))
    samples = decode_mp3(encoded)
    assert samples.dtype == np.float32 and samples.size == _expected_length("mp3", N)
    lead = mp3.CODEC_DELAY
    assert np.corrcoef(samples[lead : lead + N], SIGNAL)[0, 1] > 0.99
    assert decode_mp3(encoded, 48_000).size == 2 * samples.size


def test_decode_mp3_refuses_what_is_not_mp3() -> None:
    with pytest.raises(SynthesisError):
        decode_mp3(b"RIFF not an mp3 at all")


def test_mp3_is_the_chunk_format() -> None:
    """The same LAME settings as the chunks: 24 kHz mono CBR at mp3.BITRATE, so frames could be mixed."""
    data = b"".join(_encode("mp3", streaming=True, pieces=[SIGNAL]))
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        assert (stream.rate, stream.channels, stream.bit_rate) == (R, 1, mp3.BITRATE * 1000)
    assert formats.OUTPUT_RATE == mp3.SAMPLE_RATE
