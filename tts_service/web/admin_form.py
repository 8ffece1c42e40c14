"""The article form of /admin: what an editor typed, as typed (to show again), and the draft it makes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from pydantic import BaseModel, ValidationError, field_validator

from tts_service.article import Article, ArticleDraft
from tts_service.errors import InvalidInput, InvalidSSML, TooLarge
from tts_service.pipeline import Pipeline
from tts_service.planning import Plan
from tts_service.text.document import Document
from tts_service.text.source import Format

_RULES = {  # what each field must be, for the message when it is not
    "title": "标题须为 1 到 300 个字符（不含控制字符）",
    "text": "正文不能为空，也不能含控制字符",
    "slug": "地址须为 1 到 80 个小写字母、数字和中间的连字符（-）",
    "byline": "作者最多 200 个字符",
    "date": "日期须为形如 2026-01-31 的日期",
}


class FormError(Exception):
    """What is wrong with the form, in words for the editor, and the status the form comes back with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message, self.status = message, status


class ArticleForm(BaseModel):
    """The form's fields as strings, exactly as typed: the form and the preview carry them on unchanged."""

    mode: Literal["new", "edit"] = "new"
    title: str = ""
    slug: str = ""
    byline: str = ""
    date: str = ""
    text: str = ""
    voice_choice: str = ""  # "" (the service's default), "engine:" (its default voice) or "engine:voice"
    format: Format = "text"  # how the text is written: kept on every edit, so SSML never turns into text

    @field_validator("text")
    @classmethod
    def _line_breaks(cls, value: str) -> str:
        """Browsers send a textarea's line breaks as CRLF: stored as LF, as every other way in stores them,
        so revisions compare by their words, not by how they were sent."""
        return value.replace("\r\n", "\n").replace("\r", "\n")

    @classmethod
    def of(cls, article: Article) -> ArticleForm:
        """An article's current revision, to edit."""
        choice = f"{article.engine}:{article.voice or ''}" if article.engine else ""
        return cls(
            mode="edit",
            title=article.title,
            slug=article.slug,
            byline=article.byline or "",
            date=article.date or "",
            text=article.text,
            voice_choice=choice,
            format=article.format,
        )

    @classmethod
    def of_document(cls, doc: Document) -> ArticleForm:
        """What the extractor found in an imported page, as a new article."""
        return cls(title=doc.title, byline=doc.byline or "", date=doc.date or "", text=doc.body)

    def draft(self, pipeline: Pipeline) -> ArticleDraft:
        """The draft to store; FormError, in Chinese, for what the service would refuse."""
        engine, _, voice = self.voice_choice.partition(":")
        fields = {
            "title": self.title,
            "text": self.text,
            "slug": self.slug.strip() or None,
            "byline": self.byline or None,
            "date": self.date.strip() or None,
            "engine": engine or None,
            "voice": voice or None,
            "format": self.format,
        }
        try:
            draft = ArticleDraft.model_validate(fields)
        except ValidationError as exc:
            bad = dict.fromkeys(str(e["loc"][0]) for e in exc.errors())
            raise FormError("；".join(_RULES.get(f, f"{f} 无效") for f in bad) + "。") from None
        try:
            draft.check_markup()
        except (InvalidInput, InvalidSSML) as exc:
            raise FormError(f"正文的读音标注或 SSML 有误：{exc.message}") from None
        try:
            pipeline.check(draft)
        except TooLarge:
            limit = pipeline.settings.max_article_chars
            raise FormError(f"正文有 {len(draft.text)} 个字符，超过了 {limit} 个字符的上限。", 413) from None
        except InvalidInput as exc:
            raise FormError(f"引擎或音色无效：{exc.message}") from None
        return draft


@dataclass(frozen=True)
class PreviewSentence:
    """A sentence (or a piece of a long one) as it will be read: its text, what is said where it differs,
    and the address of its audio (None: nothing to say)."""

    text: str
    spoken: str | None
    audio_url: str | None


@dataclass(frozen=True)
class PreviewParagraph:
    number: int  # from 1
    sentences: tuple[PreviewSentence, ...]


def preview_paragraphs(request: Request, plan: Plan) -> list[PreviewParagraph]:
    """The plan grouped by paragraph, for the preview page."""
    grouped: dict[int, list[PreviewSentence]] = {}
    for chunk in plan.chunks:
        text = chunk.text.strip()
        if not text:
            continue
        differs = " ".join(text.split()) != chunk.spoken
        url = None
        if chunk.key is not None:
            params = {"text": text, "engine": plan.engine, "voice": plan.voice}
            url = str(request.url_for("admin_speak").include_query_params(**params))
        grouped.setdefault(chunk.paragraph, []).append(
            PreviewSentence(text, chunk.spoken if differs else None, url)
        )
    return [PreviewParagraph(n + 1, tuple(s)) for n, s in sorted(grouped.items())]
