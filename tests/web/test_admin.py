"""The editor page (/admin) in process: sign-in, session cookie, CSRF and origin checks, and every action."""

from __future__ import annotations

import re
import time
from http.cookies import SimpleCookie

import httpx
import pytest
from fastapi import FastAPI
from helpers import ARTICLE, AUTH, TOKEN, create, wait_ready
from pydantic import SecretStr
from sqlalchemy import text

from tts_service import sessions
from tts_service.article import ArticleDraft
from tts_service.engines import Prosody
from tts_service.errors import NotFound
from tts_service.manifest import Manifest
from tts_service.planning import Plan
from tts_service.states import AudioStatus
from tts_service.web.admin import audio_status

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF_FIELD.search(page.text)
    assert found, "no CSRF field on the page"
    return found.group(1)


def set_cookie(response: httpx.Response, name: str) -> str:
    """The Set-Cookie header for ``name``."""
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers.get_list("set-cookie")
    return headers[0]


def attributes(header: str) -> dict[str, str]:
    """Lower-cased cookie attributes of one Set-Cookie header (flags map to "")."""
    morsel = next(iter(SimpleCookie(header).values()))
    return {k: str(v) for k, v in morsel.items() if v}


async def sign_in(client: httpx.AsyncClient) -> str:
    """Sign in through the form as a browser would; the session's CSRF token."""
    form = await client.get("/admin/login")
    response = await client.post("/admin/login", data={"csrf": csrf_of(form), "token": TOKEN})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "http://testserver/admin"
    page = await client.get("/admin")
    assert page.status_code == 200
    return csrf_of(page)


async def redirects_to_login(client: httpx.AsyncClient, path: str = "/admin") -> bool:
    response = await client.get(path)
    return response.status_code == 303 and response.headers["location"].endswith("/admin/login")


# --- sign-in -------------------------------------------------------------------------------------------


async def test_without_a_session_the_pages_redirect_to_sign_in(client: httpx.AsyncClient) -> None:
    await create(client)
    assert await redirects_to_login(client, "/admin")
    assert await redirects_to_login(client, "/admin/articles/lib/delete")
    assert (await client.get("/admin/", follow_redirects=True)).url.path == "/admin/login"


async def test_sign_in_form(client: httpx.AsyncClient) -> None:
    page = await client.get("/admin/login")
    assert page.status_code == 200
    assert '<html lang="zh-CN"' in page.text
    assert '<label for="token">编辑令牌</label>' in page.text
    assert 'id="token" name="token" type="password"' in page.text
    assert page.headers["cache-control"] == "no-store"
    pre = attributes(set_cookie(page, "tts_admin_login"))
    assert pre["path"] == "/admin" and pre["samesite"] == "strict" and "httponly" in pre


async def test_wrong_token_is_401_with_the_form_again(client: httpx.AsyncClient) -> None:
    form = await client.get("/admin/login")
    response = await client.post("/admin/login", data={"csrf": csrf_of(form), "token": "guess"})
    assert response.status_code == 401
    assert "编辑令牌不正确" in response.text and 'aria-invalid="true"' in response.text
    assert not [h for h in response.headers.get_list("set-cookie") if h.startswith("tts_admin=")]
    assert await redirects_to_login(client)


async def test_right_token_sets_a_strict_session_cookie(client: httpx.AsyncClient, settings) -> None:
    form = await client.get("/admin/login")
    response = await client.post("/admin/login", data={"csrf": csrf_of(form), "token": TOKEN})
    assert response.status_code == 303
    cookie = attributes(set_cookie(response, "tts_admin"))
    assert cookie["path"] == "/admin" and cookie["samesite"] == "strict" and "httponly" in cookie
    assert "secure" not in cookie  # plain http: a Secure cookie would never come back
    assert cookie["max-age"] == str(int(settings.session_hours * 3600))
    assert (await client.get("/admin")).status_code == 200
    assert (await client.get("/admin/login")).headers["location"] == "http://testserver/admin"


async def test_session_cookie_is_secure_over_https(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as https:
        form = await https.get("/admin/login")
        assert "secure" in attributes(set_cookie(form, "tts_admin_login"))
        response = await https.post("/admin/login", data={"csrf": csrf_of(form), "token": TOKEN})
        assert "secure" in attributes(set_cookie(response, "tts_admin"))
        assert (await https.get("/admin")).status_code == 200


async def test_tampered_session_is_rejected(client: httpx.AsyncClient) -> None:
    await sign_in(client)
    secret = client.cookies["tts_admin"]
    client.cookies.clear()
    middle = len(secret) // 2
    forged = [
        secret[:middle] + ("A" if secret[middle] != "A" else "B") + secret[middle + 1 :],
        secret[:-1],
        secret + "A",
        "not-a-session",
        "",
    ]
    for value in forged:
        response = await client.get("/admin", headers={"Cookie": f"tts_admin={value}"})
        assert response.status_code == 303, value
    genuine = await client.get("/admin", headers={"Cookie": f"tts_admin={secret}"})
    assert genuine.status_code == 200


async def test_rotating_the_token_ends_every_session(app: FastAPI, client: httpx.AsyncClient) -> None:
    csrf = await sign_in(client)
    app.state.settings.editor_token = SecretStr("a-new-editor-token")
    assert await redirects_to_login(client)
    entry = {"csrf": csrf, "written": "ANSO", "spoken": "安索"}
    assert (await client.post("/admin/lexicon", data=entry)).status_code == 403


async def test_session_expires(client: httpx.AsyncClient, settings, monkeypatch: pytest.MonkeyPatch) -> None:
    await sign_in(client)
    lifetime = settings.session_hours * 3600
    start = time.time()
    monkeypatch.setattr(sessions.time, "time", lambda: start + lifetime - 60)
    assert (await client.get("/admin")).status_code == 200
    monkeypatch.setattr(sessions.time, "time", lambda: start + lifetime + 60)
    assert await redirects_to_login(client)


async def test_sign_out_ends_the_session(client: httpx.AsyncClient) -> None:
    csrf = await sign_in(client)
    response = await client.post("/admin/logout", data={"csrf": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "http://testserver/admin/login?done=signed-out"
    assert attributes(set_cookie(response, "tts_admin"))["max-age"] == "0"
    assert await redirects_to_login(client)
    assert "已退出登录" in (await client.get(response.headers["location"])).text


async def test_a_copied_cookie_is_dead_after_sign_out(client: httpx.AsyncClient) -> None:
    """Sign-out ends the session on the server: a copy of the cookie taken before works no more."""
    csrf = await sign_in(client)
    copied = client.cookies["tts_admin"]
    assert (await client.post("/admin/logout", data={"csrf": csrf})).status_code == 303
    client.cookies.clear()
    replay = {"Cookie": f"tts_admin={copied}"}
    page = await client.get("/admin", headers=replay)
    assert page.status_code == 303 and page.headers["location"].endswith("/admin/login")
    entry = {"csrf": csrf, "written": "ANSO", "spoken": "安索"}
    saved = await client.post("/admin/lexicon", data=entry, headers=replay)
    assert saved.status_code == 403
    assert (await client.get("/api/lexicon", headers=AUTH)).json() == []


async def test_signing_out_one_session_leaves_the_others(app: FastAPI, client: httpx.AsyncClient) -> None:
    first = await sign_in(client)
    first_cookie = client.cookies["tts_admin"]
    client.cookies.clear()
    await sign_in(client)
    second_cookie = client.cookies["tts_admin"]
    assert first_cookie != second_cookie
    client.cookies.clear()
    out = await client.post(
        "/admin/logout", data={"csrf": first}, headers={"Cookie": f"tts_admin={first_cookie}"}
    )
    assert out.status_code == 303
    assert (await client.get("/admin", headers={"Cookie": f"tts_admin={second_cookie}"})).status_code == 200


async def test_a_new_token_at_start_up_removes_old_sessions(settings, espeak) -> None:
    from tts_service.web import create_app

    first = create_app(settings, engines={"espeak": espeak})
    async with first.router.lifespan_context(first):
        transport = httpx.ASGITransport(app=first)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await sign_in(client)
            cookie = client.cookies["tts_admin"]
        rows = await first.state.store.read(
            lambda c: c.execute(text("SELECT count(*) FROM sessions")).scalar_one()
        )
        assert rows == 1
    rotated = create_app(
        settings.model_copy(update={"editor_token": SecretStr("b" * 24)}), engines={"espeak": espeak}
    )
    async with rotated.router.lifespan_context(rotated):
        rows = await rotated.state.store.read(
            lambda c: c.execute(text("SELECT count(*) FROM sessions")).scalar_one()
        )
        assert rows == 0
        transport = httpx.ASGITransport(app=rotated)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            assert (await client.get("/admin", headers={"Cookie": f"tts_admin={cookie}"})).status_code == 303


async def test_disabled_without_an_editor_token(app: FastAPI, client: httpx.AsyncClient) -> None:
    form = await client.get("/admin/login")
    app.state.settings.editor_token = None
    page = await client.get("/admin/login")
    assert page.status_code == 403
    assert "编辑入口已关闭" in page.text and 'name="token"' not in page.text
    response = await client.post("/admin/login", data={"csrf": csrf_of(form), "token": ""})
    assert response.status_code == 403 and "set-cookie" not in response.headers
    assert await redirects_to_login(client)


# --- CSRF and origin -----------------------------------------------------------------------------------

POSTS = [
    ("/admin/logout", {}),
    ("/admin/articles/lib/regenerate", {}),
    ("/admin/articles/lib/delete", {}),
    ("/admin/lexicon", {"written": "新词", "spoken": "新读法"}),
    ("/admin/lexicon/delete", {"written": "ANSO"}),
    ("/admin/articles/preview", {"title": "新文章", "text": "新的一句。", "slug": "fresh"}),
    ("/admin/articles/form", {"title": "新文章", "text": "新的一句。"}),
    ("/admin/articles/publish", {"title": "新文章", "text": "新的一句。", "slug": "fresh"}),
    ("/admin/import", {"html": "<h1>标题</h1><p>导入的正文有一句话。</p>"}),
    ("/admin/articles/lib/revisions/1/restore", {}),
]


async def _state(client: httpx.AsyncClient, app: FastAPI, espeak) -> tuple:
    store = app.state.store
    return (
        [a.slug for a in await store.list_articles()],
        await store.lexicon(),
        len(espeak.calls),
        (await client.get("/admin")).status_code,  # still signed in
    )


@pytest.mark.parametrize(("path", "data"), POSTS)
async def test_posts_without_the_right_csrf_token_are_403(
    app: FastAPI, client: httpx.AsyncClient, espeak, path: str, data: dict
) -> None:
    await create(client)
    await wait_ready(client, "lib")
    await app.state.store.put_lexicon("ANSO", "安索")
    csrf = await sign_in(client)
    before = await _state(client, app, espeak)
    for token in (None, "", "wrong", csrf[:-1]):
        form = data if token is None else {**data, "csrf": token}
        response = await client.post(path, data=form)
        assert response.status_code == 403, (token, response.text)
        assert '<html lang="zh-CN"' in response.text  # a page, not a traceback
    client.cookies.delete("tts_admin")
    assert (await client.post(path, data={**data, "csrf": csrf})).status_code == 403  # no session
    await sign_in(client)
    assert await _state(client, app, espeak) == before


async def test_sign_in_needs_its_csrf_token(client: httpx.AsyncClient) -> None:
    form = await client.get("/admin/login")
    for data in ({"token": TOKEN}, {"token": TOKEN, "csrf": "wrong"}):
        response = await client.post("/admin/login", data=data)
        assert response.status_code == 403 and "set-cookie" not in response.headers
    client.cookies.clear()  # a token from the page, but not the pre-session cookie that goes with it
    response = await client.post("/admin/login", data={"token": TOKEN, "csrf": csrf_of(form)})
    assert response.status_code == 403
    assert await redirects_to_login(client)


@pytest.mark.parametrize(("path", "data"), POSTS)
async def test_cross_origin_posts_are_403(
    app: FastAPI, client: httpx.AsyncClient, espeak, path: str, data: dict
) -> None:
    await create(client)
    await wait_ready(client, "lib")
    await app.state.store.put_lexicon("ANSO", "安索")
    form = {**data, "csrf": await sign_in(client)}
    before = await _state(client, app, espeak)
    for origin in ("http://evil.example", "https://testserver", "http://testserver:8080", "null"):
        response = await client.post(path, data=form, headers={"Origin": origin})
        assert response.status_code == 403, origin
    assert await _state(client, app, espeak) == before
    same = await client.post(path, data=form, headers={"Origin": "http://testserver"})
    assert same.status_code in (200, 303)  # a page (preview, form), or an action done


async def test_cross_origin_sign_in_is_403(client: httpx.AsyncClient) -> None:
    form = {"csrf": csrf_of(await client.get("/admin/login")), "token": TOKEN}
    response = await client.post("/admin/login", data=form, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403 and "set-cookie" not in response.headers
    same = await client.post("/admin/login", data=form, headers={"Origin": "http://testserver"})
    assert same.status_code == 303


# --- articles ------------------------------------------------------------------------------------------


async def test_list_shows_status_engine_and_voice(app: FastAPI, client: httpx.AsyncClient) -> None:
    await create(client)
    manifest = await wait_ready(client, "lib")
    await app.state.store.save_article(ArticleDraft(title="待生成", text="还没有音频。", slug="later"))
    await sign_in(client)
    page = await client.get("/admin")
    assert page.headers["cache-control"] == "no-store"
    row = page.text[page.text.index('href="http://testserver/articles/lib"') :].split("</tr>")[0]
    assert ">社区图书馆</a>" in row and '<code class="slug">lib</code>' in row
    assert "已就绪" in row and f'class="engine-voice">{manifest["engine"]} · {manifest["voice"]}</td>' in row
    later = page.text[page.text.index('href="http://testserver/articles/later"') :].split("</tr>")[0]
    assert "未完成（已生成 0%）" in later and 'class="engine-voice">espeak · cmn</td>' in later
    for label in ("编辑", "修订记录", "重新生成", "删除"):
        assert f'aria-label="{label}：社区图书馆">{label}</' in row
    assert '<th scope="col">音频</th>' in page.text


@pytest.mark.parametrize(
    ("status", "error", "label"),
    [("ready", None, "已就绪"), ("pending", None, "未完成（已生成 100%）"), ("failed", "boom", "生成失败")],
)
def test_audio_status(status: str, error: str | None, label: str) -> None:
    manifest = Manifest(Plan("espeak", "cmn", Prosody(), ()), {}, AudioStatus(status), error)
    shown = audio_status(manifest)
    assert (shown.state, shown.label, shown.detail) == (status, label, error)


async def test_regenerate_starts_synthesis(app: FastAPI, client: httpx.AsyncClient, espeak) -> None:
    await app.state.store.save_article(ArticleDraft(**ARTICLE))  # stored, never started
    csrf = await sign_in(client)
    calls = len(espeak.calls)
    response = await client.post("/admin/articles/lib/regenerate", data={"csrf": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "http://testserver/admin?done=regenerating"
    assert (await wait_ready(client, "lib"))["status"] == "ready"
    assert len(espeak.calls) > calls
    page = await client.get(response.headers["location"])
    assert '<p class="notice" role="status">已开始重新生成音频。</p>' in page.text and "已就绪" in page.text
    assert (await client.post("/admin/articles/nope/regenerate", data={"csrf": csrf})).status_code == 404


async def test_a_slug_with_a_newline_cannot_be_made_so_delete_cannot_hit_another(
    client: httpx.AsyncClient,
) -> None:
    """As found: "abc\\n" was accepted, and its 删除 button (the browser drops the newline from the URL)
    deleted the article "abc"."""
    assert (await create(client, {**ARTICLE, "slug": "abc"})).status_code == 201
    refused = await create(client, {**ARTICLE, "slug": "abc\n"})
    assert refused.status_code == 422
    assert [a["slug"] for a in (await client.get("/api/articles")).json()] == ["abc"]
    imported = await client.post(
        "/api/articles/import?slug=abc%0A",
        content="<h1>标题</h1><p>正文一句。</p>",
        headers={**AUTH, "Content-Type": "text/html"},
    )
    assert imported.status_code == 422


async def test_delete_asks_first_then_deletes(app: FastAPI, client: httpx.AsyncClient) -> None:
    await create(client)
    await create(client, {**ARTICLE, "slug": "other", "title": "另一篇"})
    csrf = await sign_in(client)
    confirm = await client.get("/admin/articles/lib/delete")
    assert confirm.status_code == 200 and "《社区图书馆》" in confirm.text
    assert 'action="http://testserver/admin/articles/lib/delete"' in confirm.text
    assert csrf_of(confirm) == csrf
    response = await client.post("/admin/articles/lib/delete", data={"csrf": csrf})
    assert response.status_code == 303
    with pytest.raises(NotFound):
        await app.state.store.get_article("lib")
    page = await client.get(response.headers["location"])
    assert "文章已删除。" in page.text and "社区图书馆" not in page.text and "另一篇" in page.text
    assert (await client.get("/admin/articles/lib/delete")).status_code == 404
    assert (await client.post("/admin/articles/lib/delete", data={"csrf": csrf})).status_code == 404


# --- lexicon -------------------------------------------------------------------------------------------


async def test_lexicon_add_replace_and_remove(app: FastAPI, client: httpx.AsyncClient) -> None:
    store = app.state.store
    csrf = await sign_in(client)
    response = await client.post("/admin/lexicon", data={"csrf": csrf, "written": " ANSO ", "spoken": "安索"})
    assert response.status_code == 303
    assert response.headers["location"] == "http://testserver/admin?done=lexicon-saved"
    assert await store.lexicon() == {"ANSO": "安索"}
    page = await client.get("/admin")
    assert '<th scope="row">ANSO</th>' in page.text and "<td>安索</td>" in page.text
    await client.post("/admin/lexicon", data={"csrf": csrf, "written": "ANSO", "spoken": "安所"})
    assert await store.lexicon() == {"ANSO": "安所"}
    response = await client.post("/admin/lexicon/delete", data={"csrf": csrf, "written": "ANSO"})
    assert response.status_code == 303 and response.headers["location"].endswith("done=lexicon-removed")
    assert await store.lexicon() == {}
    assert "词典还是空的" in (await client.get("/admin")).text


@pytest.mark.parametrize(
    ("written", "spoken", "message"),
    [
        ("", "读法", "写法须为 1 到 100 个字符的一行文字。"),
        ("A\nB", "读法", "写法须为 1 到 100 个字符的一行文字。"),
        ("写法", "   ", "读法须为 1 到 200 个字符的一行文字。"),
        ("长" * 101, "", "写法须为 1 到 100 个字符的一行文字；读法须为 1 到 200 个字符的一行文字。"),
    ],
)
async def test_invalid_lexicon_entry_is_422_with_a_message(
    app: FastAPI, client: httpx.AsyncClient, written: str, spoken: str, message: str
) -> None:
    csrf = await sign_in(client)
    response = await client.post("/admin/lexicon", data={"csrf": csrf, "written": written, "spoken": spoken})
    assert response.status_code == 422
    assert f'<p class="form-error" role="alert">{message}</p>' in response.text
    assert "Traceback" not in response.text and csrf_of(response) == csrf
    assert await app.state.store.lexicon() == {}


async def test_removing_an_unknown_entry_is_404(client: httpx.AsyncClient) -> None:
    csrf = await sign_in(client)
    response = await client.post("/admin/lexicon/delete", data={"csrf": csrf, "written": "无"})
    assert response.status_code == 404


# --- output safety -------------------------------------------------------------------------------------


async def test_markup_is_shown_as_text(app: FastAPI, client: httpx.AsyncClient) -> None:
    await create(client, {"title": '<script>alert(1)</script>"标题"', "text": "正文。", "slug": "hostile"})
    written, spoken = '<b onclick="x">"写"</b>', "<script>alert(2)</script>"
    await app.state.store.put_lexicon(written, spoken)
    csrf = await sign_in(client)
    for page in (await client.get("/admin"), await client.get("/admin/articles/hostile/delete")):
        assert "<script>alert" not in page.text and "<b onclick" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;标题&#34;" in page.text
    page = (await client.get("/admin")).text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert 'name="written" value="&lt;b onclick=&#34;x&#34;&gt;&#34;写&#34;&lt;/b&gt;"' in page
    typed = await client.post("/admin/lexicon", data={"csrf": csrf, "written": '"><script>', "spoken": ""})
    assert typed.status_code == 422 and 'value="&#34;&gt;&lt;script&gt;"' in typed.text
    removed = await client.post("/admin/lexicon/delete", data={"csrf": csrf, "written": written})
    assert removed.status_code == 303
    assert await app.state.store.lexicon() == {}


@pytest.mark.parametrize("done", ["<script>alert(1)</script>", "deleted%22", "unknown"])
async def test_notices_come_from_a_fixed_set(client: httpx.AsyncClient, done: str) -> None:
    await sign_in(client)
    page = await client.get("/admin", params={"done": done})
    assert page.status_code == 200 and 'class="notice"' not in page.text and "alert(1)" not in page.text
    assert "文章已删除。" in (await client.get("/admin", params={"done": "deleted"})).text


async def test_lexicon_limit_and_job_state_are_shown(app: FastAPI, client: httpx.AsyncClient, settings):
    app.state.settings = settings.model_copy(update={"max_lexicon_entries": 1})
    csrf = await sign_in(client)
    first = await client.post("/admin/lexicon", data={"written": "甲", "spoken": "一", "csrf": csrf})
    assert first.status_code == 303
    full = await client.post("/admin/lexicon", data={"written": "乙", "spoken": "二", "csrf": csrf})
    assert full.status_code == 413 and "limit" in full.text and 'value="乙"' in full.text
    assert await app.state.store.lexicon() == {"甲": "一"}
    await create(client)
    await wait_ready(client, "lib")
    page = (await client.get("/admin")).text
    assert "已就绪" in page
