"""Commands imported when they run, not when the program starts.

Registering every command at start-up meant importing ten modules and letting Typer convert each signature
into Click parameters: about a third of `oversight --help` and of every run's start-up. The root group instead
lists its commands from a table (name, module, one-line summary) and builds only the command a user invokes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # Typer ships its own copy of Click in recent releases: import nothing Typer does not
    from click import Command, Context, HelpFormatter


@dataclass(frozen=True)
class LazyCommand:
    """Where a command is defined and what `oversight --help` says of it without importing it."""

    module: str  # the module whose import registers it
    registered_on: typer.Typer  # the root app for a command; the group's own Typer for a group
    summary: str = ""  # a command's first help paragraph; a group's comes from its Typer
    is_group: bool = False

    @classmethod
    def group(cls, module: str, typer_app: typer.Typer) -> LazyCommand:
        return cls(module, typer_app, typer_app.info.help or "", is_group=True)

    def build(self, name: str) -> Command:
        import_module(self.module)
        if self.is_group:
            command: Command = typer.main.get_group(self.registered_on)
        else:
            info = next((i for i in self.registered_on.registered_commands if _command_name(i) == name), None)
            if info is None:
                raise LookupError(f"{self.module} registers no command {name!r}")
            # a one-command Typer is converted to that command alone, with the root's settings
            single = typer.Typer(add_completion=False, rich_markup_mode=self.registered_on.rich_markup_mode)
            single.registered_commands.append(info)
            command = typer.main.get_command(single)
        command.name = name
        return command


def _command_name(info: Any) -> str:
    return info.name or info.callback.__name__.lower().replace("_", "-")


class LazyCommands(TyperGroup):
    """A root group that builds a command on first use and lists the rest from `entries()` in its help."""

    _listing = False

    def entries(self) -> Mapping[str, LazyCommand]:
        raise NotImplementedError

    def list_commands(self, ctx: Context) -> list[str]:
        return [*self.entries(), *(name for name in self.commands if name not in self.entries())]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = self.entries().get(cmd_name)
        if entry is None:
            return None
        if self._listing:  # the help's command list needs names and summaries only
            return TyperCommand(cmd_name, help=entry.summary)
        self.commands[cmd_name] = command = entry.build(cmd_name)
        return command

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
