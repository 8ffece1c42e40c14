"""The editor's sign-in session: a signed cookie holding a CSRF token, keyed by the editor token.

The session is stateless. Its signing key is derived from TTS_EDITOR_TOKEN, so rotating the token ends every
session at once; nothing is stored on the server. The cookie carries only a random CSRF token, which every
form of the editor page must send back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Form, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import SecretStr

from tts_service.config import Settings
from tts_service.errors import Forbidden
from tts_service.web.deps import SettingsDep

SESSION_COOKIE = "tts_admin"
LOGIN_COOKIE = "tts_admin_login"  # the pre-session CSRF token of the sign-in form
COOKIE_PATH = "/admin"
LOGIN_FORM_SECONDS = 3600
_KEY_CONTEXT = b"tts-admin-session"


def _serializer(token: SecretStr, purpose: str) -> URLSafeTimedSerializer:
    key = hmac.new(token.get_secret_value().encode(), _KEY_CONTEXT, hashlib.sha256).digest()
    return URLSafeTimedSerializer(key, salt=f"tts-admin-{purpose}")


def _session_seconds(settings: Settings) -> int:
    return max(1, int(settings.session_hours * 3600))


def _load(request: Request, settings: Settings, cookie: str, max_age: int) -> str | None:
    """The CSRF token in a valid ``cookie``; None if missing, tampered, expired or signed with another key."""
    value = request.cookies.get(cookie)
    if value is None or settings.editor_token is None:
        return None
    try:
        payload = _serializer(settings.editor_token, cookie).loads(value, max_age=max_age)
    except BadSignature:  # also SignatureExpired, and payloads that are not JSON
        return None
    csrf = payload.get("csrf") if isinstance(payload, dict) else None
    return csrf if isinstance(csrf, str) and csrf else None


def _issue(
    request: Request, response: Response, settings: Settings, cookie: str, csrf: str, max_age: int
) -> None:
    """Set ``cookie`` holding ``csrf``, signed now."""
    assert settings.editor_token is not None
    value = _serializer(settings.editor_token, cookie).dumps({"csrf": csrf})
    response.set_cookie(
        cookie, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="strict",
        secure=request.url.scheme == "https",
    )  # fmt: skip


def current(request: Request, settings: Settings) -> str | None:
    """The signed-in editor's CSRF token, or None when there is no valid session."""
    return _load(request, settings, SESSION_COOKIE, _session_seconds(settings))


def start(request: Request, response: Response, settings: Settings) -> None:
    """Sign in: a new session with a new CSRF token; the sign-in form's token is no longer needed."""
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    csrf = secrets.token_urlsafe(32)
    _issue(request, response, settings, SESSION_COOKIE, csrf, _session_seconds(settings))


def end(response: Response) -> None:
    """Sign out: the browser forgets the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def login_csrf(request: Request, settings: Settings) -> str:
    """The sign-in form's CSRF token: that of a still valid pre-session cookie (other tabs), or a new one."""
    return _load(request, settings, LOGIN_COOKIE, LOGIN_FORM_SECONDS) or secrets.token_urlsafe(32)


def keep_login_csrf(request: Request, response: Response, settings: Settings, csrf: str) -> None:
    """Set the pre-session cookie that the sign-in form's ``csrf`` field must match."""
    _issue(request, response, settings, LOGIN_COOKIE, csrf, LOGIN_FORM_SECONDS)


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


def _require_session(request: Request, settings: SettingsDep, csrf: Annotated[str, Form()] = "") -> str:
    check_origin(request)
    expected = current(request, settings)
    if expected is None:
        raise Forbidden("登录已失效，请重新登录编辑页后再提交。")
    check_csrf(expected, csrf)
    return expected


def _require_login_form(request: Request, settings: SettingsDep, csrf: Annotated[str, Form()] = "") -> None:
    check_origin(request)
    if settings.editor_token is None:
        raise Forbidden("编辑入口已关闭：服务器未设置编辑令牌（TTS_EDITOR_TOKEN）。")
    expected = _load(request, settings, LOGIN_COOKIE, LOGIN_FORM_SECONDS)
    if expected is None:
        raise Forbidden("登录表单已过期，请重新打开登录页。")
    check_csrf(expected, csrf)


# For the editor's POST handlers: a signed-in session and its CSRF token in the form, from this origin.
# ``SessionForm`` hands the token to the handler (to render forms again); ``EditorForm`` only checks.
SessionForm = Annotated[str, Depends(_require_session)]
EditorForm = Depends(_require_session)
# For the sign-in form: the pre-session CSRF token, from this origin.
LoginForm = Depends(_require_login_form)
