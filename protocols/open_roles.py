"""Open roles (Kenton et al. 2024): the strong model first picks the answer it will argue for."""

from __future__ import annotations

from oversight.judging import read_verdict
from oversight.models import GenerateConfig, Model
from oversight.prompts import PromptSet
from oversight.transcript import OpenRoleOutcome, Side, Transcript

CHOICE_CONFIG = GenerateConfig(max_tokens=2, temperature=0.0, logprobs=True, top_logprobs=20, choices=("A", "B"))


async def choose_side(prompts: PromptSet, model: Model, transcript: Transcript) -> Side:
    """The side the model believes is correct; the choice is recorded in the transcript's outcome (an `OpenRoleOutcome`)."""
    t = transcript
    reply = await model.generate(
        prompts.choice_messages(
            context=t.question.context, question=t.question.question, option_a=t.option_text("A"), option_b=t.option_text("B")
        ),
        CHOICE_CONFIG,
        role="chooser",
    )
    verdict = read_verdict(reply.text, reply.first_token_distribution())
    if verdict.p is None:
        side: Side = "A"  # unreadable choice: argue for A and record that the choice was invalid
        p_a = None
    else:
        side = "A" if verdict.p["A"] >= verdict.p["B"] else "B"
        p_a = verdict.p["A"]
    outcome = t.outcome
    outcome.chosen_side, outcome.chose_correct = side, side == t.correct
    if isinstance(outcome, OpenRoleOutcome):
        outcome.chooser, outcome.choice_p_a, outcome.choice_valid, outcome.choice_raw = model.name, p_a, verdict.valid, reply.text
    return side
