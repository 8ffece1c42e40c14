"""Which answers are JSON (apps, players, monitors) and which HTML pages (people): one rule for the app's
error handlers and for the middleware's own answers."""

from __future__ import annotations

_OPS = frozenset({"/healthz", "/metrics"})


def _accepts(accept: str, media_type: str) -> bool:
    """Whether an Accept header names ``media_type`` itself (not through a wildcard) with a q above 0."""
    for item in accept.split(","):
        kind, _, params = item.partition(";")
        if kind.strip().lower() != media_type:
            continue
        q = params.replace(" ", "").lower().partition("q=")[2]
        try:
            return not q or float(q) > 0
        except ValueError:
            return True
    return False


def wants_json(path: str, accept: str = "") -> bool:
    """JSON for the APIs (ours, and OpenAI's shapes under /v1/), the audio store and the operations
    endpoints, always. For an article's audio, captions and the feed, unless a browser navigates there (its
    Accept names text/html): a reader who follows a dead link gets a page, a player gets JSON. Pages are for
    people, except for a client that asks for JSON and not HTML (an app that hit an unknown route)."""
    if path.startswith(("/api/", "/v1/", "/audio/")) or path in _OPS:
        return True
    html = _accepts(accept, "text/html")
    if path.endswith((".mp3", ".vtt", ".xml")):
        return not html
    return not html and _accepts(accept, "application/json")
