"""One work item, made the same way wherever it runs: the protocol over one question, then every judge in every order.

The engine makes items in its own process; a Ray actor (`oversight.cluster`) makes them with the
same `ItemMaker` in another. Either way the result is an `ItemResult` that one writer stores.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from oversight.config import RunConfig
from oversight.data import Question
from oversight.data.question import stable_draw
from oversight.judging import judge_transcript
from oversight.models import DEFAULT_MODEL, Model, call_log
from oversight.protocols import Participants, Protocol, build_settings, check_roles, protocol_class
from oversight.transcript import ItemResult, Order, RoundRecord, Transcript


def protocol_for_run(config: RunConfig) -> Protocol:
    """The run's protocol with its settings: the options every protocol shares and its own (`--set`), checked."""
    cls = protocol_class(config.protocol)
    common = {
        "rounds": config.rounds, "turns": config.turns, "word_limit": config.word_limit, "max_tokens": config.debater_max_tokens,
        "temperature": config.debater_temperature, "min_quote_words": config.min_quote_words, "best_of": config.best_of,
        "refine": config.refine, "role_search": config.role_search, "judge_prompt": config.judge_prompt, "layout": config.prompt_layout, "prompts": config.prompts,
    }  # fmt: skip
    protocol = cls(build_settings(cls, common, config.settings))
    check_roles(cls, config.roles)
    return protocol


def role_spec(config: RunConfig, role: str) -> str:
    """The model spec a declared role gets: the built-in options for built-in roles, `--role NAME=SPEC` otherwise."""
    if role in ("debater_a", "debater_b"):
        return config.debater_specs[0 if role == "debater_a" else 1]
    if role == "consultant":
        return config.consultant or DEFAULT_MODEL
    return config.roles.get(role) or DEFAULT_MODEL


def record_outcome(transcript: Transcript, variant: str, seed: int, players: dict[str, str] | None = None) -> None:
    """What every transcript reports whatever its protocol: variant, seed, who argued (model and, in a study,
    player), and each turn in numbers."""
    outcome = transcript.outcome
    outcome.variant, outcome.seed = variant, seed
    debaters = {t.side: t.model for t in transcript.turns if t.role.startswith("debater") and t.side and t.model}
    if debaters:
        outcome.debaters = debaters
    if players:
        outcome.players = {t.side: players[t.role] for t in transcript.turns if t.side and t.role in players}
    arguers = sorted({t.model for t in transcript.turns if t.model and not t.role.startswith("judge")})
    # one string naming who argued, so results can be grouped by debater/consultant model
    outcome.models = " vs ".join(arguers) if arguers else ("human" if transcript.turns else "")
    outcome.rounds = [
        RoundRecord(round=t.round, role=t.role, side=t.side, words=len(t.text.split()), quotes=len(t.quotes),
                    verified_quotes=sum(q.verified for q in t.quotes))
        for t in transcript.turns if not t.role.startswith("judge")
    ]  # fmt: skip


def item_key(question: Question, variant: str) -> str:
    return f"{question.id}#{variant}" if variant else question.id


def orders_for(mode: str, seed: int, question: Question) -> list[Order]:
    """Both answer orders, or one drawn from the seed and the question (the same draw on every rerun)."""
    if mode == "both":
        return ["AB", "BA"]
    return ["AB" if stable_draw(f"order:{seed}:{question.source}:{question.id}") & 1 else "BA"]


def build_models(config: RunConfig, protocol: Protocol, get: Callable[[str], Model]) -> tuple[Participants, list[Model]]:
    """The models of a run's roles and its judges, each from `get(spec)` (a pool's, or the dry run's stand-ins)."""
    cfg = config
    judges = [get(spec) for spec in cfg.judges]
    settings = protocol.settings
    refining = any(settings.search(role)[1] for role in (*settings.role_search, ""))
    models = {role: get(role_spec(cfg, role)) for role in protocol.roles}
    participants = Participants(
        debater_a=models.pop("debater_a", None),
        debater_b=models.pop("debater_b", None),
        consultant=models.pop("consultant", None),
        critic=get(cfg.critic) if cfg.critic and refining else None,
        preference_judge=get(cfg.preference_judge or cfg.judges[0]) if settings.searching() else None,
        interactive_judge=judges[0] if getattr(protocol, "interactive", False) else None,
        extra=models,
    )
    return participants, judges


def one_call_at_a_time(models: list[Model]) -> bool:
    """Every model is the embedded one, which answers one call at a time: items then run in sequence, which also
    keeps its prefix cache warm."""
    return all(m.provider.spec.provider == "local" for m in models)


@dataclass
class ItemMaker:
    config: RunConfig
    protocol: Protocol
    participants: Participants
    judges: list[Model]
    prompt_version: str

    async def make(self, question: Question, variant: str, uid: str) -> ItemResult:
        with call_log() as calls:
            pair = question.two_options(self.config.seed)
            transcript = await self.protocol.run(question, pair, self.participants, variant)
            record_outcome(transcript, variant, self.config.seed, self.config.players)
            transcript.prompt_version = self.prompt_version
            jobs = [
                judge_transcript(judge, self.protocol, transcript, order, self.config.judge_prompt)
                for judge in self.judges
                for order in orders_for(self.config.orders, self.config.seed, question)
            ]
            # one judge in one order (the common judge run) is awaited as it is: a task for it costs more than its work
            judgments = [await jobs[0]] if len(jobs) == 1 else list(await asyncio.gather(*jobs))
        return ItemResult(
            item_key=item_key(question, variant), question_uid=uid, transcript=transcript, judgments=judgments, calls=list(calls)
        )
