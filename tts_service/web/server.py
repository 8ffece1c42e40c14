"""The HTTP server: uvicorn, set up for the service, with a deadline for each request head.

``tts-service serve`` runs what ``build_server`` makes, and so do the end-to-end tests.

uvicorn bounds the idle time between requests (keep-alive) but not the time a client takes to send a
request head: its keep-alive timer stops at the first byte, and then it waits for the rest forever. A client
that sends one header byte a second, or connects and sends nothing (slowloris), holds a connection for as
long as it likes. The body's deadline is the ASGI middleware's (``middleware.BodyLimit``), since the app is
what waits for a body.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys

import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from tts_service.config import Settings
from tts_service.errors import RequestTimeout
from tts_service.logs import uvicorn_log_config
from tts_service.web.app import create_app

log = logging.getLogger(__name__)
STARTUP_FAILURE = 3  # uvicorn's exit status when the app fails to start


def build_server(settings: Settings, host: str | None = None, port: int | None = None) -> uvicorn.Server:
    """A uvicorn server for the app built from ``settings``, on ``host``:``port`` (default: the settings')."""
    config = uvicorn.Config(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        # Always this protocol: "auto" could pick h11 (if httptools were missing), which has no head deadline.
        http=head_deadline_protocol(settings.header_timeout),
        # JSON lines with request ids; the app logs each request itself (unless TTS_ACCESS_LOG=0).
        log_config=uvicorn_log_config(access=settings.access_log),
        access_log=False,
    )
    return uvicorn.Server(config)


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Serve until stopped (as ``uvicorn.run`` does); exit 3 if the app failed to start."""
    server = build_server(settings, host, port)
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn raises the Ctrl-C again once it has shut down cleanly
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def head_deadline_protocol(seconds: float) -> type[HeadDeadlineProtocol]:
    """The protocol class to hand uvicorn (which builds it with no arguments of ours) for ``seconds``."""
    return type("HeadDeadlineProtocol", (HeadDeadlineProtocol,), {"head_timeout": seconds})


class HeadDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline for each request head.

    The deadline runs from the connection's start, or from the first byte after a response, to the end of
    the head. Bytes do not extend it. When it passes, a head that was begun gets a 408, and the connection is
    closed. Idle time after a response is still keep-alive's (uvicorn's timer), as before.
    """

    head_timeout = 10.0
    _head_timer: asyncio.TimerHandle | None = None
    _head_begun = False

    # uvicorn's own override narrows asyncio's BaseTransport to Transport (with this ignore); so must ours.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is closed too

    def data_received(self, data: bytes) -> None:
        # With no response pending, bytes are a new head (or the unread rest of a body answered early, which
        # uvicorn reads and drops; it would otherwise hold the connection forever too).
        cycle: RequestResponseCycle | None = self.cycle  # typed as always set, but None before a request
        if self._head_timer is None and (cycle is None or cycle.response_complete):
            self._arm()
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_begun = True
        if self._head_timer is None:  # a head sent while a response was pending (pipelining)
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        self._head_begun = False
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.flow.read_paused:  # uvicorn stopped reading (the app is behind), not the client: wait again
            self._arm()
            return
        log.info(
            "no whole request head within %g s; connection closed",
            self.head_timeout,
            extra={"client": self.client[0] if self.client else None},
        )
        if self._head_begun:
            self.transport.write(_timeout_response(self.head_timeout, self.server_state.default_headers))
        self.transport.close()


def _timeout_response(seconds: float, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A 408 in the service's error shape, written straight to the connection (no app runs for it)."""
    body = json.dumps(RequestTimeout(f"request head not received within {seconds:g} s").body()).encode()
    headers = [
        *default_headers,  # Server and Date, as on every uvicorn response
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    return b"".join(
        [
            STATUS_LINE[RequestTimeout.status_code],
            *(k + b": " + v + b"\r\n" for k, v in headers),
            b"\r\n",
            body,
        ]
    )
