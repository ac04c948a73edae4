"""Spreading one model's requests over its replicas.

Each request goes to the healthy replica with the fewest requests in flight (ties rotate), so a
slow or busy replica gets less work, not an equal share. A replica whose request fails at the
transport or server level (connection refused or dropped, timeout inside the client, HTTP 5xx,
an unreadable reply) is taken out at once; a background probe asks it for `/models` with growing
pauses and puts it back when it answers. The failed request itself is retried by the `Model`
wrapper and lands on another replica. With a single replica there is nothing to fail over to, so
it is never taken out. Each replica holds its own concurrency limit, shared with every other
model on the same URL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

from oversight.models.errors import EndpointsDownError, ErrorKind, classify

log = logging.getLogger(__name__)

Probe = Callable[["Replica"], Awaitable[bool]]


class Replica:
    def __init__(self, url: str, client: Any, limit: asyncio.Semaphore) -> None:
        self.url = url
        self.client = client
        self.limit = limit
        self.in_flight = 0
        self.healthy = True
        self.requests = 0
        self.failures = 0
        self.last_pick = 0
        self.probe_task: asyncio.Task[None] | None = None


def is_replica_fault(exc: BaseException) -> bool:
    """Faults of the server or the path to it, as opposed to faults of the request (4xx) or rate limits (429)."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool):
        return status >= 500
    return classify(exc) is ErrorKind.TRANSIENT


class ReplicaRouter:
    def __init__(self, name: str, replicas: list[Replica], probe: Probe, *, probe_interval: float = 0.5, probe_max: float = 10.0) -> None:
        if not replicas:
            raise ValueError("a router needs at least one replica")
        self.name = name
        self.replicas = replicas
        self._probe = probe
        self.probe_interval = probe_interval
        self.probe_max = probe_max
        self._picks = 0

    def choose(self) -> Replica:
        healthy = [r for r in self.replicas if r.healthy]
        if not healthy:
            raise EndpointsDownError(f"all {len(self.replicas)} endpoints of {self.name} are down (probing them)")
        return min(healthy, key=lambda r: (r.in_flight, r.last_pick))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Replica]:
        """A replica to send one request to, held within its concurrency limit for the request's duration."""
        replica = self.choose()
        self._picks += 1
        replica.last_pick = self._picks
        replica.in_flight += 1
        replica.requests += 1
        try:
            async with replica.limit:
                yield replica
        except BaseException as exc:
            if is_replica_fault(exc):
                replica.failures += 1
                self.take_out(replica, exc)
            raise
        finally:
            replica.in_flight -= 1

    def take_out(self, replica: Replica, exc: BaseException | None = None) -> None:
        if len(self.replicas) < 2 or not replica.healthy:
            return
        replica.healthy = False
        log.warning("%s: taking %s out after %s; probing it", self.name, replica.url, type(exc).__name__ if exc else "a failure")
        replica.probe_task = asyncio.get_running_loop().create_task(self._probe_until_back(replica))

    async def _probe_until_back(self, replica: Replica) -> None:
        pause = self.probe_interval
        while not replica.healthy:
            await asyncio.sleep(pause)
            try:
                ok = await self._probe(replica)
            except Exception:  # noqa: BLE001 - any failure of the probe means "still down"
                ok = False
            if ok:
                replica.healthy = True
                log.warning("%s: %s answers again; back in rotation", self.name, replica.url)
                return
            pause = min(pause * 2, self.probe_max)

    async def aclose(self) -> None:
        for replica in self.replicas:
            task, replica.probe_task = replica.probe_task, None
            if task is not None and not task.done():
                task.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await task
