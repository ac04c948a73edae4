"""Process groups: every vLLM replica runs in its own session, so stopping it stops its engine workers too.

vLLM starts helper processes (the engine core, tokenizer workers); signalling the whole group is
what leaves no orphans. A recorded pid is trusted only while its start time matches, so a pid
reused by another program after a reboot is never signalled.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def start_ticks(pid: int) -> int | None:
    """When the process started (clock ticks since boot, from /proc); None if it is gone or unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its last ')'
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[19])


def is_running(pid: int, ticks: int | None) -> bool:
    now = start_ticks(pid)
    if now is None:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z" and (ticks is None or now == ticks)


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group (zombies excluded)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def stop_group(pgid: int, *, grace: float = 20.0) -> bool:
    """SIGTERM the group, wait up to `grace` seconds, then SIGKILL what is left. True when nothing is left."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pgid)
            if not group_members(pgid):
                return True
            time.sleep(0.2)
    _reap(pgid)
    return not group_members(pgid)


def _reap(pgid: int) -> None:
    """Collect exit statuses of our own children in the group, so they do not linger as zombies."""
    try:
        while True:
            pid, _ = os.waitpid(-pgid, os.WNOHANG)
            if pid == 0:
                return
    except ChildProcessError:
        return
