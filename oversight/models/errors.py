"""Sorting failures into rate limits, transient faults and fatal errors, for every provider at once."""

from __future__ import annotations

import errno
import json
from enum import StrEnum


class TransientResponseError(Exception):
    """A reply that could not be read (non-JSON body, no choices): worth another try."""


class EndpointsDownError(Exception):
    """Every replica of a model is out of rotation: worth another try once a probe brings one back."""


class PromptTooLongError(Exception):
    """The prompt does not fit the model's context window."""


class ErrorKind(StrEnum):
    RATE_LIMIT = "rate_limit"
    TRANSIENT = "transient"
    FATAL = "fatal"


_RATE_LIMIT_TYPES: list[type[BaseException]] = []  # each SDK adds its own (register_errors) when it is first used
_TRANSIENT_TYPES: list[type[BaseException]] = [
    TransientResponseError,
    EndpointsDownError, json.JSONDecodeError, TimeoutError, ConnectionError,
]  # fmt: skip


def register_errors(*, rate_limit: tuple[type[BaseException], ...] = (), transient: tuple[type[BaseException], ...] = ()) -> None:
    """Teach the retry logic another SDK's exceptions (a provider module calls this when it is imported).

    Exceptions carrying an HTTP `status_code` need nothing: 429 is a rate limit (retried after the
    server's Retry-After), 408/409 and 5xx are transient, other statuses fatal.
    """
    _RATE_LIMIT_TYPES.extend(t for t in rate_limit if t not in _RATE_LIMIT_TYPES)
    _TRANSIENT_TYPES.extend(t for t in transient if t not in _TRANSIENT_TYPES)


def classify(exc: BaseException) -> ErrorKind:
    if isinstance(exc, tuple(_RATE_LIMIT_TYPES)):
        return ErrorKind.RATE_LIMIT
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool):
        if status == 429:
            return ErrorKind.RATE_LIMIT
        if status >= 500 or status in (408, 409):
            return ErrorKind.TRANSIENT
        return ErrorKind.FATAL
    if isinstance(exc, tuple(_TRANSIENT_TYPES)):
        return ErrorKind.TRANSIENT
    return ErrorKind.FATAL


UNREACHABLE_ERRNOS = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ECONNRESET}


def is_unreachable(exc: BaseException) -> bool:
    """The endpoint cannot be reached at all (refused, no route, every replica out): a pause, not a failed attempt.
    A server that accepts the connection and then stalls or errs is not unreachable."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, EndpointsDownError):
            return True
        if isinstance(seen, OSError) and seen.errno in UNREACHABLE_ERRNOS:
            return True
        if type(seen).__name__ in ("ClientConnectorError", "ClientConnectorDNSError"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def retry_after_seconds(exc: BaseException) -> float | None:
    """The server's Retry-After (seconds or retry-after-ms), when it sent one."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            return float(value)
        except ValueError:
            return None
    return None
