"""The files of a static site, built in memory from the store: what ``tts-service publish`` writes.

Nothing here touches the output directory (``writer.py`` does), and nothing is synthesised: an article's
audio is published once it is ready (``tts-service pregen``, a running ``serve``, or ``--watch`` later).
Until then its page is published without the player and says the audio is being made.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tts_service import captions, feeds, resources
from tts_service.article import SLUG_RE, Article
from tts_service.pipeline import ArticleAudio, Pipeline
from tts_service.publishing.links import FEED, INDEX, Links
from tts_service.publishing.manifest import audio_json
from tts_service.publishing.output import Output, StoredAudio
from tts_service.publishing.renderer import ASSETS, Renderer, asset_versions
from tts_service.states import AudioStatus


@dataclass
class Site:
    """Everything to publish, by path, with a count of the articles by what their pages carry."""

    outputs: dict[str, Output] = field(default_factory=dict)
    with_audio: list[str] = field(default_factory=list)
    without_audio: list[str] = field(default_factory=list)  # pending or failed: no player yet
    nothing_to_speak: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # slugs that cannot be file names (none are stored)
    feed: bool = False

    def add(self, output: Output) -> None:
        known = self.outputs.get(output.path)
        if known is not None and known.fingerprint != output.fingerprint:
            raise ValueError(f"two different files for {output.path}")
        self.outputs[output.path] = output


class SiteBuilder:
    """Builds the site of every article in the store, laid out by ``links``."""

    def __init__(self, pipeline: Pipeline, links: Links) -> None:
        self.pipeline, self.links = pipeline, links
        self.static_dir = resources.static_dir()
        self.renderer = Renderer(links, asset_versions(self.static_dir))

    async def build(self) -> Site:
        site = Site()
        articles = [a for a in await self.pipeline.store.list_articles() if _usable(a, site)]
        audio = [await self.pipeline.audio(article, start=False) for article in articles]
        for item in audio:
            self._article(site, item)
        site.add(Output.of_bytes(INDEX, self.renderer.index([(a.article, a.manifest) for a in audio])))
        self._feed(site, audio)
        for name in ASSETS:
            path = self.static_dir / name
            site.add(Output.of_bytes(self.links.static(name), path.read_bytes()))
        return site

    def _article(self, site: Site, audio: ArticleAudio) -> None:
        article, manifest, whole = audio.article, audio.manifest, audio.whole
        links, slug = self.links, article.slug
        site.add(Output.of_bytes(links.page(slug), self.renderer.article(article, manifest, whole)))
        if whole is None:
            empty = manifest.status == AudioStatus.EMPTY
            (site.nothing_to_speak if empty else site.without_audio).append(slug)
            return
        site.with_audio.append(slug)
        site.add(Output.of_bytes(links.manifest(slug), audio_json(article, manifest, whole, links)))
        cues = captions.sentence_cues(manifest.plan.spoken, whole.spans)
        site.add(Output.of_bytes(links.captions(slug), captions.webvtt(cues).encode("utf-8")))
        if links.copies_audio:
            source = StoredAudio(self.pipeline.cache, whole.key)
            site.add(Output(links.audio(whole.key), "key:" + whole.key, source=source))

    def _feed(self, site: Site, audio: list[ArticleAudio]) -> None:
        """The feed, when the site's address is known: a feed's links must be absolute."""
        links = self.links
        front = links.absolute(INDEX)
        if front is None:
            return
        items = []
        by_slug = {a.article.slug: a for a in audio if a.whole is not None}
        for article in feeds.newest_first(a.article for a in by_slug.values()):
            whole = by_slug[article.slug].whole
            assert whole is not None
            page, mp3 = links.absolute(links.page(article.slug)), links.absolute_audio(whole.key)
            assert page is not None and mp3 is not None
            items.append(feeds.FeedItem(article, whole, page, mp3))
        site.add(Output.of_bytes(FEED, feeds.rss(front, items)))
        site.feed = True


def _usable(article: Article, site: Site) -> bool:
    """Whether the article's slug can name files (every stored slug can; this guards the file system)."""
    if SLUG_RE.fullmatch(article.slug):
        return True
    site.skipped.append(article.slug)
    return False
