"""Inspect AI's side of `oversight bench judge`, run by an interpreter that has inspect_ai.

Standalone (imports nothing from oversight) so that Inspect can live in an environment of its
own. Reads a JSON job on stdin: {workload: "judge" | "debate", base_url, bodies (one request body per
item), rounds, concurrency, log_dir}; prints {wall_s, cpu_s, calls, errors} as JSON. Timing starts after
imports and task construction, like the other clients' timings.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    job = json.load(sys.stdin)
    os.environ["BENCH_API_KEY"] = "EMPTY"
    os.environ["BENCH_BASE_URL"] = job["base_url"]
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ChatMessageUser, GenerateConfig, get_model
    from inspect_ai.scorer import match
    from inspect_ai.solver import Generate, TaskState, generate, solver

    judge_config = GenerateConfig(max_tokens=8, temperature=0.0, logprobs=True, top_logprobs=20)
    turn_config = GenerateConfig(max_tokens=48, temperature=0.0)
    samples = [Sample(input=[ChatMessageUser(content=b["messages"][-1]["content"])], target="A", id=i) for i, b in enumerate(job["bodies"])]

    @solver
    def debate(rounds: int):  # type: ignore[no-untyped-def]
        """Two debaters per round, in parallel, then the judge in both answer orders: the same calls as oversight's debate."""
        import asyncio

        async def solve(state: TaskState, _generate: Generate) -> TaskState:
            model = get_model()
            prompt = state.input_text
            for _ in range(rounds):
                await asyncio.gather(*(model.generate(prompt + side, config=turn_config) for side in (" A", " B")))
            outputs = await asyncio.gather(*(model.generate(prompt + order, config=judge_config) for order in (" AB", " BA")))
            state.output = outputs[0]
            return state

        return solve

    chosen = debate(job["rounds"]) if job["workload"] == "debate" else generate()
    task = Task(dataset=samples, solver=chosen, scorer=match(), config=judge_config)
    cpu, wall = time.process_time(), time.perf_counter()
    logs = eval(
        task, model="openai-api/bench/bench", max_connections=job["concurrency"], max_samples=job["concurrency"],
        log_dir=job["log_dir"], display="none", log_level="error",
    )  # fmt: skip
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    errors = sum(1 for log in logs for s in (log.samples or []) if s.error)
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "status": logs[0].status, "errors": errors}))


if __name__ == "__main__":
    main()
