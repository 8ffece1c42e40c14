"""WebVTT captions: one cue per sentence, timed by the whole-article file's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tts_service.planning import PlannedChunk


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def sentence_cues(chunks: Sequence[PlannedChunk], spans: Sequence[tuple[float, float]]) -> list[Cue]:
    """Merge the pieces of each sentence (an over-long sentence may be several chunks) into one cue."""
    cues: list[Cue] = []
    last: tuple[int, int] | None = None
    for chunk, (start, end) in zip(chunks, spans, strict=True):
        sentence = (chunk.paragraph, chunk.sentences[0])
        if sentence == last:
            previous = cues.pop()
            cues.append(Cue(previous.start, end, previous.text + chunk.text.strip()))
        else:
            cues.append(Cue(start, end, chunk.text.strip()))
        last = sentence
    return cues


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def webvtt(cues: Sequence[Cue]) -> str:
    """The WEBVTT document; cue text is plain, with "-->" and markup characters escaped."""
    lines = ["WEBVTT", ""]
    for number, cue in enumerate(cues, start=1):
        text = cue.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines += [str(number), f"{_timestamp(cue.start)} --> {_timestamp(cue.end)}", text, ""]
    return "\n".join(lines)
