"""A study file: the grid a lab runs (protocols × players × judges × datasets × seeds × judge prompts), not one run.

A *player* is a model with its search settings (best-of-N, critique-and-refine, temperature); two
players may share a model. Everything else a run takes (rounds, word limit, orders, …) goes under
`run:` and applies to every cell. Paths are read relative to the study file; `sample:NAME` names a
dataset shipped with the package (`sample:quickstart`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from oversight.config import RunConfig, W2SConfig, load_yaml
from oversight.data.references import resolve_path
from oversight.ensemble import EnsembleSpec
from oversight.errors import InputError
from oversight.human.design import CampaignDesign
from oversight.metrics.elo import DEBATE_PROTOCOLS
from oversight.models import parse_spec

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,39}$")
DEBATE_LIKE = DEBATE_PROTOCOLS
"""Protocols whose transcripts set two players against each other: the tournament's games."""
STUDY_RUN_KEYS = frozenset(RunConfig.model_fields) - {
    "protocol", "dataset", "format", "debater", "debater_a", "debater_b", "consultant", "judges", "judge_prompt", "seed",
    "best_of", "refine", "debater_temperature", "role_search", "players", "db", "run_name", "dry_run", "hard", "limit",
}  # fmt: skip


class Player(BaseModel):
    """A debater or consultant as the tournament rates it: a model and how it searches for arguments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    best_of: int = Field(default=1, ge=1, le=32)
    refine: bool = False
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)

    @field_validator("model")
    @classmethod
    def _spec(cls, v: str) -> str:
        try:
            parse_spec(v)
        except InputError as exc:
            raise ValueError(str(exc)) from None
        return v

    def search(self) -> dict[str, Any]:
        return {"best_of": self.best_of, "refine": self.refine, "temperature": self.temperature}


class DatasetEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    name: str | None = None
    """How the dataset is named in cells and tables (default: the file's stem)."""
    format: str | None = None
    limit: int | None = Field(default=None, ge=1)
    hard: bool = False
    skip_bad_rows: bool = False
    filters: dict[str, Any] = Field(default_factory=dict)
    """Which questions to keep: min_untimed_accuracy, max_speed_accuracy, min_context_required (official QuALITY), max_per_article."""

    @field_validator("filters")
    @classmethod
    def _filters(cls, v: dict[str, Any]) -> dict[str, Any]:
        from oversight.data.filters import DatasetFilters

        return DatasetFilters.model_validate(v).model_dump(exclude_none=True)

    @property
    def label(self) -> str:
        return self.name or Path(self.path).stem


class Tournament(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pairing: Literal["round-robin", "swiss"] = "round-robin"
    swiss_rounds: int = Field(default=3, ge=1, le=50)
    """Swiss: rounds of pairing; each pairs players of adjacent current rating who have not met."""
    both_sides: bool = True
    """Every pairing is played twice, each player taking debater A once (answers are still assigned at random)."""
    self_play: bool = False
    """Add each player against itself (Khan et al. measure judge accuracy on self-play debates)."""


class W2SLadder(BaseModel):
    """Burns et al. (2023): every weaker model of the ladder supervises every stronger one."""

    model_config = ConfigDict(extra="forbid")

    dataset: str
    ladder: list[str] = Field(min_length=2)
    """Supervisors, weakest first (`bow`, `minilm`, a model spec)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Any `oversight w2s` option (method, seeds, n, loss, …), for every pair."""

    @model_validator(mode="after")
    def _check(self) -> W2SLadder:
        try:
            W2SConfig.model_validate({"dataset": self.dataset, **self.options})
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ValueError(f"w2s.options.{'.'.join(map(str, err['loc']))}: {err['msg']}") from None
        return self


class HumanCampaign(BaseModel):
    """A judge-app campaign over the study's transcripts (the human side of Michael et al. 2023)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    judges: list[str] = Field(min_length=1)
    """User names (`oversight users add`) who judge it."""
    protocols: list[str] = Field(default_factory=list)
    judges_per_item: int = Field(default=1, ge=1, le=100)
    feedback: bool = True
    design: CampaignDesign = Field(default_factory=CampaignDesign)
    """How the campaign runs: pacing, rounds and their cost, windows, time limit, qualification, catch trials
    (`oversight.human.design`); each of the study's protocols is one condition, counterbalanced over judges."""


class StudySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    protocols: list[str] = Field(default_factory=list)
    players: dict[str, Player] = Field(default_factory=dict)
    judges: list[str] = Field(default_factory=list)
    datasets: list[DatasetEntry] = Field(default_factory=list)
    seeds: list[int] = Field(default_factory=lambda: [0])
    judge_prompts: list[str] = Field(default_factory=lambda: ["v1"])
    tournament: Tournament = Field(default_factory=Tournament)
    ensembles: list[EnsembleSpec] = Field(default_factory=list)
    """Judge ensembles (name, members, samples, combine) that also judge every cell of the first judge's."""
    judge_by_round: bool = False
    """Also judge every transcript as it stood after each earlier round (accuracy and calibration by round)."""
    rating_judge: str | None = None
    """The judge whose verdicts rate the players (default: the first judge)."""
    run: dict[str, Any] = Field(default_factory=dict)
    """Options every cell's run takes (rounds, word_limit, debater_max_tokens, orders, …)."""
    w2s: W2SLadder | None = None
    campaign: HumanCampaign | None = None
    paper: dict[str, Any] = Field(default_factory=dict)
    """The paper's headline figures, shown beside this study's in the report."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME.match(v):
            raise ValueError("use 1-40 letters, digits, '.', '_', '+' or '-', starting with a letter or digit")
        return v

    @field_validator("players")
    @classmethod
    def _player_names(cls, v: dict[str, Player]) -> dict[str, Player]:
        for name in v:
            if not NAME.match(name):
                raise ValueError(f"player {name!r}: use 1-40 letters, digits, '.', '_', '+' or '-'")
        return v

    @field_validator("datasets", mode="before")
    @classmethod
    def _datasets(cls, v: Any) -> Any:
        return [{"path": d} if isinstance(d, str) else d for d in (v or [])]

    @field_validator("judges")
    @classmethod
    def _judges(cls, v: list[str]) -> list[str]:
        for spec in v:
            try:
                parse_spec(spec)
            except InputError as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("run")
    @classmethod
    def _run(cls, v: dict[str, Any]) -> dict[str, Any]:
        v = {str(k).replace("-", "_"): val for k, val in v.items()}
        unknown = sorted(set(v) - STUDY_RUN_KEYS)
        if unknown:
            raise ValueError(
                f"{unknown[0]}: not a run option a study sets for all cells (the grid sets protocols, players, judges, datasets, seeds)"
            )
        return v

    @model_validator(mode="after")
    def _grid(self) -> StudySpec:
        if self.protocols:
            if not self.datasets:
                raise ValueError("datasets: a study with protocols needs at least one dataset")
            if not self.judges:
                raise ValueError("judges: a study with protocols needs at least one judge")
            if any(_roles(p) for p in self.protocols) and not self.players:
                raise ValueError("players: protocols with debaters or consultants need at least one player")
        if self.rating_judge is not None and self.rating_judge not in self.judges:
            raise ValueError(f"rating_judge: {self.rating_judge!r} is not one of the study's judges")
        if not self.protocols and self.w2s is None:
            raise ValueError("protocols: a study needs protocols to run, a w2s ladder, or both")
        return self

    @property
    def rater(self) -> str | None:
        return self.rating_judge or (self.judges[0] if self.judges else None)


def _roles(protocol: str) -> tuple[str, ...]:
    from oversight.protocols import protocol_class

    try:
        return protocol_class(protocol).roles
    except InputError as exc:
        raise ValueError(f"protocols: {exc}") from None


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """`--set run.rounds=1 --set datasets.0.limit=2`: dotted keys into the study's YAML, values parsed as YAML."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set {item!r}: expected KEY=VALUE, e.g. run.rounds=1")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        parts = key.strip().split(".")
        node: Any = data
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise InputError(f"--set {key}: {'.'.join(parts[:i]) or 'study'} has no item {part}")
                index = int(part)
                if last:
                    node[index] = value
                else:
                    if isinstance(node[index], str):
                        node[index] = {"path": node[index]}
                    node = node[index]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
            else:
                raise InputError(f"--set {key}: {'.'.join(parts[:i])} is not a mapping or a list")
    return data


def load_study(path: str | Path, overrides: list[str] | None = None, datasets: list[str] | None = None) -> StudySpec:
    """The study in `path`, with `--set` overrides and `--dataset` replacing its datasets; one clear line if it is wrong."""
    path = Path(path)
    data = load_yaml(path)
    if datasets:
        data["datasets"] = list(datasets)
    data = apply_overrides(data, overrides or [])
    try:
        spec = StudySpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "study"
        msg = "unknown key" if err["type"] == "extra_forbidden" else str(err["msg"]).removeprefix("Value error, ")
        raise InputError(f"{path}: {field}: {msg}") from None
    base = path.resolve().parent
    for i, entry in enumerate(spec.datasets):
        entry.path = resolve_path(entry.path, base)
        if not Path(entry.path).is_file():
            raise InputError(f"{path}: datasets.{i}: {entry.path}: no such file")
    if spec.w2s is not None:
        spec.w2s.dataset = resolve_path(spec.w2s.dataset, base)
        if not Path(spec.w2s.dataset).is_file():
            raise InputError(f"{path}: w2s.dataset: {spec.w2s.dataset}: no such file")
    return spec


__all__ = ["DEBATE_LIKE", "Player", "StudySpec", "Tournament", "load_study"]
