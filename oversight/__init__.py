"""Oversight: run debate, consultancy and weak-to-strong experiments, store them in SQL, judge and rank them."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("oversight")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
