"""What can be extended, from the command line: the registries' contents and the prompt templates."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from oversight.cli import FormatOption, _check_format, app, err_console, prompts_app
from oversight.cli.output import print_text, render
from oversight.errors import OversightError


@app.command("plugins")
def plugins_list(fmt: FormatOption = "table") -> None:
    """Protocols, providers, dataset formats and prompt sets this installation knows, and where each comes from."""
    from oversight.plugins import DATASET_FORMATS, PROMPT_SETS, PROTOCOLS, PROVIDERS

    _check_format(fmt)
    rows = [
        {"kind": registry.kind, "name": name, "from": registry.origin(name)}
        for registry in (PROTOCOLS, PROVIDERS, DATASET_FORMATS, PROMPT_SETS)
        for name in registry.names()
    ]
    print_text(render(rows, fmt, title="Extension points (add your own with --plugin FILE.py or an entry point)"))


@prompts_app.command("list")
def prompts_list(
    prompts: Annotated[str | None, typer.Option("--prompts", help="A folder overriding the packaged templates.")] = None,
    fmt: FormatOption = "table",
) -> None:
    """Every template of the prompt set in effect, where it comes from, and the judge prompts it offers."""
    from oversight.prompts import V1_DIR, PromptSet

    _check_format(fmt)
    prompt_set = PromptSet.named(prompts)
    rows = []
    for name in sorted(prompt_set.env.list_templates()):
        own = prompt_set.overrides is not None and (prompt_set.overrides / name).is_file()
        rows.append({"template": name, "from": str(prompt_set.overrides if own else V1_DIR)})
    print_text(render(rows, fmt, title=f"Prompt templates · judge prompts: {', '.join(prompt_set.judge_prompts())}"))


@prompts_app.command("show")
def prompts_show(
    name: Annotated[str, typer.Argument(help="Template name, e.g. debater.j2 or judges/v1.j2.")],
    prompts: Annotated[str | None, typer.Option("--prompts", help="A folder overriding the packaged templates.")] = None,
) -> None:
    """Print one template as it is in effect."""
    from oversight.prompts import PromptSet

    print_text(PromptSet.named(prompts).source(name))


@prompts_app.command("export")
def prompts_export(
    out: Annotated[Path, typer.Argument(help="Folder to write the packaged templates into (must not exist).")],
) -> None:
    """Copy the packaged templates into a folder to edit; run with `--prompts FOLDER` (keep only the files you change)."""
    from oversight.prompts import V1_DIR

    if out.exists():
        raise OversightError(f"{out}: exists already; choose a new folder")
    shutil.copytree(V1_DIR, out)
    err_console.print(f"wrote the packaged templates to {out}; edit any of them and pass --prompts {out}")
