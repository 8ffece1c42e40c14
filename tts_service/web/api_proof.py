"""``GET /api/articles/{slug}/pronunciation`` (editor token): how every sentence of an article is read, for
proofreading: pinyin per character, how each polyphone was decided, the flagged ones, each chunk's audio."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tts_service import proofing
from tts_service.proofing import ArticleProof
from tts_service.store import AudioRecord
from tts_service.text.polyphones import How
from tts_service.text.pronunciation import CharReading, marked_tone
from tts_service.web.audio_urls import audio_url
from tts_service.web.auth import AuthFirst
from tts_service.web.deps import Editor, PipelineDep, StoreDep
from tts_service.web.schemas import ERRORS

router = APIRouter(responses=ERRORS, route_class=AuthFirst)  # under /api: api.router includes it


class DecisionOut(BaseModel):
    """How a polyphone's reading was decided."""

    how: How = Field(description="inline, lexicon, phrase, rule, usual or default (a guess)")
    sure: bool
    why: str = Field(description="the phrase or the rule that decided it; empty for usual and default")
    options: list[str] = Field(description="the character's readings, tone marks, the one read first")


class CharOut(BaseModel):
    """One display character."""

    char: str
    pinyin: str | None = Field(description="tone marks; null where the character has no syllable of its own")
    decision: DecisionOut | None = Field(description="for a polyphone")
    flagged: bool = Field(description="a default guess, or a rule or phrase that is not sure")

    @classmethod
    def of(cls, c: CharReading) -> CharOut:
        decision = None
        if c.decision is not None:
            d = c.decision
            options = [marked_tone(o) for o in c.options]
            decision = DecisionOut(how=d.how, sure=d.sure, why=d.why, options=options)
        return cls(char=c.char, pinyin=c.pinyin, decision=decision, flagged=c.flagged)


class SentenceOut(BaseModel):
    """One sentence (or a piece of an over-long one): a chunk of the article's audio."""

    index: int = Field(description="in reading order, among all the pieces (spoken or not)")
    paragraph: int
    sentence: int = Field(description="index of the sentence within its paragraph")
    text: str = Field(description="as the page shows it")
    spoken: str | None = Field(description="what is said where it differs from the text (2019年: 二零一九年)")
    audio_url: str | None = Field(description="the chunk's audio, once it is made")
    chars: list[CharOut]
    flagged: int


class PronunciationOut(BaseModel):
    """An article's readings, sentence by sentence, and how many are flagged for an editor to check."""

    slug: str
    revision: int
    engine: str
    voice: str
    flagged: int
    sentences: list[SentenceOut]

    @classmethod
    def of(cls, request: Request, proof: ArticleProof, records: dict[str, AudioRecord]) -> PronunciationOut:
        sentences = []
        for s in proof.sentences:
            url = audio_url(request, s.key) if s.key is not None and s.key in records else None
            sentences.append(
                SentenceOut(
                    index=s.index,
                    paragraph=s.paragraph,
                    sentence=s.sentence,
                    text=s.readings.display,
                    spoken=s.readings.spoken,
                    audio_url=url,
                    chars=[CharOut.of(c) for c in s.readings.chars],
                    flagged=len(s.readings.flagged),
                )
            )
        article, plan = proof.article, proof.plan
        return cls(
            slug=article.slug,
            revision=article.revision,
            engine=plan.engine,
            voice=plan.voice,
            flagged=len(proof.flagged),
            sentences=sentences,
        )


@router.get("/articles/{slug}/pronunciation", dependencies=[Editor])
async def pronunciation(
    request: Request, slug: str, store: StoreDep, pipeline: PipelineDep
) -> PronunciationOut:
    """How the article's current revision is read, for proofreading; starts nothing."""
    article = await store.get_article(slug)
    manifest = await pipeline.manifest(article)
    proof = await proofing.proof(pipeline, article, manifest.plan)
    return PronunciationOut.of(request, proof, manifest.records)
