"""Open roles (Kenton et al. 2024): the strong model first picks the answer it will argue for."""

from __future__ import annotations

from oversight.judging import read_verdict
from oversight.models import GenerateConfig, Model
from oversight.prompts import choice_messages
from oversight.transcript import Side, Transcript

CHOICE_CONFIG = GenerateConfig(max_tokens=2, temperature=0.0, logprobs=True, top_logprobs=20, choices=("A", "B"))


async def choose_side(model: Model, transcript: Transcript) -> tuple[Side, dict]:
    """The side the model believes is correct, and what to record about the choice."""
    t = transcript
    reply = await model.generate(
        choice_messages(context=t.question.context, question=t.question.question, option_a=t.option_text("A"), option_b=t.option_text("B")),
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
    return side, {
        "chooser": model.name,
        "chosen_side": side,
        "chose_correct": side == t.correct,
        "choice_p_a": p_a,
        "choice_valid": verdict.valid,
        "choice_raw": reply.text,
    }
