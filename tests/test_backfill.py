"""Backfilling word timings for audio cached before they were kept (or in an older version)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers import CountingEngine
from sqlalchemy import text
from test_cli import run
from test_jobs import add

from tts_service.backfill import backfill
from tts_service.pipeline import Pipeline
from tts_service.timing import Timing


async def forget_marks(pipeline: Pipeline, value: str | None = None) -> None:
    await pipeline.store.write(lambda c: c.execute(text("UPDATE audio SET marks = :m"), {"m": value}))


async def test_chunks_without_a_current_timing_get_one_and_keep_their_audio(
    pipeline: Pipeline, espeak: CountingEngine
) -> None:
    article = await add(pipeline, "第一句。第二句。第一句。", slug="a")
    await pipeline.generate(article)
    plan = await pipeline.planner.plan(article)
    keys = list(dict.fromkeys(c.key for c in plan.spoken))
    before = {k: pipeline.cache.read(k) for k in keys}
    made = dict((await pipeline.store.audio_records(keys)).items())
    assert all(Timing.from_json(r.marks) for r in made.values())
    await forget_marks(pipeline, '{"v": 0, "source": "model", "marks": []}')  # an older version

    dry = await backfill(pipeline.store, pipeline.planner, pipeline.synthesizer, dry_run=True)
    assert (dry.checked, dry.current, dry.retimed) == (2, 0, 0)  # the repeated sentence counts once
    calls = len(espeak.calls)
    report = await backfill(pipeline.store, pipeline.planner, pipeline.synthesizer, ["a"])
    assert (report.checked, report.current, report.retimed, report.replaced, report.failed) == (
        2,
        0,
        2,
        0,
        [],
    )
    assert len(espeak.calls) == calls + 2
    records = await pipeline.store.audio_records(keys)
    assert [Timing.from_json(records[k].marks) for k in keys] == [
        Timing.from_json(made[k].marks) for k in keys
    ]  # the same timing the first synthesis kept
    assert {k: pipeline.cache.read(k) for k in keys} == before  # its bytes (and URL's content) unchanged
    again = await backfill(pipeline.store, pipeline.planner, pipeline.synthesizer)
    assert (again.checked, again.current, again.retimed) == (2, 2, 0)


async def test_a_chunk_made_again_at_another_length_is_replaced(
    pipeline: Pipeline, espeak: CountingEngine
) -> None:
    article = await add(pipeline, "只有一句。", slug="b")
    await pipeline.generate(article)
    plan = await pipeline.planner.plan(article)
    key = plan.spoken[0].key
    await forget_marks(pipeline)
    await pipeline.store.write(lambda c: c.execute(text("UPDATE audio SET duration = duration + 1")))
    report = await backfill(pipeline.store, pipeline.planner, pipeline.synthesizer)
    assert (report.retimed, report.replaced) == (0, 1)
    record = (await pipeline.store.audio_records([key]))[key]
    assert Timing.from_json(record.marks) is not None and record.duration < 5


def test_the_command_reports_and_backfills(env: dict[str, str], tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("# 标题\n\n第一句。第二句。", encoding="utf-8")
    run(env, "add", str(doc), "--slug", "a")
    run(env, "pregen", "a")
    with sqlite3.connect(tmp_path / "tts.db") as db:
        db.execute("UPDATE audio SET marks = NULL")
    dry = run(env, "cache", "backfill-marks", "--dry-run")
    assert dry.exit_code == 0 and "checked 2 chunks: 0 had a timing, 2 did not" in dry.output, dry.output
    done = run(env, "cache", "backfill-marks", "a")
    assert done.exit_code == 0 and "2 timed, 0 made again, 0 failed" in done.output, done.output
    with sqlite3.connect(tmp_path / "tts.db") as db:
        assert all(row[0] for row in db.execute("SELECT marks FROM audio"))
    missing = run(env, "cache", "backfill-marks", "nope")
    assert missing.exit_code == 1


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"TTS_HOME": str(tmp_path), "TTS_ENGINE": "espeak"}
