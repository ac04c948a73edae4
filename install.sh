#!/usr/bin/env bash
# Set up Oversight on a CPU or GPU machine in one command.
#
#   ./install.sh                 # a virtual environment in .venv, then: source .venv/bin/activate
#   ./install.sh --venv DIR      # the environment somewhere else
#   ./install.sh --here          # into the Python that runs this script's pip (an active venv, CI)
#   ./install.sh --no-train      # without torch/transformers (weak-to-strong fine-tuning, MiniLM)
#   ./install.sh --with-vllm     # also build vLLM's CPU environment (oversight serve), a few minutes more
#   ./install.sh --with-ray      # also Ray (--executor ray: runs on a cluster)
#
# llama-cpp-python (the embedded model's runtime) compiles on the first install (about 6 minutes on
# 2 cores; pip caches the wheel): the flags below give a portable AVX2 build, because a -march=native
# build dies with SIGILL on virtual CPUs that advertise AMX tiles the kernel does not enable. Without
# a CUDA GPU the CPU build of torch is installed first, so pip never pulls a multi-GB CUDA one.
set -euo pipefail
cd "$(dirname "$0")"

venv=".venv"
here=0
extras="dev,train"
with_vllm=0
with_ray=0
while [ $# -gt 0 ]; do
    case "$1" in
        --venv) venv="${2:?--venv needs a directory}"; shift 2 ;;
        --here) here=1; shift ;;
        --no-train) extras="dev"; shift ;;
        --with-vllm) with_vllm=1; shift ;;
        --with-ray) with_ray=1; shift ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see ./install.sh --help)" >&2; exit 2 ;;
    esac
done

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    echo "install.sh: Python 3.11 or newer is needed ($python is $("$python" --version 2>&1 || echo missing)); set PYTHON=/path/to/python3.11" >&2
    exit 2
fi
if [ "$here" -eq 0 ]; then
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    python="$venv/bin/python"
fi
pip=("$python" -m pip install --disable-pip-version-check --quiet)

export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON}"

gpu=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then gpu=1; fi
if [ "$extras" = "dev,train" ] && ! "$python" -c 'import torch' 2>/dev/null; then
    if [ "$gpu" -eq 1 ]; then
        echo "CUDA GPU found: torch comes with its CUDA build"
    elif "${pip[@]}" --no-index --no-deps "torch==2.13.0" 2>/dev/null; then
        "${pip[@]}" "torch==2.13.0"  # the CPU wheel at hand (pip's find-links); its own dependencies from the index
        echo "no CUDA GPU: installed the CPU build of torch 2.13.0"
    else
        echo "no CUDA GPU: installing the CPU build of torch from ${OVERSIGHT_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}"
        "${pip[@]}" torch --index-url "${OVERSIGHT_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}" --extra-index-url https://pypi.org/simple
    fi
fi

if [ "$with_ray" = 1 ]; then
    extras="$extras,ray"
fi
echo "installing oversight[$extras] (llama.cpp compiles on the first install: about 6 minutes on 2 cores)"
"${pip[@]}" -e ".[$extras]"
# an editable install leaves the sources uncompiled, and where PYTHONDONTWRITEBYTECODE is set (many containers)
# every command would compile them again (~0.17 s of each start-up here)
"$python" -m compileall -q -j 0 oversight db protocols web >/dev/null

if [ "$with_vllm" -eq 1 ]; then
    "$python" -m oversight serve --install-cpu
    "$python" -m oversight models export-hf >/dev/null
fi

if [ "$here" -eq 0 ]; then
    echo "done. Next:  source $venv/bin/activate && oversight quickstart     (tests: python3 -m pytest)"
else
    echo "done. Next:  oversight quickstart     (tests: python3 -m pytest)"
fi
