"""Dataset formats written by users: a function reads the file, the package checks and repairs what it returns.

A reader (`--format my_formats.py:load`, or one registered with `@dataset_format("name")`) takes
the file's path and returns or yields any of:
- dicts in the generic layout: `question`, `options`, `answer` (0-based index or the option's
  text), and optionally `id` (default: the row number), `context`, `source`, `article_id`,
  `distractor`, `meta`;
- `(line, dict)` pairs, so that errors name the file's own line numbers;
- ready `Question`s.

Every row goes through the same repairs and checks as the built-in formats: repeated options are
dropped and counted, a bad row is one `path:line: field: problem` error, or is skipped and
counted with `--skip-bad-rows`; an exception inside the reader is one line naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from oversight.data.loaders.generic import question_from_row
from oversight.data.question import Question
from oversight.data.rows import row_error, row_guard
from oversight.errors import InputError


def _reader_name(reader: Callable[..., Any]) -> str:
    return f"{getattr(reader, '__module__', '?')}.{getattr(reader, '__qualname__', repr(reader))}".removeprefix("oversight_user_")


def load_with(reader: Callable[..., Any], path: Path, **_: Any) -> list[Question]:
    out: list[Question] = []
    seen: set[str] = set()
    rows = iter(())
    try:
        rows = iter(reader(path))
    except InputError:
        raise
    except Exception as exc:  # a user's code: one line naming it, never a traceback
        raise InputError(f"{path}: the dataset reader {_reader_name(reader)} failed: {type(exc).__name__}: {exc}") from None
    number = 0
    while True:
        try:
            item = next(rows)
        except StopIteration:
            break
        except InputError:
            raise
        except Exception as exc:
            raise InputError(
                f"{path}: the dataset reader {_reader_name(reader)} failed after row {number}: {type(exc).__name__}: {exc}"
            ) from None
        number += 1
        line, row = item if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], int) else (number, item)
        with row_guard():
            if isinstance(row, Question):
                if row.id in seen:
                    raise row_error(path, line, "id", f"duplicate id {row.id!r}")
                seen.add(row.id)
                out.append(row)
            elif isinstance(row, dict):
                out.append(question_from_row({"id": line, **row}, path, line, seen))
            else:
                raise row_error(path, line, "row", f"the reader gave a {type(row).__name__}; give a dict or a Question")
    return out
