"""The manifest: a plan plus what has been synthesised so far, and so the audio's status."""

from __future__ import annotations

from dataclasses import dataclass

from tts_service.article import Article
from tts_service.jobs import JobStore
from tts_service.planning import Plan
from tts_service.states import AudioStatus, JobStatus
from tts_service.store import AudioRecord, Store


@dataclass(frozen=True)
class Manifest:
    """A plan plus what has been synthesised so far."""

    plan: Plan
    records: dict[str, AudioRecord]
    status: AudioStatus
    error: str | None = None

    @property
    def progress(self) -> float:
        total = len(self.plan.spoken)
        return 1.0 if total == 0 else sum(c.key in self.records for c in self.plan.spoken) / total


async def build(article: Article, plan: Plan, store: Store, jobs: JobStore) -> Manifest:
    """The manifest of ``article`` read with ``plan``: ready, pending, failed (its job's reason) or empty."""
    if not plan.spoken:
        return Manifest(plan, {}, AudioStatus.EMPTY)
    records = await store.audio_records(c.key for c in plan.spoken)
    if all(c.key in records for c in plan.spoken):
        return Manifest(plan, records, AudioStatus.READY)
    job = await jobs.latest(article.slug, article.revision)
    if job is not None and job.status == JobStatus.FAILED and job.engine == plan.engine:
        return Manifest(plan, records, AudioStatus.FAILED, job.error)
    return Manifest(plan, records, AudioStatus.PENDING)
