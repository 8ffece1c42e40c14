"""The chunks of a queued job (TTS_REDIS_URL), kept in the store so every worker on every machine agrees.

A job run by the task queue is no one process's: its chunks are tasks, taken by whichever worker is free.
What is left to make lives here, one row per distinct key. A worker marks its key done and, in the same
transaction, learns how many are left and sets the job's progress. The transaction that marks the last one
is the only one to see none left after its own change; its worker then claims the job (compare and set on the
owner) and assembles the whole file, once. A message delivered again (its worker died) marks nothing, and
only claims the job if nobody has.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, text

from tts_service.jobs import QUEUE_OWNER, Job, job_row, this_process
from tts_service.states import ACTIVE_JOBS, sql_list
from tts_service.store import Store, now

_ACTIVE = f"status IN {sql_list(ACTIVE_JOBS)}"
_MARK = text("UPDATE job_chunks SET done = 1 WHERE job_id = :job AND key = :key AND done = 0")
_LEFT = text("SELECT coalesce(sum(uses), 0) FROM job_chunks WHERE job_id = :job AND done = 0")
_PROGRESS = text(
    "UPDATE jobs SET done = total - :left, status = 'running', heartbeat = :beat, updated_at = :at"
    f" WHERE id = :job AND {_ACTIVE}"
)
_CLAIM = text(
    "UPDATE jobs SET owner = :me, heartbeat = :beat, updated_at = :at"
    f" WHERE id = :job AND owner = :queue AND {_ACTIVE}"
)
_RELEASE = text(
    "UPDATE jobs SET owner = :queue, heartbeat = :beat, updated_at = :at"
    f" WHERE id = :job AND owner = :was AND {_ACTIVE}"
)


@dataclass(frozen=True)
class Marked:
    """A chunk marked done: how many chunks (counted as the plan says them) are left, and the job now."""

    left: int
    job: Job


class JobChunks:
    """The ``job_chunks`` table, on the service's store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def plan(self, job_id: int, todo: Mapping[str, int], total: int) -> Job:
        """Set what the job has left to make: ``todo`` maps each missing key to its uses in the plan, of
        ``total`` chunks. Replaces any earlier list (a fallback to another engine starts over); the job is
        the queue's again, with its progress set."""

        def write(conn: Connection) -> Job:
            conn.execute(text("DELETE FROM job_chunks WHERE job_id = :job"), {"job": job_id})
            if todo:
                conn.execute(
                    text("INSERT INTO job_chunks (job_id, key, uses) VALUES (:job, :key, :uses)"),
                    [{"job": job_id, "key": key, "uses": uses} for key, uses in todo.items()],
                )
            conn.execute(
                text(
                    "UPDATE jobs SET done = :done, total = :total, owner = :queue, heartbeat = :beat,"
                    " updated_at = :at WHERE id = :job"
                ),
                {
                    "done": total - sum(todo.values()),
                    "total": total,
                    "queue": QUEUE_OWNER,
                    "beat": time.time(),
                    "at": now(),
                    "job": job_id,
                },
            )
            return job_row(conn, job_id)

        return await self.store.write(write)

    async def mark(self, job_id: int, key: str) -> Marked:
        """Mark ``key`` made for the job (again is harmless); what is left, and the job after it."""

        def write(conn: Connection) -> Marked:
            conn.execute(_MARK, {"job": job_id, "key": key})
            left = int(conn.execute(_LEFT, {"job": job_id}).scalar_one())
            conn.execute(_PROGRESS, {"left": left, "beat": time.time(), "at": now(), "job": job_id})
            return Marked(left, job_row(conn, job_id))

        return await self.store.write(write)

    async def left(self, job_id: int) -> list[str]:
        """The keys the job has not made yet."""
        sql = text("SELECT key FROM job_chunks WHERE job_id = :job AND done = 0 ORDER BY key")
        return list(await self.store.read(lambda c: list(c.execute(sql, {"job": job_id}).scalars())))

    async def claim(self, job_id: int) -> bool:
        """Take the job from the queue to assemble it; False if a worker has it already, or it ended."""
        params = {"me": this_process(), "beat": time.time(), "at": now(), "job": job_id, "queue": QUEUE_OWNER}
        return bool(await self.store.write(lambda c: c.execute(_CLAIM, params).rowcount == 1))

    async def release(self, job: Job) -> bool:
        """Give a job back to the queue from the owner it had (a worker that died assembling it)."""
        params = {"queue": QUEUE_OWNER, "beat": time.time(), "at": now(), "job": job.id, "was": job.owner}
        return bool(await self.store.write(lambda c: c.execute(_RELEASE, params).rowcount == 1))
