"""Errors that the CLI turns into one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations


class OversightError(Exception):
    """A problem the user can fix; its message is printed as it is."""

    exit_code: int = 1


class InputError(OversightError):
    """Bad input: a dataset row, a config file, a CLI option. Exit code 2, like argument errors."""

    exit_code = 2


class ModelError(OversightError):
    """A model endpoint failed in a way retries cannot fix (auth, bad request, retries exhausted)."""


class ExtraMissingError(OversightError):
    """An optional dependency is not installed; the message names the extra that brings it."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(f'{module} is not installed; install it with: pip install "oversight[{extra}]"')
