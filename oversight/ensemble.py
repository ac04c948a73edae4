"""Judge ensembles: several judge models, or several samples of one, combined into one verdict per transcript and
order — the members' judgments are stored too, so each member can be scored beside the ensemble.

`mean` averages the members' probabilities (a calibrated ensemble); `majority` gives each answer the
share of members that preferred it (a member's tie counts half to each), which is robust to one
over-confident member.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oversight.judging import sample_name
from oversight.transcript import Judgment, Order, Side

Combine = Literal["mean", "majority"]


class EnsembleSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=150)
    members: list[str] = Field(min_length=1)
    """Judge specs."""
    samples: int = Field(default=1, ge=1, le=64)
    """Samples per member (above 1, each at the sampling temperature with its own seed)."""
    combine: Combine = "mean"

    @field_validator("name")
    @classmethod
    def _plain(cls, v: str) -> str:
        if any(c.isspace() for c in v) or ":" in v:
            raise ValueError("use a name without spaces or ':'")
        return v

    @property
    def judge(self) -> str:
        """How the ensemble is named among the judges."""
        return f"ensemble:{self.name}"

    def member_names(self, model_names: list[str]) -> list[str]:
        """The stored judge names of the members (a member's samples are `<judge>#s<i>`)."""
        if self.samples == 1:
            return list(model_names)
        return [sample_name(m, i) for m in model_names for i in range(self.samples)]


def combine(spec: EnsembleSpec, members: list[Judgment], order: Order, correct_side: Side, prompt_version: str) -> Judgment:
    """One ensemble verdict from its members' verdicts on one transcript in one order (invalid when none is valid)."""
    valid = [m for m in members if m.valid and m.p_a is not None and m.p_b is not None and (m.p_a + m.p_b) > 0]
    p_a: float | None = None
    if valid:
        if spec.combine == "mean":
            p_a = sum(m.p_a / (m.p_a + m.p_b) for m in valid) / len(valid)  # type: ignore[operator]
        else:
            votes = sum(1.0 if m.p_a > m.p_b else 0.0 if m.p_a < m.p_b else 0.5 for m in valid)  # type: ignore[operator]
            p_a = votes / len(valid)
    record = {"combine": spec.combine, "members": [{"judge": m.judge, "p_a": m.p_a, "valid": m.valid} for m in members]}
    return Judgment(
        judge=spec.judge,
        order=order,
        p_a=p_a,
        p_b=None if p_a is None else 1.0 - p_a,
        valid=p_a is not None,
        method=f"ensemble-{spec.combine}",
        raw_output=json.dumps(record),
        prompt_version=prompt_version,
        correct_side=correct_side,
    )
