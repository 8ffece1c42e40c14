"""Structured logs: JSON lines, request ids on every record, one access line per request."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from tts_service.logs import REQUEST_ID, JsonFormatter, RequestIdFilter, request_id


@pytest.mark.parametrize("incoming", ["abc", "A-b_c.9", "x" * 64])
def test_request_id_keeps_a_well_formed_id(incoming: str) -> None:
    assert request_id(incoming) == incoming


@pytest.mark.parametrize("incoming", [None, "", "x" * 65, "a b", "a\nb", 'a"b', "日志", "a/b"])
def test_request_id_replaces_anything_else(incoming: str | None) -> None:
    new = request_id(incoming)
    assert new != incoming and len(new) == 32 and int(new, 16) >= 0


def _record(msg: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    record = logging.getLogger("tts_service.test").makeRecord(
        "tts_service.test", logging.WARNING, __file__, 1, msg, args or ("world",), None, extra=extra
    )
    RequestIdFilter().filter(record)
    return record


def test_json_line_has_the_fields_and_extras() -> None:
    token = REQUEST_ID.set("req-1")
    try:
        line = JsonFormatter().format(_record(slug="lib", count=3, path=object()))
    finally:
        REQUEST_ID.reset(token)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "WARNING" and entry["logger"] == "tts_service.test"
    assert entry["message"] == "hello world"
    assert entry["request_id"] == "req-1"
    assert (entry["slug"], entry["count"]) == ("lib", 3)
    assert entry["path"].startswith("<object object")  # not JSON: logged as its text
    assert entry["time"].endswith("+00:00")
    assert not {"args", "msg", "levelno", "pathname", "exc_info"} & set(entry)


def test_json_line_outside_a_request_and_with_an_exception() -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        record = _record("failed: %s", "文章")
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line  # a traceback stays on the one line
    assert entry["request_id"] is None
    assert entry["message"] == "failed: 文章"
    assert "ValueError: bad\nvalue" in entry["exc_info"]


@pytest.fixture
def log_lines(app: FastAPI) -> Iterator[io.StringIO]:
    """Everything logged at INFO and up while the test runs, as the service writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _entries(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_one_access_line_per_request(client: httpx.AsyncClient, log_lines: io.StringIO) -> None:
    first = await client.get("/api/articles/nope?x=1", headers={"X-Request-ID": "trace-1"})
    second = await client.get("/no/such/page")
    access = [e for e in _entries(log_lines) if e["logger"] == "tts_service.access"]
    assert len(access) == 2
    one, two = access
    assert one["request_id"] == first.headers["x-request-id"] == "trace-1"
    assert (one["method"], one["path"], one["route"], one["status"]) == (
        "GET",
        "/api/articles/nope",
        "/api/articles/{slug}",
        404,
    )
    assert one["client"] == "127.0.0.1"
    assert isinstance(one["duration_ms"], float) and one["duration_ms"] >= 0
    assert two["request_id"] == second.headers["x-request-id"]
    assert (two["route"], two["status"]) == ("unmatched", 404)


async def test_app_log_lines_carry_the_request_id(
    app: FastAPI, client: httpx.AsyncClient, log_lines: io.StringIO
) -> None:
    async def noisy() -> dict:
        logging.getLogger("tts_service.handler").warning("inside the handler")
        return {}

    app.add_api_route("/api/noisy", noisy)
    response = await client.get("/api/noisy")
    inside = [e for e in _entries(log_lines) if e["message"] == "inside the handler"]
    assert [e["request_id"] for e in inside] == [response.headers["x-request-id"]]
    assert REQUEST_ID.get() is None  # reset once the request is done


def test_uvicorn_log_config_writes_json_lines() -> None:
    """The config the CLI hands uvicorn, applied in a fresh interpreter (it replaces global logging)."""
    script = """
import logging, logging.config
from tts_service.logs import REQUEST_ID, uvicorn_log_config
early = logging.getLogger("tts_service.early")  # created before the config, as modules' loggers are
logging.config.dictConfig(uvicorn_log_config("info"))
REQUEST_ID.set("abc")
early.info("from a module", extra={"slug": "lib"})
logging.getLogger("uvicorn.error").info("Started server process", extra={"color_message": "\\x1b[1m"})
logging.getLogger("tts_service.early").debug("below the level")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    entries = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(e["logger"], e["message"], e["request_id"]) for e in entries] == [
        ("tts_service.early", "from a module", "abc"),
        ("uvicorn.error", "Started server process", "abc"),
    ]
    assert entries[0]["slug"] == "lib"
    assert "color_message" not in entries[1]
    assert done.stdout == ""


def test_access_lines_can_be_turned_off() -> None:
    """TTS_ACCESS_LOG=0 (a front server logs the requests): no access line, every other line as before."""
    script = """
import logging, logging.config
from tts_service.logs import uvicorn_log_config
logging.config.dictConfig(uvicorn_log_config("info", access=False))
logging.getLogger("tts_service.access").info("GET / 200")
logging.getLogger("tts_service.access").warning("kept: not a request line")
logging.getLogger("tts_service.pipeline").info("job 1 done")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    entries = [json.loads(line) for line in done.stderr.splitlines()]
    assert [e["message"] for e in entries] == ["kept: not a request line", "job 1 done"]


@pytest.mark.parametrize("on", [True, False])
def test_serve_follows_the_access_log_setting(tmp_path, on: bool) -> None:
    from tts_service.config import Settings
    from tts_service.web.server import build_server

    config = build_server(Settings(home=tmp_path, access_log=on)).config.log_config
    assert isinstance(config, dict)
    assert config["loggers"]["tts_service.access"]["level"] == ("INFO" if on else "WARNING")
