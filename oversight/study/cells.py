"""A study's cells: each one an ordinary run (or weak-to-strong run) with a name that says what it is.

A cell's run name ends with a hash of everything it computes, so a cell whose settings change is a
new cell and a finished cell is never run twice; cells share the response cache, so a new judge on
finished debates pays only for its own calls.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from oversight.config import EXECUTION_ONLY, RunConfig, W2SConfig
from oversight.protocols import protocol_class
from oversight.study.pairing import Pairing, round_robin, sided, swiss_round
from oversight.study.spec import DEBATE_LIKE, DatasetEntry, StudySpec

DEBATER_ROLES = ("debater_a", "debater_b")


class Cell(BaseModel):
    kind: Literal["run", "w2s"]
    key: str
    """What the cell is, readably: protocol/dataset/players/judge/judge prompt/seed."""
    run_name: str
    protocol: str | None = None
    dataset: str | None = None
    judge: str | None = None
    judge_prompt: str | None = None
    seed: int | None = None
    players: dict[str, str] = Field(default_factory=dict)
    """Player per role."""
    stage: int = 0
    """0, or the Swiss round (1, 2, …) the cell belongs to."""
    config: dict[str, Any]

    def run_config(self, db: str | None) -> RunConfig:
        return RunConfig.model_validate({**self.config, "db": db})

    def w2s_config(self, db: str | None) -> W2SConfig:
        return W2SConfig.model_validate({**self.config, "db": db})

    @property
    def matchup(self) -> str:
        roles = [self.players[r] for r in DEBATER_ROLES if r in self.players]
        return " vs ".join(roles) if roles else ", ".join(sorted(set(self.players.values())))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", text).strip("_")[:60]


def _name(study: str, key: str, config: dict[str, Any]) -> str:
    computed = {k: v for k, v in config.items() if k not in EXECUTION_ONLY}
    digest = hashlib.sha256(json.dumps(computed, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{study}:{key}:{digest}"[:200]


def _tournament(spec: StudySpec, protocol: str) -> bool:
    """Debate between two assigned debaters: a game between two players."""
    cls = protocol_class(protocol)
    return protocol in DEBATE_LIKE and all(r in cls.roles for r in DEBATER_ROLES)


def _base(spec: StudySpec, protocol: str, dataset: DatasetEntry, judge: str, judge_prompt: str, seed: int) -> dict[str, Any]:
    return {
        **spec.run, "protocol": protocol, "dataset": dataset.path, "format": dataset.format, "limit": dataset.limit,
        "hard": dataset.hard, "skip_bad_rows": dataset.skip_bad_rows, "filters": dataset.filters, "judges": [judge], "judge_prompt": judge_prompt, "seed": seed,
    }  # fmt: skip


def _with_players(config: dict[str, Any], spec: StudySpec, roles: dict[str, str]) -> dict[str, Any]:
    """The run's role models, their search settings and player names, from a role → player map."""
    config = dict(config)
    for role, player_name in roles.items():
        player = spec.players[player_name]
        if role in DEBATER_ROLES:
            config[role] = player.model
        elif role == "consultant":
            config["consultant"] = player.model
        else:
            config.setdefault("roles", {})[role] = player.model
    config["role_search"] = {role: spec.players[p].search() for role, p in roles.items()}
    config["players"] = dict(roles)
    return config


def _cell(spec: StudySpec, protocol: str, dataset: DatasetEntry, judge: str, jp: str, seed: int, roles: dict[str, str], stage: int) -> Cell:
    config = _with_players(_base(spec, protocol, dataset, judge, jp, seed), spec, roles)
    matchup = "-vs-".join(roles[r] for r in DEBATER_ROLES if r in roles) or "-".join(sorted(set(roles.values())))
    parts = [protocol, dataset.label, matchup, _slug(judge), jp, f"s{seed}"]
    key = "/".join(_slug(p) for p in parts if p)
    name = _name(spec.name, key, config)
    config["run_name"] = name
    return Cell(kind="run", key=key, run_name=name, protocol=protocol, dataset=dataset.label, judge=judge, judge_prompt=jp,
                seed=seed, players=roles, stage=stage, config=config)  # fmt: skip


def _grid(spec: StudySpec):  # type: ignore[no-untyped-def]
    for protocol in spec.protocols:
        for dataset in spec.datasets:
            for judge in spec.judges:
                for jp in spec.judge_prompts:
                    for seed in spec.seeds:
                        yield protocol, dataset, judge, jp, seed


def pairings_cells(spec: StudySpec, pairings: list[Pairing], stage: int) -> list[Cell]:
    """The debate cells of these (A, B) pairings, over every dataset, judge, judge prompt and seed."""
    cells = []
    for protocol, dataset, judge, jp, seed in _grid(spec):
        if _tournament(spec, protocol):
            for a, b in pairings:
                cells.append(_cell(spec, protocol, dataset, judge, jp, seed, {"debater_a": a, "debater_b": b}, stage))
    return cells


def fixed_cells(spec: StudySpec) -> list[Cell]:
    """Every cell that does not depend on how a Swiss tournament goes: protocols without players, one cell per
    player for one-arguer protocols, round-robin games, self-play, and the weak-to-strong ladder."""
    players = list(spec.players)
    cells: list[Cell] = []
    for protocol, dataset, judge, jp, seed in _grid(spec):
        roles = protocol_class(protocol).roles
        if _tournament(spec, protocol):
            continue
        if not roles:
            cells.append(_cell(spec, protocol, dataset, judge, jp, seed, {}, 0))
            continue
        for player in players:  # one arguer (consultancy), or a protocol whose roles one player plays (open debate)
            cells.append(_cell(spec, protocol, dataset, judge, jp, seed, dict.fromkeys(roles, player), 0))
    t = spec.tournament
    if t.pairing == "round-robin":
        cells += pairings_cells(spec, round_robin(players, both_sides=t.both_sides, self_play=t.self_play), 0)
    elif t.self_play:
        cells += pairings_cells(spec, [(p, p) for p in players], 0)
    if spec.w2s is not None:
        ladder = spec.w2s.ladder
        for i, weak in enumerate(ladder):
            for strong in ladder[i + 1 :]:
                config = {**spec.w2s.options, "dataset": spec.w2s.dataset, "weak": weak, "strong": strong}
                key = f"w2s/{_slug(weak)}-to-{_slug(strong)}"
                name = _name(spec.name, key, config)
                cells.append(Cell(kind="w2s", key=key, run_name=name, config={**config, "run_name": name}, players={}))
    return cells


def swiss_cells(spec: StudySpec, stage: int, ratings: dict[str, float], played: set[frozenset[str]]) -> list[Cell]:
    """Round `stage` of a Swiss tournament, paired from the ratings so far."""
    pairs = swiss_round(list(spec.players), ratings, played)
    return pairings_cells(spec, sided(pairs, both_sides=spec.tournament.both_sides), stage)


def has_swiss(spec: StudySpec) -> bool:
    return spec.tournament.pairing == "swiss" and len(spec.players) > 1 and any(_tournament(spec, p) for p in spec.protocols)
