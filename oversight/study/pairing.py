"""Who debates whom in a tournament: every pair (round-robin) or rounds of players of similar rating (Swiss).

A pairing is (player on side A, player on side B). With both sides, each pair is played twice,
each player taking debater A once, so neither side's position favours a player.
"""

from __future__ import annotations

from itertools import combinations

Pairing = tuple[str, str]


def sided(pairs: list[Pairing], *, both_sides: bool) -> list[Pairing]:
    out: list[Pairing] = []
    for a, b in pairs:
        out.append((a, b))
        if both_sides and a != b:
            out.append((b, a))
    return out


def round_robin(players: list[str], *, both_sides: bool = True, self_play: bool = False) -> list[Pairing]:
    pairs = list(combinations(players, 2))
    if self_play:
        pairs += [(p, p) for p in players]
    return sided(pairs, both_sides=both_sides)


def swiss_round(players: list[str], ratings: dict[str, float], played: set[frozenset[str]]) -> list[Pairing]:
    """One Swiss round: players sorted by current rating (unrated ones by name), each paired with the nearest
    one below it whom it has not met yet; an odd player out sits the round out."""
    order = sorted(players, key=lambda p: (-ratings.get(p, 1000.0), p))
    free = list(order)
    pairs: list[Pairing] = []
    while len(free) >= 2:
        first = free.pop(0)
        partner = next((p for p in free if frozenset((first, p)) not in played), None)
        if partner is None:
            continue  # everyone left has met this player already
        free.remove(partner)
        pairs.append((first, partner))
    return pairs
