"""A dataset format written outside the package: CSV rows `id,question,correct,wrong` where `wrong`
holds the incorrect answers separated by `|` (a common hand-made layout).

The reader only turns a row into the generic fields; the package does the rest, as for its own
formats: a repeated answer is dropped and counted, a bad row is one `file:line: field: problem`
error (or skipped and counted with `--skip-bad-rows`).

    oversight run --dataset-format examples/pipe_csv_format.py:load --dataset my.csv ...
    oversight --plugin examples/pipe_csv_format.py data inspect my.csv --format pipe-csv
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oversight.plugins import dataset_format


@dataset_format("pipe-csv")
def load(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):  # line 1 is the header
            wrong = [w.strip() for w in (row.get("wrong") or "").split("|") if w.strip()]
            correct = (row.get("correct") or "").strip()
            yield (
                line,
                {
                    "id": (row.get("id") or "").strip() or str(line),
                    "question": (row.get("question") or "").strip(),
                    "options": [correct, *wrong],
                    "answer": 0,
                    "source": path.stem,
                },
            )
