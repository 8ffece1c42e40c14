"""The states a generation job and an article's audio can be in: one definition for the store, the
scheduler, metrics, the API schema and the templates."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    """A generation job: queued → running (with progress) → done, or failed with a reason."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        """Still to run or running: the job has an owner that may be alive."""
        return self in ACTIVE_JOBS

    @property
    def finished(self) -> bool:
        return not self.active


ACTIVE_JOBS = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})


class AudioStatus(StrEnum):
    """An article revision's audio, as readers get it."""

    READY = "ready"  # every chunk is cached; the whole-article file can be built
    PENDING = "pending"  # some chunks are missing, and a job makes (or will make) them
    FAILED = "failed"  # the revision's job failed; chunks already made still play
    EMPTY = "empty"  # nothing to speak ("——"), so no audio, ever


def sql_list(states: frozenset[JobStatus] | tuple[JobStatus, ...]) -> str:
    """States as an SQL list literal, e.g. ``('queued', 'running')``: only enum values, never input."""
    return "(" + ", ".join(f"'{s.value}'" for s in sorted(states)) + ")"
