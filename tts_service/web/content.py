"""Which paths answer in JSON (apps, players, monitors) and which in HTML pages (people): one rule for the
app's error handlers and for the middleware's own answers."""

from __future__ import annotations

_OPS = frozenset({"/healthz", "/metrics"})


def wants_json(path: str) -> bool:
    """True for the API, audio and feed URLs and the operations endpoints; pages are for people."""
    return path.startswith(("/api/", "/audio/")) or path.endswith((".mp3", ".vtt", ".xml")) or path in _OPS
