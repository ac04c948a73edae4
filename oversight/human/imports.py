"""Human verdicts collected outside the judge app (another study's file, a lab's own interface), stored as
`judge_kind = human` judgments on the matching transcripts so model judges can be compared with those humans
on the same items.

The file (JSONL, or CSV with the same column names), one verdict per line:

| field | meaning |
|---|---|
| `question_id` | the dataset's question id (required) |
| `judge_id` | who judged (required); stored as judge `human:<judge_id>` |
| `chosen` | the text of the answer the judge chose … |
| `confidence` | … and their confidence in it, 0.5–1 or 50–100 (default 1) |
| `p_correct` | or, instead of `chosen`, the probability they put on the correct answer |
| `condition` | the protocol of the transcript they read, as stored (`debate`, `consultancy`, `human-debate` and `human-consultancy` for `human-arguments` runs, …) |
| `variant` | which of a question's transcripts, where a protocol makes several (consultancy: `correct` / `incorrect`) |
| `run` | the run holding the transcript (else `--run`, else any run with a matching transcript, if only one) |
| `order` | `AB` (default) if the transcript's answer A was shown first, `BA` if B was |
| `time_s` | seconds spent (optional); `explanation` (optional) |

Every line is checked before anything is written; any problem (an unknown question, a row that
matches no or several transcripts, an unreadable value) is reported with its line number and
nothing is imported. Importing the same file again adds nothing (the verdicts are already there).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Engine, and_, insert, select

from oversight.data.rows import LoadReport, read_csv, read_jsonl, reporting
from oversight.db.schema import JUDGMENTS, QUESTIONS, RUNS, TRANSCRIPTS
from oversight.errors import InputError

MAX_PROBLEMS_SHOWN = 10
IMPORT_METHOD = "imported"


class ImportedVerdict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    question_id: str = Field(min_length=1, max_length=200)
    judge_id: str = Field(min_length=1, max_length=190)
    chosen: str | None = None
    confidence: float | None = None
    p_correct: float | None = Field(default=None, ge=0.0, le=1.0)
    condition: str | None = None
    variant: str | None = None
    run: str | None = None
    order: Literal["AB", "BA"] = "AB"
    time_s: float | None = Field(default=None, ge=0.0)
    explanation: str = ""

    @field_validator("question_id", "judge_id", mode="before")
    @classmethod
    def _as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @field_validator("chosen", "condition", "variant", "run", "confidence", "p_correct", "time_s", mode="before")
    @classmethod
    def _blank_is_missing(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("confidence")
    @classmethod
    def _confidence(cls, v: float | None) -> float | None:
        if v is None:
            return v
        if v > 1.0:
            v = v / 100.0
        if not 0.5 <= v <= 1.0:
            raise ValueError("give 0.5-1 or 50-100 (confidence in the chosen answer)")
        return v

    @model_validator(mode="after")
    def _one_answer(self) -> ImportedVerdict:
        if (self.chosen is None) == (self.p_correct is None):
            raise ValueError("give either chosen (the answer's text) or p_correct")
        if self.confidence is not None and self.chosen is None:
            raise ValueError("confidence goes with chosen")
        return self


@dataclass
class ImportResult:
    imported: int = 0
    already_there: int = 0
    by_condition: dict[str, int] = field(default_factory=dict)


def read_rows(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """(line, row) pairs from a JSONL or CSV file, and the lines that could not be read (as `path:line: problem`)."""
    report = LoadReport(skip_bad_rows=True)
    with reporting(report):
        rows: list[tuple[int, dict[str, Any]]] = list(read_csv(path) if path.suffix.lower() == ".csv" else read_jsonl(path))
    return rows, list(report.skipped)


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


def _candidates(conn: Any, verdict: ImportedVerdict, run: str | None) -> list[Any]:
    query = (
        select(TRANSCRIPTS.c.id, TRANSCRIPTS.c.protocol, TRANSCRIPTS.c.variant, TRANSCRIPTS.c.correct, TRANSCRIPTS.c.option_a,
               TRANSCRIPTS.c.option_b, QUESTIONS.c.options, RUNS.c.name.label("run"))
        .select_from(TRANSCRIPTS.join(QUESTIONS, QUESTIONS.c.uid == TRANSCRIPTS.c.question_uid).join(RUNS))
        .where(QUESTIONS.c.external_id == verdict.question_id)
    )  # fmt: skip
    if verdict.run or run:
        query = query.where(RUNS.c.name == (verdict.run or run))
    if verdict.condition:
        query = query.where(TRANSCRIPTS.c.protocol == verdict.condition)
    if verdict.variant:
        query = query.where(TRANSCRIPTS.c.variant == verdict.variant)
    return list(conn.execute(query))


def _resolve(conn: Any, verdict: ImportedVerdict, run: str | None) -> tuple[Any | None, str | None]:
    """The one transcript this verdict is about and the judge's probability on its answer A, or the problem."""
    found = _candidates(conn, verdict, run)
    if not found:
        exists = conn.execute(select(QUESTIONS.c.uid).where(QUESTIONS.c.external_id == verdict.question_id)).first()
        if exists is None:
            return None, f"question_id {verdict.question_id!r}: no stored question has this id"
        where = ", ".join(f"{k} {v!r}" for k, v in (("run", verdict.run or run), ("condition", verdict.condition),
                                                    ("variant", verdict.variant)) if v)  # fmt: skip
        return None, f"question_id {verdict.question_id!r}: no transcript of it" + (f" with {where}" if where else "")
    if len(found) > 1:
        kinds = sorted({f"{t.run}/{t.protocol}" + (f"#{t.variant}" if t.variant else "") for t in found})
        return (
            None,
            f"question_id {verdict.question_id!r}: {len(found)} transcripts match ({', '.join(kinds[:4])}); give condition, variant or run",
        )
    return found[0], None


def _p_a(verdict: ImportedVerdict, transcript: Any) -> tuple[float | None, str | None]:
    if verdict.p_correct is not None:
        return (verdict.p_correct if transcript.correct == "A" else 1.0 - verdict.p_correct), None
    answers = {"A": transcript.options[transcript.option_a], "B": transcript.options[transcript.option_b]}
    chosen = [side for side, text in answers.items() if _normalised(text) == _normalised(verdict.chosen or "")]
    if len(chosen) != 1:
        return None, f"chosen {verdict.chosen!r}: is neither of the transcript's answers ({answers['A']!r}, {answers['B']!r})"
    p = verdict.confidence if verdict.confidence is not None else 1.0
    return (p if chosen[0] == "A" else 1.0 - p), None


def import_human_judgments(engine: Engine, path: Path, *, run: str | None = None, source: str | None = None) -> ImportResult:
    """Check every line, then store all verdicts in one transaction (or none, with every problem by line)."""
    label = (source or path.stem)[:22]
    prompt_version = f"import:{label}"
    rows, problems = read_rows(path)
    if not rows and not problems:
        raise InputError(f"{path}: no verdicts in the file")
    records: list[dict[str, Any]] = []
    seen: dict[tuple[int, str, str], int] = {}
    with engine.connect() as conn:
        if run is not None and conn.execute(select(RUNS.c.id).where(RUNS.c.name == run)).first() is None:
            raise InputError(f"--run {run!r}: no such run")
        for line, raw in rows:
            try:
                verdict = ImportedVerdict.model_validate(raw)
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"]) or "row"
                problems.append(f"{path}:{line}: {where}: {str(err['msg']).removeprefix('Value error, ')}")
                continue
            transcript, problem = _resolve(conn, verdict, run)
            p_a, why = _p_a(verdict, transcript) if transcript is not None else (None, None)
            if problem or why:
                problems.append(f"{path}:{line}: {problem or why}")
                continue
            assert transcript is not None and p_a is not None
            judge = f"human:{verdict.judge_id}"
            key = (transcript.id, judge, verdict.order)
            if key in seen:
                problems.append(
                    f"{path}:{line}: judge {verdict.judge_id!r} judged this transcript in order {verdict.order} already (line {seen[key]})"
                )
                continue
            seen[key] = line
            p_correct = p_a if transcript.correct == "A" else 1.0 - p_a
            note = {"explanation": verdict.explanation, "time_s": verdict.time_s, "source": str(path.name), "line": line}
            records.append({
                "transcript_id": transcript.id, "judge": judge, "judge_kind": "human", "order": verdict.order, "p_a": p_a,
                "p_b": 1.0 - p_a, "p_correct": p_correct, "correct": p_correct > 0.5, "valid": True, "method": IMPORT_METHOD,
                "raw_output": json.dumps(note, ensure_ascii=False), "prompt_version": prompt_version, "_protocol": transcript.protocol,
            })  # fmt: skip
    if problems:
        problems.sort(key=lambda p: int(p.removeprefix(f"{path}:").split(":", 1)[0]))
        shown = "\n".join(problems[:MAX_PROBLEMS_SHOWN])
        more = f"\n… and {len(problems) - MAX_PROBLEMS_SHOWN} more" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        raise InputError(f"{len(problems)} problem(s); nothing was imported:\n{shown}{more}")
    result = ImportResult()
    with engine.begin() as conn:
        for record in records:
            protocol = record.pop("_protocol")
            exists = conn.execute(
                select(JUDGMENTS.c.id).where(and_(JUDGMENTS.c.transcript_id == record["transcript_id"], JUDGMENTS.c.judge == record["judge"],
                                                  JUDGMENTS.c.order == record["order"], JUDGMENTS.c.prompt_version == prompt_version))
            ).first()  # fmt: skip
            if exists is not None:
                result.already_there += 1
                continue
            conn.execute(insert(JUDGMENTS).values(**record))
            result.imported += 1
            result.by_condition[protocol] = result.by_condition.get(protocol, 0) + 1
    return result
