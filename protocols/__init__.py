"""One module per protocol; `get_protocol` picks one by the name used on the CLI."""

from __future__ import annotations

from oversight.errors import InputError
from oversight.protocols.base import Participants, Protocol, ProtocolSettings
from oversight.protocols.consultancy import Consultancy, InteractiveConsultancy, OpenConsultancy
from oversight.protocols.debate import Debate, InteractiveDebate, OpenDebate
from oversight.protocols.expert import Expert
from oversight.protocols.human_arguments import HumanArguments
from oversight.protocols.naive import Naive

PROTOCOLS: dict[str, type[Protocol]] = {
    cls.name: cls
    for cls in (Naive, Expert, Debate, OpenDebate, InteractiveDebate, Consultancy, OpenConsultancy, InteractiveConsultancy, HumanArguments)
}
# transcripts some protocols store under another name (human-debate, ...) and the class that shows them
SHOWN_BY: dict[str, type[Protocol]] = {name: cls for cls in PROTOCOLS.values() for name in (cls.name, *cls.shows)}


def get_protocol(name: str, settings: ProtocolSettings | None = None) -> Protocol:
    if name not in PROTOCOLS:
        raise InputError(f"--protocol {name!r}: unknown; choose one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name](settings or ProtocolSettings())


def protocol_for_transcript(name: str, settings: ProtocolSettings | None = None) -> Protocol:
    """The protocol that can show a stored transcript to a judge (for re-judging)."""
    if name not in SHOWN_BY:
        raise InputError(f"stored transcripts of protocol {name!r} cannot be shown to a judge by this version")
    return SHOWN_BY[name](settings or ProtocolSettings())


__all__ = ["PROTOCOLS", "Participants", "Protocol", "ProtocolSettings", "get_protocol", "protocol_for_transcript"]
