"""Command line for apps' API keys: ``tts-service keys create``, ``keys list`` and ``keys revoke``."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from tts_service.cli_errors import user_errors
from tts_service.cli_help import Group
from tts_service.config import Settings

if TYPE_CHECKING:
    from tts_service.keys import ApiKey, ApiKeys

T = TypeVar("T")
_RATE = re.compile(r"\s*(\d+)\s*(?:/\s*min)?\s*", re.IGNORECASE)

keys_app = typer.Typer(
    cls=Group, help="API keys for apps (Authorization: Bearer KEY): make, list, revoke.", no_args_is_help=True
)


def _with_keys(work: Callable[[ApiKeys], Coroutine[Any, Any, T]]) -> T:
    """Run ``work`` on the configured store's keys (only the store is opened: no engine, no audio)."""
    from tts_service.keys import ApiKeys
    from tts_service.store import Store

    with user_errors():
        store = Store(Settings().database)
        try:
            return asyncio.run(work(ApiKeys(store)))
        finally:
            store.close()


def parse_rate(value: str | None) -> int | None:
    """``--rate``: requests a minute, written ``60`` or ``60/min``; a usage error (exit 2) otherwise."""
    if value is None:
        return None
    found = _RATE.fullmatch(value)
    if found is None or int(found.group(1)) < 1:
        typer.echo(f"error: --rate takes requests a minute above 0, as 60 or 60/min, not {value!r}", err=True)
        raise typer.Exit(2)
    return int(found.group(1))


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="What the key is for (an app's name): letters, digits, . _ -")],
    rate: Annotated[
        str | None, typer.Option("--rate", metavar="N/min", help="Requests a minute (default: unlimited).")
    ] = None,
    chars_per_day: Annotated[
        int | None,
        typer.Option(min=1, metavar="N", help="Characters of text a UTC day (default: unlimited)."),
    ] = None,
) -> None:
    """Make a key and print its secret, once: only its hash is kept."""
    per_minute = parse_rate(rate)
    key, secret = _with_keys(lambda keys: keys.create(name, per_minute, chars_per_day))
    # The secret alone on stdout (KEY=$(tts-service keys create app) works); what it is, on stderr.
    typer.echo(f"created key {key.name!r} ({_limits(key)}); its secret:", err=True)
    typer.echo(secret)
    typer.echo("Keep it now: only its hash is stored, and it will not be shown again.", err=True)


def _limits(key: ApiKey) -> str:
    rate = f"{key.rate_per_minute}/min" if key.rate_per_minute else "unlimited requests"
    chars = f"{key.chars_per_day} chars/day" if key.chars_per_day else "unlimited chars"
    return f"{rate}, {chars}"


_HEADINGS = (
    "NAME",
    "PREFIX",
    "RATE",
    "CHARS/DAY",
    "REQUESTS",
    "CHARS",
    "TODAY",
    "CACHE HITS",
    "CREATED",
    "REVOKED",
)


def _row(key: ApiKey) -> tuple[str, ...]:
    return (
        key.name,
        key.prefix,
        f"{key.rate_per_minute}/min" if key.rate_per_minute else "-",
        str(key.chars_per_day or "-"),
        str(key.requests),
        str(key.chars),
        str(key.chars_today),
        str(key.cache_hits),
        key.created_at[:19].replace("T", " "),
        key.revoked_at[:19].replace("T", " ") if key.revoked_at else "-",
    )


@keys_app.command("list")
def list_keys() -> None:
    """Every key, revoked ones too: prefix, limits, usage (TODAY: characters this UTC day), times in UTC."""
    found = _with_keys(lambda keys: keys.list())
    if not found:
        typer.echo("no keys yet: tts-service keys create NAME")
        return
    rows = [_HEADINGS, *(_row(key) for key in found)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADINGS))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@keys_app.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke a key: refused from its next request on, by every process. Its usage stays listed."""
    key = _with_keys(lambda keys: keys.revoke(name))
    assert key.revoked_at is not None
    typer.echo(f"revoked key {key.name!r} (since {key.revoked_at[:19].replace('T', ' ')} UTC)")
