"""`oversight run --dry-run`: the calls, tokens and cost a run would make, before it makes any.

The run's protocol really runs, over every question of the run, with stand-in models that
answer at once: each reply is as long as the call's `max_tokens` allows (so later rounds' prompts
grow as in the worst case) and judges answer "A 50%". Every prompt is counted with the model's own
tokenizer where this installation can (the embedded model's llama.cpp tokenizer, tiktoken for
OpenAI models when its encodings are at hand), else at 4 characters a token, and priced from
`oversight.models.accounting`. Completion tokens are the `max_tokens` caps: an upper bound. Nothing
is written and nothing is sent.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from oversight.config import RunConfig
from oversight.data import load_dataset
from oversight.errors import InputError
from oversight.judging import judge_transcript
from oversight.models import parse_spec
from oversight.models.accounting import cost_usd
from oversight.models.types import Completion, GenerateConfig, Message, Usage
from oversight.work import build_models, orders_for, protocol_for_run, record_outcome

CHARS_PER_TOKEN = 4


def _tiktoken_counter(model: str) -> Callable[[str], int] | None:
    try:
        import tiktoken

        encoding = tiktoken.encoding_for_model(model)
        encoding.encode("probe")  # fails here when the encoding files cannot be loaded (offline)
    except Exception:  # noqa: BLE001 - no tiktoken, an unknown model or no encoding files: count by characters
        return None
    return lambda text: len(encoding.encode(text))


def token_counter(spec: str) -> tuple[Callable[[list[Message]], int], str]:
    """A prompt-token counter for `spec` and the name of the method it uses."""
    parsed = parse_spec(spec)
    if parsed.provider == "local":
        from oversight.models.registry import create_provider

        provider = create_provider(parsed)
        return (lambda messages: provider.count_tokens(messages) or 0), "llama.cpp tokenizer"
    if parsed.provider == "openai" and (count := _tiktoken_counter(parsed.model)) is not None:
        return (lambda messages: sum(count(m.content) + 4 for m in messages)), "tiktoken"
    return (lambda messages: sum(len(m.content) for m in messages) // CHARS_PER_TOKEN + 4 * len(messages)), "≈ 4 characters a token"


@dataclass
class Tally:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class StandIn:
    """Takes a model's place in a dry run: notes each call and answers at once."""

    name: str
    counter: Callable[[list[Message]], int]
    tallies: dict[tuple[str, str], Tally]
    context_window: int | None = None

    def count_tokens(self, messages: list[Message]) -> int | None:
        return self.counter(messages)

    async def generate(self, messages: list[Message], config: GenerateConfig | None = None, *, role: str = "model", **_: Any) -> Completion:
        config = config or GenerateConfig()
        tally = self.tallies[(role, self.name)]
        tally.calls += 1
        tally.prompt_tokens += self.counter(messages)
        tally.completion_tokens += config.max_tokens
        text = f"{config.choices[0]} 50%" if config.choices else " ".join(["word"] * config.max_tokens)
        return Completion(text=text, usage=Usage())


def estimate(config: RunConfig) -> dict[str, Any]:
    protocol = protocol_for_run(config)
    cls = type(protocol)
    protocol.prompts.judge_version(config.judge_prompt)  # an unknown judge prompt fails here
    _, questions = load_dataset(
        config.dataset, config.format, hard=config.hard, limit=config.limit, skip_bad_rows=config.skip_bad_rows, filters=config.filters
    )
    tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
    counters: dict[str, tuple[Callable[[list[Message]], int], str]] = {}

    counted_by: dict[str, str] = {}

    def stand_in(spec: str) -> StandIn:
        if spec not in counters:
            counters[spec] = token_counter(spec)
        name = parse_spec(spec).name
        counted_by[name] = counters[spec][1]
        return StandIn(name, counters[spec][0], tallies)

    participants, judges = build_models(config, protocol, stand_in)  # type: ignore[arg-type]

    async def simulate() -> int:
        items = 0
        for question in questions:
            for variant in protocol.variants(question):
                items += 1
                transcript = await protocol.run(question, question.two_options(config.seed), participants, variant)  # type: ignore[arg-type]
                record_outcome(transcript, variant, config.seed)
                for judge in judges:
                    for order in orders_for(config.orders, config.seed, question):
                        await judge_transcript(judge, protocol, transcript, order, config.judge_prompt)  # type: ignore[arg-type]
        return items

    try:
        items = asyncio.run(simulate())
    except InputError:
        raise
    except Exception as exc:  # a protocol that cannot run without real replies: say so, in one line
        raise InputError(f"--dry-run: protocol {cls.name!r} could not be simulated: {type(exc).__name__}: {exc}") from None
    rows = []
    for (role, model), tally in sorted(tallies.items()):
        cost = cost_usd(model, tally.prompt_tokens, tally.completion_tokens)
        rows.append(
            {"role": role, "model": model, "calls": tally.calls, "prompt_tokens": tally.prompt_tokens,
             "completion_tokens_max": tally.completion_tokens, "cost_usd_max": round(cost / (2 if config.batch else 1), 4),
             "tokens_counted_by": counted_by[model]}
        )  # fmt: skip
    return {
        "protocol": cls.name,
        "questions": len(questions),
        "items": items,
        "calls": sum(r["calls"] for r in rows),
        "prompt_tokens": sum(r["prompt_tokens"] for r in rows),
        "completion_tokens_max": sum(r["completion_tokens_max"] for r in rows),
        "cost_usd_max": round(sum(r["cost_usd_max"] for r in rows), 4),
        "batch": config.batch,
        "by_role": rows,
    }
