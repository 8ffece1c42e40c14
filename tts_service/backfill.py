"""Word timings for audio cached before they were kept (or kept in an older version): each such chunk of the
current articles is made again for its timing (`Synthesizer.retime`), as `tts-service cache backfill-marks`
does. Until then, the manifest spreads such a chunk's syllables over its audio."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tts_service.errors import TTSError
from tts_service.planning import Planner
from tts_service.store import Store
from tts_service.synthesis import Synthesizer
from tts_service.timing import Timing


@dataclass
class BackfillReport:
    """What a backfill found and did."""

    checked: int = 0  # chunks with audio
    current: int = 0  # of those, with a timing of the current version already
    retimed: int = 0  # given a timing, their stored audio kept
    replaced: int = 0  # made again with a different length: audio and timing both replaced
    failed: list[str] = field(default_factory=list)  # "slug: reason" for chunks that could not be made


async def backfill(
    store: Store,
    planner: Planner,
    synthesizer: Synthesizer,
    slugs: Sequence[str] = (),
    *,
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
) -> BackfillReport:
    """Give every chunk of the articles named (all, if none are) a current word timing."""
    report = BackfillReport()
    articles = [await store.get_article(slug) for slug in slugs] if slugs else await store.list_articles()
    for article in articles:
        plan = await planner.plan(article)
        records = await store.audio_records(c.key for c in plan.spoken)
        for chunk in dict((c.key, c) for c in plan.spoken).values():  # a repeated sentence once
            record = records.get(chunk.key)
            if record is None:
                continue
            report.checked += 1
            if Timing.from_json(record.marks) is not None:
                report.current += 1
                continue
            if dry_run:
                continue
            try:
                kept = await synthesizer.retime(plan, chunk, record)
            except TTSError as exc:
                report.failed.append(f"{article.slug}: {exc.message}")
                continue
            report.retimed += kept
            report.replaced += not kept
        if progress:
            progress(article.slug)
    return report
