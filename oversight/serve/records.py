"""Records of served models: which name is served where, so a run can say `vllm/NAME` without a URL.

One JSON file per served name in the state folder; written atomically, removed on stop. A record
whose processes are gone (a reboot, a crash, `kill`) is treated as absent.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from oversight.serve.paths import state_dir
from oversight.serve.processes import is_running


class ReplicaRecord(BaseModel):
    url: str
    """The OpenAI-compatible base URL, ending in /v1."""
    port: int
    pid: int
    start_ticks: int | None = None
    log: str
    devices: str = ""
    """The CPU cores (CPU) or GPU ids (CUDA) this replica was given."""

    @property
    def running(self) -> bool:
        return is_running(self.pid, self.start_ticks)


class ServedModel(BaseModel):
    name: str
    """The served model name: what a spec `vllm/NAME` refers to."""
    model: str
    """What vLLM loaded: a Hugging Face directory or id."""
    device: str
    task: str = "generate"
    replicas: list[ReplicaRecord]
    started_at: float
    command: list[str]

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(r.url for r in self.replicas if r.running)


def _folder() -> Path:
    return state_dir() / "served"


def _path(name: str) -> Path:
    return _folder() / (quote(name, safe="") + ".json")


def save(record: ServedModel) -> Path:
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(record.model_dump_json(indent=2))
    target = _path(record.name)
    os.replace(tmp, target)
    return target


def load(name: str) -> ServedModel | None:
    path = _path(name)
    try:
        return ServedModel.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError, json.JSONDecodeError):
        return None


def load_all() -> list[ServedModel]:
    folder = _folder()
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            out.append(ServedModel.model_validate_json(path.read_text(encoding="utf-8")))
        except (OSError, ValidationError, json.JSONDecodeError):
            continue  # a damaged record never blocks the others
    return out


def remove(name: str) -> None:
    _path(name).unlink(missing_ok=True)


def served_urls(name: str) -> tuple[str, ...]:
    """Base URLs of the running replicas serving `name`; empty when it is not served here."""
    record = load(name)
    return record.urls if record is not None else ()
