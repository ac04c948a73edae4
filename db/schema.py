"""The tables. Every change here needs an Alembic revision in `migrations/versions` (a test compares them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Context(Base):
    """A hidden article or passage, stored once however many questions and runs use it."""

    __tablename__ = "contexts"
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    n_chars: Mapped[int] = mapped_column(Integer)


class QuestionRow(Base):
    __tablename__ = "questions"
    uid: Mapped[str] = mapped_column(String(64), primary_key=True, comment="hash of source, id and content")
    source: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    options: Mapped[list[Any]] = mapped_column(JSON)
    answer: Mapped[int] = mapped_column(Integer)
    distractor: Mapped[int | None] = mapped_column(Integer)
    context_hash: Mapped[str | None] = mapped_column(ForeignKey("contexts.hash"))
    article_id: Mapped[str | None] = mapped_column(String(200))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Run(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    protocol: Mapped[str] = mapped_column(String(64))
    dataset: Mapped[str] = mapped_column(String(200))
    dataset_path: Mapped[str] = mapped_column(Text)
    dataset_format: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    config_hash: Mapped[str] = mapped_column(String(64))
    prompt_version: Mapped[str] = mapped_column(String(32))
    models: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[int] = mapped_column(Integer)
    package_version: Mapped[str] = mapped_column(String(64))
    git_revision: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), comment="running | finished | interrupted | failed")
    n_items: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    elapsed_s: Mapped[float] = mapped_column(Float, default=0.0, comment="summed over resumed attempts")
    lease_owner: Mapped[str | None] = mapped_column(String(200), comment="host:pid:token of the process running it")
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Transcript(Base):
    """One question as one protocol ran it: the options it used (A, B) and who argued what."""

    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("run_id", "item_key", name="uq_transcript_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    question_uid: Mapped[str] = mapped_column(ForeignKey("questions.uid"), index=True)
    item_key: Mapped[str] = mapped_column(String(200))
    protocol: Mapped[str] = mapped_column(String(64))
    option_a: Mapped[int] = mapped_column(Integer, comment="index into the question's options shown as A")
    option_b: Mapped[int] = mapped_column(Integer)
    correct: Mapped[str] = mapped_column(String(1), comment="A or B")
    prompt_version: Mapped[str] = mapped_column(String(32))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the protocol's Outcome, typed (`Outcome.stored`), and the fields results are grouped and scored by, as columns
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    variant: Mapped[str] = mapped_column(String(64), server_default="")
    models: Mapped[str] = mapped_column(String(400), server_default="", index=True)
    consultant_correct: Mapped[bool | None] = mapped_column(Boolean)
    chose_correct: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Turn(Base):
    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("transcript_id", "idx", name="uq_turn_idx"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(32))
    side: Mapped[str | None] = mapped_column(String(1))
    model: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    saw_context: Mapped[bool] = mapped_column(Boolean, default=False)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Quote(Base):
    __tablename__ = "quotes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    turn_idx: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    verified: Mapped[bool] = mapped_column(Boolean)
    start: Mapped[int | None] = mapped_column(Integer, comment="character offsets in the context")
    end: Mapped[int | None] = mapped_column(Integer)


class Judgment(Base):
    __tablename__ = "judgments"
    __table_args__ = (
        UniqueConstraint("transcript_id", "judge", "order", "prompt_version", name="uq_judgment"),
        Index("ix_judgments_judge", "judge"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    judge: Mapped[str] = mapped_column(String(200))
    judge_kind: Mapped[str] = mapped_column(String(16), comment="model | human")
    order: Mapped[str] = mapped_column(String(2), comment="AB: A shown first; BA: swapped")
    p_a: Mapped[float | None] = mapped_column(Float)
    p_b: Mapped[float | None] = mapped_column(Float)
    p_correct: Mapped[float | None] = mapped_column(Float)
    correct: Mapped[bool | None] = mapped_column(Boolean, comment="the judge's top choice was the correct option")
    valid: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(32), comment="how the probabilities were obtained")
    raw_output: Mapped[str] = mapped_column(Text, default="")
    prompt_version: Mapped[str] = mapped_column(String(32))
    after_round: Mapped[int | None] = mapped_column(
        Integer, comment="judged on the transcript cut after this round (accuracy by round); NULL: the whole transcript"
    )
    excluded: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false(), comment="kept out of the leaderboard (a human judge an admin excluded)"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ModelCall(Base):
    __tablename__ = "model_calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    transcript_id: Mapped[int | None] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(200))
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    cached_prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency: Mapped[float] = mapped_column(Float)
    cache_hit: Mapped[bool] = mapped_column(Boolean)
    truncated_prompt: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1", comment="HTTP attempts incl. retries")


class CachedResponse(Base):
    __tablename__ = "response_cache"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    completion: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class User(Base):
    """A person who logs in to the judge app. Passwords are kept only as salted scrypt hashes."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16), comment="judge | admin")
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LoginFailure(Base):
    """A failed login, kept for throttling by account and by client (and for the admins' eyes)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_name_at", "name", "at"), Index("ix_login_failures_client_at", "client", "at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A logged-in browser: only the token's hash is stored; the token lives in the judge's address bar."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Campaign(Base):
    """A human-judging study: which transcripts, how many judges per item, who judges, what they may see."""

    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    runs: Mapped[list[Any]] = mapped_column(JSON)
    protocols: Mapped[list[Any]] = mapped_column(JSON, comment="empty: every protocol in the runs")
    judges_per_item: Mapped[int] = mapped_column(Integer, default=1)
    show_context: Mapped[bool] = mapped_column(Boolean, default=False)
    interactive: Mapped[bool] = mapped_column(Boolean, default=False)
    interactive_model: Mapped[str | None] = mapped_column(String(200))
    turn_penalty: Mapped[float] = mapped_column(Float, default=0.0, comment="score charged per extra interactive turn")
    feedback: Mapped[bool] = mapped_column(Boolean, default=False, comment="show the correct answer and score after submitting")
    allow_repeat: Mapped[bool] = mapped_column(Boolean, default=False, comment="a judge may see a question judged in another campaign")
    design: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, comment="conditions, rounds, windows, time limit, qualification and catch trials (oversight.human.design)"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CampaignJudge(Base):
    __tablename__ = "campaign_judges"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), default="main", server_default="main", comment="qualification | main | failed")
    sequence: Mapped[int | None] = mapped_column(Integer, comment="the judge's row of the campaign's Latin square of conditions")
    excluded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false(), comment="kept out of the leaderboard")


class CampaignItem(Base):
    __tablename__ = "campaign_items"
    __table_args__ = (UniqueConstraint("campaign_id", "transcript_id", name="uq_campaign_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    condition: Mapped[str] = mapped_column(String(64), default="", server_default="")
    stage: Mapped[str] = mapped_column(String(16), default="main", server_default="main", comment="main | qualification | catch")


class HumanJudgment(Base):
    """A human judge's verdict on one campaign item; one per judge and item, enforced by the database."""

    __tablename__ = "human_judgments"
    __table_args__ = (UniqueConstraint("item_id", "user_id", name="uq_human_judgment"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("campaign_items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    judgment_id: Mapped[int | None] = mapped_column(
        ForeignKey("judgments.id", ondelete="CASCADE"), unique=True, comment="NULL for qualification and catch items, kept out of results"
    )
    order: Mapped[str] = mapped_column(String(2), comment="the answer order this judge was shown")
    explanation: Mapped[str] = mapped_column(Text)
    time_on_task_s: Mapped[float] = mapped_column(Float)
    extra_turns: Mapped[int] = mapped_column(Integer, default=0)
    exchanges: Mapped[list[Any]] = mapped_column(JSON, default=list, comment="interactive questions and answers")
    p_correct: Mapped[float | None] = mapped_column(Float, comment="probability on the correct answer; NULL when timed out")
    correct: Mapped[bool | None] = mapped_column(Boolean)
    stopped_after_round: Mapped[int | None] = mapped_column(Integer, comment="judge-paced campaigns: the round the judge stopped after")
    round_cost: Mapped[float] = mapped_column(Float, default=0.0, server_default="0", comment="charged for rounds read beyond the minimum")
    timed_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ItemSession(Base):
    """A judge's open item: when it was first shown (the time limit runs from here) and how many rounds they have read."""

    __tablename__ = "item_sessions"
    item_id: Mapped[int] = mapped_column(ForeignKey("campaign_items.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revealed_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RoundBelief(Base):
    """A judge's probability after one round of a judge-paced item, one per judge, item and round."""

    __tablename__ = "round_beliefs"
    __table_args__ = (UniqueConstraint("item_id", "user_id", "round", name="uq_round_belief"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("campaign_items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    p_first: Mapped[float] = mapped_column(Float, comment="on the first answer as this judge saw them")
    p_correct: Mapped[float] = mapped_column(Float)
    judgment_id: Mapped[int | None] = mapped_column(
        ForeignKey("judgments.id", ondelete="CASCADE"), comment="the same belief as a judgment after this round"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class W2SRun(Base):
    """A weak-to-strong experiment: which features supervise which, how, on what data."""

    __tablename__ = "w2s_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    dataset: Mapped[str] = mapped_column(Text)
    weak: Mapped[str] = mapped_column(String(200))
    strong: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(32))
    loss: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    package_version: Mapped[str] = mapped_column(String(64))
    git_revision: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class W2SResult(Base):
    __tablename__ = "w2s_results"
    __table_args__ = (UniqueConstraint("run_id", "seed", name="uq_w2s_result"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("w2s_runs.id", ondelete="CASCADE"), index=True)
    seed: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, comment="accuracy and AUROC of weak, student, ceiling")
    pgr: Mapped[float | None] = mapped_column(Float)


class W2SExample(Base):
    """One example of one seed: its split, ground truth, the weak label it got (transfer) and the predictions on it (test)."""

    __tablename__ = "w2s_examples"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("w2s_runs.id", ondelete="CASCADE"), index=True)
    seed: Mapped[int] = mapped_column(Integer)
    split: Mapped[str] = mapped_column(String(16))
    question_uid: Mapped[str] = mapped_column(ForeignKey("questions.uid"))
    option_index: Mapped[int] = mapped_column(Integer)
    label: Mapped[float] = mapped_column(Float)
    weak_label: Mapped[float | None] = mapped_column(Float)
    student_prediction: Mapped[float | None] = mapped_column(Float)
    weak_prediction: Mapped[float | None] = mapped_column(Float)
    ceiling_prediction: Mapped[float | None] = mapped_column(Float)


class BatchJobRow(Base):
    """A batch a run submitted to a provider's Batch API (`--batch`), kept so a resumed run reads it back."""

    __tablename__ = "batch_jobs"
    __table_args__ = (UniqueConstraint("run_id", "batch_id", name="uq_batch_job"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(400))
    batch_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32))
    requests: Mapped[int] = mapped_column(Integer)
    output_file_id: Mapped[str | None] = mapped_column(String(200))
    error_file_id: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# the Core tables behind the models, for bulk statements
CONTEXTS, QUESTIONS, RUNS = Context.__table__, QuestionRow.__table__, Run.__table__
TRANSCRIPTS, TURNS, QUOTES = Transcript.__table__, Turn.__table__, Quote.__table__
JUDGMENTS, CALLS = Judgment.__table__, ModelCall.__table__
HUMAN = HumanJudgment.__table__
