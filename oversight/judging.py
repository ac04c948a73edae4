"""Turning a judge model's reply into a probability for each answer.

First choice: the log-probabilities of the answer letter. Small models often leave one letter
out of the returned top-k; then its probability is bounded by the smallest probability that was
returned (it cannot be larger, or it would have been listed). Without logprobs, a stated
confidence ("A 80%") is parsed. Anything else is recorded as invalid, never dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel

from oversight.models import GenerateConfig, Model
from oversight.prompts import DEFAULT_JUDGE_PROMPT
from oversight.swap import shown_label
from oversight.transcript import Judgment, Order, Transcript

if TYPE_CHECKING:
    from oversight.protocols.base import Protocol

LETTER = re.compile(r"(?<![A-Za-z])([AB])(?![A-Za-z])")
PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")
PROBABILITY = re.compile(r"(?<![\d.])(0?\.\d+|1\.0+|0|1)(?![\d.%])")


class Verdict(BaseModel):
    """Probabilities for the letters as the judge saw them, and how they were obtained."""

    p: dict[str, float] | None
    method: str

    @property
    def valid(self) -> bool:
        return self.p is not None


def _letter_of(token: str) -> str | None:
    stripped = token.strip().strip("()[]*.:").strip()
    return stripped if stripped in ("A", "B") else None


def two_way_mass(distribution: dict[str, float], classify: Callable[[str], str | None], labels: tuple[str, str]) -> Verdict | None:
    """Normalised probability of two answers from first-token candidates; `classify` maps a token to an answer or None.

    An answer missing from the top-k gets the smallest returned probability, its upper bound.
    """
    if not distribution:
        return None
    mass = dict.fromkeys(labels, 0.0)
    seen = set()
    for token, prob in distribution.items():
        label = classify(token)
        if label in mass:
            mass[label] += prob
            seen.add(label)
    if not seen:
        return None
    method = "logprobs"
    if len(seen) == 1:
        missing = labels[1] if labels[0] in seen else labels[0]
        mass[missing] = min(distribution.values())
        method = "logprobs_bounded"
    total = sum(mass.values())
    if total <= 0 or not math.isfinite(total):
        return None
    return Verdict(p={k: v / total for k, v in mass.items()}, method=method)


def from_logprobs(distribution: dict[str, float]) -> Verdict | None:
    return two_way_mass(distribution, _letter_of, ("A", "B"))


def from_text(text: str) -> Verdict:
    letter_match = LETTER.search(text)
    if letter_match is None:
        return Verdict(p=None, method="invalid")
    letter = letter_match.group(1)
    other = "B" if letter == "A" else "A"
    rest = text[letter_match.end() :]
    confidence: float | None = None
    if (pct := PERCENT.search(rest)) is not None:
        confidence = float(pct.group(1)) / 100.0
    elif (prob := PROBABILITY.search(rest)) is not None:
        confidence = float(prob.group(1))
    if confidence is None:
        return Verdict(p={letter: 1.0, other: 0.0}, method="stated_letter")
    if not 0.0 <= confidence <= 1.0:
        return Verdict(p=None, method="invalid")
    return Verdict(p={letter: confidence, other: 1.0 - confidence}, method="stated_confidence")


def read_verdict(text: str, distribution: dict[str, float]) -> Verdict:
    return from_logprobs(distribution) or from_text(text)


JUDGE_CONFIG = GenerateConfig(max_tokens=8, temperature=0.0, logprobs=True, top_logprobs=20, choices=("A", "B"))
COT_CONFIG = GenerateConfig(max_tokens=320, temperature=0.0)
SAMPLE_TEMPERATURE = 0.7
"""An ensemble's samples of one judge are drawn at this temperature, each with its own seed."""
FINAL_ANSWER = re.compile(r"Answer\s*:\s*(.+)", re.I)


def final_answer(text: str) -> str:
    """The last 'Answer: ...' line of a reasoned reply (or nothing, which reads as invalid)."""
    found = FINAL_ANSWER.findall(text)
    return found[-1] if found else ""


async def judge_transcript(
    judge: Model,
    protocol: Protocol,
    transcript: Transcript,
    order: Order,
    judge_prompt: str = DEFAULT_JUDGE_PROMPT,
    *,
    role: str = "judge",
    sample: int | None = None,
) -> Judgment:
    """Ask one judge model about one transcript in one answer order; the result is in canonical terms.

    With `sample`, the judge answers at `SAMPLE_TEMPERATURE` with that seed and is named `<judge>#s<sample>`: one
    member of an ensemble of samples."""
    messages = protocol.judge_view(transcript, order, judge_prompt)
    reasoned = protocol.prompts.judge_reply(judge_prompt) == "reasoned"
    config = COT_CONFIG if reasoned else JUDGE_CONFIG
    if sample is not None:
        config = config.model_copy(update={"temperature": SAMPLE_TEMPERATURE, "seed": sample})
    completion = await judge.generate(messages, config, role=role)
    if reasoned:
        verdict = from_text(final_answer(completion.text))
    else:
        verdict = read_verdict(completion.text, completion.first_token_distribution())
    p_a = p_b = None
    if verdict.p is not None:
        p_a = verdict.p[shown_label("A", order)]
        p_b = verdict.p[shown_label("B", order)]
    return Judgment(
        judge=judge.name if sample is None else sample_name(judge.name, sample),
        order=order,
        p_a=p_a,
        p_b=p_b,
        valid=verdict.valid,
        method=verdict.method,
        raw_output=completion.text,
        prompt_version=protocol.prompts.judge_version(judge_prompt),
        correct_side=transcript.correct,
    )


def sample_name(judge: str, sample: int) -> str:
    return f"{judge}#s{sample}"
