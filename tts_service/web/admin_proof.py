"""The proofreading page of /admin: every sentence with its pinyin, how each polyphone was decided, the
flagged readings, ▶ per sentence, and a one-action fix per polyphone (this occurrence, or everywhere).

Plain forms that post and redirect back (303): no JavaScript needed. The notice after a fix is chosen from a
fixed set and carries only a number (the chunks that will be made again), so nothing typed is echoed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from pydantic import ValidationError

from tts_service import proofing
from tts_service.errors import InvalidInput, TooLarge
from tts_service.proofing import SentenceProof
from tts_service.store import AudioRecord
from tts_service.text.polyphones import How
from tts_service.text.pronunciation import CharReading, marked_tone
from tts_service.web import session
from tts_service.web.admin_page import page, redirect, signed_in, to_login
from tts_service.web.audio_urls import audio_url
from tts_service.web.auth import AuthFirst
from tts_service.web.deps import PipelineDep, SettingsDep, StoreDep

router = APIRouter(include_in_schema=False, route_class=AuthFirst)  # under /admin: admin.router includes it

# How a reading was decided, in the editors' words.
HOW_WORDS = {
    How.INLINE: "标注",
    How.LEXICON: "词库",
    How.PHRASE: "词典",
    How.RULE: "规则",
    How.USUAL: "常用读音",
    How.DEFAULT: "默认猜测",
}
_NOTICES = {
    "here": "已在此处标注读音，保存为新的修订。",
    "everywhere": "已加入发音词典，所有文章中的这个词都按此读音朗读。",
}
_ERRORS = {
    "ssml": 'SSML 文章不能在这里只改一处：请在编辑页用 <phoneme alphabet="x-pinyin" ph="…"> 标注，'
    "或选择“全部”。",
    "invalid": "没有找到要改的字，或读音无效。文章可能刚被修改过，请重新校对。",
    "full": "发音词典已满，无法添加词条。",
}


@dataclass(frozen=True)
class Row:
    """A sentence as the page shows it."""

    proof: SentenceProof
    audio: str | None  # the chunk's audio URL, once made

    @property
    def number(self) -> int:
        return self.proof.index + 1


def describe(c: CharReading) -> str:
    """How a reading was decided, in words: 词典（银行）, 默认猜测 …"""
    assert c.decision is not None
    words = HOW_WORDS[c.decision.how]
    return f"{words}（{c.decision.why}）" if c.decision.why else words


def _rows(request: Request, proof: proofing.ArticleProof, records: dict[str, AudioRecord]) -> list[Row]:
    rows = []
    for s in proof.sentences:
        if not s.readings.display.strip():
            continue
        made = s.key is not None and s.key in records
        rows.append(Row(s, audio_url(request, s.key) if made and s.key else None))
    return rows


@router.get("/articles/{slug}/proof", name="admin_proof")
async def proof_page(
    request: Request,
    slug: str,
    settings: SettingsDep,
    store: StoreDep,
    pipeline: PipelineDep,
    done: str = "",
    n: Annotated[int, Query(ge=0, le=100_000)] = 0,
    error: str = "",
) -> Response:
    """Every sentence as it is read, the flagged readings first to the eye; starts the audio if missing."""
    csrf = await signed_in(request, settings)
    if csrf is None:
        return to_login(request)
    article = await store.get_article(slug)
    audio = await pipeline.audio(article)  # ▶ needs the chunks: make what is missing
    proof = await proofing.proof(pipeline, article, audio.manifest.plan)
    notice = _NOTICES.get(done)
    if notice is not None:
        notice += f"本文将重新合成 {n} 句。" if n else "本文没有需要重新合成的句子。"
    context = {
        "article": article,
        "proof": proof,
        "rows": _rows(request, proof, audio.manifest.records),
        "csrf": csrf,
        "notice": notice,
        "error": _ERRORS.get(error),
        "describe": describe,
        "tone": marked_tone,
    }
    return page(request, "admin_proof.html", context)


@router.post("/articles/{slug}/proof/fix", name="admin_proof_fix", dependencies=[session.EditorForm])
async def fix(
    request: Request,
    slug: str,
    store: StoreDep,
    pipeline: PipelineDep,
    piece: Annotated[int, Form(ge=0)],
    char: Annotated[int, Form(ge=0)],
    reading: Annotated[str, Form(max_length=12)],
    scope: Annotated[Literal["here", "everywhere"], Form()],
) -> Response:
    """Apply the chosen reading here (an inline reading, a new revision) or everywhere (a lexicon entry);
    back to the page with how many of this article's chunks are made again."""
    article = await store.get_article(slug)
    back = {"slug": slug}
    try:
        if scope == "here":
            if article.format != "text":
                return redirect(request, "admin_proof", back, error="ssml")
            fixed = await proofing.fix_here(pipeline, article, piece, char, reading)
        else:
            fixed = await proofing.fix_everywhere(pipeline, article, piece, char, reading)
    except TooLarge:
        return redirect(request, "admin_proof", back, error="full")
    except (InvalidInput, ValidationError):
        return redirect(request, "admin_proof", back, error="invalid")
    return redirect(request, "admin_proof", back, done=scope, n=str(fixed.remade))
