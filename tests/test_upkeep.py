"""Cache upkeep: verify every file against its record, quarantine the bad, collect the unreferenced."""

from __future__ import annotations

import os
from collections.abc import Awaitable

from helpers import CountingEngine
from test_jobs import add

from tts_service import upkeep
from tts_service.pipeline import Pipeline


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
    return {p.name for p in upkeep.cache_files(pipeline.cache.root)}


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
    cache.path(keys[0]).write_bytes(data[: len(data) // 2])  # torn, as a non-atomic write would leave it
    flipped = bytearray(cache.read(keys[1]))
    flipped[len(flipped) // 2] ^= 0xFF
    cache.path(keys[1]).write_bytes(bytes(flipped))  # same size, other bytes
    cache.path(keys[2]).unlink()
    stray = cache.root / "ff" / ("f" * 64 + ".mp3")
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"junk")

    report = await verify(pipeline)
    reasons = {p.key: p.reason for p in report.bad}
    assert set(reasons) == {keys[0], keys[1], keys[2]}
    assert reasons[keys[0]] == f"size {len(data) // 2} bytes, recorded {len(data)}"
    assert reasons[keys[1]] == "content does not match its recorded SHA-256"
    assert reasons[keys[2]] == "missing"
    assert report.unrecorded == [stray.name]
    assert report.quarantined == [] and cache.path(keys[0]).exists()  # only reported

    report = await verify(pipeline, quarantine=True)
    assert sorted(report.quarantined) == sorted([keys[0], keys[1]])  # the missing one has nothing to move
    assert not cache.path(keys[0]).exists() and (cache.root / "quarantine" / f"{keys[0]}.mp3").exists()
    manifest = await pipeline.manifest(article)
    assert manifest.status == "pending"  # forgotten: they will be made again, not served broken

    espeak.calls.clear()
    await pipeline.generate(article)
    assert sorted(espeak.calls) == ["第一句。", "第三句。", "第二句。"]
    report = await verify(pipeline)
    assert report.bad == [] and report.unrecorded == [stray.name]


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
    stale_temp = pipeline.cache.root / old_keys[0][:2] / f".{old_keys[0][:12]}-x.part"
    stale_temp.write_bytes(b"left by a killed writer")
    gone = {f"{old_keys[1]}.mp3", f"{old_whole}.mp3", stale_temp.name}
    sizes = sum((pipeline.cache.root / name[:2] / name).stat().st_size for name in gone if name[0] != ".")
    sizes += stale_temp.stat().st_size
    before = files(pipeline)

    young = await collect(pipeline, dry_run=True)  # default: files under 15 minutes old stay
    assert young.removed == [] and young.kept == len(before)
    dry = await collect(pipeline, dry_run=True, min_age=0)
    assert {p.name for p in dry.removed} == gone and dry.freed == sizes
    assert files(pipeline) == before

    report = await collect(pipeline, min_age=0)
    assert {p.name for p in report.removed} == gone and report.freed == sizes
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
    assert {p.name for p in report.removed} == {f"{a_keys[1]}.mp3", f"{a_whole}.mp3"}
    assert pipeline.cache.exists(b_keys[0])


async def test_gc_keeps_a_young_file(pipeline: Pipeline) -> None:
    _, keys, _ = await ready(pipeline, "a", "旧的。")
    await ready(pipeline, "a", "新的。")
    path = pipeline.cache.path(keys[0])
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime - 100))
    report = await collect(pipeline, min_age=200)
    assert path.exists() and all(p.name != path.name for p in report.removed)
