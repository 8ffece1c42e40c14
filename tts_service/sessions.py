"""Editors' sign-in sessions, kept in the store: signing out, or a new editor token, ends them at once.

The browser holds a random secret; the store holds only its SHA-256, the session's CSRF token, a
fingerprint of the editor token it was opened with, and when it expires. A copied cookie is worth nothing
once its row is gone, and a database copy gives no usable cookie.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from sqlalchemy import Connection, text

from tts_service.store import Store, now


def _id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SessionStore:
    """The sessions table, on the service's one Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def open(self, token: str, seconds: float) -> tuple[str, str]:
        """A new session for the editor token fingerprinted ``token``: (the cookie's secret, its CSRF token).
        Expired sessions are removed on the way."""
        secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)

        def write(conn: Connection) -> None:
            conn.execute(text("DELETE FROM sessions WHERE expires <= :now"), {"now": time.time()})
            conn.execute(
                text(
                    "INSERT INTO sessions (id, csrf, token, expires, created_at)"
                    " VALUES (:id, :csrf, :token, :expires, :at)"
                ),
                {
                    "id": _id(secret),
                    "csrf": csrf,
                    "token": token,
                    "expires": time.time() + seconds,
                    "at": now(),
                },
            )

        await self.store.write(write)
        return secret, csrf

    async def find(self, secret: str, token: str) -> str | None:
        """The CSRF token of a live session opened under the current editor token; None otherwise."""
        sql = text("SELECT csrf FROM sessions WHERE id = :id AND token = :token AND expires > :now")
        params = {"id": _id(secret), "token": token, "now": time.time()}
        row = await self.store.read(lambda c: c.execute(sql, params).first())
        return None if row is None else row[0]

    async def close(self, secret: str) -> None:
        """End one session (sign-out)."""
        sql = text("DELETE FROM sessions WHERE id = :id")
        await self.store.write(lambda c: c.execute(sql, {"id": _id(secret)}))

    async def prune(self, token: str | None) -> int:
        """Remove expired sessions and those of any other editor token (all of them when access is off)."""
        if token is None:
            return await self.store.write(lambda c: c.execute(text("DELETE FROM sessions")).rowcount)
        sql = text("DELETE FROM sessions WHERE expires <= :now OR token != :token")
        params = {"now": time.time(), "token": token}
        return await self.store.write(lambda c: c.execute(sql, params).rowcount)
