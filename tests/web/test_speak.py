"""POST /api/tts against a real uvicorn server: work for clients that left is stopped, bursts are refused."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import LiveServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "TTS_ENGINE": "espeak",
        "TTS_PUBLIC_TTS": "1",
        "TTS_PUBLIC_TTS_PER_MINUTE": "10000",
        "TTS_WORKERS": "2",
        "TTS_TTS_QUEUE": "4",
        "TTS_TTS_QUEUE_SECONDS": "30",
    }
    live = LiveServer(tmp_path_factory.mktemp("speak-home"), **env).start()
    yield live
    live.stop()


def cached_files(home: Path) -> int:
    return sum(1 for path in (home / "audio_cache").glob("*/*.mp3"))


def access_statuses(home: Path, path: str) -> Counter:
    statuses: Counter = Counter()
    for line in (home / "server.log").read_text(encoding="utf-8").splitlines():
        if line.startswith("{") and (record := json.loads(line)).get("path") == path:
            statuses[record.get("status")] += 1
    return statuses


async def burst(url: str, count: int, patience: float) -> list[int | str]:
    """``count`` concurrent requests, each with its own 15 sentences; a client that times out leaves."""

    async def one(client: httpx.AsyncClient, n: int) -> int | str:
        text = "".join(f"第{n}位读者的第{k}句话，内容各不相同。" for k in range(15))
        try:
            response = await client.post(f"{url}/api/tts", json={"text": text}, timeout=patience)
        except httpx.TimeoutException:
            return "gave up"
        assert response.status_code != 503 or response.headers.get("retry-after"), response.headers
        return response.status_code

    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(limits=limits) as client:
        return await asyncio.gather(*(one(client, n) for n in range(count)))


def test_a_burst_is_bounded_and_abandoned_work_stops(server: LiveServer) -> None:
    """As found: of 200 requests, 162 timed out at the client, the server synthesised for 3 more minutes and
    logged them as 200. Now a burst past the queue gets 503 at once, and work for clients that left stops."""
    answers = asyncio.run(burst(server.url, 40, patience=1.0))
    counts = Counter(answers)
    assert counts[503] >= 30, counts  # 2 at work + 4 waiting; the rest refused at once
    assert counts["gave up"] + counts[200] + counts[503] == 40, counts
    time.sleep(2)  # the server notices the closed connections and cancels their work
    settled = cached_files(server.home)
    time.sleep(4)
    assert cached_files(server.home) == settled, "synthesis went on for clients that had left"
    assert settled < 6 * 15  # far from everything that was asked for
    statuses = access_statuses(server.home, "/api/tts")
    assert statuses[503] == counts[503]
    assert statuses[499] == counts["gave up"], statuses  # logged as abandoned, not as 200
    assert statuses[200] == counts[200]
    log = (server.home / "server.log").read_text(encoding="utf-8").splitlines()
    assert not [line for line in log if '"level": "ERROR"' in line], "a full queue is no error"
