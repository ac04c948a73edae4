"""The Batch API batches of a run (`--batch`): recorded as they progress, read back when the run resumes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from oversight.db.cache import insert_ignoring_duplicates
from oversight.db.schema import BatchJobRow
from oversight.models.batch import BatchJob

JOBS = BatchJobRow.__table__


def record_job(engine: Engine, run_id: int, job: BatchJob) -> None:
    """Insert or update one batch's row (its status changes as it is polled)."""
    values = job.model_dump() | {"updated_at": datetime.now(UTC)}
    with engine.begin() as conn:
        conn.execute(insert_ignoring_duplicates(engine, JOBS), [{"run_id": run_id, **values}])
        conn.execute(update(JOBS).where(JOBS.c.run_id == run_id, JOBS.c.batch_id == job.batch_id).values(**values))


def run_jobs(engine: Engine, run_id: int) -> list[BatchJob]:
    with engine.connect() as conn:
        rows = conn.execute(select(JOBS).where(JOBS.c.run_id == run_id).order_by(JOBS.c.id)).all()
    return [BatchJob.model_validate(dict(r._mapping), from_attributes=False) for r in rows]
