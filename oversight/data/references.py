"""Dataset references a run or a study may give instead of a path: `sample:NAME` (a file shipped with the package)
and `generated:…` (questions written by a generator, once). Kept apart from the study files that also use them, so a
run given a sample imports only this."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from oversight.errors import InputError

GENERATED_DIR = Path(".oversight-cache") / "datasets"


def generated_path(value: str) -> str:
    """`generated:prontoqa?n=64&hops=2&seed=0` → the generated file (written once, the same bytes every time)."""
    from urllib.parse import parse_qsl

    from oversight.data import prontoqa

    kind, _, query = value.removeprefix("generated:").partition("?")
    if kind != "prontoqa":
        raise InputError(f"{value}: unknown generator {kind!r} (there is generated:prontoqa?n=N&hops=H&seed=S)")
    try:
        options = {k: int(v) for k, v in parse_qsl(query, strict_parsing=bool(query))}
    except ValueError:
        raise InputError(f"{value}: write generated:prontoqa?n=N&hops=H&seed=S with whole numbers") from None
    unknown = set(options) - {"n", "hops", "seed"}
    if unknown:
        raise InputError(f"{value}: unknown option {sorted(unknown)[0]!r} (n, hops, seed)")
    n, hops, seed = options.get("n", 200), options.get("hops", 3), options.get("seed", 0)
    if not (1 <= n <= 1_000_000 and 1 <= hops <= 10 and seed >= 0):
        raise InputError(f"{value}: n must be 1-1000000, hops 1-10, seed 0 or more")
    path = GENERATED_DIR / f"prontoqa-n{n}-h{hops}-s{seed}.jsonl"
    if not path.is_file():
        prontoqa.write(path, n, hops=hops, seed=seed)
    return str(path.resolve())


def resolve_path(value: str, base: Path) -> str:
    """`sample:NAME` → the shipped sample; `generated:…` → a generated file; a relative path → relative to the
    study file's folder."""
    if value.startswith("generated:"):
        return generated_path(value)
    if value.startswith("sample:"):
        sample = files("oversight.samples") / f"{value.removeprefix('sample:')}.jsonl"
        if not sample.is_file():
            raise InputError(f"{value}: no such shipped sample (there is sample:quickstart)")
        return str(sample)
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path))
