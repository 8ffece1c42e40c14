"""Articles: what editors submit (ArticleDraft) and what the store gives back (Article)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pydantic import BaseModel, Field, ValidationError, field_validator
from pypinyin import lazy_pinyin

from tts_service.errors import InvalidInput, TooLarge, invalid_input
from tts_service.text import source
from tts_service.text.document import Document
from tts_service.text.source import Format
from tts_service.text.unicode import check_text
from tts_service.urls import MAX_URL_CHARS, site_of

SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?")  # always fullmatch: "$" matches before "\n"


class ArticleDraft(BaseModel):
    """An editor's submission, validated before anything is stored."""

    title: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1)
    slug: str | None = None
    byline: str | None = Field(default=None, max_length=200)
    date: dt.date | None = None
    engine: str | None = None
    voice: str | None = None
    url: str | None = Field(
        default=None,
        max_length=MAX_URL_CHARS,
        description="The page this article is (http or https), kept in canonical form; one article a page.",
    )
    format: Format = Field(
        default="text",
        description='How text is written: "text" (plain; 行{háng} sets one reading) or "ssml" (the SSML'
        " subset in the README, opted into here only).",
    )

    @field_validator("title", "text", "byline", "engine", "voice", "url")
    @classmethod
    def _valid_unicode(cls, value: str | None) -> str | None:
        return value if value is None else check_text(value)

    @field_validator("title", "text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty or only whitespace")
        return value.strip()

    @field_validator("byline")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            site_of(value)  # an absolute http(s) URL with a host, or InvalidInput (a 422)
        return value

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not SLUG_RE.fullmatch(value):
            raise ValueError("slug must be 1-80 lowercase letters, digits and inner hyphens")
        return value

    def check_size(self, max_chars: int) -> None:
        """Raise TooLarge when the text is over the configured limit."""
        if len(self.text) > max_chars:
            raise TooLarge(f"article text is {len(self.text)} characters; the limit is {max_chars}")

    def check_markup(self) -> None:
        """Raise InvalidInput for an inline reading that names no syllable, InvalidSSML for SSML outside the
        subset (its message names the element), before anything is stored."""
        if not any(p.display.strip() for p in source.paragraphs(self.text, self.format)):
            raise InvalidInput("text: nothing to show once the markup is read")

    def resolved_slug(self) -> str:
        """The given slug, or one made from the title's pinyin (国际合作 → guo-ji-he-zuo).

        Checked again here, where every stored slug passes: a copy with a slug from a URL skips validation.
        """
        slug = self.slug or slugify(self.title)
        if not SLUG_RE.fullmatch(slug):
            raise InvalidInput(f"slug {slug!r} is not 1-80 lowercase letters, digits and inner hyphens")
        return slug


def draft_from(doc: Document, *, slug: str | None = None, title: str | None = None) -> ArticleDraft:
    """A draft from a parsed or extracted document; InvalidInput (not a crash) if it does not validate."""
    # Validated as any input is: the date is still a string here, which pydantic parses.
    fields = {
        "title": title or doc.title,
        "text": doc.body,
        "slug": slug,
        "byline": doc.byline,
        "date": doc.date,
    }
    try:
        return ArticleDraft.model_validate(fields)
    except ValidationError as exc:
        raise invalid_input(exc) from None


def slugify(title: str) -> str:
    """A URL-safe ASCII slug from a (usually Chinese) title."""
    words = lazy_pinyin(title)  # non-Han runs come back unchanged
    text = "-".join(re.sub(r"[^a-z0-9]+", "-", w.lower()).strip("-") for w in words)
    slug = re.sub(r"-{2,}", "-", text).strip("-")[:80].strip("-")
    if not slug:
        raise InvalidInput("cannot make a slug from this title; give one with 'slug'")
    return slug


@dataclass(frozen=True)
class Article:
    """One revision of an article, as stored."""

    slug: str
    revision: int
    title: str
    text: str
    byline: str | None
    date: str | None
    engine: str | None
    voice: str | None
    created_at: str
    updated_at: str
    # Set when this revision's audio had to be made with the fallback engine (its own engine failed).
    audio_engine: str | None = None
    audio_voice: str | None = None
    url: str | None = None  # the canonical URL of the page it is, if it is one
    format: Format = "text"  # how ``text`` is written: plain with inline readings, or SSML (text/source.py)

    def draft(self, text: str | None = None) -> ArticleDraft:
        """This revision as a draft to publish again (a restore), or with another ``text`` (a fix): every
        field an editor sets, as it is. ValidationError if ``text`` makes it invalid."""
        fields = ("title", "byline", "date", "engine", "voice", "url", "format")
        values = {name: getattr(self, name) for name in fields}
        return ArticleDraft.model_validate(
            {**values, "slug": self.slug, "text": self.text if text is None else text}
        )
