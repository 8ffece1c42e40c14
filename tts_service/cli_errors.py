"""How the command line reports a user's error: one line on stderr and exit status 1, not a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError

from tts_service.errors import TTSError, invalid_input


@contextmanager
def user_errors() -> Iterator[None]:
    """Report bad input as one line on stderr and exit 1, instead of a traceback."""
    try:
        yield
    except TTSError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    except ValidationError as exc:
        typer.echo(f"error: {invalid_input(exc).message}", err=True)
        raise typer.Exit(1) from None
