"""WebVTT captions from the plan and the whole-file timeline."""

from __future__ import annotations

from tts_service.captions import Cue, sentence_cues, webvtt
from tts_service.planning import PlannedChunk


def chunk(paragraph: int, sentence: int, text: str) -> PlannedChunk:
    return PlannedChunk(paragraph, (sentence,), text, text, "0" * 64)


def test_pieces_of_one_sentence_make_one_cue() -> None:
    chunks = [
        chunk(0, 0, "第一句。"),
        chunk(0, 1, "很长的第二句，"),
        chunk(0, 1, "分成两段。"),
        chunk(1, 0, "新段落。"),
    ]
    spans = [(0.0, 1.0), (1.25, 2.0), (2.25, 3.5), (4.1, 5.0)]
    assert sentence_cues(chunks, spans) == [
        Cue(0.0, 1.0, "第一句。"),
        Cue(1.25, 3.5, "很长的第二句，分成两段。"),
        Cue(4.1, 5.0, "新段落。"),
    ]


def test_webvtt_document() -> None:
    text = webvtt([Cue(0.0, 1.5, "你好 <b>&"), Cue(3599.9994, 3723.25, "再见 --> 了")])
    assert text.splitlines() == [
        "WEBVTT",
        "",
        "1",
        "00:00:00.000 --> 00:00:01.500",
        "你好 &lt;b&gt;&amp;",
        "",
        "2",
        "00:59:59.999 --> 01:02:03.250",
        "再见 --&gt; 了",
    ]


def test_word_timestamps_rise_inside_the_cue_and_escape_markup() -> None:
    cue = Cue(1.0, 3.0, "a<b今天", (("a<b", 1.0), ("今", 1.5), ("天", 1.5), ("x", 3.5)))
    text = webvtt([cue]).split("\n")[4]
    # 1.0 is the cue's own start, a repeated 1.5 is not a rise and 3.5 lies past its end: no timestamps.
    assert text == "a&lt;b<00:00:01.500>今天x"
