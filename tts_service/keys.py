"""API keys for apps: made and revoked by the operator (``tts-service keys``), sent as ``Authorization:
Bearer tts_…``, each with its own limits and usage.

Only a SHA-256 of each secret is stored, and the secret is shown once, when the key is made. Every check
reads the store, so a revocation holds at once in every process of the deployment (no cache can outlive it).
Usage is counted on the key's row by increments in SQL: processes never read, add and write back, so none
of their counts is lost, and the daily budget is checked and charged in one statement, so concurrent
requests cannot overshoot it.
"""

from __future__ import annotations

import builtins
import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from tts_service.errors import Conflict, InvalidInput, NotFound, RateLimited, TooLarge, Unauthorized
from tts_service.store import Store, now

PREFIX = "tts_"
SHOWN = 8  # the characters of a secret that lists show ("tts_ab12"): enough to tell keys apart
_SECRET_CHARS = len(PREFIX) + 43  # token_urlsafe(32): 32 random bytes in 43 characters of base64
_NAME = re.compile(r"[\w.-]{1,64}")
DAY = 86_400  # Unix time has no leap seconds: a UTC day starts at a multiple of this

_COLUMNS = (
    "id, name, prefix, rate_per_minute, chars_per_day, created_at, revoked_at, requests, chars, cache_hits,"
    " CASE WHEN day = :today THEN day_chars ELSE 0 END"
)
_SELECT = f"SELECT {_COLUMNS} FROM api_keys"
_SPENT_TODAY = "CASE WHEN day = :today THEN day_chars ELSE 0 END"
# One statement checks the budget and counts the request: it matches no row when the key is revoked or the
# request would pass the day's budget, and then nothing is counted. SET expressions read the row as it was
# before the update (SQL's rule, kept by SQLite and PostgreSQL), so a new day starts ``day_chars`` again.
_CHARGE = text(
    "UPDATE api_keys SET requests = requests + 1, chars = chars + :chars,"
    " day_chars = CASE WHEN day = :today THEN day_chars + :chars ELSE :chars END, day = :today"
    f" WHERE id = :id AND revoked_at IS NULL AND (chars_per_day IS NULL OR {_SPENT_TODAY} + :chars"
    " <= chars_per_day)"
)
_HITS = text("UPDATE api_keys SET cache_hits = cache_hits + :hits WHERE id = :id")


@dataclass(frozen=True)
class ApiKey:
    """A key as lists show it: never its secret nor the secret's hash. Limits: None is unlimited.
    Usage: requests and characters since the key was made, and characters today (UTC)."""

    id: int
    name: str
    prefix: str
    rate_per_minute: int | None
    chars_per_day: int | None
    created_at: str
    revoked_at: str | None = None
    requests: int = 0
    chars: int = 0
    cache_hits: int = 0
    chars_today: int = 0

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def secret_hash(secret: str) -> str:
    """The stored form of a secret: its SHA-256, in hex.

    A fast hash is enough here. Slow ones (bcrypt, argon2) protect secrets people choose, which are few
    enough to try them all; a secret of 256 random bits cannot be found from its hash by any amount of
    trying. Being fast and unsalted, the hash also serves as the key's look-up value.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    """Whether a bearer token has the shape of an API key (so that other tokens cost no database read)."""
    return token.startswith(PREFIX) and len(token) == _SECRET_CHARS


def _key(row: Any) -> ApiKey:
    return ApiKey(*row)


def _positive(name: str, value: int | None) -> int | None:
    if value is not None and value < 1:
        raise InvalidInput(f"{name} must be a whole number above 0 (or none: unlimited), not {value}")
    return value


class ApiKeys:
    """The ``api_keys`` table, on the service's store. ``clock``: Unix time, which decides the UTC day."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store, self.clock = store, clock

    def _today(self) -> int:
        return int(self.clock() // DAY)

    async def create(
        self, name: str, rate_per_minute: int | None = None, chars_per_day: int | None = None
    ) -> tuple[ApiKey, str]:
        """A new key and its secret, which is stored nowhere: the caller shows it once. Conflict if a key
        (even a revoked one) has the name; InvalidInput for a bad name or limit."""
        if not _NAME.fullmatch(name):
            raise InvalidInput(f"a key's name is 1 to 64 letters, digits, '.', '_' or '-', not {name!r}")
        _positive("the rate per minute", rate_per_minute)
        _positive("the characters per day", chars_per_day)
        secret = PREFIX + secrets.token_urlsafe(32)
        values = {
            "name": name,
            "hash": secret_hash(secret),
            "prefix": secret[:SHOWN],
            "rate": rate_per_minute,
            "chars": chars_per_day,
            "at": now(),
            "today": self._today(),
        }

        def write(conn: Connection) -> ApiKey:
            if conn.execute(text("SELECT 1 FROM api_keys WHERE name = :name"), values).first():
                raise Conflict(f"a key named {name!r} exists already")
            made = conn.execute(
                text(
                    "INSERT INTO api_keys (name, hash, prefix, rate_per_minute, chars_per_day, created_at)"
                    " VALUES (:name, :hash, :prefix, :rate, :chars, :at) RETURNING id"
                ),
                values,
            ).scalar_one()
            return _key(conn.execute(text(_SELECT + " WHERE id = :id"), {**values, "id": made}).one())

        try:
            return await self.store.write(write), secret
        except IntegrityError:  # made by another process between our look and our insert
            raise Conflict(f"a key named {name!r} exists already") from None

    async def list(self) -> builtins.list[ApiKey]:  # builtins: in the class, list is this method
        """Every key, revoked ones too (their usage is history), by name."""
        sql = text(_SELECT + " ORDER BY name")
        today = self._today()
        return [_key(row) for row in await self.store.read(lambda c: c.execute(sql, {"today": today}).all())]

    async def get(self, name: str) -> ApiKey:
        """The key named ``name``; NotFound if there is none."""
        sql, params = text(_SELECT + " WHERE name = :name"), {"name": name, "today": self._today()}
        row = await self.store.read(lambda c: c.execute(sql, params).first())
        if row is None:
            raise NotFound(f"no key named {name!r}")
        return _key(row)

    async def revoke(self, name: str) -> ApiKey:
        """Revoke the key: refused from the next request on, in every process. Revoking a revoked key
        changes nothing (its revocation time stays). NotFound if there is no such key."""
        sql = text("UPDATE api_keys SET revoked_at = :at WHERE name = :name AND revoked_at IS NULL")
        params = {"at": now(), "name": name}
        await self.store.write(lambda c: c.execute(sql, params))
        return await self.get(name)

    async def verify(self, secret: str) -> ApiKey | None:
        """The key whose secret this is, unless it is revoked (or there is none): None then.

        Looked up by the secret's hash. How long the look-up takes can depend on the hash, never on the
        secret itself, and a hash of a random secret tells nothing about other secrets: this comparison
        needs no constant-time care."""
        if not looks_like_key(secret):
            return None
        sql = text(_SELECT + " WHERE hash = :hash AND revoked_at IS NULL")
        params = {"hash": secret_hash(secret), "today": self._today()}
        row = await self.store.read(lambda c: c.execute(sql, params).first())
        return None if row is None else _key(row)

    async def charge(self, key: ApiKey, chars: int) -> None:
        """Count one request of ``chars`` characters against the key, or refuse it and count nothing:
        RateLimited (429, Retry-After: the next UTC day) past its daily budget, TooLarge (413) when the
        request alone passes it, Unauthorized when the key was revoked meanwhile."""
        clock = self.clock()
        today = int(clock // DAY)
        params = {"id": key.id, "chars": chars, "today": today}
        if await self.store.write(lambda c: c.execute(_CHARGE, params).rowcount) == 1:
            return
        current = await self._by_id(key.id, today)
        if current is None or current.revoked or current.chars_per_day is None:
            raise Unauthorized("this API key has been revoked")
        if chars > current.chars_per_day:
            budget = current.chars_per_day
            raise TooLarge(f"{chars} characters are more than this key's whole daily budget ({budget})")
        raise RateLimited(
            f"this key has used {current.chars_today} of its {current.chars_per_day} characters today (UTC);"
            f" {chars} more would pass the budget",
            (today + 1) * DAY - clock,
        )

    async def note_cache_hits(self, key: ApiKey, hits: int) -> None:
        """Count chunks of the key's requests that came from the cache (nothing synthesised for them)."""
        if hits > 0:
            await self.store.write(lambda c: c.execute(_HITS, {"id": key.id, "hits": hits}))

    async def _by_id(self, key_id: int, today: int) -> ApiKey | None:
        sql, params = text(_SELECT + " WHERE id = :id"), {"id": key_id, "today": today}
        row = await self.store.read(lambda c: c.execute(sql, params).first())
        return None if row is None else _key(row)
