"""The response cache in the database: reads off the event loop, writes buffered and flushed in bulk."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from oversight.db.clean import storable
from oversight.db.offload import run_db
from oversight.db.schema import CachedResponse
from oversight.models.types import Completion

TABLE = CachedResponse.__table__
log = logging.getLogger(__name__)


def insert_ignoring_duplicates(engine: Engine, table):  # type: ignore[no-untyped-def]
    """INSERT that skips rows whose key exists (two runs may cache the same call at once); executed with a list
    of rows, so one compiled statement serves every batch (SQLAlchemy's insertmanyvalues)."""
    if engine.dialect.name == "postgresql":  # imported here: SQLite runs need not import the PostgreSQL dialect
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


class SqlResponseCache:
    def __init__(self, engine: Engine, flush_every: int = 256) -> None:
        self._engine = engine
        self._pending: dict[str, dict] = {}
        self._flush_every = flush_every
        self._known: set[str] | None = None

    def _load_keys(self) -> set[str]:
        """All stored keys, read once: a miss (the common case in a new run) then costs no query."""
        with self._engine.connect() as conn:
            return set(conn.execute(select(TABLE.c.key)).scalars())

    def _get(self, key: str) -> Completion | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(TABLE.c.completion).where(TABLE.c.key == key)).scalar_one_or_none()
        return Completion.model_validate(row) if row is not None else None

    async def get(self, key: str) -> Completion | None:
        pending = self._pending.get(key)
        if pending is not None:
            return Completion.model_validate(pending["completion"])
        if self._known is None:
            self._known = await run_db(self._engine, self._load_keys)
        if key not in self._known:
            return None
        return await run_db(self._engine, self._get, key)

    async def put(self, key: str, model: str, completion: Completion) -> None:
        self._pending[key] = {"key": key, "model": model, "completion": completion.model_dump(mode="json")}
        if len(self._pending) >= self._flush_every:
            await self.aflush()

    async def aflush(self) -> None:
        """`flush` from the event loop."""
        await run_db(self._engine, self.flush)

    def flush(self) -> None:
        """Store pending answers. The cache only saves calls, so a failure to store it (a full disk) is noted
        and the answers dropped; it never stops a run (the results' own writes report such a failure)."""
        if not self._pending:
            return
        rows, self._pending = list(self._pending.values()), {}
        try:
            with self._engine.begin() as conn:
                conn.execute(insert_ignoring_duplicates(self._engine, TABLE), [r | {"completion": storable(r["completion"])} for r in rows])
        except SQLAlchemyError as exc:
            log.warning("%d response(s) not cached: %s", len(rows), " ".join(str(getattr(exc, "orig", exc)).split())[:200])
            return
        if self._known is not None:
            self._known.update(r["key"] for r in rows)
