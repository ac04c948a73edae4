"""Running a study: its cells in turn, each an ordinary resumable run; finished cells are left alone, a failed cell
is recorded and the others go on; Swiss rounds are paired from the ratings the earlier rounds produced."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from sqlalchemy import Engine, select

from oversight.db import connect
from oversight.db.schema import RUNS
from oversight.ensemble import EnsembleSpec
from oversight.errors import OversightError, redact
from oversight.study.cells import Cell, fixed_cells, has_swiss, swiss_cells
from oversight.study.spec import StudySpec


@dataclass
class StudyResult:
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    campaign: str | None = None


def cell_states(engine: Engine, cells: list[Cell]) -> dict[str, str]:
    """Each cell's state from the database: finished / running / interrupted / failed / stale, or pending."""
    from oversight.db.runs import is_stale
    from oversight.db.w2s import w2s_run_exists

    names = [c.run_name for c in cells if c.kind == "run"]
    states: dict[str, str] = {}
    with engine.connect() as conn:
        for chunk in range(0, len(names), 500):
            for row in conn.execute(
                select(RUNS.c.name, RUNS.c.status, RUNS.c.heartbeat_at).where(RUNS.c.name.in_(names[chunk : chunk + 500]))
            ):
                states[row.name] = "stale" if row.status == "running" and is_stale(row.heartbeat_at) else row.status
        for cell in cells:
            if cell.kind == "w2s" and w2s_run_exists(conn, cell.run_name):
                states[cell.run_name] = "finished"
    return {c.run_name: states.get(c.run_name, "pending") for c in cells}


def _run_cell(cell: Cell, engine: Engine, db: str | None, console: Console) -> None:
    if cell.kind == "w2s":
        from oversight.w2s.experiment import run_and_store

        run_and_store(cell.w2s_config(db), log=lambda line: console.print(f"  {line}", highlight=False, markup=False))
        return
    from oversight.engine import Runner

    summary = asyncio.run(Runner(cell.run_config(db), engine=engine, console=console).run())
    if summary.status != "finished":
        raise OversightError(f"run ended {summary.status}: {'; '.join(summary.errors[:1]) or 'see oversight runs'}")


def _judge_by_round(cell: Cell, engine: Engine, console: Console) -> None:
    """The cell's judge on its transcripts cut after each earlier round (resumable: done cuts are skipped)."""
    assert cell.judge is not None
    _rejudge(cell, engine, console, [cell.judge], by_round=True)


def _judge_with(cell: Cell, engine: Engine, console: Console, ensemble: EnsembleSpec) -> None:
    """An ensemble's members, then the ensemble, on the cell's transcripts (resumable)."""
    _rejudge(cell, engine, console, ensemble.members, ensemble=ensemble)


def _rejudge(cell: Cell, engine: Engine, console: Console, judges: list[str], **options: Any) -> None:
    from oversight.rejudge import rejudge

    summary = asyncio.run(rejudge(engine, cell.run_name, judges, judge_prompt=cell.judge_prompt or "v1",
                                  prompts=cell.config.get("prompts"), progress=False, console=console, **options))  # fmt: skip
    if summary.status != "finished":
        raise OversightError(f"judging ({', '.join(judges)}) ended {summary.status}: {'; '.join(summary.errors[:1])}")


def played_pairs(cells: list[Cell]) -> set[frozenset[str]]:
    return {frozenset((c.players["debater_a"], c.players["debater_b"])) for c in cells if "debater_a" in c.players}


def player_ratings(engine: Engine, spec: StudySpec, cells: list[Cell]) -> dict[str, float]:
    """Current Bradley–Terry ratings of the players, from the rating judge's verdicts in finished debate cells."""
    from oversight.metrics.elo import elo_table
    from oversight.study.report import study_rows

    rows = [r for r in study_rows(engine, cells) if r["judge"] == spec.rater]
    return {r["debater"]: r["elo"] for r in elo_table(rows, rate="players", intervals=False)}


def all_cells(engine: Engine, spec: StudySpec) -> list[Cell]:
    """The cells known now: the fixed grid plus every Swiss round whose earlier rounds have finished."""
    cells = fixed_cells(spec)
    if has_swiss(spec):
        for stage in range(1, spec.tournament.swiss_rounds + 1):
            states = cell_states(engine, cells)
            if any(states[c.run_name] != "finished" for c in cells if c.stage == stage - 1 and c.stage > 0):
                break
            rounds = swiss_cells(spec, stage, player_ratings(engine, spec, cells), played_pairs(cells))
            if not rounds:
                break
            cells += rounds
    return cells


def run_study(spec: StudySpec, *, db: str | None = None, console: Console | None = None) -> StudyResult:
    console = console or Console(stderr=True)
    engine = connect(db)
    result = StudyResult()
    stage = 0
    while True:
        known = all_cells(engine, spec)
        if stage > max(c.stage for c in known):
            break
        cells = [c for c in known if c.stage == stage]
        states = cell_states(engine, cells)
        for i, cell in enumerate(cells, 1):
            label = f"[{i}/{len(cells)}{f', Swiss round {stage}' if stage else ''}] {cell.key}"
            finished = states[cell.run_name] == "finished"
            by_round = spec.judge_by_round and cell.kind == "run" and int(cell.config.get("rounds", 3)) > 1
            ensembles = spec.ensembles if cell.kind == "run" and cell.judge == spec.judges[0] else []
            if finished and not by_round and not ensembles:
                result.skipped.append(cell.run_name)
                continue
            if not finished:
                console.print(f"{label}", highlight=False, markup=False)
            try:
                if not finished:
                    _run_cell(cell, engine, db, console)
                if by_round:
                    _judge_by_round(cell, engine, console)
                for ensemble in ensembles:
                    _judge_with(cell, engine, console, ensemble)
                (result.skipped if finished else result.ran).append(cell.run_name)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # one cell's failure is recorded; the other cells still run
                message = redact(str(exc) if isinstance(exc, OversightError) else f"{type(exc).__name__}: {exc}")
                result.failed[cell.run_name] = " ".join(message.split())[:300]
                console.print(f"  failed: {result.failed[cell.run_name]}", style="red", highlight=False, markup=False)
        if stage and any(c.run_name in result.failed for c in cells):
            break  # a Swiss round cannot be paired from an unfinished one
        stage += 1
    if spec.campaign is not None and not result.failed:
        try:
            result.campaign = ensure_campaign(engine, spec, all_cells(engine, spec))
        except OversightError as exc:
            result.failed["campaign"] = f"{exc} (add judges with: oversight users add NAME)" if "no such user" in str(exc) else str(exc)
            console.print(f"campaign: {result.failed['campaign']}", style="red", highlight=False, markup=False)
    return result


def ensure_campaign(engine: Engine, spec: StudySpec, cells: list[Cell]) -> str:
    """The study's judge-app campaign over its transcripts, created once."""
    from oversight.human.campaigns import CAMPAIGNS, CampaignSpec, create_campaign

    assert spec.campaign is not None
    name = spec.campaign.name or f"{spec.name}-humans"
    with engine.connect() as conn:
        if conn.execute(select(CAMPAIGNS.c.id).where(CAMPAIGNS.c.name == name)).first():
            return name
    wanted = spec.campaign.protocols
    runs = [c for c in cells if c.kind == "run" and (not wanted or c.protocol in wanted)]
    protocols = sorted({c.protocol for c in runs})
    # each protocol is a condition of the study, so judges meet them counterbalanced and never one article under two
    conditions = [{"name": p, "runs": sorted({c.run_name for c in runs if c.protocol == p}), "protocols": [p]} for p in protocols]
    create_campaign(engine, CampaignSpec(name=name, conditions=conditions, judges=spec.campaign.judges,
                                         judges_per_item=spec.campaign.judges_per_item, feedback=spec.campaign.feedback,
                                         design=spec.campaign.design))  # fmt: skip
    return name


def status_rows(spec: StudySpec, db: str | None = None) -> list[dict[str, Any]]:
    engine = connect(db)
    cells = all_cells(engine, spec)
    states = cell_states(engine, cells)
    return [
        {"cell": c.key, "kind": c.kind, "stage": c.stage, "players": c.matchup, "status": states[c.run_name], "run": c.run_name}
        for c in cells
    ]
