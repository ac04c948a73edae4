"""Printing rows as a Rich table, JSON, CSV or Markdown (the `--format` of every listing command)."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

Format = Literal["table", "json", "csv", "markdown"]


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.3f}"
    return str(value)


def render(rows: list[dict[str, Any]], fmt: str, *, title: str | None = None, console: Console | None = None) -> str | None:
    """Return text for machine formats; print a table for `table`."""
    if fmt == "json":
        return json.dumps(rows, indent=2, default=str)
    columns = list(rows[0]) if rows else []
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()
    if fmt == "markdown":
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(_cell(r[c]) for c in columns) + " |" for r in rows]
        return "\n".join(lines)
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if rows and isinstance(rows[0][column], (int, float)) else "left")
    for row in rows:
        table.add_row(*(_cell(row[c]) for c in columns))
    console = console or Console()
    if not console.is_terminal:
        console = Console(width=200)  # piped output: don't squeeze columns to 80 characters
    console.print(table)
    return None


def print_text(text: str | None) -> None:
    """Machine output to stdout, newline-terminated; None (a table already printed) prints nothing."""
    if text is not None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
