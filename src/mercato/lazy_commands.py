"""Commands known by name before their modules are imported.

Importing every command's module (and through them the ORM, the services and the web application) took most
of the time of any ``mercato`` command, ``--help`` and the offline key check included. A lazy group imports a
command's module when the command is looked up, and lists its commands in ``--help`` with short help texts
stored beside their names (``tests/test_lazy_commands.py`` keeps them equal to the commands' own).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

_LISTING = "mercato.listing_commands"
"""Set in the context's meta while a group's help lists its commands: they are shown, not run."""


@dataclass(frozen=True)
class LazyCommand:
    """``module:attribute`` names a Typer app (a group of commands) or a function (one command)."""

    module: str
    attribute: str
    short_help: str
    """The first paragraph of the command's help, as the group's help lists it."""
    help: str | None = None
    """The group's help when it is not the Typer app's own (a second name for a group)."""

    def load(self, name: str) -> click.Command:
        target = getattr(importlib.import_module(self.module), self.attribute)
        command: click.Command
        if isinstance(target, typer.Typer):
            command = typer.main.get_group(target)
        else:
            single = typer.Typer(add_completion=False)
            single.command(name)(target)
            command = typer.main.get_command(single)
        if self.help is not None:
            command.help = self.help
        return command


class _CommandsOnDemand(MutableMapping[str, click.Command]):
    """A group's commands by name, each made (its module imported) when it is first asked for: the names are
    known, and listed, before."""

    def __init__(self, lazy: Mapping[str, LazyCommand], made: MutableMapping[str, click.Command]) -> None:
        self._lazy = lazy
        self._made = dict(made)

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._made and name in self._lazy:
            self._made[name] = self._lazy[name].load(name)
        return self._made[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._made[name] = command

    def __delitem__(self, name: str) -> None:
        del self._made[name]

    def __contains__(self, name: object) -> bool:
        return name in self._lazy or name in self._made

    def __iter__(self) -> Iterator[str]:
        yield from self._lazy
        yield from (name for name in self._made if name not in self._lazy)

    def __len__(self) -> int:
        return len(set(self._lazy) | set(self._made))


class LazyGroup(TyperGroup):
    """A group whose ``lazy_commands`` (listed first, in their order) are made when first looked up; its help
    lists them with their stored short help, importing none."""

    lazy_commands: ClassVar[Mapping[str, LazyCommand]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _CommandsOnDemand(self.lazy_commands, self.commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = self.lazy_commands.get(cmd_name)
        if lazy is not None and ctx.meta.get(_LISTING):
            return TyperCommand(cmd_name, help=lazy.short_help)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        ctx.meta[_LISTING] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            del ctx.meta[_LISTING]
