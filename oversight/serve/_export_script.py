"""Convert a GGUF checkpoint to Hugging Face safetensors that vLLM can load.

Run as a plain script by whichever Python has transformers, gguf, accelerate and torch (usually the
vLLM environment), so it imports nothing from this package:

    python _export_script.py GGUF_FILE OUT_DIR [--dtype bfloat16]

Writes into OUT_DIR.partial and renames it to OUT_DIR at the end: a killed export leaves no
directory that looks complete.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("gguf")
    parser.add_argument("out")
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        print(f"export needs transformers, torch, gguf and accelerate: {exc}", file=sys.stderr)
        return 3
    gguf = Path(args.gguf)
    out = Path(args.out)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    dtype = getattr(torch, args.dtype)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, torch_dtype=dtype)
    # the weights are dequantized on load; without the GGUF marker vLLM reads them as plain safetensors
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(partial), safe_serialization=True)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tokenizer.save_pretrained(str(partial))
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    print(str(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
