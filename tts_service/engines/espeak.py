"""espeak-ng's Mandarin voice through a subprocess: robotic, but offline and tiny."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess

from tts_service.audio import chunk, mp3, pcm, wav
from tts_service.engines.base import Prosody, Synthesis, check_voice
from tts_service.errors import SynthesisError
from tts_service.text.unicode import HAN
from tts_service.voices import ESPEAK_VOICES

_BASE_WPM = 175  # espeak-ng's default speed
_BASE_PITCH = 50  # espeak-ng's default pitch, on its 0-99 scale
# What espeak-ng does to the audio beyond its own release (part of the cache key): r2 pauses at ASCII
# punctuation next to Han characters (``_punctuated``).
_REVISION = "r2"

# espeak-ng pauses at "，" but reads "华诞,也是" straight through: ASCII punctuation marks a clause only
# before a space. Chinese pages often carry ASCII commas (the corpus article does), so each one touching a
# Han character is handed over in its full-width form. Between digits or Latin words it stays as written.
_FULL_WIDTH = {",": "，", ".": "。", "!": "！", "?": "？", ";": "；", ":": "："}
_MARK = f"[{re.escape(''.join(_FULL_WIDTH))}]"
_ASCII_CLAUSE = re.compile(rf"(?<=[{HAN}]){_MARK}|{_MARK}(?=[{HAN}])")


def _punctuated(text: str) -> str:
    """``text`` with each ASCII clause mark next to a Han character in its full-width form."""
    return _ASCII_CLAUSE.sub(lambda m: _FULL_WIDTH[m.group()], text)


def _espeak_version(binary: str) -> str:
    """The version line of espeak-ng; part of the cache key, since a new release sounds different."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout
    return out.split("Data at:")[0].strip() or "unknown"


async def _spawn(command: list[str]) -> asyncio.subprocess.Process:
    """Start ``command`` with pipes; if cancelled meanwhile, let the start finish, kill it, then give up.

    Cancelling ``create_subprocess_exec`` itself while it connects its pipes can leave it waiting forever
    for the process to be reported gone (CPython gh-103847, gh-133536; not fixed in 3.11). A job's chunks
    run in a task group, so one failing chunk cancels its siblings mid-start, as does a shutdown.
    """
    start = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    )
    try:
        return await asyncio.shield(start)
    except asyncio.CancelledError:
        # Stop it, and let nothing interrupt the stopping: a second cancellation (a shutdown on top of the
        # last waiter leaving) would otherwise cancel the start itself and leave espeak-ng running.
        stopping = asyncio.ensure_future(_stop(start))
        while not stopping.done():
            try:
                await asyncio.shield(stopping)
            except asyncio.CancelledError:
                continue  # already stopping; milliseconds
        raise


async def _stop(start: asyncio.Future[asyncio.subprocess.Process]) -> None:
    proc = await start  # milliseconds: the process exists, its pipes are being connected
    proc.kill()
    await proc.communicate()  # reads the pipes to their end and reaps the process


class EspeakEngine:
    """Engine ``espeak``: espeak-ng ``cmn`` voice, WAV on stdout, normalised and encoded to MP3 with LAME."""

    name = "espeak"
    voices: tuple[str, ...] = tuple(voice.id for voice in ESPEAK_VOICES)
    default_voice = voices[0]
    max_chunk_chars = 120

    def __init__(self, binary: str = "espeak-ng") -> None:
        path = shutil.which(binary)
        if path is None:
            raise SynthesisError("espeak-ng is not installed (apt-get install espeak-ng)")
        self._binary = path
        self.version = f"{_espeak_version(path)} {_REVISION}"

    def _command(self, voice: str, prosody: Prosody) -> list[str]:
        speed = round(_BASE_WPM * (100 + prosody.rate) / 100)
        pitch = max(0, min(99, _BASE_PITCH + prosody.pitch))
        # No -a: volume is applied by loudness normalisation, the same way for every engine.
        return [self._binary, "-v", voice, "--stdout", "-s", str(speed), "-p", str(pitch)]

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        voice = check_voice(self, voice)
        proc = await _spawn(self._command(voice, prosody))
        # Text goes through stdin so that a leading "-" can never be read as an option.
        try:
            out, err = await proc.communicate(_punctuated(text).encode("utf-8"))
        except BaseException:  # cancelled (shutdown) or failed: never leave espeak-ng running
            if proc.returncode is None:
                proc.kill()
            # Read the pipes to their end, not just reap the process: a pipe left open is closed only by
            # the garbage collector, with a ResourceWarning (seen in a CI run, once the loop had ended).
            await proc.communicate()
            raise
        if proc.returncode != 0:
            raise SynthesisError(
                f"espeak-ng exited with {proc.returncode}: {err.decode(errors='replace')[:200]}"
            )
        wave = wav.read(out)
        if (wave.channels, wave.sample_width) != (1, 2):
            raise SynthesisError(f"espeak-ng wrote {wave.channels}-channel {8 * wave.sample_width}-bit audio")
        samples = pcm.from_int16(wave.data)  # 22,050 Hz: chunk.encode resamples to the common 24 kHz
        audio = await asyncio.to_thread(chunk.encode, samples, wave.sample_rate, volume=prosody.volume)
        # Measure the encoded file, not the PCM: LAME adds padding, and players time the MP3.
        return Synthesis(audio=audio, duration=mp3.duration(audio))
