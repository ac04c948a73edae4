"""Commands are imported when they run: `oversight --help` lists them from a table that must match the commands."""

from __future__ import annotations

import inspect
import subprocess
import sys
from importlib import import_module

import typer

import oversight.cli as cli_package
from oversight.cli import COMMANDS, app, run_in_process

COMMAND_MODULES = sorted({entry.module for entry in COMMANDS.values()})


def _help_in_a_fresh_process(*args: str) -> tuple[str, list[str]]:
    """The help text and which command modules (and Rich) the process imported to print it."""
    watched = [*COMMAND_MODULES, "rich", "sqlalchemy", "pydantic"]
    code = (
        "import contextlib, io, sys; from oversight.cli import run_in_process\n"
        "out = io.StringIO()\n"
        f"with contextlib.redirect_stdout(out): code = run_in_process({list(args)!r})\n"
        f"print(code, [m for m in {watched!r} if m in sys.modules]); print(out.getvalue(), end='')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                          env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"})  # fmt: skip
    first, _, text = done.stdout.partition("\n")
    status, _, imported = first.partition(" ")
    assert status == "0", done.stdout + done.stderr
    return text, eval(imported)


def test_top_level_help_lists_every_command_without_importing_any():
    text, imported = _help_in_a_fresh_process("--help")
    assert imported == []
    listed = [line.split()[0] for line in text.split("Commands:\n", 1)[1].splitlines() if line.strip()]
    assert listed == list(COMMANDS)


def test_a_command_imports_its_own_module_only():
    _, imported = _help_in_a_fresh_process("runs", "--help")
    assert [module for module in imported if module in COMMAND_MODULES] == ["oversight.cli.running"]


def test_the_table_names_every_registered_command_and_group():
    for module in COMMAND_MODULES:
        import_module(module)
    registered = {info.name or info.callback.__name__.replace("_", "-") for info in app.registered_commands}
    assert registered == {name for name, entry in COMMANDS.items() if not entry.is_group}
    groups = {id(value) for value in vars(cli_package).values() if isinstance(value, typer.Typer) and value is not app}
    assert groups == {id(entry.registered_on) for entry in COMMANDS.values() if entry.is_group}
    assert app.registered_groups == []  # a group added to the root would be built (empty) at every start-up


def test_each_summary_is_its_commands_first_help_paragraph():
    for name, entry in COMMANDS.items():
        command = entry.build(name)
        assert command.name == name
        assert inspect.cleandoc(command.help or "").split("\n\n")[0].strip() == entry.summary, name


def test_the_listing_is_the_same_once_every_command_is_built(monkeypatch):
    lazy, _ = _help_in_a_fresh_process("--help")
    group = typer.main.get_command(app)
    for name in COMMANDS:
        group.get_command(None, name)  # type: ignore[arg-type]
    assert list(group.commands) != [] and set(group.commands) == set(COMMANDS)  # every one built, none a stand-in
    monkeypatch.setenv("COLUMNS", "100")
    with group.make_context("oversight", [], resilient_parsing=True) as ctx:
        assert group.get_help(ctx) + "\n" == lazy


def test_every_subcommand_of_every_group_shows_its_help(capsys):
    for name, entry in COMMANDS.items():
        if not entry.is_group:
            continue
        for sub in entry.build(name).list_commands(None):  # type: ignore[arg-type]
            capsys.readouterr()
            assert run_in_process([name, sub, "--help"]) == 0, (name, sub)
            assert f"Usage: oversight {name} {sub}" in capsys.readouterr().out
