"""The command line as data, read from the parsers themselves: what the man page and the
shell completions are generated from, so neither can drift from ``--help``.

Commands are discovered, not listed: every name in ``__main__.SUBCOMMANDS``, each the
module ``cli/<name>.py`` with ``build_parser()``; ``__main__.DEFAULT`` (count) is the one
plain ``syscount`` runs. A new subcommand appears in the man page and the completions
without touching this file.
Parser modules must import only light modules at their top level: the man page is
generated at build time, where syscount's run-time dependencies are not installed.
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]  # e.g. ("-i", "--interval")
    metavar: str | None  # None: a switch that takes no value
    help: str
    choices: tuple[str, ...] = ()
    group: str | None = None  # its --help section, where it has one of its own


@dataclass(frozen=True)
class Command:
    name: str  # as typed after `syscount`
    default: bool  # what plain `syscount` runs
    usage: str
    description: str
    epilog: str
    options: tuple[Option, ...]

    @property
    def prog(self) -> str:
        return f"syscount {self.name}"


def subcommand_parser(name: str) -> argparse.ArgumentParser:
    module = importlib.import_module(f"{__package__}.{name}")
    parser: argparse.ArgumentParser = module.build_parser()
    return parser


def commands() -> list[Command]:
    """The default command first, then the others in dispatch order."""
    from .. import __main__ as entry

    names = sorted(entry.SUBCOMMANDS, key=lambda name: name != entry.DEFAULT)
    return [describe(name, subcommand_parser(name), default=name == entry.DEFAULT) for name in names]


def describe(name: str, parser: argparse.ArgumentParser, *, default: bool = False) -> Command:
    groups = _group_titles(parser)
    options = tuple(
        _option(action, parser.prog, groups.get(id(action)))
        for action in parser._actions
        if action.option_strings and action.help != argparse.SUPPRESS
    )
    usage = _usage(parser)
    description, epilog = (parser.description or "").strip(), (parser.epilog or "").strip()
    return Command(name, default, usage, description, epilog, options)


def _usage(parser: argparse.ArgumentParser) -> str:
    """The usage lines, continuations indented under the first option (not under "usage: ")."""
    first, *rest = parser.format_usage().removeprefix("usage: ").strip().splitlines()
    indent = " " * (len(parser.prog) + 1)
    return "\n".join([first, *(indent + line.strip() for line in rest)])


def _option(action: argparse.Action, prog: str, group: str | None) -> Option:
    takes_value = action.nargs != 0
    metavar = None
    if takes_value:
        metavar = action.metavar if isinstance(action.metavar, str) else None
        metavar = metavar or (action.dest.upper() if not action.choices else None)
    choices = tuple(str(choice) for choice in action.choices or ())
    if takes_value and choices and metavar is None:
        metavar = "{" + ",".join(choices) + "}"
    return Option(tuple(action.option_strings), metavar, _expand_help(action, prog), choices, group)


def _expand_help(action: argparse.Action, prog: str) -> str:
    """The help as --help prints it: ``%(default)s`` filled in, ``%%`` back to ``%``."""
    text = action.help or ""
    values = {name: value for name, value in vars(action).items() if value is not argparse.SUPPRESS}
    values["prog"] = prog
    if values.get("choices") is not None:
        values["choices"] = ", ".join(str(choice) for choice in values["choices"])
    return text % values


def _group_titles(parser: argparse.ArgumentParser) -> dict[int, str]:
    """Each action's own section title (options in the default sections get none)."""
    default_titles = {"options", "optional arguments", "positional arguments"}
    titles: dict[int, str] = {}
    for group in parser._action_groups:
        if group.title and group.title not in default_titles:
            for action in group._group_actions:
                titles[id(action)] = group.title
    return titles
