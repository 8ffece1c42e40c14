"""Each crawled page stored as the toolbar will send it, and its audio made before the first reader comes.

The title and paragraphs come from ``text.blocks.host_page`` with the selectors of the site's embed line,
and are stored by ``Pipeline.save_page``, the code the toolbar's ``POST /api/embed`` stores with: when a
reader opens the page, the toolbar sends the same text, the service finds no change, and nothing is made.
The article extractor (``text.extract``) adds the byline and date, and without an article selector it also
tells article pages from index and list pages, which a crawl passes through but does not store.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from tts_service.article import Article
from tts_service.crawl.crawler import CrawlOptions, Fetched, Skipped, crawl
from tts_service.crawl.fetcher import Fetcher, client
from tts_service.errors import Conflict, InvalidInput, TooLarge
from tts_service.jobs import Job
from tts_service.pipeline import Pipeline
from tts_service.services import Services
from tts_service.states import AudioStatus
from tts_service.text.blocks import HostPage, check_selectors, host_page
from tts_service.text.document import Document
from tts_service.text.extract import extract


@dataclass(frozen=True)
class Selectors:
    """The embed line's ``data-article``, ``data-skip`` and ``data-title`` (CSS selectors)."""

    article: str | None = None
    skip: str | None = None
    title: str | None = None

    def __post_init__(self) -> None:
        check_selectors(self.article, self.skip, self.title)  # a typo stops the crawl before it starts


@dataclass(frozen=True)
class Outcome:
    """What became of one URL: stored (a new revision), unchanged, or skipped (and why); its audio."""

    url: str
    action: Literal["stored", "unchanged", "skipped"]
    reason: str = ""
    article: Article | None = None
    audio: AudioStatus | None = None  # at the end of the crawl
    job: Job | None = None  # the job that made the audio, if one had to


class Watcher(Protocol):
    """Follows a crawl as it goes (the command line's progress bars)."""

    def page(self, outcome: Outcome) -> None: ...

    def audio(self, done: int, total: int) -> None: ...


def read(html: str, selectors: Selectors) -> tuple[HostPage, Document | None]:
    """The page as the toolbar reads it, and the extractor's view of it (None if it found no article);
    InvalidInput when there is nothing to store."""
    page = host_page(html, article=selectors.article, skip=selectors.skip, title=selectors.title)
    try:
        doc: Document | None = extract(html)
    except InvalidInput as exc:
        if selectors.article is None:  # no selector to say where the article is: the extractor decides
            raise InvalidInput(f"not an article page ({exc.message})") from None
        doc = None
    if not page.paragraphs:
        raise InvalidInput("the article has no text")
    if not page.title:
        raise InvalidInput("the page has no title (no <h1> or <title>; name one with --title)")
    return page, doc


async def store(pipeline: Pipeline, fetched: Fetched, selectors: Selectors) -> Outcome:
    """Store one page as its toolbar would (a new revision only if its title or text changed); a page with
    nothing to store, or that the service refuses (too large, its URL another article's), is skipped."""
    try:
        page, doc = await asyncio.to_thread(read, fetched.html, selectors)  # lxml and trafilatura: CPU
        byline = doc.byline if doc else None
        date = dt.date.fromisoformat(doc.date) if doc and doc.date else None
        article, wrote = await pipeline.save_page(
            fetched.url, page.title, page.paragraphs, byline=byline, date=date
        )
    except (InvalidInput, TooLarge, Conflict) as exc:
        return Outcome(fetched.url, "skipped", exc.message)
    return Outcome(fetched.url, "stored" if wrote else "unchanged", article=article)


async def make_audio(
    pipeline: Pipeline, article: Article, on_progress: Callable[[int, int], None]
) -> tuple[AudioStatus, Job | None]:
    """The article's audio, made as ``pregen`` makes it (a job, taken over if its process died), unless it
    is all there already: then no job, and no engine is called. A job that failed before is tried again."""
    status = (await pipeline.manifest(article)).status
    if status in (AudioStatus.READY, AudioStatus.EMPTY):
        return status, None
    job = await pipeline.start(article, retry=status == AudioStatus.FAILED, on_progress=on_progress)
    while (job := await pipeline.wait(job, on_progress)).active:
        job = await pipeline.start(article, on_progress=on_progress)  # its process died: take it over
    return (await pipeline.manifest(article)).status, job


class _Tally:
    """Chunks done and to do over every page's audio, for one progress bar."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher
        self.counts: dict[str, tuple[int, int]] = {}

    def for_article(self, slug: str) -> Callable[[int, int], None]:
        def update(done: int, total: int) -> None:
            self.counts[slug] = (done, total)
            self.watcher.audio(
                sum(d for d, _ in self.counts.values()), sum(t for _, t in self.counts.values())
            )

        return update


async def pregenerate_site(
    services: Services, options: CrawlOptions, selectors: Selectors, watcher: Watcher
) -> list[Outcome]:
    """Crawl the site, store each page, and make each page's audio (started as soon as the page is stored,
    so synthesis runs while the crawl waits between requests); one outcome per URL, in crawl order."""
    outcomes: list[Outcome] = []
    audio: dict[int, asyncio.Task[tuple[AudioStatus, Job | None]]] = {}
    tally = _Tally(watcher)
    try:
        async with client() as http:
            async for found in crawl(Fetcher(http, options.delay), options):
                if isinstance(found, Skipped):
                    outcome = Outcome(found.url, "skipped", found.reason)
                else:
                    outcome = await store(services.pipeline, found, selectors)
                if outcome.article is not None:
                    update = tally.for_article(outcome.article.slug)
                    made = make_audio(services.pipeline, outcome.article, update)
                    audio[len(outcomes)] = asyncio.create_task(made)
                outcomes.append(outcome)
                watcher.page(outcome)
        for index, task in audio.items():
            status, job = await task
            outcomes[index] = replace(outcomes[index], audio=status, job=job)
    finally:  # the crawl failed: stop waiting for the audio (the jobs themselves end with the pipeline)
        for task in audio.values():
            task.cancel()
        await asyncio.gather(*audio.values(), return_exceptions=True)
    return outcomes
