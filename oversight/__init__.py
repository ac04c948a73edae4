"""Oversight: run debate, consultancy and weak-to-strong experiments, store them in SQL, judge and rank them."""

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    """`__version__` is read from the installed metadata on first use: importlib.metadata costs every command
    start-up ~30 ms otherwise."""
    if name != "__version__":
        raise AttributeError(f"module 'oversight' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("oversight")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0.0.0+unknown"
    globals()["__version__"] = found
    return found
