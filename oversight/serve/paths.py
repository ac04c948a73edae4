"""Where serving keeps things: a cache (the vLLM environment, exported models) and a state folder (what runs now).

The cache outlives runs and is shared by every checkout on a machine, so CI and users build the
vLLM environment and export the embedded model once. The state folder holds the records of
started servers and their logs; tests point it elsewhere to stay apart from a user's servers.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    explicit = os.environ.get("OVERSIGHT_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "oversight"


def state_dir() -> Path:
    explicit = os.environ.get("OVERSIGHT_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "oversight"
