"""Schemathesis against the OpenAPI schema of a real server: no 5xx, and every response fits the schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from helpers import AUTH, LiveServer
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance
from schemathesis.core.failures import FailureGroup

pytestmark = pytest.mark.e2e

EXAMPLES = 60  # per operation: bounded, so the run stays well under a minute


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home: Path = tmp_path_factory.mktemp("schema")
    env = {"TTS_ENGINE": "espeak", "TTS_FALLBACK_ENGINE": "", "TTS_MAX_ARTICLE_CHARS": "2000"}
    server = LiveServer(home, **env).start()
    try:
        # Something for the read operations to find: a ready article and a lexicon entry.
        body = {"title": "接口测试", "slug": "demo", "text": "第一句。第二句！\n\n第二段。"}
        httpx.post(f"{server.url}/api/articles", json=body, headers=AUTH).raise_for_status()
        httpx.post(f"{server.url}/api/lexicon", json={"written": "ANSO", "spoken": "安索"}, headers=AUTH)
        yield server
    finally:
        server.stop()


def test_api_keeps_its_schema(live: LiveServer) -> None:
    """As an editor (with the token), every operation answers without a server error and as documented.

    Driven through schemathesis's Python API, one hypothesis run per operation (its pytest plugin does not
    work with pytest 9), with every failure collected before the test fails.
    """
    api = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def run(case) -> None:
            case.call_and_validate(headers=AUTH, checks=checks)

        try:
            run()
        except (AssertionError, FailureGroup) as exc:  # how schemathesis reports failed checks
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"== {label}\n{text}" for label, text in failures.items())
    assert "Traceback" not in (live.home / "server.log").read_text(errors="replace")


def test_audio_answers_are_documented(live: LiveServer) -> None:
    """The MP3 routes answer audio/mpeg, and say so in the schema (schemathesis found HEAD of a pending
    article's stable MP3 URL answering audio/mpeg where the schema said only JSON)."""
    schema = httpx.get(f"{live.url}/openapi.json").json()
    for path in ("/articles/{slug}/audio.mp3", "/audio/{key}.mp3"):
        for method in ("get", "head"):
            documented = schema["paths"][path][method]["responses"]["200"]["content"]
            assert "audio/mpeg" in documented, (path, method)
    body = {"title": "等待", "slug": "pending-mp3", "text": "还在生成的一句。"}
    httpx.post(f"{live.url}/api/articles", json=body, headers=AUTH).raise_for_status()
    answer = httpx.head(f"{live.url}/articles/pending-mp3/audio.mp3")
    assert answer.status_code in (200, 302)
    if answer.status_code == 200:
        assert answer.headers["content-type"] == "audio/mpeg"
