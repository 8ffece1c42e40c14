"""``tts-service voices list`` and ``voices refresh``, run in process against a temporary TTS_HOME."""

from __future__ import annotations

import asyncio
import functools
import json
from pathlib import Path

import pytest
from edge_double import EdgeDouble
from typer.testing import CliRunner, Result

from tts_service import voices_refresh
from tts_service.cli import app
from tts_service.voices import EDGE_LIST_FILE

runner = CliRunner()


def run(home: Path, *args: str) -> Result:
    return runner.invoke(app, list(args), env={"TTS_HOME": str(home), "TTS_EDGE_TIMEOUT": "5"})


def test_list_prints_every_engines_voices(tmp_path: Path) -> None:
    result = run(tmp_path, "voices", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "local\tbaker\tfemale\tzh-CN\tBaker\tChinese (Mainland)\tdefault",
        "espeak\tcmn\tmale\tzh-CN\tespeak-ng Mandarin\tChinese (Mainland)\tdefault",
        "espeak\tcmn-latn-pinyin\tmale\tzh-CN\tespeak-ng Mandarin (Latin as pinyin)\tChinese (Mainland)",
    ]
    assert lines[3] == "edge\tzh-CN-XiaoxiaoNeural\tfemale\tzh-CN\tXiaoxiao\tChinese (Mainland)\tdefault"
    assert "edge\tzh-CN-shaanxi-XiaoniNeural\tfemale\tzh-CN-shaanxi\tXiaoni" in result.stdout
    assert len(lines) == 3 + 14


def test_list_one_engine_as_json(tmp_path: Path) -> None:
    result = run(tmp_path, "voices", "list", "--engine", "espeak", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [(v["id"], v["default"], v["offline"]) for v in listed] == [
        ("cmn", True, True),
        ("cmn-latn-pinyin", False, True),
    ]


def test_list_refuses_an_unknown_engine_in_one_line(tmp_path: Path) -> None:
    result = run(tmp_path, "voices", "list", "--engine", "openai")
    assert result.exit_code == 1
    assert result.output == "error: unknown engine 'openai'; valid engines: local, espeak, edge\n"


async def test_refresh_against_the_double_then_list_shows_the_new_voice(
    edge_double: EdgeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = {"ShortName": "zh-CN-XiaochenNeural", "Gender": "Female", "Locale": "zh-CN"}
    edge_double.voice_list = [*edge_double.voice_list, new]
    # The command's own code path, with edge-tts's connections going to the double instead of Microsoft.
    reaching_the_double = functools.partial(
        voices_refresh.refresh, connector_factory=edge_double.connector_factory
    )
    monkeypatch.setattr(voices_refresh, "refresh", reaching_the_double)
    # The double serves on this test's event loop; the command runs its own in a thread.
    result = await asyncio.to_thread(run, tmp_path, "voices", "refresh")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{tmp_path / EDGE_LIST_FILE}: 16 voices, 15 of them Chinese (offered by edge)\n"
        "new since the list shipped with the package: zh-CN-XiaochenNeural\n"
    )
    assert len(edge_double.voice_list_requests) == 1
    listed = run(tmp_path, "voices", "list", "--engine", "edge")
    assert "edge\tzh-CN-XiaochenNeural\tfemale\tzh-CN\tXiaochen\t\n" in listed.stdout


async def test_refresh_offline_fails_in_one_line(
    edge_double: EdgeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await edge_double.stop()  # as an unreachable Microsoft: nothing listens on the double's port any more
    reaching_nothing = functools.partial(
        voices_refresh.refresh, connector_factory=edge_double.connector_factory
    )
    monkeypatch.setattr(voices_refresh, "refresh", reaching_nothing)
    result = await asyncio.to_thread(run, tmp_path, "voices", "refresh")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: cannot fetch Microsoft's voice list: edge-tts: cannot connect to "
    )
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / EDGE_LIST_FILE).exists()
