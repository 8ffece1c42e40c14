"""The editor's sign-in session: a cookie holding a random secret, and a row for it in the store.

The row (``tts_service.sessions``) holds the session's CSRF token, which every form of the editor page must
send back, and a fingerprint of the editor token: signing out deletes the row, and a new editor token no
longer matches it, so either ends the session at once, for every copy of the cookie. The sign-in form's
own CSRF token lives in a short-lived signed cookie (nothing to revoke before anyone has signed in).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Form, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from tts_service.config import Settings
from tts_service.errors import Forbidden
from tts_service.sessions import SessionStore
from tts_service.web.auth import precheck
from tts_service.web.deps import SettingsDep

SESSION_COOKIE = "tts_admin"
LOGIN_COOKIE = "tts_admin_login"  # the pre-session CSRF token of the sign-in form
COOKIE_PATH = "/admin"
LOGIN_FORM_SECONDS = 3600
_KEY_CONTEXT = b"tts-admin-session"
_EXPIRED = "登录已失效，请重新登录编辑页后再提交。"


def _fingerprint(key: str, purpose: bytes) -> bytes:
    return hmac.new(key.encode(), _KEY_CONTEXT + purpose, hashlib.sha256).digest()


def _sessions(request: Request) -> SessionStore:
    sessions: SessionStore = request.app.state.sessions
    return sessions


def _session_seconds(settings: Settings) -> int:
    return max(1, int(settings.session_hours * 3600))


def token_fingerprint(settings: Settings) -> str | None:
    """What a session remembers of the editor token it was opened with (never the token itself)."""
    key = settings.editor_key
    return None if key is None else _fingerprint(key, b":sessions").hex()


def _cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


async def current(request: Request, settings: Settings) -> str | None:
    """The signed-in editor's CSRF token, or None when there is no live session."""
    cached: str | None = getattr(request.state, "admin_csrf", None)
    if cached is not None:
        return cached
    secret, token = request.cookies.get(SESSION_COOKIE), token_fingerprint(settings)
    if not secret or token is None:
        return None
    csrf = await _sessions(request).find(secret, token)
    request.state.admin_csrf = csrf
    return csrf


async def start(request: Request, response: Response, settings: Settings) -> None:
    """Sign in: a new session with a new CSRF token; the sign-in form's token is no longer needed."""
    token = token_fingerprint(settings)
    assert token is not None
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    secret, _ = await _sessions(request).open(token, _session_seconds(settings))
    _cookie(request, response, SESSION_COOKIE, secret, _session_seconds(settings))


async def end(request: Request, response: Response) -> None:
    """Sign out: the session ends on the server, and the browser forgets its cookie."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await _sessions(request).close(secret)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


# --- the sign-in form's pre-session CSRF token ----------------------------------------------------------


def _login_serializer(key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_fingerprint(key, b""), salt=f"tts-admin-{LOGIN_COOKIE}")


def _login_token(request: Request, settings: Settings) -> str | None:
    """The CSRF token in a valid pre-session cookie; None if missing, tampered, expired or of another key."""
    value, key = request.cookies.get(LOGIN_COOKIE), settings.editor_key
    if value is None or key is None:
        return None
    try:
        payload = _login_serializer(key).loads(value, max_age=LOGIN_FORM_SECONDS)
    except BadSignature:  # also SignatureExpired, and payloads that are not JSON
        return None
    csrf = payload.get("csrf") if isinstance(payload, dict) else None
    return csrf if isinstance(csrf, str) and csrf else None


def login_csrf(request: Request, settings: Settings) -> str:
    """The sign-in form's CSRF token: that of a still valid pre-session cookie (other tabs), or a new one."""
    return _login_token(request, settings) or secrets.token_urlsafe(32)


def keep_login_csrf(request: Request, response: Response, settings: Settings, csrf: str) -> None:
    """Set the pre-session cookie that the sign-in form's ``csrf`` field must match."""
    assert settings.editor_key is not None
    value = _login_serializer(settings.editor_key).dumps({"csrf": csrf})
    _cookie(request, response, LOGIN_COOKIE, value, LOGIN_FORM_SECONDS)


# --- checks on every form -------------------------------------------------------------------------------


def check_origin(request: Request) -> None:
    """Refuse a form posted from another origin: browsers send Origin with every POST."""
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin is not None and origin.lower() != own.lower():
        raise Forbidden("请求来自其他网站，已拒绝。")


def check_csrf(expected: str, given: str) -> None:
    """Refuse a form whose CSRF token is missing or not the one its cookie holds."""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Forbidden("表单已失效，请返回编辑页重新提交。")


async def _session_first(request: Request) -> None:
    """Before the form is read: from this origin, with a live session."""
    check_origin(request)
    if await current(request, request.app.state.settings) is None:
        raise Forbidden(_EXPIRED)


@precheck(_session_first)
async def _require_session(request: Request, settings: SettingsDep, csrf: Annotated[str, Form()] = "") -> str:
    check_origin(request)
    expected = await current(request, settings)
    if expected is None:
        raise Forbidden(_EXPIRED)
    check_csrf(expected, csrf)
    return expected


async def _login_form_first(request: Request) -> None:
    check_origin(request)
    if request.app.state.settings.editor_key is None:
        raise Forbidden("编辑入口已关闭：服务器未设置有效的编辑令牌（TTS_EDITOR_TOKEN，至少 16 个字符）。")


@precheck(_login_form_first)
async def _require_login_form(
    request: Request, settings: SettingsDep, csrf: Annotated[str, Form()] = ""
) -> None:
    await _login_form_first(request)
    expected = _login_token(request, settings)
    if expected is None:
        raise Forbidden("登录表单已过期，请重新打开登录页。")
    check_csrf(expected, csrf)


# For the editor's POST handlers: a signed-in session and its CSRF token in the form, from this origin.
# ``SessionForm`` hands the token to the handler (to render forms again); ``EditorForm`` only checks.
SessionForm = Annotated[str, Depends(_require_session)]
EditorForm = Depends(_require_session)
# For the sign-in form: the pre-session CSRF token, from this origin.
LoginForm = Depends(_require_login_form)
