"""The HTTP server as shipped (``tts-service serve``), over raw sockets: slow clients are cut off.

A client that trickles its request head or its body holds a connection (and the buffered body) for as long
as it likes unless the server sets deadlines. These tests run the real uvicorn server with short deadlines
and play such clients byte by byte, and check that well-behaved clients (keep-alive, pipelining, a body
sent in parts) are untouched.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from helpers import TOKEN, LiveServer

pytestmark = pytest.mark.e2e

HEAD_TIMEOUT = 1.0  # TTS_HEADER_TIMEOUT in these tests
BODY_TIMEOUT = 2.0  # TTS_BODY_TIMEOUT in these tests
KEEP_ALIVE = 5.0  # uvicorn's default keep-alive timeout, which the service keeps
TRICKLE = 0.25  # seconds between the slow clients' bytes: far below every timeout
GIVE_UP = 8.0  # a slow client still connected after this long was never cut off
ARTICLE = json.dumps({"title": "社区图书馆", "text": "今天开馆。欢迎大家！", "slug": "lib"}).encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(
        tmp_path_factory.mktemp("server-home"),
        TTS_ENGINE="espeak",
        TTS_HEADER_TIMEOUT=str(HEAD_TIMEOUT),
        TTS_BODY_TIMEOUT=str(BODY_TIMEOUT),
    ).start()
    yield live
    live.stop()


@dataclass(frozen=True)
class Reply:
    """What a raw client got back: the bytes the server sent, and when it closed the connection."""

    data: bytes
    closed_after: float | None  # seconds from the start; None: still open when the client gave up

    def responses(self) -> list[tuple[int, dict[str, str], bytes]]:
        """The HTTP responses in ``data`` (Content-Length bodies only): (status, headers, body)."""
        found, rest = [], self.data
        while rest:
            head, _, rest = rest.partition(b"\r\n\r\n")
            status_line, *lines = head.decode("latin-1").split("\r\n")
            headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
            length = int(headers.get("content-length", "0"))
            if len(rest) < length:
                break  # not all here yet
            found.append((int(status_line.split()[1]), headers, rest[:length]))
            rest = rest[length:]
        return found


def connect(server: LiveServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def exchange(
    sock: socket.socket, parts: list[bytes], pause: float, give_up: float = GIVE_UP, answers: int = 0
) -> Reply:
    """Send ``parts`` one by one, ``pause`` seconds apart, reading whatever comes back, until the server
    closes the connection, or ``give_up`` seconds have passed since the start, or (if ``answers``) every
    part is sent and that many responses have come back.

    Everything the server sends is read before the next part goes out, so a closed connection is seen as
    a clean end of stream, not as a reset that could discard a response not yet read.
    """
    start = time.monotonic()
    received, pending, next_send = bytearray(), list(parts), start
    while (now := time.monotonic()) < start + give_up:
        if pending and now >= next_send:
            try:
                sock.sendall(pending.pop(0))
            except (BrokenPipeError, ConnectionResetError):
                return Reply(bytes(received), now - start)
            next_send = now + pause
        wait = min(next_send, start + give_up) if pending else start + give_up
        if select.select([sock], [], [], max(0.0, wait - now))[0]:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                return Reply(bytes(received), time.monotonic() - start)
            received += data
            if answers and not pending and len(Reply(bytes(received), None).responses()) >= answers:
                break
    return Reply(bytes(received), None)


def one_byte_at_a_time(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def get(path: str = "/api/articles") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode()


def post_head(path: str, length: int, token: str | None = TOKEN) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n{auth}"
    return f"{head}Content-Length: {length}\r\n\r\n".encode()


# Slow clients -----------------------------------------------------------------------------------------


def test_a_head_trickled_byte_by_byte_is_cut_off(server: LiveServer) -> None:
    """A request line, then a header one byte at a time (slowloris): 408, and the connection is closed."""
    trickled = b"GET /api/articles HTTP/1.1\r\nHost: test\r\nX-Slow: " + b"a" * 200
    with connect(server) as sock:
        reply = exchange(sock, one_byte_at_a_time(trickled), pause=TRICKLE)
    assert reply.closed_after is not None, "a client trickling its request head was never cut off"
    # The deadline is for the whole head, not for the gap between bytes (each gap is far shorter).
    assert HEAD_TIMEOUT <= reply.closed_after < HEAD_TIMEOUT + 2
    [(status, headers, _)] = reply.responses()
    assert status == 408 and headers["connection"] == "close"


def test_a_connection_that_never_sends_a_request_is_closed(server: LiveServer) -> None:
    with connect(server) as sock:
        reply = exchange(sock, [], pause=0)
    assert reply.closed_after is not None, "a silent new connection was never closed"
    assert reply.closed_after < HEAD_TIMEOUT + 2
    assert reply.data == b""  # no request was started: nothing to answer


def test_a_body_trickled_byte_by_byte_gets_408(server: LiveServer) -> None:
    """Whole head, then the body a byte at a time, to an endpoint that reads it: 408 in the error shape."""
    body = b" " * 100  # JSON whitespace, never completed within the test
    parts = [post_head("/api/articles", len(body)), *one_byte_at_a_time(body)]
    with connect(server) as sock:
        reply = exchange(sock, parts, pause=TRICKLE)
    assert reply.closed_after is not None, "a client trickling its request body was never cut off"
    assert BODY_TIMEOUT <= reply.closed_after < BODY_TIMEOUT + 2
    [(status, headers, content)] = reply.responses()
    assert status == 408 and headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    assert json.loads(content) == {
        "detail": f"request body not received within {BODY_TIMEOUT:g} s",
        "message": f"request body not received within {BODY_TIMEOUT:g} s",
        "code": "request_timeout",
    }
    assert "x-request-id" in headers and "content-security-policy" in headers  # through every middleware


def test_a_body_nobody_reads_cannot_be_trickled_forever(server: LiveServer) -> None:
    """An endpoint answers without reading the body (here a 404); the rest of the body still trickles in."""
    body = b"x" * 100
    parts = [post_head("/api/no-such-thing", len(body)), *one_byte_at_a_time(body)]
    with connect(server) as sock:
        reply = exchange(sock, parts, pause=TRICKLE)
    assert reply.closed_after is not None, "the unread rest of a body kept the connection open"
    assert reply.closed_after < HEAD_TIMEOUT + 2
    [(status, _, _)] = reply.responses()  # the answer, and nothing after it
    assert status == 404


# Clients that are not slow ----------------------------------------------------------------------------


def test_keep_alive_and_pipelined_requests_still_work(server: LiveServer) -> None:
    with connect(server) as sock:
        # Two requests in one write (pipelined), then a third after a pause longer than the head deadline
        # but shorter than keep-alive: an idle connection between requests is keep-alive's business.
        reply = exchange(sock, [get() + get("/healthz"), get()], pause=HEAD_TIMEOUT + 1.5, answers=3)
    assert reply.closed_after is None
    assert [status for status, _, _ in reply.responses()] == [200, 200, 200]


def test_a_head_and_a_body_in_parts_within_the_deadlines_are_served(server: LiveServer) -> None:
    head = post_head("/api/articles", len(ARTICLE))
    parts = [head[:20], head[20:], ARTICLE[:10], ARTICLE[10:]]  # each part well within its deadline
    with connect(server) as sock:
        reply = exchange(sock, parts, pause=HEAD_TIMEOUT / 3, answers=1)
    [(status, _, content)] = reply.responses()
    assert status == 201, content
    assert json.loads(content)["slug"] == "lib"


def test_an_idle_keep_alive_connection_is_closed_by_keep_alive(server: LiveServer) -> None:
    with connect(server) as sock:
        reply = exchange(sock, [get()], pause=0)
    assert reply.closed_after is not None
    # Not at the head deadline: the idle time after a response belongs to keep-alive.
    assert KEEP_ALIVE <= reply.closed_after < KEEP_ALIVE + 2
    assert [status for status, _, _ in reply.responses()] == [200]
