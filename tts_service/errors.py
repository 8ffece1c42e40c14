"""One base exception with specific subclasses; the web layer maps them to HTTP status codes."""

from __future__ import annotations

import math

from pydantic import ValidationError


class TTSError(Exception):
    """Base class for every error the service reports to a user."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def headers(self) -> dict[str, str]:
        """Extra response headers the error calls for."""
        return {}

    def body(self) -> dict[str, object]:
        """The JSON answer: ``code`` and ``message``, and ``detail`` (the same text) for clients written
        before ``message`` was added."""
        return {"code": self.code, "message": self.message, "detail": self.message}


class InvalidInput(TTSError):
    status_code = 422
    code = "invalid_input"


class InvalidSSML(TTSError):
    """SSML that is malformed or outside the supported subset; the message names the element or attribute.
    Not an InvalidInput: handlers that catch those say other things (an engine or voice that is invalid)."""

    status_code = 400
    code = "invalid_ssml"


def invalid_input(exc: ValidationError) -> InvalidInput:
    """One readable InvalidInput from a pydantic ValidationError ("title: String should have…")."""
    return InvalidInput("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))


class TooLarge(TTSError):
    status_code = 413
    code = "too_large"


class RequestTimeout(TTSError):
    """A client sent its request too slowly (a slow link, or a slowloris holding connections open)."""

    status_code = 408
    code = "request_timeout"


class NotFound(TTSError):
    status_code = 404
    code = "not_found"


class NoArticle(NotFound):
    """No article has this slug (readers get the page 没有找到这篇文章)."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"no article {slug!r}")
        self.slug = slug


class NotReady(TTSError):
    """What was asked for depends on audio that is still being made (or failed)."""

    status_code = 409
    code = "not_ready"


class Unauthorized(TTSError):
    status_code = 401
    code = "unauthorized"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(TTSError):
    """A form that did not come from this site's editor page (no session, wrong CSRF token, other origin)."""

    status_code = 403
    code = "forbidden"


class RetryLater(TTSError):
    """Base for refusals that pass: the answer says when to try again (``Retry-After``, whole seconds)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))  # rounded up: never an answer that is too early

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RateLimited(RetryLater):
    status_code = 429
    code = "rate_limited"


class Busy(RetryLater):
    """Too much work queued already: come back later."""

    status_code = 503
    code = "busy"


class StorageError(RetryLater):
    """Audio cannot be kept now (a job fails with the reason, whatever the engine): try again later."""

    status_code = 503
    code = "storage_error"

    def __init__(self, message: str, retry_after: float = 60.0) -> None:
        super().__init__(message, retry_after)


class StorageFull(StorageError):
    """The disk under the audio store or the database is full: nothing new is kept until space is freed."""

    code = "storage_full"


class Unavailable(StorageError):
    """A server the service keeps its state on cannot be reached (down, restarting, refusing us): jobs wait
    and try again (TTS_OUTAGE_WAIT), requests are answered 503 with Retry-After."""

    code = "unavailable"

    def __init__(self, message: str, retry_after: float = 5.0) -> None:
        super().__init__(message, retry_after)


class DatabaseDown(Unavailable):
    """The database (PostgreSQL) did not answer or dropped the connection."""

    code = "database_unavailable"


class AudioStoreDown(Unavailable):
    """The object store did not answer, or refused, after the retries (down, unreachable, no such bucket,
    no permission): the message says which, without credentials."""

    code = "audio_store_unavailable"


class SynthesisError(TTSError):
    """An engine failed to turn text into audio."""

    status_code = 502
    code = "synthesis_failed"


class NoWorker(SynthesisError):
    """Audio a reader waits for was queued (TTS_REDIS_URL) but no worker made it in time: none is running,
    or all are busy. Worth trying again later."""

    status_code = 503
    code = "no_worker"


class Conflict(TTSError):
    """The request contradicts what is stored (a page URL that already belongs to another article)."""

    status_code = 409
    code = "conflict"


class SlugTaken(Conflict):
    """A new article with a slug in use: never a silent overwrite (an edit is a PUT, or ``--replace``).
    ``url``, when the web layer knows it, is the existing article's page (in the body and ``Location``)."""

    def __init__(self, slug: str, url: str | None = None) -> None:
        super().__init__(f"an article with the slug {slug!r} exists already")
        self.slug, self.url = slug, url

    @property
    def headers(self) -> dict[str, str]:
        return {"Location": self.url} if self.url else {}

    def body(self) -> dict[str, object]:
        return {**super().body(), "url": self.url} if self.url else super().body()


class Unreachable(TTSError):
    """A site we were asked to read (``tts-service crawl``) did not answer, or not with what was needed."""

    status_code = 502
    code = "unreachable"


class Disallowed(TTSError):
    """A site's robots.txt does not allow us to fetch what we were asked to."""

    status_code = 403
    code = "disallowed"


class ForeignFiles(Conflict):
    """``tts-service publish`` would replace files in its output directory that it did not write."""

    code = "foreign_files"


class PublishBusy(Conflict):
    """Another ``tts-service publish`` is writing to the same output directory."""

    code = "publish_busy"


class OutputUnwritable(TTSError):
    """``tts-service publish`` cannot write into its output directory (a full disk, no permission)."""

    code = "output_unwritable"


class BadLedger(TTSError):
    """An output directory's record of published files (``.tts-published.json``) cannot be trusted."""

    code = "bad_ledger"
