"""Database work started from the event loop: in a worker thread only where the thread buys something."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine

T = TypeVar("T")


async def run_db(engine: Engine, work: Callable[..., T], *args: object) -> T:
    """`work(*args)`, inline for SQLite and in a worker thread for a server database.

    A write to SQLite here is CPU work (WAL with synchronous=NORMAL never waits on the disk at commit), and done
    in a worker thread it competes for the GIL with the event loop: a 10,000-call judge run spent about 0.56 ms
    of CPU a call that way against 0.43 ms with the writes inline. A PostgreSQL write waits on the network, and a
    thread lets requests go on meanwhile.
    """
    if engine.dialect.name == "sqlite":
        return work(*args)
    return await asyncio.to_thread(work, *args)
