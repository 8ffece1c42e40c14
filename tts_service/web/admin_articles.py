"""Writing articles on /admin: new, edit and import, each confirmed on a preview before it is published.

The preview shows the text as it will be read: paragraphs, the sentences they are chunked into, each
sentence's spoken form where it differs, and a ▶ per sentence (``admin_speak``) that makes just that
sentence's audio. That audio is cached under the key the published article will use, so what an editor
listened to is not made again. Every step is a plain form: no JavaScript needed.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse

from tts_service.article import Article
from tts_service.engines import ENGINE_NAMES, Prosody
from tts_service.errors import Conflict, InvalidInput, NotFound, TTSError
from tts_service.pipeline import Pipeline
from tts_service.web import session
from tts_service.web.admin_form import ArticleForm, FormError, preview_paragraphs
from tts_service.web.admin_page import PRIVATE, back, page, require_editor, signed_in, to_login
from tts_service.web.auth import AuthFirst
from tts_service.web.deps import PipelineDep, SettingsDep, StoreDep

router = APIRouter(include_in_schema=False, route_class=AuthFirst)  # under /admin: admin.router includes it
FormFields = Annotated[ArticleForm, Form()]


def _engines(pipeline: Pipeline) -> list[tuple[str, str, tuple[str, ...]]]:
    """(engine, its default voice, its voices) for the engine and voice choice."""
    built = [pipeline.engines.get(name) for name in ENGINE_NAMES]
    return [(e.name, pipeline.planner.resolve(e.name, None)[1], e.voices) for e in built]


def _form_page(
    request: Request,
    pipeline: Pipeline,
    csrf: str,
    form: ArticleForm,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {"form": form, "csrf": csrf, "error": error, "engines": _engines(pipeline)}
    return page(request, "admin_article_form.html", context, status)


async def _unused_slug(pipeline: Pipeline, form: ArticleForm, slug: str) -> None:
    """A new article must not take an existing article's address (FormError, 409)."""
    if form.mode != "new":
        return
    try:
        existing = await pipeline.store.get_article(slug)
    except NotFound:
        return
    raise FormError(f"地址“{slug}”已有文章《{existing.title}》。请换一个地址，或编辑那篇文章。", 409)


async def _preview(request: Request, pipeline: Pipeline, csrf: str, form: ArticleForm) -> HTMLResponse:
    """The confirmation page, or the form again with what is wrong."""
    try:
        draft = form.draft(pipeline)
        slug = draft.resolved_slug()
        await _unused_slug(pipeline, form, slug)
        plan = await pipeline.planner.plan_text(draft.text, draft.engine, draft.voice, fmt=draft.format)
    except FormError as exc:
        return _form_page(request, pipeline, csrf, form, exc.message, exc.status)
    except InvalidInput as exc:  # a slug that cannot be made from the title
        return _form_page(request, pipeline, csrf, form, f"无法生成地址，请填写地址。（{exc.message}）", 422)
    context = {
        "form": form,
        "draft": draft,
        "slug": slug,
        "plan": plan,
        "paragraphs": preview_paragraphs(request, plan),
        "csrf": csrf,
    }
    return page(request, "admin_preview.html", context)


@router.get("/articles/new", name="admin_new")
async def new_article(request: Request, settings: SettingsDep, pipeline: PipelineDep) -> Response:
    """An empty article form."""
    csrf = await signed_in(request, settings)
    if csrf is None:
        return to_login(request)
    return _form_page(request, pipeline, csrf, ArticleForm())


@router.get("/articles/{slug}/edit", name="admin_edit")
async def edit_article(
    request: Request, slug: str, settings: SettingsDep, store: StoreDep, pipeline: PipelineDep
) -> Response:
    """The article's current revision in the form."""
    csrf = await signed_in(request, settings)
    if csrf is None:
        return to_login(request)
    return _form_page(request, pipeline, csrf, ArticleForm.of(await store.get_article(slug)))


@router.post("/articles/form", name="admin_form_again")
async def form_again(
    request: Request, csrf: session.SessionForm, form: FormFields, pipeline: PipelineDep
) -> Response:
    """Back from the preview to the form, with everything as it was typed."""
    return _form_page(request, pipeline, csrf, form)


@router.post("/articles/preview", name="admin_preview")
async def preview(
    request: Request, csrf: session.SessionForm, form: FormFields, pipeline: PipelineDep
) -> Response:
    """Check the form and show the article as it will be read, to confirm before publishing."""
    return await _preview(request, pipeline, csrf, form)


async def _published(pipeline: Pipeline, form: ArticleForm) -> Article:
    """Store the form's article and start its audio: a new article only where the address is free, an
    edit only where the article still exists."""
    draft = form.draft(pipeline)
    if form.mode == "edit":
        return await pipeline.publish(draft, must_exist=True)
    await _unused_slug(pipeline, form, draft.resolved_slug())  # to name the article that has it
    # Checked again in the saving transaction (SlugTaken, a Conflict): two editors, one address.
    return await pipeline.publish(draft, must_be_new=True)


@router.post("/articles/publish", name="admin_publish")
async def publish(
    request: Request, csrf: session.SessionForm, form: FormFields, pipeline: PipelineDep
) -> Response:
    """Publish what the preview showed; the list says so, and the audio is being made."""
    try:
        await _published(pipeline, form)
    except FormError as exc:
        return _form_page(request, pipeline, csrf, form, exc.message, exc.status)
    except Conflict:
        error = "这个地址刚刚被另一篇文章使用了。请换一个地址。"
        return _form_page(request, pipeline, csrf, form, error, 409)
    except InvalidInput as exc:  # a slug that cannot be made from the title
        return _form_page(request, pipeline, csrf, form, f"无法生成地址，请填写地址。（{exc.message}）", 422)
    return back(request, "published")


# --- import -------------------------------------------------------------------------------------------


def _import_page(request: Request, csrf: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    return page(request, "admin_import.html", {"csrf": csrf, "error": error}, status)


@router.get("/import", name="admin_import_form")
async def import_form(request: Request, settings: SettingsDep) -> Response:
    """Paste a page's HTML, or upload a saved page."""
    csrf = await signed_in(request, settings)
    if csrf is None:
        return to_login(request)
    return _import_page(request, csrf)


async def _upload(file: UploadFile | None, limit: int) -> bytes:
    if file is None or not file.filename:
        return b""
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise FormError(f"文件超过 {limit // 1024} KB 的上限。", 413)
    return content


@router.post("/import", name="admin_import")
async def import_page(
    request: Request,
    csrf: session.SessionForm,
    settings: SettingsDep,
    pipeline: PipelineDep,
    html: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Extract the article from the page (``text.extract``) and show it for confirmation."""
    from tts_service.text.extract import extract

    limit = 8 * settings.max_article_chars  # as the API's import: generous for markup around the text
    try:
        content: str | bytes = await _upload(file, limit) or html
        if not content or (isinstance(content, str) and not content.strip()):
            raise FormError("请粘贴网页的 HTML，或选择一个保存的网页文件。", 422)
        if len(content) > limit:
            raise FormError(f"粘贴的内容超过 {limit} 个字符的上限。", 413)
        name = file.filename if file is not None else None
        doc = await asyncio.to_thread(extract, content, filename=name or None)
    except FormError as exc:
        return _import_page(request, csrf, exc.message, exc.status)
    except TTSError as exc:
        return _import_page(request, csrf, f"没有在这个网页中找到文章。（{exc.message}）", 422)
    return await _preview(request, pipeline, csrf, ArticleForm.of_document(doc))


# --- one sentence's audio --------------------------------------------------------------------------------


@router.get("/speak.mp3", name="admin_speak")
async def speak(
    request: Request,
    settings: SettingsDep,
    pipeline: PipelineDep,
    text: Annotated[str, Query(min_length=1, max_length=2000)],
    engine: str | None = None,
    voice: str | None = None,
) -> Response:
    """One sentence of a preview as MP3, made now (editors only), cached as the article's will be."""
    await require_editor(request, settings)
    audio, _ = await pipeline.speak(text, engine or None, voice or None, Prosody())
    return Response(audio, media_type="audio/mpeg", headers=PRIVATE)
