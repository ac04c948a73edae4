"""Run configuration: one pydantic model fed, in rising priority, by a YAML file, `OVERSIGHT_*` variables and CLI options."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from oversight.errors import InputError
from oversight.models import DEFAULT_MODEL, parse_spec

C = TypeVar("C", bound=BaseModel)

# keys that change how a run is executed but not what it computes: excluded from the config hash
EXECUTION_ONLY = {
    "db", "run_name", "max_connections", "limit", "progress", "timeout", "max_retries", "unreachable_wait", "log_level", "config",
    "batch", "batch_poll", "dry_run", "executor", "ray_address", "workers", "worker_resources",
}  # fmt: skip


ADDED_KEYS = ("role_search", "players", "filters")
"""Keys added after runs were first stored: left out of the config hash while empty, so earlier runs keep their hash
(and resume) under this version."""

RAY_RESOURCE_KEYS = ("memory", "num_cpus", "num_gpus", "resources")


def parse_worker_resources(value: dict[str, Any] | str | None) -> dict[str, Any]:
    """`--worker-resources '{"num_gpus": 1}'`: what each Ray actor or task asks for; a ValueError says what is wrong."""
    if not value:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc.msg}") from None
    if not isinstance(value, dict) or set(value) - set(RAY_RESOURCE_KEYS):
        raise ValueError(f"give a JSON object with any of {', '.join(RAY_RESOURCE_KEYS)}")
    return value


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    protocol: str = "debate"
    """A registered protocol's name or a user's class, `FILE.py:Class`."""
    dataset: str
    format: str | None = None
    hard: bool = False
    limit: int | None = Field(default=None, ge=1)
    skip_bad_rows: bool = False
    """Leave out rows that cannot be repaired (counted and reported) instead of stopping at the first."""
    filters: dict[str, Any] = Field(default_factory=dict)
    """Which questions to keep (`oversight.data.filters.DatasetFilters`): QuALITY's validation filters, a cap per article."""
    rounds: int = Field(default=3, ge=1, le=20)
    turns: Literal["simultaneous", "sequential"] = "simultaneous"
    best_of: int = Field(default=1, ge=1, le=32)
    refine: bool = False
    role_search: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per-role best_of / refine / temperature, e.g. {"debater_b": {"best_of": 4}}: how a study's players differ."""
    players: dict[str, str] = Field(default_factory=dict)
    """A study's player name for each role (e.g. {"debater_a": "llama-8b-bo4"}), stored with every transcript for ratings."""
    judge_prompt: str = Field(default="v1", min_length=1, max_length=19)
    """A judge template of the prompt set (`judges/<name>.j2`): v1 answers at once, v1-cot reasons first."""
    prompts: str | None = None
    """A folder of templates overriding any of the packaged ones, or a registered prompt set's name."""
    settings: dict[str, Any] = Field(default_factory=dict)
    """The protocol's own settings (`--set NAME=VALUE`), validated by its `Settings` model."""
    roles: dict[str, str] = Field(default_factory=dict)
    """Models for roles a protocol declares beyond the built-in ones (`--role NAME=SPEC`)."""
    word_limit: int = Field(default=120, ge=10, le=2000)
    debater_max_tokens: int = Field(default=256, ge=8, le=8192)
    debater_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    debater: str | None = None
    debater_a: str | None = None
    debater_b: str | None = None
    consultant: str | None = None
    critic: str | None = None
    preference_judge: str | None = None
    judges: list[str] = Field(default_factory=lambda: [DEFAULT_MODEL])
    orders: Literal["both", "random"] = "both"
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    db: str | None = None
    run_name: str | None = Field(default=None, min_length=1, max_length=200)
    max_connections: int | None = Field(default=None, ge=1, le=4096)
    cache: Literal["auto", "on", "off"] = "auto"
    context_policy: Literal["error", "truncate"] = "error"
    min_quote_words: int = Field(default=5, ge=1, le=100)
    timeout: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=6, ge=0, le=50)
    unreachable_wait: float = Field(default=600.0, ge=0.0, le=7 * 24 * 3600)
    """Seconds to wait for an endpoint that cannot be reached at all before the run fails (it pauses meanwhile)."""
    progress: bool = True
    batch: bool = False
    """Send OpenAI and OpenAI-compatible models' calls through the Batch API (half price; answers within 24 h)."""
    batch_poll: float = Field(default=30.0, gt=0.0, le=3600.0)
    """Seconds between polls of a submitted batch."""
    dry_run: bool = False
    executor: Literal["local", "ray"] = "local"
    """Where items are made: in this process, or by Ray actors (results still stored by this process)."""
    ray_address: str | None = None
    """`local` (a private Ray instance, the default), `auto` (the cluster this machine is in) or `ray://HOST:10001`."""
    workers: int = Field(default=2, ge=1, le=4096)
    worker_resources: dict[str, Any] | str | None = None
    """What each Ray actor asks for, e.g. {"num_gpus": 1}."""
    prompt_layout: Literal["shared-first", "role-first"] = "shared-first"
    """role-first exists to measure what the default layout saves (`oversight bench prefix`)."""

    @field_validator("debater", "debater_a", "debater_b", "consultant", "critic", "preference_judge")
    @classmethod
    def _check_spec(cls, v: str | None) -> str | None:
        if v is not None:
            _valid_spec(v)
        return v

    @field_validator("worker_resources")
    @classmethod
    def _check_resources(cls, v: dict[str, Any] | str | None) -> dict[str, Any]:
        return parse_worker_resources(v)

    @field_validator("filters")
    @classmethod
    def _check_filters(cls, v: dict[str, Any]) -> dict[str, Any]:
        from oversight.data.filters import DatasetFilters

        return DatasetFilters.model_validate(v).model_dump(exclude_none=True)

    @field_validator("role_search")
    @classmethod
    def _check_role_search(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from oversight.protocols.base import RoleSearch

        return {role: RoleSearch.model_validate(search).model_dump(exclude_none=True) for role, search in v.items()}

    @field_validator("roles")
    @classmethod
    def _check_roles(cls, v: dict[str, str]) -> dict[str, str]:
        for spec in v.values():
            _valid_spec(spec)
        return v

    @field_validator("judges")
    @classmethod
    def _check_judges(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one judge is needed")
        for spec in v:
            _valid_spec(spec)
        return v

    @property
    def debater_specs(self) -> tuple[str, str]:
        a = self.debater_a or self.debater or DEFAULT_MODEL
        b = self.debater_b or self.debater or DEFAULT_MODEL
        return a, b

    def fingerprint(self, dataset_hash: str) -> dict[str, Any]:
        """What the run computes: the config without execution-only keys, plus the dataset's content hash."""
        data = self.model_dump(exclude=EXECUTION_ONLY)
        data["debaters"] = list(self.debater_specs)
        data.pop("debater", None), data.pop("debater_a", None), data.pop("debater_b", None)
        data["consultant"] = self.consultant or DEFAULT_MODEL
        data["dataset_sha256"] = dataset_hash
        for key in ADDED_KEYS:
            if not data.get(key):
                data.pop(key, None)
        return data


def _valid_spec(spec: str) -> None:
    """A spec check inside validation: its problem becomes the field's, so the error names the file and key."""
    try:
        parse_spec(spec)
    except InputError as exc:
        raise ValueError(str(exc)) from None


def config_hash(fingerprint: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()


def load_yaml(path: str | Path) -> dict[str, Any]:
    import yaml  # only a run given a config file reads YAML

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}" if mark is not None else "1"
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise InputError(f"{path}:{line}: yaml: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{path}:1: yaml: expected a mapping of option names to values")
    normalised = {str(k).replace("-", "_"): v for k, v in data.items()}
    if "judge" in normalised:  # the CLI option is --judge; accept the same key in YAML
        judge = normalised.pop("judge")
        normalised["judges"] = judge if isinstance(judge, list) else [judge]
    return normalised


def build_config(cli: dict[str, Any], config_file: str | None) -> RunConfig:
    """Merge YAML (lowest), then CLI/environment values that were given (None means not given)."""
    return merge_config(RunConfig, cli, config_file)


def merge_config(model: type[C], cli: dict[str, Any], config_file: str | None) -> C:
    """Validate YAML values overridden by the CLI/environment values that were given; the first problem is one clear line."""
    merged = load_yaml(config_file) if config_file else {}
    merged.update({k: v for k, v in cli.items() if v is not None and v != []})
    source = config_file or "options"
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "config"
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown option"
        if err["type"] == "missing":
            msg = f"required (give --{field.replace('_', '-')} or set it in the config file)"
        raise InputError(f"{source}: {field.replace('_', '-')}: {msg}") from None


class W2SConfig(BaseModel):
    """A weak-to-strong run (`oversight w2s`): data, the weak/strong pairing, the method and its settings."""

    model_config = ConfigDict(extra="forbid")

    dataset: str
    format: str | None = None
    skip_bad_rows: bool = False
    n: int | None = Field(default=None, ge=8)
    weak: str = "bow"
    strong: str = DEFAULT_MODEL
    intermediate: list[str] = Field(default_factory=list)
    """Bootstrapping: models between weak and strong, weakest first."""
    method: Literal["probe", "finetune", "prompt"] = "probe"
    loss: Literal["xent", "logconf"] = "xent"
    logconf_alpha: float = Field(default=0.75, ge=0.0, le=1.0)
    logconf_warmup: float = Field(default=0.2, ge=0.0, le=1.0)
    seeds: int = Field(default=3, ge=1, le=100)
    cache_dir: str = ".oversight-cache/features"
    db: str | None = None
    run_name: str | None = Field(default=None, min_length=1, max_length=200)
    # probe
    epochs_probe: int = Field(default=300, ge=1, le=100_000)
    # finetune
    finetune: Literal["lora", "full"] = "lora"
    epochs: int = Field(default=2, ge=1, le=100)
    lr: float | None = Field(default=None, gt=0)
    batch_size: int = Field(default=16, ge=1, le=4096)
    max_length: int = Field(default=256, ge=8, le=32_768)
    lora_r: int = Field(default=8, ge=1, le=512)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    # prompt
    k_shot: int = Field(default=4, ge=1, le=64)
    # where seeds run
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    worker_resources: dict[str, Any] | str | None = None
    max_connections: int | None = Field(default=None, ge=1, le=4096)
    timeout: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=6, ge=0, le=50)

    @field_validator("worker_resources")
    @classmethod
    def _check_resources(cls, v: dict[str, Any] | str | None) -> dict[str, Any]:
        return parse_worker_resources(v)

    @field_validator("weak", "strong")
    @classmethod
    def _not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("empty model spec")
        return v.strip()

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else (2e-4 if self.finetune == "lora" else 2e-5)

    def provenance(self) -> dict[str, Any]:
        """What is stored with the run: everything except where it is stored."""
        return self.model_dump(exclude={"db", "run_name", "cache_dir"})
