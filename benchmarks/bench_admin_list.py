"""The editors' list with 10,000 articles: /admin and GET /api/articles, a page at a time and searched.

Run: .venv/bin/python benchmarks/bench_admin_list.py [--articles 10000 --rounds 5]

In a temporary TTS_HOME it stores N articles (about 600 characters of news text each, no audio), then
builds the real app in process (lifespan and all, espeak as the engine, nothing synthesised) and signs in
through the form. Each round, interleaved: a fresh app's first /admin page (cold: nothing planned yet), the
same page again (warm), a deep page (after the 9,000th, its cursor found by
walking the API's list first), a search that matches
one article (so the whole list is scanned), a search that matches most, the API's first 50 and the API's
whole list (what every page cost before pagination: all N rows). Medians over rounds, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from tts_service.article import ArticleDraft
from tts_service.config import Settings
from tts_service.store import Store
from tts_service.web import create_app

TOKEN = "bench-editor-token-0123456789"
PARAGRAPHS = (
    "{n}日上午，区政府召开第{n}次常务会议，研究部署养老服务和社区食堂建设等工作。",
    "会议指出，2025年全区新增社区食堂12家，服务老年人3.5万人次，满意度达到96.8%。",
    "会议要求，各街道要在{m}月底前完成助餐点布局调整，确保老年人就近用餐、方便用餐。",
    "下一步，区民政局将会同各街道加强日常监管，定期公布检查结果，接受群众监督。",
)


async def fill(home: Path, count: int) -> None:
    store = Store(home / "tts.db")
    for n in range(count):
        text = "\n\n".join(p.format(n=n, m=n % 12 + 1) for p in PARAGRAPHS * 3)
        title = f"区政府第{n}次常务会议研究养老服务工作" if n % 1000 else f"街道通知第{n}号"
        await store.save_article(
            ArticleDraft(title=title, text=text, slug=f"notice-{n}", byline="区政府办公室")
        )
    store.close()


async def timed(call: Callable[[], Awaitable[httpx.Response]]) -> float:
    started = time.perf_counter()
    response = await call()
    assert response.status_code == 200, (
        response.status_code,
        re.sub(r"<[^>]+>|\s+", " ", response.text)[-400:],
    )
    return (time.perf_counter() - started) * 1000


async def sign_in(http: httpx.AsyncClient) -> None:
    form = await http.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    assert (await http.post("/admin/login", data={"csrf": csrf.group(1), "token": TOKEN})).status_code == 303


async def last_cursor(http: httpx.AsyncClient) -> str:
    """The cursor of the API's last page of 1,000: with 10,000 articles, what follows the 9,000th."""
    url: str | None = "/api/articles?limit=1000"
    cursor = ""
    while url:
        response = await http.get(url)
        cursor = response.headers.get("x-next-cursor", cursor)
        url = response.links.get("next", {}).get("url")
    assert cursor, "fewer than 1,001 articles: no deep page"
    return cursor


async def one_round(settings: Settings, results: dict[str, list[float]], cursor: str | None) -> str:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            await sign_in(http)
            cursor = cursor or await last_cursor(http)
            cases: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
                "/admin, first page, cold": lambda: http.get("/admin"),
                "/admin, first page, warm": lambda: http.get("/admin"),
                "/admin, deep page (after 9,000)": lambda: http.get("/admin", params={"cursor": cursor}),
                "/admin?q= one match (scans all)": lambda: http.get(
                    "/admin", params={"q": "街道通知第5000号"}
                ),
                "/admin?q= most match": lambda: http.get("/admin", params={"q": "养老"}),
                "/api/articles?limit=50": lambda: http.get("/api/articles", params={"limit": 50}),
                "/api/articles (whole list)": lambda: http.get("/api/articles"),
            }
            for name, call in cases.items():
                results.setdefault(name, []).append(await timed(call))
    return cursor


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        started = time.perf_counter()
        await fill(home, args.articles)
        print(f"stored {args.articles} articles in {time.perf_counter() - started:.1f} s")
        settings = Settings(home=home, engine="espeak", editor_token=TOKEN, fallback_engine=None)
        results: dict[str, list[float]] = {}
        cursor = None
        for _ in range(args.rounds):
            cursor = await one_round(settings, results, cursor)
        print(f"\n{'request':40} {'median ms':>10} {'min':>8} {'max':>8}   ({args.rounds} rounds)")
        for name, times in results.items():
            print(f"{name:40} {statistics.median(times):10.1f} {min(times):8.1f} {max(times):8.1f}")


if __name__ == "__main__":
    asyncio.run(main())
