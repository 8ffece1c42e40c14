"""Cache upkeep: verify every file against its record, quarantine the bad, collect the unreferenced."""

from __future__ import annotations

from collections.abc import Awaitable

import pytest
from helpers import CountingEngine
from test_jobs import add

from tts_service import upkeep
from tts_service.cache import AudioCache
from tts_service.pipeline import Pipeline


@pytest.fixture(params=["local", "cloud"])
def backend(request: pytest.FixtureRequest) -> str:
    """verify and gc on local files and on the object store (SeaweedFS)."""
    return request.param


def verify(pipeline: Pipeline, **options) -> Awaitable[upkeep.VerifyReport]:
    return upkeep.verify(pipeline.store, pipeline.cache, **options)


def collect(pipeline: Pipeline, **options) -> Awaitable[upkeep.GcReport]:
    return upkeep.collect(pipeline.store, pipeline.cache, pipeline.planner, **options)


async def ready(pipeline: Pipeline, slug: str, text: str):
    article = await add(pipeline, text, slug=slug)
    await pipeline.generate(article)
    manifest = await pipeline.manifest(article)
    whole = await pipeline.whole(article, manifest)
    assert manifest.status == "ready" and whole is not None
    return article, [c.key for c in manifest.plan.spoken], whole.key


def files(pipeline: Pipeline) -> set[str]:
    return {e.name.rsplit("/", 1)[1] for e in pipeline.cache.entries()}


async def test_a_sound_cache_verifies(pipeline: Pipeline) -> None:
    await ready(pipeline, "a", "第一句。第二句。")
    await ready(pipeline, "b", "第三句。")
    report = await verify(pipeline)
    assert report.checked == 3 + 2  # three chunks, two whole-article files
    assert (report.bad, report.unhashed, report.unrecorded) == ([], 0, [])


async def test_bad_files_are_found_and_quarantined(pipeline: Pipeline, espeak: CountingEngine) -> None:
    article, keys, whole = await ready(pipeline, "a", "第一句。第二句。第三句。\n\n第四句。")
    cache = pipeline.cache
    data = cache.read(keys[0])
    cache.write(keys[0], data[: len(data) // 2])  # torn, as a non-atomic write would leave it
    flipped = bytearray(cache.read(keys[1]))
    flipped[len(flipped) // 2] ^= 0xFF
    cache.write(keys[1], bytes(flipped))  # same size, other bytes
    cache.delete(keys[2])
    stray = "f" * 64
    cache.write(stray, b"junk")

    report = await verify(pipeline)
    reasons = {p.key: p.reason for p in report.bad}
    assert set(reasons) == {keys[0], keys[1], keys[2]}
    assert reasons[keys[0]] == f"size {len(data) // 2} bytes, recorded {len(data)}"
    assert reasons[keys[1]] == "content does not match its recorded SHA-256"
    assert reasons[keys[2]] == "missing"
    assert report.unrecorded == [f"{stray}.mp3"]
    assert report.quarantined == [] and cache.exists(keys[0])  # only reported

    report = await verify(pipeline, quarantine=True)
    assert sorted(report.quarantined) == sorted([keys[0], keys[1]])  # the missing one has nothing to move
    assert not cache.exists(keys[0])
    assert quarantined(pipeline, keys[0]) == data[: len(data) // 2]  # kept aside for a person to look at
    manifest = await pipeline.manifest(article)
    assert manifest.status == "pending"  # forgotten: they will be made again, not served broken

    espeak.calls.clear()
    await pipeline.generate(article)
    assert sorted(espeak.calls) == ["第一句。", "第三句。", "第二句。"]
    report = await verify(pipeline)
    assert report.bad == [] and report.unrecorded == [f"{stray}.mp3"]


def quarantined(pipeline: Pipeline, key: str) -> bytes:
    """The quarantined copy of ``key``'s audio, wherever the store keeps it."""
    cache = pipeline.cache
    if isinstance(cache, AudioCache):
        return (cache.root / "quarantine" / f"{key}.mp3").read_bytes()
    name = f"{cache.prefix}/quarantine/{key}.mp3"
    return cache.client.get_object(Bucket=cache.bucket, Key=name)["Body"].read()


def test_check_file_catches_damage_past_the_last_frame(tmp_path, settings) -> None:
    from tts_service.audio import mp3

    audio = mp3.encode(b"\x00\x10" * 24000)
    path = tmp_path / "x.mp3"
    path.write_bytes(audio + b"\xff\xfb")
    assert upkeep.check_file(path, len(audio) + 2, None, None).startswith("damaged MP3: 2 bytes after")
    path.write_bytes(b"\x00" * 100)
    assert upkeep.check_file(path, 100, None, None).startswith("not MP3")
    path.write_bytes(audio)
    assert upkeep.check_file(path, len(audio), None, 5.0).startswith("decodes to 1.")
    assert upkeep.check_file(path, len(audio), None, None) is None


async def test_gc_removes_only_what_no_current_revision_uses(pipeline: Pipeline) -> None:
    _, old_keys, old_whole = await ready(pipeline, "a", "不变的一句。会改的一句。")
    _, b_keys, b_whole = await ready(pipeline, "b", "不变的一句。另一篇。")
    _, new_keys, new_whole = await ready(pipeline, "a", "不变的一句。改好的一句。")
    stray = "e" * 64  # on disk: a temp file left by a killed writer; in a bucket, any stray object
    stale = pipeline.cache.write(stray, b"left by a killed writer")
    gone = {f"{old_keys[1]}.mp3", f"{old_whole}.mp3", f"{stray}.mp3"}
    sizes = sum(pipeline.cache.info(name[:64]).size for name in gone if name != f"{stray}.mp3")
    sizes += stale.size
    before = files(pipeline)

    young = await collect(pipeline, dry_run=True)  # default: files under 15 minutes old stay
    assert young.removed == [] and young.kept == len(before)
    dry = await collect(pipeline, dry_run=True, min_age=0)
    assert {basename(e.name) for e in dry.removed} == gone and dry.freed == sizes
    assert files(pipeline) == before

    report = await collect(pipeline, min_age=0)
    assert {basename(e.name) for e in report.removed} == gone and report.freed == sizes
    assert files(pipeline) == before - gone
    assert await pipeline.store.audio_records([old_keys[1]]) == {}
    assert await pipeline.store.assembly(old_whole) is None
    assert (await verify(pipeline)).bad == []
    for slug in ("a", "b"):
        article = await pipeline.store.get_article(slug)
        assert (await pipeline.manifest(article)).status == "ready"
    assert (await collect(pipeline, min_age=0)).removed == []


async def test_gc_after_a_deletion_keeps_shared_sentences(pipeline: Pipeline) -> None:
    _, a_keys, a_whole = await ready(pipeline, "a", "共用的一句。只属于甲。")
    _, b_keys, _ = await ready(pipeline, "b", "共用的一句。")
    await pipeline.delete("a")
    report = await collect(pipeline, min_age=0)
    assert {basename(e.name) for e in report.removed} == {f"{a_keys[1]}.mp3", f"{a_whole}.mp3"}
    assert pipeline.cache.exists(b_keys[0])


async def test_gc_keeps_a_young_file(pipeline: Pipeline) -> None:
    _, keys, _ = await ready(pipeline, "a", "旧的。")
    await ready(pipeline, "a", "新的。")
    report = await collect(pipeline, min_age=200)  # everything here is seconds old
    assert pipeline.cache.exists(keys[0]) and report.removed == []


@pytest.mark.parametrize("backend", ["local"])  # an object store has no temp files: a PUT is whole or none
async def test_gc_removes_a_temp_file_left_on_disk(pipeline: Pipeline) -> None:
    _, keys, _ = await ready(pipeline, "a", "一句。")
    cache = pipeline.cache
    assert isinstance(cache, AudioCache)
    stale = cache.root / keys[0][:2] / f".{keys[0][:12]}-x.part"
    stale.write_bytes(b"left by a killed writer")
    report = await collect(pipeline, min_age=0)
    assert [basename(e.name) for e in report.removed] == [stale.name] and cache.exists(keys[0])


def basename(name: str) -> str:
    return name.rsplit("/", 1)[1]
