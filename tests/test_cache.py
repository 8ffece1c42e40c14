"""The content-addressed audio cache: keys, atomic writes, one file per distinct sound."""

from __future__ import annotations

import os

import pytest

from tts_service.cache import FORMAT_VERSION, AudioCache, audio_key, is_key
from tts_service.engines import Prosody
from tts_service.errors import NotFound

BASE = dict(engine="espeak", engine_version="1.51", voice="cmn", prosody=Prosody(), spoken="你好。")


def test_key_is_stable_hex() -> None:
    key = audio_key(**BASE)
    assert key == audio_key(**BASE)
    assert is_key(key) and len(key) == 64


@pytest.mark.parametrize(
    "change",
    [
        {"engine": "edge"},
        {"engine_version": "1.52"},
        {"voice": "cmn-latn-pinyin"},
        {"prosody": Prosody(rate=20)},
        {"prosody": Prosody(pitch=5)},
        {"prosody": Prosody(volume=-10)},
        {"spoken": "你好！"},
    ],
)
def test_every_input_that_shapes_the_sound_changes_the_key(change: dict) -> None:
    assert audio_key(**{**BASE, **change}) != audio_key(**BASE)


def test_format_version_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    before = audio_key(**BASE)
    monkeypatch.setattr("tts_service.cache.FORMAT_VERSION", FORMAT_VERSION + 1)
    assert audio_key(**BASE) != before


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABC", "a" * 63, "g" * 64, "", "a" * 64 + "/x"])
def test_malformed_keys_are_never_paths(tmp_path, bad: str) -> None:
    assert not is_key(bad)
    with pytest.raises(NotFound):
        AudioCache(tmp_path).path(bad)


def test_write_then_read(tmp_path) -> None:
    cache = AudioCache(tmp_path)
    key = audio_key(**BASE)
    path = cache.write(key, b"ID3audio")
    assert path == tmp_path / key[:2] / f"{key}.mp3"
    assert cache.read(key) == b"ID3audio"
    assert cache.exists(key)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


def test_failed_write_leaves_no_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = AudioCache(tmp_path)
    key = audio_key(**BASE)

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        cache.write(key, b"partial")
    assert not cache.exists(key)
    assert list((tmp_path / key[:2]).iterdir()) == []


def test_rewrite_replaces_whole_file(tmp_path) -> None:
    cache = AudioCache(tmp_path)
    key = audio_key(**BASE)
    cache.write(key, b"x" * 1000)
    cache.write(key, b"short")
    assert cache.read(key) == b"short"


def test_missing_audio_is_not_found(tmp_path) -> None:
    with pytest.raises(NotFound):
        AudioCache(tmp_path).read(audio_key(**BASE))


def test_files_are_readable_by_a_front_server(tmp_path) -> None:
    path = AudioCache(tmp_path).write(audio_key(**BASE), b"audio")
    assert path.stat().st_mode & 0o777 == 0o644
