"""A stand-in for `python -m vllm.entrypoints.openai.api_server`, for fast tests of `oversight serve`'s lifecycle.

`fake_vllm_python(folder)` writes an executable that `oversight serve --python` accepts: it
answers the "can you import vllm" probe and runs this file with vLLM's arguments. The model
directory's config.json picks the behaviour: {"fake": "ok" | "broken" | "hang"}. Like vLLM, a
healthy server keeps a helper process (its "engine core") in its process group.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path


def fake_vllm_python(folder: Path) -> Path:
    script = folder / "python"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-c" ]; then exit 0; fi\n'  # the importability probe
        "shift 2\n"  # drop "-m vllm.entrypoints.openai.api_server"
        f'exec {sys.executable} {Path(__file__).resolve()} "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def fake_model(folder: Path, behaviour: str = "ok") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"fake": behaviour, "model_type": "llama"}))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model")
    parser.add_argument("--served-model-name")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    args, _ = parser.parse_known_args()
    behaviour = json.loads((Path(args.model) / "config.json").read_text()).get("fake", "ok")
    print(
        f"INFO fake vLLM starting {args.model} as {args.served_model_name}; env bind={os.environ.get('VLLM_CPU_OMP_THREADS_BIND', '')}",
        flush=True,
    )
    if behaviour == "broken":
        print("Traceback (most recent call last):", flush=True)
        print('  File "arg_utils.py", line 1, in create_model_config', flush=True)
        print("ValueError: the model type 'nosuch' is not supported", flush=True)
        sys.exit(1)
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])  # the engine core stand-in
    if behaviour == "hang":
        helper.wait()
        return
    time.sleep(0.3)
    from aiohttp import web

    async def health(_: web.Request) -> web.Response:
        return web.Response(status=200)

    async def models(_: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": args.served_model_name, "object": "model"}]})

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        reply = {"id": "x", "object": "chat.completion", "created": 0, "model": body.get("model"),
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": "A"}, "finish_reason": "stop"}],
                 "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}  # fmt: skip
        return web.json_response(reply)

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/chat/completions", chat)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
