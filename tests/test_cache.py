"""The content-addressed audio cache: keys, atomic writes, one file per distinct sound."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import httpx
import pytest
from pydantic import ValidationError
from seaweed import SeaweedFS

from tts_service.cache import FORMAT_VERSION, AudioCache, AudioStore, Stored, audio_key, is_key
from tts_service.config import Settings
from tts_service.engines import Prosody
from tts_service.errors import AudioStoreDown, NotFound
from tts_service.objects import S3AudioStore
from tts_service.services import open_audio_store

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


@pytest.fixture(params=["local", "cloud"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store(settings: Settings) -> Iterator[AudioStore]:
    """The audio store ``settings`` name: files under a temporary TTS_HOME, or a prefix in SeaweedFS."""
    audio = open_audio_store(settings)
    yield audio
    audio.close()


def test_write_then_read(store: AudioStore) -> None:
    key = audio_key(**BASE)
    stored = store.write(key, b"ID3audio")
    assert stored == Stored(8, hashlib.sha256(b"ID3audio").hexdigest())
    assert store.read(key) == b"ID3audio"
    assert store.exists(key)
    assert store.read_range(key, 2, 5) == b"3au"
    assert store.info(key).size == 8
    assert [(e.key, e.size) for e in store.entries()] == [(key, 8)]  # no temp file left behind


def test_the_file_layout(tmp_path) -> None:
    cache = AudioCache(tmp_path)
    key = audio_key(**BASE)
    cache.write(key, b"ID3audio")
    path = tmp_path / key[:2] / f"{key}.mp3"
    assert cache.local_path(key) == path and cache.object_key(key) == f"{key[:2]}/{key}.mp3"
    assert [p.name for p in path.parent.iterdir()] == [path.name]


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


def test_rewrite_replaces_whole_file(store: AudioStore) -> None:
    key = audio_key(**BASE)
    store.write(key, b"x" * 1000)
    store.write(key, b"short")
    assert store.read(key) == b"short"


def test_missing_audio_is_not_found(store: AudioStore) -> None:
    key = audio_key(**BASE)
    with pytest.raises(NotFound):
        store.read(key)
    with pytest.raises(NotFound):
        store.info(key)
    assert not store.exists(key) and not store.delete(key)


def test_delete_and_quarantine(store: AudioStore) -> None:
    keys = [audio_key(**{**BASE, "spoken": f"{i}。"}) for i in range(3)]
    for key in keys:
        store.write(key, b"audio")
    assert store.delete(keys[0]) and not store.exists(keys[0])
    assert store.quarantine([keys[0], keys[1]]) == [keys[1]]  # the deleted one has nothing to move
    assert not store.exists(keys[1])
    assert [e.key for e in store.entries()] == [keys[2]]  # the quarantine is not listed


def test_files_are_readable_by_a_front_server(tmp_path) -> None:
    cache = AudioCache(tmp_path)
    key = audio_key(**BASE)
    cache.write(key, b"audio")
    assert cache.path(key).stat().st_mode & 0o777 == 0o644


# --- the object store: what the objects carry, and failures -------------------------------------------


@pytest.fixture
def objects(seaweedfs: SeaweedFS, s3_state: dict[str, object]) -> Iterator[S3AudioStore]:
    store = open_audio_store(Settings(**s3_state))
    assert isinstance(store, S3AudioStore)
    yield store
    store.close()


def test_objects_carry_their_type_caching_and_hash(objects: S3AudioStore, seaweedfs: SeaweedFS) -> None:
    key = audio_key(**BASE)
    stored = objects.write(key, b"ID3audio")
    name = objects.object_key(key)
    assert name == f"{objects.prefix}/{key[:2]}/{key}.mp3"
    head = seaweedfs.client().head_object(Bucket=objects.bucket, Key=name)
    assert head["ContentType"] == "audio/mpeg"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert head["Metadata"] == {"sha256": stored.sha256}


def test_a_presigned_url_gets_the_audio(objects: S3AudioStore) -> None:
    key = audio_key(**BASE)
    objects.write(key, b"ID3audio")
    url = objects.presigned_url(key, 60)
    assert "X-Amz-Signature" in url
    assert httpx.get(url).content == b"ID3audio"


def test_a_store_that_is_down_is_a_clear_error(seaweedfs: SeaweedFS, s3_state: dict[str, object]) -> None:
    bucket, prefix = Settings(**s3_state).s3_location or ("", "")
    down = S3AudioStore(bucket, prefix, endpoint_url="http://127.0.0.1:9", path_style=True, retries=1)
    with pytest.raises(AudioStoreDown, match=r"the audio store s3://.* failed to store [0-9a-f]{64}"):
        down.write(audio_key(**BASE), b"audio")
    with pytest.raises(AudioStoreDown, match="failed to look up"):
        down.exists(audio_key(**BASE))


def test_a_bad_audio_store_setting_is_refused_at_start() -> None:
    for bad in ("/srv/audio", "s3://", "s3://UPPER/x", "gs://bucket/x", "s3://b/x?y=1"):
        with pytest.raises(ValidationError, match="TTS_AUDIO_STORE must be"):
            Settings(audio_store=bad)
    assert Settings(audio_store="file").s3_location is None
    assert Settings(audio_store="s3://audio.example/tts/").s3_location == ("audio.example", "tts")
    assert Settings(audio_base_url="https://cdn.example/a/").audio_base_url == "https://cdn.example/a"
    with pytest.raises(ValidationError, match="TTS_AUDIO_BASE_URL must be"):
        Settings(audio_base_url="cdn.example/a")
