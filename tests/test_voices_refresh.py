"""Refreshing Microsoft's voice list: the real edge-tts client against the local double of the service."""

from __future__ import annotations

import json
import os
import ssl
from pathlib import Path

import edge_tts
import pytest
from edge_double import ENGLISH_VOICE, EdgeDouble, Fault, connector_to
from edge_tts.constants import TRUSTED_CLIENT_TOKEN
from helpers import free_port

from tts_service.errors import Unreachable
from tts_service.voices import EDGE_LIST_FILE, VoiceCatalog
from tts_service.voices_refresh import SOURCE, refresh

NEW_VOICE = {
    "Name": "Microsoft Server Speech Text to Speech Voice (zh-CN, XiaochenNeural)",
    "ShortName": "zh-CN-XiaochenNeural",
    "Gender": "Female",
    "Locale": "zh-CN",
    "SuggestedCodec": "audio-24khz-48kbitrate-mono-mp3",
    "FriendlyName": "Microsoft Xiaochen Online (Natural) - Chinese (Mainland)",
    "Status": "GA",
}


async def test_refresh_writes_microsofts_list_into_home(edge_double: EdgeDouble, tmp_path: Path) -> None:
    shipped = [e for e in edge_double.voice_list if e["ShortName"] != "zh-TW-HsiaoYuNeural"]
    edge_double.voice_list = [*shipped, NEW_VOICE]  # one voice new, one no longer listed
    done = await refresh(tmp_path, seconds=5, connector_factory=edge_double.connector_factory)

    assert done.path == tmp_path / EDGE_LIST_FILE
    assert (done.listed, len(done.offered)) == (15, 14)  # the English voice is listed, not offered
    assert (done.new, done.gone) == (("zh-CN-XiaochenNeural",), ("zh-TW-HsiaoYuNeural",))
    written = json.loads(done.path.read_text(encoding="utf-8"))
    assert written["source"] == SOURCE and written["date"].endswith("+00:00")
    # Kept as edge-tts gave it: Microsoft's entries, with the VoiceTag edge-tts adds where one is missing.
    assert written["voices"][-1] == NEW_VOICE | {
        "VoiceTag": {"ContentCategories": [], "VoicePersonalities": []}
    }
    assert written["voices"][:-1] == shipped
    assert "zh-CN-XiaochenNeural" in VoiceCatalog(tmp_path).ids("edge")
    assert "zh-TW-HsiaoYuNeural" in VoiceCatalog(tmp_path).ids("edge")  # still accepted
    ((query, headers),) = edge_double.voice_list_requests  # one request, as edge-tts sends it
    assert query["trustedclienttoken"] == TRUSTED_CLIENT_TOKEN
    assert query["Sec-MS-GEC"] and query["Sec-MS-GEC-Version"].startswith("2-")
    assert headers["Host"] == "speech.platform.bing.com" and "Edg/" in headers["User-Agent"]
    assert edge_double.protocol_errors == []


async def test_a_403_is_retried_by_edge_tts_with_its_clock_corrected(
    edge_double: EdgeDouble, tmp_path: Path
) -> None:
    edge_double.fail_next(Fault.FORBIDDEN)
    done = await refresh(tmp_path, seconds=5, connector_factory=edge_double.connector_factory)
    assert len(done.offered) == 14
    assert len(edge_double.voice_list_requests) == 2


@pytest.mark.parametrize(
    ("answer", "fault", "reason"),
    [
        (None, Fault.THROTTLED, r"Microsoft throttled the request \(HTTP 429; it asks to retry after 1 s\)"),
        (None, Fault.FORBIDDEN, r"Microsoft refused the request \(HTTP 403\)"),  # the retry refused too
        (b"<html>busy</html>", None, r"the answer is not a voice list"),
        ({"voices": []}, None, r"the answer is not a voice list"),
    ],
    ids=["throttled", "forbidden-twice", "html", "object"],
)
async def test_a_failed_fetch_says_why_and_keeps_the_list_in_place(
    edge_double: EdgeDouble, tmp_path: Path, answer: object, fault: Fault | None, reason: str
) -> None:
    (tmp_path / EDGE_LIST_FILE).write_text("the list in place", encoding="utf-8")
    if answer is not None:
        edge_double.voice_list = answer
    edge_double.fail_all(fault)
    with pytest.raises(Unreachable, match=rf"^cannot fetch Microsoft's voice list: (edge-tts: )?{reason}"):
        await refresh(tmp_path, seconds=5, connector_factory=edge_double.connector_factory)
    assert (tmp_path / EDGE_LIST_FILE).read_text(encoding="utf-8") == "the list in place"
    assert os.listdir(tmp_path) == [EDGE_LIST_FILE]  # no temporary file left


async def test_a_list_without_chinese_voices_is_refused(edge_double: EdgeDouble, tmp_path: Path) -> None:
    edge_double.voice_list = [ENGLISH_VOICE]
    with pytest.raises(
        Unreachable, match=r"unusable \(no usable voice of a zh-\* locale\); the current one is kept"
    ):
        await refresh(tmp_path, seconds=5, connector_factory=edge_double.connector_factory)
    assert not (tmp_path / EDGE_LIST_FILE).exists()


async def test_offline_it_fails_in_one_line(edge_double: EdgeDouble, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: as an unreachable Microsoft
    context = ssl.create_default_context()
    with pytest.raises(Unreachable) as failed:
        await refresh(tmp_path, seconds=5, connector_factory=lambda: connector_to(port, context))
    assert failed.value.message.startswith(
        "cannot fetch Microsoft's voice list: edge-tts: cannot connect to Microsoft: "
    )
    assert "\n" not in failed.value.message
    assert not (tmp_path / EDGE_LIST_FILE).exists()


def test_edge_tts_still_asks_where_the_double_answers() -> None:
    """The double serves the path edge-tts's list_voices requests: a new edge-tts moving it fails here."""
    assert edge_tts.constants.VOICE_LIST.startswith(
        "https://speech.platform.bing.com/consumer/speech/synthesize/readaloud/voices/list?"
    )
