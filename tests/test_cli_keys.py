"""``tts-service keys``, run in process against a temporary TTS_HOME: the secret printed once, one-line errors
with the exit statuses of the other commands, and the list an operator reads."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tts_service.cli import app
from tts_service.keys import ApiKeys, secret_hash
from tts_service.store import Store

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"TTS_HOME": str(tmp_path)}


def run(env: dict[str, str], *args: str):
    return runner.invoke(app, list(args), env=env)


def test_create_prints_the_secret_alone_on_stdout_once(env: dict[str, str], tmp_path: Path) -> None:
    made = run(env, "keys", "create", "reader-app", "--rate", "60/min", "--chars-per-day", "5000")
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("tts_") and len(secret) == 47 and "\n" not in secret
    assert "will not be shown again" in made.stderr and "60/min, 5000 chars/day" in made.stderr
    listed = run(env, "keys", "list")
    assert listed.exit_code == 0
    assert secret not in listed.output
    heading, row = listed.stdout.splitlines()
    assert heading.split()[:4] == ["NAME", "PREFIX", "RATE", "CHARS/DAY"]
    assert row.split()[:8] == ["reader-app", secret[:8], "60/min", "5000", "0", "0", "0", "0"]
    assert row.split()[-1] == "-"  # not revoked

    async def stored() -> str:
        store = Store(tmp_path / "tts.db")
        try:
            found = await ApiKeys(store).verify(secret)
            assert found is not None
            return found.name
        finally:
            store.close()

    assert asyncio.run(stored()) == "reader-app"  # the printed secret is the key's
    assert secret_hash(secret) != secret


@pytest.mark.parametrize(("rate", "stored"), [("60", "60/min"), ("60/min", "60/min"), (" 5 / MIN ", "5/min")])
def test_rate_is_written_as_a_number_or_per_minute(env: dict[str, str], rate: str, stored: str) -> None:
    assert run(env, "keys", "create", "app", "--rate", rate).exit_code == 0
    assert run(env, "keys", "list").stdout.splitlines()[1].split()[2] == stored


def test_an_unlimited_key_lists_dashes(env: dict[str, str]) -> None:
    assert run(env, "keys", "create", "app").exit_code == 0
    assert run(env, "keys", "list").stdout.splitlines()[1].split()[2:4] == ["-", "-"]


@pytest.mark.parametrize("rate", ["x", "0", "60/hour", "-1", "1.5"])
def test_a_bad_rate_is_one_line_and_exit_2(env: dict[str, str], rate: str) -> None:
    result = run(env, "keys", "create", "app", "--rate", rate)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: --rate takes requests a minute above 0, as 60 or 60/min, not {rate!r}"
    ]
    assert run(env, "keys", "list").stdout.strip() == "no keys yet: tts-service keys create NAME"


def test_a_duplicate_or_bad_name_is_one_line_and_exit_1(env: dict[str, str]) -> None:
    assert run(env, "keys", "create", "app").exit_code == 0
    again = run(env, "keys", "create", "app")
    assert again.exit_code == 1 and again.stdout == ""
    assert again.stderr == "error: a key named 'app' exists already\n"
    bad = run(env, "keys", "create", "two words")
    assert bad.exit_code == 1 and bad.stderr.startswith("error: a key's name is 1 to 64 letters")
    assert len(bad.stderr.splitlines()) == 1


def test_revoke_shows_in_the_list_and_an_unknown_name_is_exit_1(env: dict[str, str]) -> None:
    run(env, "keys", "create", "app")
    revoked = run(env, "keys", "revoke", "app")
    assert revoked.exit_code == 0 and revoked.stdout.startswith("revoked key 'app' (since ")
    again = run(env, "keys", "revoke", "app")
    assert again.exit_code == 0 and again.stdout == revoked.stdout  # the same time: nothing changed
    assert run(env, "keys", "list").stdout.splitlines()[1].split()[-1] != "-"
    unknown = run(env, "keys", "revoke", "nobody")
    assert unknown.exit_code == 1 and unknown.stderr == "error: no key named 'nobody'\n"
