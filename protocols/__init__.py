"""One module per protocol, found through the protocol registry (`oversight.plugins.PROTOCOLS`).

A protocol is named on the CLI by its registered name (`debate`), by an entry point an installed
package declares (group `oversight.protocols`), or by a user's class (`my_protocols.py:MyDebate`).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from oversight.errors import InputError
from oversight.plugins import PROTOCOLS, is_reference
from oversight.protocols.base import Participants, Protocol, ProtocolSettings

BUILT_IN_ROLES = ("debater_a", "debater_b", "consultant")
"""Roles with options of their own (--debater, --debater-a/-b, --consultant); any other role is given with --role."""


def protocol_class(name: str) -> type[Protocol]:
    return PROTOCOLS.get(name)


def get_protocol(name: str, settings: ProtocolSettings | None = None) -> Protocol:
    return protocol_class(name)(settings)


def build_settings(cls: type[Protocol], common: dict[str, Any], custom: dict[str, Any]) -> ProtocolSettings:
    """The protocol's `Settings` from the options every protocol shares and its own (`--set NAME=VALUE`)."""
    own = [k for k in cls.Settings.model_fields if k not in ProtocolSettings.model_fields]
    for key in custom:
        if key in ProtocolSettings.model_fields:
            raise InputError(f"--set {key}: every protocol has this setting; use --{key.replace('_', '-')}")
        if key not in own:
            listed = ", ".join(own) if own else "none"
            raise InputError(f"--set {key}: protocol {cls.name!r} has no such setting (its own settings: {listed})")
    try:
        return cls.Settings(**common, **custom)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "settings"
        option = f"--set {key}" if key in custom else f"--{key.replace('_', '-')}"
        raise InputError(f"{option}: {str(err['msg']).removeprefix('Value error, ')}") from None


def check_roles(cls: type[Protocol], given: dict[str, str]) -> None:
    """`--role NAME=SPEC` only for roles the protocol declares beyond the built-in ones."""
    own = [r for r in cls.roles if r not in BUILT_IN_ROLES]
    for role in given:
        if role in BUILT_IN_ROLES:
            raise InputError(f"--role {role}: use --{role.replace('_', '-')}" + (" or --debater" if role.startswith("debater") else ""))
        if role not in own:
            raise InputError(f"--role {role}: protocol {cls.name!r} has no such role (its roles: {', '.join(cls.roles) or 'none'})")


def _shown_by() -> dict[str, type[Protocol]]:
    """Stored transcript protocol names and the registered class that can show them to a judge."""
    out: dict[str, type[Protocol]] = {}
    for name in PROTOCOLS.names():
        try:
            cls = PROTOCOLS.get(name)
        except InputError:
            continue  # a broken plugin must not hide the built-in protocols
        for shown in (cls.name, *cls.shows):
            out.setdefault(shown, cls)
    return out


def protocol_for_transcript(name: str, settings: ProtocolSettings | None = None, reference: str | None = None) -> Protocol:
    """The protocol that can show a stored transcript to a judge (for re-judging and the judge app).

    `reference` is the run's `--protocol` value, which finds a user's class that no registry holds.
    """
    shown_by = _shown_by()
    if name in shown_by:
        return shown_by[name](settings)
    if reference and is_reference(reference):
        cls = PROTOCOLS.get(reference)
        if name in (cls.name, *cls.shows):
            return cls(settings)
    raise InputError(
        f"stored transcripts of protocol {name!r} cannot be shown to a judge: its class is not registered (give --plugin FILE.py)"
    )


__all__ = [
    "BUILT_IN_ROLES", "Participants", "Protocol", "ProtocolSettings", "build_settings", "check_roles", "get_protocol",
    "protocol_class", "protocol_for_transcript",
]  # fmt: skip
