"""The offline neural Mandarin voice: our front end, FastSpeech2 + Multi-band MelGAN under LiteRT."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from tts_service.audio import chunk, mp3, pcm
from tts_service.engines.baker_model import (
    ACOUSTIC_FILE,
    HOP,
    MAPPER_FILE,
    SAMPLE_RATE,
    VOCODER_FILE,
    BakerModels,
    asset_dir,
    file_digest,
)
from tts_service.engines.base import Prosody, Synthesis, check_voice
from tts_service.text import phonemes
from tts_service.text.pinyin import Break, Syllable, Token, tokens
from tts_service.timing import Word
from tts_service.voices import LOCAL_VOICES

# Bump when the front end or the post-processing changes how the same text sounds.
FRONTEND_VERSION = 2
# Pauses between the model inputs of one chunk, by the strength of the break that ends the input.
PAUSE_SECONDS = {2: 0.18, 3: 0.32}
EDGE_PAD_SECONDS = 0.03  # the same lead-in and tail on every chunk, so joined chunks sound even
MAX_SYLLABLES = 40  # clause-sized model inputs: faster and far less memory than whole sentences
# Readers come first: synthesis threads run at a lower CPU priority than the thread serving requests, so
# audio made ahead of time uses the CPU that serving leaves (see BENCHMARKS.md, "Load").
WORKER_NICENESS = 10


def lower_priority() -> None:
    """Lower the calling thread's CPU priority by WORKER_NICENESS (Linux: niceness is per thread)."""
    with contextlib.suppress(AttributeError, OSError):  # no setpriority, or not allowed: keep the default
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + WORKER_NICENESS)


def clauses(items: list[Token]) -> list[tuple[list[Token], int]]:
    """Split at commas and sentence ends (and at word edges in very long runs); each with its break."""
    out: list[tuple[list[Token], int]] = []
    current: list[Token] = []
    count = 0
    for i, item in enumerate(items):
        if isinstance(item, Break) and item.strength >= 2:
            if count:
                out.append((current, item.strength))
            current, count = [], 0
            continue
        current.append(item)
        if isinstance(item, Syllable):
            count += 1
            nxt = items[i + 1] if i + 1 < len(items) else None
            if count >= MAX_SYLLABLES and (not isinstance(nxt, Syllable) or nxt.word != item.word):
                out.append((current, 1))
                current, count = [], 0
    if count:
        out.append((current, 3))
    return out


def _clause_words(
    clause: list[Token],
    owned: list[tuple[int, int | None]],
    durations: np.ndarray,
    lo: int,
    hi: int,
    at: int,
) -> list[Word]:
    """The characters of one clause and when they are said, in seconds of the joined audio: a syllable
    spans its symbols' frames; the clause's audio was cut to [lo, hi) and starts ``at`` samples in."""
    ends = np.cumsum(durations) * HOP
    spans: dict[int, list[int]] = {}
    for (_, owner), end, frames in zip(owned, ends, durations, strict=True):
        if owner is not None:
            span = spans.setdefault(owner, [int(end - frames * HOP), int(end)])
            span[1] = int(end)
    words: list[Word] = []
    for owner, (start, end) in spans.items():
        syllable = clause[owner]
        assert isinstance(syllable, Syllable)
        first = (at + min(max(start - lo, 0), hi - lo)) / SAMPLE_RATE
        last = (at + min(max(end - lo, 0), hi - lo)) / SAMPLE_RATE
        if not syllable.first and words:  # W is said dá bu liú: one character, three syllables
            words[-1] = Word(words[-1].text, words[-1].start, last)
        else:
            words.append(Word(syllable.text, first, last))
    return words


class LocalEngine:
    """Engine ``local``: a female Mandarin voice (Baker corpus), 24 kHz, entirely on this machine."""

    name = "local"
    voices: tuple[str, ...] = tuple(voice.id for voice in LOCAL_VOICES)
    default_voice = voices[0]
    max_chunk_chars = 80
    reads_marks = True  # its front end takes the readings in spoken text (`text.marks`) as the pinyin

    def __init__(self, cache_dir: Path, *, workers: int = 1, threads: int = 2) -> None:
        assets = asset_dir()
        self._models = BakerModels(cache_dir, num_threads=threads, assets=assets)
        self._table = json.loads((assets / MAPPER_FILE).read_text(encoding="utf-8"))
        self._ids: dict[str, int] = self._table["symbol_to_id"]
        # One interpreter pair per worker thread: LiteRT interpreters are not thread-safe.
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="local-tts", initializer=lower_priority
        )
        digest = "".join(file_digest(assets / name)[:8] for name in (ACOUSTIC_FILE, VOCODER_FILE))
        self.version = f"baker-fs2-mbmelgan-{digest}-fe{FRONTEND_VERSION}"

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        check_voice(self, voice)
        loop = asyncio.get_running_loop()
        render = functools.partial(self._render_mp3, text, prosody)
        audio, words = await loop.run_in_executor(self._executor, render)
        return Synthesis(audio=audio, duration=mp3.duration(audio), words=words, source="model")

    def _render_mp3(self, text: str, prosody: Prosody) -> tuple[bytes, tuple[Word, ...]]:
        # Normalising is pure gain and limiting, so the silent edge padding stays silent; the encoder puts
        # the first sample CODEC_DELAY samples into the decoded file, so the words move by as much.
        samples, words = self.render_timed(text, prosody)
        delay = mp3.CODEC_DELAY / SAMPLE_RATE
        moved = tuple(Word(w.text, w.start + delay, w.end + delay) for w in words)
        return chunk.encode(samples, SAMPLE_RATE, volume=prosody.volume), moved

    def render(self, text: str, prosody: Prosody | None = None) -> np.ndarray:
        """Float samples at 24 kHz for ``text`` (blocking; runs on a worker thread)."""
        return self.render_timed(text, prosody)[0]

    def render_timed(self, text: str, prosody: Prosody | None = None) -> tuple[np.ndarray, list[Word]]:
        """`render`, and when each character is said in those samples: the acoustic model's durations,
        moved exactly as each clause's audio is trimmed, faded, padded and joined with pauses."""
        prosody = prosody or Prosody()
        speed = 100 / (100 + prosody.rate)  # FastSpeech2 scales durations: below 1 speaks faster
        pad = pcm.silence(EDGE_PAD_SECONDS, SAMPLE_RATE)
        pieces, words, at = [pad], [], pad.size
        for clause, strength in clauses(tokens(text)):
            owned = phonemes.owned_ids(phonemes.owned_symbols(clause, self._table["pinyin_dict"]), self._ids)
            audio, durations = self._models.synthesize_timed([i for i, _ in owned], speed=speed)
            lo, hi = pcm.trim_bounds(audio, SAMPLE_RATE)
            if hi <= lo:
                continue
            words += _clause_words(clause, owned, durations, lo, hi, at)
            pause = pcm.silence(PAUSE_SECONDS.get(strength, 0.08), SAMPLE_RATE)
            pieces += [pcm.fade(audio[lo:hi], SAMPLE_RATE), pause]
            at += hi - lo + pause.size
        body = pieces[:-1] if len(pieces) > 1 else [pad, pcm.silence(0.2, SAMPLE_RATE)]
        samples = np.concatenate([*body, pad]) * ((100 + prosody.volume) / 100)
        return samples, words

    def symbols(self, text: str) -> list[tuple[list[str], int]]:
        """The model's input symbols for ``text``, one list per clause, with the break that ends it."""
        table = self._table["pinyin_dict"]
        return [(phonemes.symbols(clause, table), strength) for clause, strength in clauses(tokens(text))]

    async def warm(self) -> None:
        """Load the word dictionary, pinyin data and a worker's models now, so the first reader waits less."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, functools.partial(self.render, "你好。"))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
