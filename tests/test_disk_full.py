"""A full disk under the audio store: the cause is named, answers are 503, /healthz says degraded.

The audio store is put on a real 2 MB tmpfs when this machine lets the tests mount one (root); otherwise
ENOSPC is injected where the cache writes, and free space is reported as zero.
"""

from __future__ import annotations

import errno
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from helpers import AUTH, CountingEngine, fill_disk, mount_tmpfs, unmount, wait_ready

from tts_service.config import Settings
from tts_service.web import create_app

ARTICLE = {"title": "社区图书馆", "text": "今天开馆。欢迎大家！\n\n第二段只有一句。", "slug": "lib"}
NO_SPACE = "no space left on the audio store"


class SmallDisk:
    """The audio store's directory on a small disk that the test fills and frees."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch, *, mount: bool) -> None:
        self.root, self.monkeypatch, self.full = root, monkeypatch, False
        root.mkdir(parents=True, exist_ok=True)
        self.real = mount and mount_tmpfs(root, "2m")
        if not self.real:
            self._inject()

    def _inject(self) -> None:
        import tts_service.cache
        import tts_service.web.ops

        real_write, real_usage = tts_service.cache.write_atomic, tts_service.web.ops.shutil.disk_usage

        def write_atomic(path: Path, data: bytes) -> Path:
            if self.full:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            return real_write(path, data)

        def disk_usage(path):
            usage = real_usage(path)
            return usage._replace(free=0) if self.full else usage

        self.monkeypatch.setattr(tts_service.cache, "write_atomic", write_atomic)
        self.monkeypatch.setattr(tts_service.web.ops.shutil, "disk_usage", disk_usage)

    def fill(self) -> None:
        self.full = True
        if self.real:
            fill_disk(self.root / "filler")

    def free(self) -> None:
        self.full = False
        if self.real:
            (self.root / "filler").unlink()

    def close(self) -> None:
        if self.real:
            unmount(self.root)


@pytest.fixture(params=["tmpfs", "injected"])
def disk(request, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmallDisk]:
    small = SmallDisk(settings.cache_dir, monkeypatch, mount=request.param == "tmpfs")
    yield small
    small.close()


@pytest.fixture
async def client(
    settings: Settings, espeak: CountingEngine, disk: SmallDisk
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"min_free_mb": 1}), engines={"espeak": espeak})
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_a_full_audio_store_is_named_and_answered_503(
    client: httpx.AsyncClient, disk: SmallDisk
) -> None:
    disk.fill()
    assert (await client.post("/api/articles", json=ARTICLE, headers=AUTH)).status_code == 201
    manifest = await wait_ready(client, "lib")
    assert manifest["status"] == "failed" and NO_SPACE in manifest["error"], manifest
    assert NO_SPACE in manifest["job"]["error"]

    spoken = await client.post("/api/tts", json={"text": "临时的一句话。"}, headers=AUTH)
    assert spoken.status_code == 503, spoken.text
    assert spoken.json()["code"] == "storage_full" and NO_SPACE in spoken.json()["detail"]
    assert spoken.headers["retry-after"]

    retry = await client.post("/api/articles/lib/audio", headers=AUTH)
    assert retry.status_code == 202, retry.text
    assert NO_SPACE in (await wait_ready(client, "lib"))["error"]

    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    assert health.json()["storage"]["available"] is False and health.json()["storage"]["min_free_mb"] == 1
    assert not list(disk.root.glob("*/*.part"))  # nothing half-written left behind

    disk.free()
    assert (await client.post("/api/articles/lib/audio", headers=AUTH)).status_code == 202
    assert (await wait_ready(client, "lib"))["status"] == "ready"
    assert (await client.get("/healthz")).json()["storage"]["available"] is True
    assert (await client.post("/api/tts", json={"text": "临时的一句话。"}, headers=AUTH)).status_code == 200
