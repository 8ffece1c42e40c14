"""WebVTT captions: one cue per sentence, timed by the whole-article file's timeline, and on request with
each word's time as a WebVTT inline timestamp (karaoke-style captions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tts_service import timing
from tts_service.audio import mp3
from tts_service.planning import PlannedChunk, SpokenChunk
from tts_service.store import AudioRecord

Piece = tuple[str, float]  # a stretch of cue text and when it is heard (seconds into the whole file)


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str
    words: tuple[Piece, ...] = ()  # the text again in pieces, each with its time, when asked for


def sentence_cues(
    chunks: Sequence[PlannedChunk],
    spans: Sequence[tuple[float, float]],
    words: Sequence[Sequence[Piece]] | None = None,
) -> list[Cue]:
    """Merge the pieces of each sentence (an over-long sentence may be several chunks) into one cue; with
    ``words`` (each chunk's, from `chunk_words`), the cue carries its words' times."""
    cues: list[Cue] = []
    last: tuple[int, int] | None = None
    for index, (chunk, (start, end)) in enumerate(zip(chunks, spans, strict=True)):
        sentence = (chunk.paragraph, chunk.sentences[0])
        pieces = tuple(words[index]) if words is not None else ()
        if sentence == last:
            previous = cues.pop()
            text = previous.text + chunk.text.strip()
            cues.append(Cue(previous.start, end, text, previous.words + pieces))
        else:
            cues.append(Cue(start, end, chunk.text.strip(), pieces))
        last = sentence
    return cues


def chunk_words(
    chunks: Sequence[SpokenChunk], spans: Sequence[tuple[float, float]], records: Mapping[str, AudioRecord]
) -> list[list[Piece]]:
    """Each chunk's words with their times in the whole file (its marks, `timing.chunk_marks`)."""
    out: list[list[Piece]] = []
    for chunk, (start, _end) in zip(chunks, spans, strict=True):
        record, display = records.get(chunk.key), chunk.text.strip()
        if record is None:
            out.append([])
            continue
        _, marks = timing.chunk_marks(display, chunk.spoken, record.marks, record.duration, mp3.LEAD_SECONDS)
        shift = start - mp3.LEAD_SECONDS
        out.append([(display[m.start : m.end], shift + m.at) for m in marks])
    return out


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _timed_text(cue: Cue) -> str:
    """Cue text with a WebVTT timestamp before each word that starts after the cue does (timestamps must
    rise strictly and lie inside the cue)."""
    out: list[str] = []
    last = cue.start
    for text, at in cue.words:
        millis = round(at * 1000) / 1000
        if last < millis < cue.end:
            out.append(f"<{_timestamp(millis)}>")
            last = millis
        out.append(_escaped(text))
    return "".join(out)


def webvtt(cues: Sequence[Cue]) -> str:
    """The WEBVTT document; cue text is plain, with "-->" and markup characters escaped, and words' inline
    timestamps where the cues carry words."""
    lines = ["WEBVTT", ""]
    for number, cue in enumerate(cues, start=1):
        text = _timed_text(cue) if cue.words else _escaped(cue.text)
        lines += [str(number), f"{_timestamp(cue.start)} --> {_timestamp(cue.end)}", text, ""]
    return "\n".join(lines)
