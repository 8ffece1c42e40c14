"""The fast path for pages (page_front.py): a cached page is answered from memory, with no query and no
thread, exactly as the app answers it, and never stale: every change a reader could see shows on the next
request (this process's writes) or within TTS_CHANGES_POLL (another process's)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio.to_thread
import httpx
import pytest
from fastapi import FastAPI
from helpers import AUTH, CountingEngine, LiveServer, wait_ready
from sqlalchemy import Engine, event

from tts_service.config import Settings
from tts_service.engines import Prosody, Synthesis
from tts_service.store import Store
from tts_service.web import create_app

ARTICLE = {"title": "社区图书馆", "text": "今天开馆。欢迎大家！\n\n第二段只有一句。", "slug": "a"}
# Headers that differ between any two answers, whoever gives them.
PER_REQUEST = {"date", "x-request-id"}


class HeldEngine(CountingEngine):
    """An engine whose syntheses wait while ``hold`` is clear: a job stays in progress while a test looks."""

    def __init__(self, inner: CountingEngine) -> None:
        super().__init__(inner)
        self.hold, self.waiting = asyncio.Event(), asyncio.Event()
        self.hold.set()

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        self.waiting.set()
        await self.hold.wait()
        return await super().synthesize(text, voice, prosody)


class Calls:
    """What requests make happen elsewhere: SQL statements on any of the store's connections, and hops to
    a thread (the event loop's executors, which the store's reads and writes use, and AnyIO's pool)."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.threads: list[str] = []

    def clear(self) -> None:
        self.sql.clear()
        self.threads.clear()

    def none(self) -> bool:
        return not self.sql and not self.threads


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """No cross-process watching during a test (its looks would be counted): this process's writes only."""
    return Settings(
        home=tmp_path,
        engine="espeak",
        editor_token="test-editor-token",
        fallback_engine=None,
        changes_poll=3600,
    )


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    """Counting from before the app starts: every statement any database engine sends is traced."""
    seen = Calls()

    def traced(conn: object, cursor: object, statement: str, *rest: object) -> None:
        seen.sql.append(statement)

    event.listen(Engine, "before_cursor_execute", traced)
    run_sync = anyio.to_thread.run_sync

    async def counted_run_sync(func, *args, **kwargs):
        seen.threads.append(f"anyio: {getattr(func, '__name__', func)}")
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted_run_sync)
    yield seen
    event.remove(Engine, "before_cursor_execute", traced)


@pytest.fixture
def engine(espeak: CountingEngine) -> HeldEngine:
    return HeldEngine(espeak)


@pytest.fixture
async def app(settings: Settings, engine: HeldEngine, calls: Calls) -> AsyncIterator[FastAPI]:
    """The real app (conftest's, but with every query and thread hop counted)."""
    application = create_app(settings, engines={"espeak": engine})
    loop = asyncio.get_running_loop()
    run_in_executor = loop.run_in_executor

    def counted(executor, func, *args):
        calls.threads.append(f"executor: {getattr(func, '__name__', func)}")
        return run_in_executor(executor, func, *args)

    loop.run_in_executor = counted  # type: ignore[method-assign]
    try:
        async with application.router.lifespan_context(application):
            yield application
    finally:
        del loop.run_in_executor


def store_of(app: FastAPI) -> Store:
    store: Store = app.state.store
    return store


async def ready(client: httpx.AsyncClient, body: dict = ARTICLE) -> None:
    """Posted, and its job over. The manifest is ready once the last chunk is stored, but the job still
    writes after that (the whole file's record, then its own end), and each write rightly makes a page
    read before it stale: a test that a page comes from memory must start after the last of them."""
    assert (await client.post("/api/articles", json=body, headers=AUTH)).status_code == 201
    manifest = await wait_ready(client, body["slug"])
    assert manifest["status"] == "ready"
    async with asyncio.timeout(30):
        while manifest["job"] is not None and manifest["job"]["status"] in ("queued", "running"):
            await asyncio.sleep(0.05)
            manifest = (await client.get(f"/api/articles/{body['slug']}/audio")).json()


async def cached(client: httpx.AsyncClient, calls: Calls, path: str) -> httpx.Response:
    """Ask twice: the second answer must come from memory. Returns it."""
    await client.get(path)
    calls.clear()
    response = await client.get(path)
    assert calls.none(), f"{path} read {calls.sql} and hopped to {calls.threads}"
    return response


def comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in PER_REQUEST]
    return response.status_code, headers, response.content


# Memory, not the store -------------------------------------------------------------------------------------


async def test_a_cached_page_reads_nothing(app: FastAPI, client: httpx.AsyncClient, calls: Calls) -> None:
    """The issue's count: a cached page (and the index, its 304 and HEAD, and each preference's page) runs
    no SQL and uses no thread. On the code before, each page request read the article, the manifest's
    audio records and the whole file's record through the thread pool."""
    await ready(client)
    page = await client.get("/articles/a")
    etag = page.headers["etag"]
    await client.get("/")
    client.cookies.set("tts_size", "xl")
    await client.get("/articles/a")
    client.cookies.delete("tts_size")
    calls.clear()
    assert (await client.get("/articles/a")).content == page.content
    assert (await client.head("/articles/a")).status_code == 200
    assert (await client.get("/articles/a", headers={"If-None-Match": etag})).status_code == 304
    assert (await client.get("/")).status_code == 200
    client.cookies.set("tts_size", "xl")
    assert 'class="size-xl scheme-auto"' in (await client.get("/articles/a")).text
    assert calls.none(), f"cached pages read {calls.sql} and hopped to {calls.threads}"
    # The counting works: a change, and the next request reads the store again.
    await client.put("/api/articles/a", json={"title": "新标题", "text": ARTICLE["text"]}, headers=AUTH)
    calls.clear()
    assert "新标题" in (await client.get("/articles/a")).text
    assert calls.sql


@pytest.mark.parametrize(
    ("method", "request_headers"),
    [
        ("GET", {}),
        ("HEAD", {}),
        ("GET", {"Cookie": "tts_size=l; tts_scheme=contrast"}),
        ("GET", {"Cookie": "tts_size=huge"}),  # unknown: the default page
        ("GET", {"If-None-Match": "ETAG"}),
        ("HEAD", {"If-None-Match": "ETAG"}),
        ("GET", {"If-None-Match": '"other", W/ETAG'}),
        ("GET", {"If-None-Match": '"other"'}),
        ("GET", {"Host": "other.example"}),
    ],
)
@pytest.mark.parametrize("path", ["/articles/a", "/"])
async def test_memory_answers_as_the_app_does(
    app: FastAPI, client: httpx.AsyncClient, calls: Calls, path: str, method: str, request_headers: dict
) -> None:
    """Status, every header but Date and X-Request-ID (ETag, Vary, Cache-Control, content type and length,
    the security headers, in order) and the body: the same from memory as from the handler."""
    await ready(client)
    etag = (await client.get(path, headers={"Host": request_headers.get("Host", "testserver")})).headers[
        "etag"
    ]
    request_headers = {k: v.replace("ETAG", etag) for k, v in request_headers.items()}
    store_of(app).changes.bump()  # as after any write: the next answer comes from the handler
    calls.clear()
    slow = await client.request(method, path, headers=request_headers)
    assert calls.sql  # it did read
    calls.clear()
    fast = await client.request(method, path, headers=request_headers)
    assert calls.none()
    assert comparable(fast) == comparable(slow)
    assert fast.headers["x-request-id"] != slow.headers["x-request-id"]


def requests_counted(text: str, status: int) -> float:
    """The count of GET /articles/{slug} answered with ``status``, from /metrics."""
    series = f'tts_http_requests_total{{method="GET",route="/articles/{{slug}}",status="{status}"}}'
    line = next((line for line in text.splitlines() if line.startswith(series)), f"{series} 0")
    return float(line.rsplit(" ", 1)[1])


async def test_counted_and_logged_as_the_app_does(
    app: FastAPI, client: httpx.AsyncClient, calls: Calls
) -> None:
    """The same access line (but for time, id and duration) and the same metrics series."""
    await ready(client)
    etag = (await client.get("/articles/a")).headers["etag"]
    lines: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = lines.append  # type: ignore[method-assign]
    access = logging.getLogger("tts_service.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)  # as `serve` configures it
    try:
        before = (await client.get("/metrics", headers=AUTH)).text
        for headers in ({}, {"If-None-Match": etag}):
            store_of(app).changes.bump()
            await client.get("/articles/a", headers=headers)  # the handler's answer
            calls.clear()
            await client.get("/articles/a", headers=headers)  # memory's
            assert calls.none()
        after = (await client.get("/metrics", headers=AUTH)).text
    finally:
        access.removeHandler(handler)
        access.setLevel(logging.NOTSET)
    fields = ("msg", "args", "method", "path", "route", "status", "client", "levelname", "name")
    pages = [tuple(getattr(r, f) for f in fields) for r in lines if r.path == "/articles/a"]
    assert len(pages) == 4 and pages[0] == pages[1] and pages[2] == pages[3]
    assert [p[5] for p in pages] == [200, 200, 304, 304] and pages[0][4] == "/articles/{slug}"
    for status in (200, 304):
        assert requests_counted(after, status) - requests_counted(before, status) == 2


async def test_a_request_id_sent_is_kept(client: httpx.AsyncClient, calls: Calls) -> None:
    await ready(client)
    await cached(client, calls, "/articles/a")
    response = await client.get("/articles/a", headers={"X-Request-ID": "trace-7"})
    assert response.headers["x-request-id"] == "trace-7" and calls.none()


async def test_a_body_goes_to_the_app_and_its_limits(
    client: httpx.AsyncClient, calls: Calls, settings: Settings
) -> None:
    await ready(client)
    await cached(client, calls, "/articles/a")
    response = await client.request("GET", "/articles/a", content=b"x" * (settings.max_body_bytes + 1))
    assert response.status_code == 413


# Never stale ---------------------------------------------------------------------------------------------


async def test_a_new_revision_shows_on_the_next_request(client: httpx.AsyncClient, calls: Calls) -> None:
    await ready(client)
    await cached(client, calls, "/articles/a")
    await cached(client, calls, "/")
    update = {"title": "新标题", "text": "今天开馆。新的一句。"}
    assert (await client.put("/api/articles/a", json=update, headers=AUTH)).status_code == 200
    page = (await client.get("/articles/a")).text
    assert "新标题" in page and "新的一句。" in page and "社区图书馆" not in page
    assert "新标题" in (await client.get("/")).text


async def test_a_deletion_shows_on_the_next_request(client: httpx.AsyncClient, calls: Calls) -> None:
    await ready(client)
    await ready(client, {"title": "另一篇", "text": "正文。", "slug": "b"})
    await cached(client, calls, "/articles/a")
    await cached(client, calls, "/")
    assert (await client.delete("/api/articles/a", headers=AUTH)).status_code == 204
    assert (await client.get("/articles/a")).status_code == 404
    index = (await client.get("/")).text
    assert "社区图书馆" not in index and "另一篇" in index


async def test_a_lexicon_change_shows_on_the_next_request(client: httpx.AsyncClient, calls: Calls) -> None:
    """A new reading changes the chunk's audio key: that sentence's audio is missing again, so the page says
    the audio is being made (and its request starts the job), where the cached page said it was ready."""
    await ready(client)
    before = (await cached(client, calls, "/articles/a")).text
    assert "音频已就绪" in before and "下载全文音频" in before
    entry = {"written": "开馆", "spoken": "开门"}
    assert (await client.post("/api/lexicon", json=entry, headers=AUTH)).status_code == 201
    page = (await client.get("/articles/a")).text
    assert "音频生成中" in page and "下载全文音频" not in page
    assert (await wait_ready(client, "a"))["status"] == "ready"  # the request started the job


async def test_audio_becoming_ready_shows_on_the_next_request(
    client: httpx.AsyncClient, calls: Calls, engine: HeldEngine
) -> None:
    """While this process makes the audio, the pending page comes from memory between chunks; once the
    last chunk and the whole file are made, the next request shows them."""
    engine.hold.clear()
    assert (await client.post("/api/articles", json=ARTICLE, headers=AUTH)).status_code == 201
    await engine.waiting.wait()  # the job is synthesising its first chunk, and writes nothing until it ends
    pending = (await client.get("/articles/a")).text
    assert "音频生成中" in pending and "下载全文音频" not in pending
    calls.clear()
    assert (await client.get("/articles/a")).text == pending
    assert calls.none()  # served from memory while the job runs here
    engine.hold.set()
    await wait_ready(client, "a")
    page = (await client.get("/articles/a")).text
    assert "音频已就绪" in page and "下载全文音频" in page
    assert "音频已就绪" in (await client.get("/")).text


# Other processes -----------------------------------------------------------------------------------------

POLL = 0.2  # TTS_CHANGES_POLL for the live server: how late another process's change may show


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path, TTS_ENGINE="espeak", TTS_FALLBACK_ENGINE="", TTS_CHANGES_POLL=str(POLL))
    server.start()
    yield server
    server.stop()


def ready_live(http: httpx.Client, body: dict = ARTICLE) -> None:
    assert http.post("/api/articles", json=body, headers=AUTH).status_code == 201
    deadline = time.monotonic() + 60
    while http.get(f"/api/articles/{body['slug']}/audio").json()["status"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.1)


def shows(http: httpx.Client, path: str, text: str, *, absent: bool = False) -> bool:
    """Whether ``path`` shows ``text`` (or lacks it) within a bound far above POLL; True at once if so."""
    deadline = time.monotonic() + 50 * POLL
    while True:
        response = http.get(path)
        if (text not in response.text) if absent else (text in response.text):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL / 4)


@pytest.mark.e2e
def test_another_process_changes_show_within_the_poll(live: LiveServer, tmp_path: Path) -> None:
    """`tts-service add --replace`, `lexicon add` and `delete` write from other processes: the server's
    cached pages must follow (README: within TTS_CHANGES_POLL)."""
    with httpx.Client(base_url=live.url, timeout=10) as http:
        ready_live(http)
        for _ in range(2):  # cached
            assert "社区图书馆" in http.get("/articles/a").text and "社区图书馆" in http.get("/").text
        edited = tmp_path / "edited.txt"
        edited.write_text("新标题\n今天开馆。另一句。", encoding="utf-8")
        live.cli("add", str(edited), "--slug", "a", "--replace")
        assert shows(http, "/articles/a", "另一句。") and shows(http, "/", "新标题")
        ready_page = http.get("/articles/a").text
        assert "音频已就绪" in ready_page or shows(http, "/articles/a", "音频已就绪")
        live.cli("lexicon", "add", "开馆", "开门")
        assert shows(http, "/articles/a", "下载全文音频", absent=True)
        live.cli("delete", "a", "--yes")
        assert shows(http, "/", "新标题", absent=True)
        assert http.get("/articles/a").status_code == 404


@pytest.mark.e2e
def test_memory_answers_as_the_app_does_over_http(live: LiveServer) -> None:
    """The same comparison through real uvicorn (which adds Date and Server, and drops HEAD's body)."""
    with httpx.Client(base_url=live.url, timeout=10) as http:
        ready_live(http)
        etag = http.get("/articles/a").headers["etag"]
        for method, headers in [
            ("GET", {}),
            ("HEAD", {}),
            ("GET", {"If-None-Match": etag}),
            ("GET", {"Cookie": "tts_size=s; tts_scheme=contrast"}),
        ]:
            # A write no page shows: the next answer is the handler's, the one after it from memory.
            http.post("/api/lexicon", json={"written": "无关", "spoken": "无关"}, headers=AUTH)
            slow = http.request(method, "/articles/a", headers=headers)
            fast = http.request(method, "/articles/a", headers=headers)
            assert comparable(fast) == comparable(slow), (method, headers)
            assert fast.headers["server"] == "uvicorn" and "date" in fast.headers
