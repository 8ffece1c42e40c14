"""Plain ``--help`` for the command line: ``--slug SLUG`` and ``FILE``, as man pages and click write them.

Typer (0.2x) prints a type beside every parameter (``--slug <str>``, ``--help <bool>``) and braces around
required arguments (``{file}``): noise that says nothing the name and the help text do not. ``Group`` turns
every parameter of the app and of its commands into the plain kind before help is printed.
"""

from __future__ import annotations

from typer import _click as click  # typer's own copy of click, which its classes are built on
from typer.core import TyperArgument, TyperGroup, TyperOption


class _Option(TyperOption):
    """An option shown as ``--name NAME``; a flag as ``--name`` alone."""

    def display_type_rich(self, ctx: click.Context) -> str | None:
        if self.is_flag or self.count:
            return None
        return self.metavar or (self.name or "value").upper()


class _Argument(TyperArgument):
    """An argument shown as ``NAME``, ``[NAME]`` when optional, with ``...`` when it takes several."""

    @property
    def display_name_raw(self) -> str:
        return self.metavar or (self.name or "value").upper()

    def display_type_rich(self, ctx: click.Context) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")


def _plain(params: list[click.Parameter]) -> None:
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _Option  # the same object and state; only how it prints differs
        elif type(param) is TyperArgument:
            param.__class__ = _Argument


class Group(TyperGroup):
    """A typer group whose parameters, and its commands' parameters, print plainly in help and usage."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        _plain(params)
        return params

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain(command.get_params(ctx))  # the help option too: click makes it once and keeps it
        return command
