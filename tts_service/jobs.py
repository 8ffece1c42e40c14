"""Generation jobs, kept in the store: queued → running (with progress) → done, or failed with a reason.

A job belongs to the process that runs it (its ``owner``) and carries a heartbeat. When that process dies
(``kill -9``), the job is left "running" with a dead owner or a stale heartbeat; the next process to look
(the server at start-up, or ``tts-service pregen``) claims it and runs it to the end. Chunks already cached
are not made again, and cache files are only ever renamed into place whole, so nothing is lost or torn.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from tts_service.errors import NotFound
from tts_service.states import ACTIVE_JOBS, JobStatus, sql_list
from tts_service.store import Store, now

HEARTBEAT_SECONDS = 10.0
STALE_AFTER = 60.0  # a job whose heartbeat is older than this has lost its process
_COLUMNS = (
    "id, slug, revision, engine, voice, status, done, total, error, fallback, owner, heartbeat,"
    " created_at, updated_at, finished_at"
)
# Compare and set: the claim succeeds only while the job is as the claimer saw it, dead owner and all, so
# of several processes on several machines that see the same orphan, exactly one takes it.
_CLAIM = text(
    "UPDATE jobs SET owner = :owner, heartbeat = :heartbeat, updated_at = :at WHERE id = :id"
    f" AND owner = :was_owner AND heartbeat = :was_heartbeat AND status IN {sql_list(ACTIVE_JOBS)}"
)
_ACTIVE_FOR = text(
    f"SELECT {_COLUMNS} FROM jobs WHERE slug = :slug AND revision = :revision"
    f" AND status IN {sql_list(ACTIVE_JOBS)} ORDER BY id DESC LIMIT 1"
)
_INSERT = text(
    "INSERT INTO jobs (slug, revision, engine, voice, status, owner, heartbeat, created_at, updated_at)"
    " VALUES (:slug, :revision, :engine, :voice, :status, :owner, :heartbeat, :at, :at) RETURNING id"
)
# The owner of a job the task queue runs (TTS_REDIS_URL): no one process, but whichever workers take its
# chunks; its heartbeat is the last chunk made. A worker that assembles the whole file owns it meanwhile.
QUEUE_OWNER = "queue"
# Unique per process, even when a restarted process gets the PID of the one that was killed.
_NONCE = secrets.token_hex(4)


@dataclass(frozen=True)
class Job:
    id: int
    slug: str
    revision: int
    engine: str
    voice: str
    status: JobStatus
    done: int
    total: int
    error: str | None
    fallback: str | None  # why and to which engine the job fell back, if it did
    owner: str
    heartbeat: float
    created_at: str
    updated_at: str
    finished_at: str | None

    def __post_init__(self) -> None:
        # Rows from the store hold the status as text; a job always holds its JobStatus.
        object.__setattr__(self, "status", JobStatus(self.status))

    @property
    def active(self) -> bool:
        return self.status.active

    @property
    def progress(self) -> float:
        if self.status == JobStatus.DONE:
            return 1.0
        return 0.0 if self.total == 0 else round(self.done / self.total, 4)


def this_process() -> str:
    """The owner name of jobs run by this process: host, PID and a per-process nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{_NONCE}"


def _owner_alive(owner: str) -> bool:
    """False only when the owner is certainly dead: a process on this host that no longer exists."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True  # cannot tell from here; the heartbeat decides
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def orphaned(job: Job, at: float | None = None) -> bool:
    """True for an active job whose process is gone (dead PID) or silent (heartbeat too old)."""
    if not job.active or job.owner == this_process():
        return False
    at = time.time() if at is None else at
    return not _owner_alive(job.owner) or at - job.heartbeat > STALE_AFTER


def job_row(conn: Connection, job_id: int) -> Job:
    """The job with id ``job_id``, read on ``conn``; NotFound if there is none."""
    row = conn.execute(text(f"SELECT {_COLUMNS} FROM jobs WHERE id = :id"), {"id": job_id}).first()
    if row is None:
        raise NotFound(f"no job {job_id}")
    return Job(*row)


class JobStore:
    """The jobs table, on the service's one Store (same connection rules: reads in threads, one writer)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(
        self, slug: str, revision: int, engine: str, voice: str, *, owner: str | None = None
    ) -> tuple[Job, bool]:
        """A new queued job for the revision, and True; or, when the revision has an active job already
        (another process, maybe on another machine, started one first), that job and False. Its owner is
        this process, or ``owner`` (``QUEUE_OWNER``: the task queue's workers run it)."""

        def write(conn: Connection) -> tuple[Job, bool]:
            active = conn.execute(_ACTIVE_FOR, {"slug": slug, "revision": revision}).first()
            if active is not None:
                return Job(*active), False
            stamp = now()
            values = {"slug": slug, "revision": revision, "engine": engine, "voice": voice}
            values |= {
                "status": JobStatus.QUEUED.value,
                "owner": owner or this_process(),
                "heartbeat": time.time(),
            }
            return job_row(conn, conn.execute(_INSERT, {**values, "at": stamp}).scalar_one()), True

        # The unique index jobs_one_active keeps it to one even where two transactions could both see none.
        try:
            return await self.store.write(write)
        except IntegrityError:
            return await self.store.write(write)

    async def get(self, job_id: int) -> Job:
        """The job; NotFound if there is none."""
        return await self.store.read(lambda c: job_row(c, job_id))

    async def latest(self, slug: str, revision: int) -> Job | None:
        sql = text(
            f"SELECT {_COLUMNS} FROM jobs WHERE slug = :slug AND revision = :revision"
            " ORDER BY id DESC LIMIT 1"
        )
        params = {"slug": slug, "revision": revision}
        row = await self.store.read(lambda c: c.execute(sql, params).first())
        return None if row is None else Job(*row)

    async def orphans(self) -> list[Job]:
        """Active jobs whose process is gone, oldest first."""
        sql = text(f"SELECT {_COLUMNS} FROM jobs WHERE status IN {sql_list(ACTIVE_JOBS)} ORDER BY id")
        rows = await self.store.read(lambda c: c.execute(sql).all())
        return [job for job in (Job(*row) for row in rows) if orphaned(job)]

    async def claim(self, job: Job) -> bool:
        """Take over an orphaned job; False if another process claimed it first (compare and set)."""

        def write(conn: Connection) -> bool:
            cursor = conn.execute(
                _CLAIM,
                {
                    "owner": this_process(),
                    "heartbeat": time.time(),
                    "at": now(),
                    "id": job.id,
                    "was_owner": job.owner,
                    "was_heartbeat": job.heartbeat,
                },
            )
            return cursor.rowcount == 1

        return await self.store.write(write)

    async def update(self, job_id: int, **fields: Any) -> Job:
        """Set columns of a job (status, done, total, error, engine, voice, fallback); stamps heartbeat."""
        allowed = {f.name for f in dataclasses.fields(Job)} - {"id", "owner", "created_at", "updated_at"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"not job columns: {sorted(unknown)}")
        status = fields.get("status")
        if status is not None and JobStatus(status).finished:
            fields["finished_at"] = now()
        fields = {"heartbeat": time.time(), **fields, "updated_at": now()}
        sql = text(f"UPDATE jobs SET {', '.join(f'{name} = :{name}' for name in fields)} WHERE id = :job_id")
        params = {**{k: getattr(v, "value", v) for k, v in fields.items()}, "job_id": job_id}

        def write(conn: Connection) -> Job:
            conn.execute(sql, params)
            return job_row(conn, job_id)

        return await self.store.write(write)
