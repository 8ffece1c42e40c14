"""JSON shapes of the API, built from store and pipeline objects."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, Field

from tts_service import timing
from tts_service.article import Article
from tts_service.audio import mp3
from tts_service.jobs import Job
from tts_service.pipeline import ArticleAudio
from tts_service.states import AudioStatus, JobStatus
from tts_service.store import AudioRecord
from tts_service.text import source
from tts_service.text.source import Format
from tts_service.timing import Source
from tts_service.web.audio_urls import audio_url


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
    text: str  # as written: with its markup (inline readings, or SSML when format is "ssml")
    format: Format
    created_at: str
    engine: str | None
    voice: str | None
    source_url: str | None  # the host page this article is (the draft's ``url``); ``url`` is our page
    audio_url: str

    @classmethod
    def of(cls, request: Request, article: Article) -> ArticleOut:
        return cls(
            **ArticleSummary.of(request, article).model_dump(),
            text=article.text,
            format=article.format,
            created_at=article.created_at,
            engine=article.engine,
            voice=article.voice,
            source_url=article.url,
            audio_url=str(request.url_for("article_audio", slug=article.slug)),
        )


class MarkOut(BaseModel):
    """When one stretch of a chunk's text (a character, or a word or number said as one) is heard."""

    offsets: list[int]  # [start, end) in the paragraph, in UTF-16 code units, as the chunk's offsets count
    start: float  # seconds into the chunk's own file (its ``url``) as it plays
    end: float
    article_start: float | None  # seconds into the whole-article file, once it exists
    article_end: float | None


class ChunkOut(BaseModel):
    index: int
    paragraph: int
    sentence: int  # index of the sentence within its paragraph
    sentences: list[int]
    text: str
    url: str | None
    duration: float | None
    start: float | None = None  # seconds into the whole-article file, once it exists
    end: float | None = None
    offsets: list[
        int
    ]  # [start, end) of the text in its paragraph, in UTF-16 code units (as JavaScript counts)
    # Contiguous marks that cover ``offsets`` in reading order; [] until the chunk has audio.
    marks: list[MarkOut] = []
    # Where the marks' times come from: the voice's own model, the service's word boundaries, or
    # syllables spread over the audio (an engine without timings, or audio made before they were kept).
    timing: Source | None = None


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(BaseModel):
    """Every error answer: ``code`` names the kind (stable, for programs) and ``message`` says what went
    wrong (for people). ``detail`` is kept for clients written before ``message``: the same text, or for a
    request that failed validation FastAPI's list of errors (which ``message`` sums up)."""

    code: str
    message: str
    detail: str | list[ErrorItem]
    url: str | None = Field(
        default=None, description="409 on POST: the page of the article that has the slug already"
    )


_DESCRIPTIONS = {
    400: "The request could not be read (a body that is not valid JSON, or nested too deeply)",
    401: "Missing or wrong editor token",
    403: "Not allowed for this caller",
    404: "No such article, job, entry or audio",
    409: "A new article's slug is in use (``url``, ``Location``: that article), or the audio is not ready",
    413: "Over a size limit",
    422: "Invalid input",
    429: "Too many requests",
    502: "The engine failed",
    503: "Unavailable for now",
}
ERRORS: dict[int | str, dict[str, Any]] = {
    c: {"model": ErrorOut, "description": d} for c, d in _DESCRIPTIONS.items()
}


class JobOut(BaseModel):
    """A generation job as editors and tools see it."""

    id: int
    url: str
    slug: str
    revision: int
    status: JobStatus
    progress: float
    done: int
    total: int
    engine: str
    voice: str
    error: str | None
    fallback: str | None  # set when the article's own engine failed and another read it
    created_at: str
    updated_at: str
    finished_at: str | None

    @classmethod
    def of(cls, request: Request, job: Job) -> JobOut:
        return cls(
            id=job.id,
            url=str(request.url_for("get_job", job_id=job.id)),
            slug=job.slug,
            revision=job.revision,
            status=job.status,
            progress=job.progress,
            done=job.done,
            total=job.total,
            engine=job.engine,
            voice=job.voice,
            error=job.error,
            fallback=job.fallback,
            created_at=job.created_at,
            updated_at=job.updated_at,
            finished_at=job.finished_at,
        )


class AudioOut(BaseModel):
    slug: str
    revision: int
    engine: str
    voice: str
    status: AudioStatus  # empty: nothing to speak, so no audio, ever
    progress: float
    error: str | None
    url: str | None  # the whole-article MP3, once every chunk is ready
    duration: float | None
    captions_url: str | None  # once the captions exist: when the audio is ready
    chunks: list[ChunkOut]
    job: JobOut | None = None  # the revision's latest generation job

    @classmethod
    def of(cls, request: Request, audio: ArticleAudio) -> AudioOut:
        article, manifest, whole, job = audio.article, audio.manifest, audio.whole, audio.job
        chunks = []
        offsets = manifest.plan.spoken_offsets
        for index, chunk in enumerate(manifest.plan.spoken):
            record = manifest.records.get(chunk.key)
            url = audio_url(request, chunk.key) if record else None
            start, end = whole.spans[index] if whole else (None, None)
            source, marks = _marks(chunk.text, chunk.spoken, record, offsets[index][0], start)
            chunks.append(
                ChunkOut(
                    index=index,
                    paragraph=chunk.paragraph,
                    sentence=chunk.sentences[0],
                    sentences=list(chunk.sentences),
                    text=chunk.text.strip(),
                    url=url,
                    duration=record.duration if record else None,
                    start=start,
                    end=end,
                    offsets=list(offsets[index]),
                    marks=marks,
                    timing=source,
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
            url=audio_url(request, whole.key) if whole else None,
            duration=whole.duration if whole else None,
            captions_url=str(request.url_for("article_captions", slug=article.slug)) if whole else None,
            chunks=chunks,
            job=JobOut.of(request, job) if job else None,
        )


def _marks(
    text: str, spoken: str, record: AudioRecord | None, offset: int, whole_start: float | None
) -> tuple[Source | None, list[MarkOut]]:
    """A chunk's marks for the API (`timing.manifest_marks`); none until it has audio."""
    if record is None:
        return None, []
    lead = mp3.LEAD_SECONDS
    source, rows = timing.manifest_marks(
        text, spoken, record.marks, record.duration, offset, whole_start, lead
    )
    return source, [MarkOut(**row) for row in rows]


class EmbedOut(AudioOut):
    """A host page's audio: its manifest, plus the paragraphs as stored (the toolbar matches them to its
    own text; each chunk's ``offsets`` count within these)."""

    paragraphs: list[str]

    @classmethod
    def of(cls, request: Request, audio: ArticleAudio) -> EmbedOut:
        paragraphs = source.display(audio.article.text, audio.article.format)  # as the offsets count
        return cls(**AudioOut.of(request, audio).model_dump(), paragraphs=paragraphs)
