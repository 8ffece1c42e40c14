"""Stop work for a client that has gone: a request's work races the client's disconnect."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from fastapi import Request

T = TypeVar("T")
CLIENT_GONE = 499  # nginx's "client closed request": what the access log records for abandoned work


class ClientGone(Exception):
    """The client disconnected before its answer was ready; the work was cancelled."""


async def _disconnect(request: Request) -> None:
    # The body has been read, so the next message the server sends the app is the disconnect (ASGI).
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unless_disconnected(request: Request, work: Coroutine[Any, Any, T]) -> T:
    """The result of ``work``; if the client disconnects first, ``work`` is cancelled (ClientGone)."""
    task = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(_disconnect(request))
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)  # let it wind down before we answer
    if task.cancelled():
        raise ClientGone()
    return task.result()
