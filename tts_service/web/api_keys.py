"""Who calls the speech API: an app with its API key, or an editor with the editor token, as ``Authorization:
Bearer``; each key held to its own limits.

A route takes ``Caller`` (the ``api_caller`` dependency: checked before the body is read, 401 without a
right token) and, for the work it is asked to do, makes two calls:

- ``await charge(request, caller, chars)`` before it synthesises anything: the key's daily character budget
  is checked and the request counted, in one statement (429 past the budget, and then nothing is counted);
- ``await note_cache_hits(request, caller, hits)`` once the audio is made: how many of its chunks were
  cached already.

Editors have no limits and no usage. A key's requests per minute are checked with the token, so a refused
request costs no body read either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis

from tts_service.errors import RateLimited, Unauthorized
from tts_service.keys import ApiKey, ApiKeys, looks_like_key
from tts_service.web.auth import bearer, guard, precheck
from tts_service.web.ratelimit import RateLimiter
from tts_service.web.shared_limits import SharedRateLimiter

# Its own scheme name: the editor token's scheme (deps.py) keeps its description in the OpenAPI schema.
_bearer = HTTPBearer(
    scheme_name="ApiKey",
    auto_error=False,
    description="An API key (`tts-service keys create`), or the editor token.",
)
_UNSET = object()


@dataclass(frozen=True)
class ApiCaller:
    """Who is calling: an editor (``editor``), a key holder (``key``), or, where a route allows it, the
    public (neither)."""

    editor: bool
    key: ApiKey | None = None


class KeyLimits:
    """Each key's requests per minute: counted in this process, or in Redis for every process of the
    deployment (TTS_REDIS_URL), as the public limit of /api/tts is."""

    def __init__(self, redis: Redis | None) -> None:
        self.redis = redis
        # One limiter per rate, each counting per key id: keys with the same rate share one.
        self._by_rate: dict[int, RateLimiter | SharedRateLimiter] = {}

    def _limiter(self, rate: int) -> RateLimiter | SharedRateLimiter:
        limiter = self._by_rate.get(rate)
        if limiter is None:
            if self.redis is None:
                limiter = RateLimiter(rate)
            else:
                limiter = SharedRateLimiter(self.redis, f"key{rate}", rate)
            self._by_rate[rate] = limiter
        return limiter

    async def check(self, key: ApiKey) -> None:
        """Count a request with ``key``; RateLimited (429, Retry-After) past its rate."""
        if key.rate_per_minute is None:
            return
        wait = await self._limiter(key.rate_per_minute).allow(str(key.id))
        if wait:
            raise RateLimited(
                f"this key allows {key.rate_per_minute} requests a minute; try again in {wait:.0f} s", wait
            )


def api_keys(request: Request) -> ApiKeys:
    """The store's API keys (a view on the store: nothing to build or close)."""
    return ApiKeys(request.app.state.store)


async def identify(request: Request) -> ApiCaller | None:
    """The caller the bearer token names, None without one. Unauthorized for any other token (a wrong or
    revoked one: counted against the client by ``TokenGuard``, 429 past its limit); RateLimited past the
    key's requests per minute. Once per request: a precheck and its dependency share the answer."""
    known = getattr(request.state, "api_caller", _UNSET)
    if known is not _UNSET:
        assert known is None or isinstance(known, ApiCaller)
        return known
    caller = await _identify(request)
    request.state.api_caller = caller
    return caller


async def _identify(request: Request) -> ApiCaller | None:
    given = bearer(request)
    if given is None:
        return None
    key = await api_keys(request).verify(given) if looks_like_key(given) else None
    if key is not None:
        limits: KeyLimits = request.app.state.key_limits
        await limits.check(key)
        return ApiCaller(editor=False, key=key)
    editor = request.app.state.settings.editor_key
    if await guard(request).allows(request, given, () if editor is None else (editor,)):
        return ApiCaller(editor=True)
    raise Unauthorized("wrong or revoked token: send an API key or the editor token as Bearer")


async def _check_api_caller(request: Request) -> None:
    if await identify(request) is None:
        raise Unauthorized("this API needs an API key: Authorization: Bearer tts_…")


@precheck(_check_api_caller)
async def api_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> ApiCaller:
    """An editor or a key holder, or 401; checked before the body is read (routes of ``AuthFirst``)."""
    caller = await identify(request)
    if caller is None:
        raise Unauthorized("this API needs an API key: Authorization: Bearer tts_…")
    return caller


async def charge(request: Request, caller: ApiCaller, chars: int) -> None:
    """Count a key holder's request of ``chars`` characters, or refuse it (429 with Retry-After past the
    key's daily budget, 413 for a text larger than the whole budget) without counting it."""
    if caller.key is not None:
        await api_keys(request).charge(caller.key, chars)


async def note_cache_hits(request: Request, caller: ApiCaller, hits: int) -> None:
    """Count, for a key holder, the chunks of a request served from the cache."""
    if caller.key is not None:
        await api_keys(request).note_cache_hits(caller.key, hits)


Caller = Annotated[ApiCaller, Depends(api_caller)]
