"""One module per protocol; `get_protocol` picks one by the name used on the CLI."""

from __future__ import annotations

from oversight.errors import InputError
from oversight.protocols.base import Participants, Protocol, ProtocolSettings
from oversight.protocols.debate import Debate
from oversight.protocols.expert import Expert
from oversight.protocols.naive import Naive

PROTOCOLS: dict[str, type[Protocol]] = {cls.name: cls for cls in (Naive, Expert, Debate)}


def get_protocol(name: str, settings: ProtocolSettings | None = None) -> Protocol:
    if name not in PROTOCOLS:
        raise InputError(f"--protocol {name!r}: unknown; choose one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name](settings or ProtocolSettings())


__all__ = ["PROTOCOLS", "Participants", "Protocol", "ProtocolSettings", "get_protocol"]
