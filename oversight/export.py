"""Stored rows written as JSON Lines or CSV (nested values as JSON text in CSV), for every export command."""

from __future__ import annotations

import csv
import json
from typing import Any, Literal, TextIO

ExportFormat = Literal["jsonl", "csv"]


def write_records(rows: list[dict[str, Any]], fmt: ExportFormat, handle: TextIO) -> None:
    if fmt == "jsonl":
        for row in rows:
            handle.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
        return
    if not rows:
        return
    flat = [{k: (json.dumps(v, default=str) if isinstance(v, (list, dict)) else v) for k, v in r.items()} for r in rows]
    writer = csv.DictWriter(handle, fieldnames=list(flat[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
