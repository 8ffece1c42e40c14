"""JSON shapes of the API, built from store and pipeline objects."""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel

from tts_service.article import Article
from tts_service.pipeline import Manifest


class ArticleSummary(BaseModel):
    slug: str
    title: str
    byline: str | None
    date: str | None
    revision: int
    updated_at: str
    url: str
    api_url: str

    @classmethod
    def of(cls, request: Request, article: Article) -> ArticleSummary:
        return cls(
            slug=article.slug,
            title=article.title,
            byline=article.byline,
            date=article.date,
            revision=article.revision,
            updated_at=article.updated_at,
            url=str(request.url_for("article_page", slug=article.slug)),
            api_url=str(request.url_for("get_article", slug=article.slug)),
        )


class ArticleOut(ArticleSummary):
    text: str
    created_at: str
    engine: str | None
    voice: str | None
    audio_url: str

    @classmethod
    def of(cls, request: Request, article: Article) -> ArticleOut:
        return cls(
            **ArticleSummary.of(request, article).model_dump(),
            text=article.text,
            created_at=article.created_at,
            engine=article.engine,
            voice=article.voice,
            audio_url=str(request.url_for("article_audio", slug=article.slug)),
        )


class ChunkOut(BaseModel):
    index: int
    paragraph: int
    sentences: list[int]
    text: str
    url: str | None
    duration: float | None


class AudioOut(BaseModel):
    slug: str
    revision: int
    engine: str
    voice: str
    status: str
    progress: float
    error: str | None
    chunks: list[ChunkOut]

    @classmethod
    def of(cls, request: Request, article: Article, manifest: Manifest) -> AudioOut:
        chunks = []
        for index, chunk in enumerate(manifest.plan.spoken):
            record = manifest.records.get(chunk.key)
            url = str(request.url_for("audio_file", key=chunk.key)) if record else None
            chunks.append(
                ChunkOut(
                    index=index,
                    paragraph=chunk.paragraph,
                    sentences=list(chunk.sentences),
                    text=chunk.text.strip(),
                    url=url,
                    duration=record and record.duration,
                )
            )
        return cls(
            slug=article.slug,
            revision=article.revision,
            engine=manifest.plan.engine,
            voice=manifest.plan.voice,
            status=manifest.status,
            progress=round(manifest.progress, 4),
            error=manifest.error,
            chunks=chunks,
        )
