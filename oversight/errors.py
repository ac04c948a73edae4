"""Errors that the CLI turns into one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import re
from typing import Any


class OversightError(Exception):
    """A problem the user can fix; its message is printed as it is."""

    exit_code: int = 1


class InputError(OversightError):
    """Bad input: a dataset row, a config file, a CLI option. Exit code 2, like argument errors."""

    exit_code = 2


class ModelError(OversightError):
    """A model endpoint failed in a way retries cannot fix (auth, bad request, retries exhausted)."""


def validation_problem(exc: Any, *, default_field: str = "", skip: tuple[str, ...] = (), rename: dict[str, str] | None = None) -> str:
    """A pydantic ValidationError's first problem in one line, "field: what is wrong", with the field named as the user
    gave it (`rename`), parts of its path left out (`skip`), or `default_field` for a check on the whole model."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"] if p not in skip) or default_field
    where = (rename or {}).get(where, where)
    problem = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {problem}" if where else problem


class ExtraMissingError(OversightError):
    """An optional dependency is not installed; the message names the extra that brings it."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(f'{module} is not installed; install it with: pip install "oversight[{extra}]"')


_SECRET_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),  # OpenAI-style keys
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}"),
    re.compile(r"(?i)((?:api[_-]?key|authorization|password|passwd|secret|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}&]{6,}"),
    re.compile(r"(://[^/\s:@]+:)[^@\s/]+(@)"),  # a password inside a URL
)
_SECRET_ENV = re.compile(r"(?i)(api_?key|token|secret|password)")


def redact(text: str) -> str:
    """`text` with anything key-shaped masked: the values of secret-looking environment variables, API keys,
    bearer tokens, `key=value` credentials and passwords in URLs. Applied to every error before it is stored
    or printed, since servers echo request headers in their error bodies."""
    for name, value in os.environ.items():
        if len(value) >= 8 and _SECRET_ENV.search(name) and value in text:
            text = text.replace(value, "***")
    text = _SECRET_PATTERNS[0].sub("sk-***", text)
    text = _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)} ***", text)
    text = _SECRET_PATTERNS[2].sub(lambda m: f"{m.group(1)}***", text)
    return _SECRET_PATTERNS[3].sub(lambda m: f"{m.group(1)}***{m.group(2)}", text)
