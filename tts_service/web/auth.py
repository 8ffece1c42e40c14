"""Who may call what: token checks in constant time, wrong tokens limited per client, and checks made
before a request's body is read.

A wrong token counts against its client; past ``FAILURES_PER_MINUTE`` the client's wrong tokens get 429 with
``Retry-After``. The right token always gets through, so a lockout never locks out the owner (and tokens
are at least 16 characters, so guessing is not a threat the limit has to stop alone).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from tts_service.errors import RateLimited
from tts_service.web.ratelimit import RateLimiter
from tts_service.web.shared_limits import SharedRateLimiter

FAILURES_PER_MINUTE = 10
Precheck = Callable[[Request], Awaitable[None]]


def client_of(request: Request) -> str:
    """The client's address (behind a trusted proxy, uvicorn has already put the forwarded one here)."""
    return request.client.host if request.client else "unknown"


def bearer(request: Request) -> str | None:
    """The bearer token of the Authorization header, if there is one."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


def matches(given: str, keys: Iterable[str]) -> bool:
    """Whether ``given`` is one of ``keys``, comparing each in constant time."""
    found = False
    for key in keys:
        found |= hmac.compare_digest(given.encode(), key.encode())
    return found


class TokenGuard:
    """Every token check of one app goes through here, so wrong tokens are limited wherever they are tried:
    the API, /metrics, /api/tts and the editor's sign-in form."""

    def __init__(self, failures: RateLimiter | SharedRateLimiter | None = None) -> None:
        """``failures``: where wrong tokens are counted; in this process unless given (with TTS_REDIS_URL,
        in Redis, so that a guesser gains nothing by spreading guesses over the deployment's processes)."""
        self.failures = failures or RateLimiter(FAILURES_PER_MINUTE, 60.0)

    async def allows(self, request: Request, given: str | None, keys: Iterable[str]) -> bool:
        """True for a right token. False for none. A wrong one is counted; past the limit, RateLimited."""
        if given is None:
            return False  # no token at all is a reader, not a guess
        if matches(given, keys):
            return True
        wait = await self.failures.allow(client_of(request))
        if wait:
            raise RateLimited(f"too many wrong tokens; try again in {wait:.0f} s", wait)
        return False


def guard(request: Request) -> TokenGuard:
    token_guard: TokenGuard = request.app.state.token_guard
    return token_guard


def precheck(check: Precheck) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a dependency whose ``check`` must pass before the body is read (see ``AuthFirst``)."""

    def mark(dependency: Callable[..., Any]) -> Callable[..., Any]:
        dependency.precheck = check  # type: ignore[attr-defined]
        return dependency

    return mark


class AuthFirst(APIRoute):
    """A route that runs its dependencies' prechecks before FastAPI reads and parses the body.

    FastAPI parses the body before it solves dependencies, so without this an unauthenticated caller could
    make the server read (up to the body limit) and parse a body it has no right to send, and would get a
    422 about that body instead of a 401.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        checks = [c for c in (getattr(d.call, "precheck", None) for d in self.dependant.dependencies) if c]
        if not checks:
            return handler

        async def checked(request: Request) -> Response:
            for check in checks:
                await check(request)
            return await handler(request)

        return checked
