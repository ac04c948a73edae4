"""`oversight serve` without vLLM: the plan it would run, the lifecycle against a stand-in server, and its errors.

The real vLLM server is exercised in tests/test_vllm.py; these run everywhere and fast.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import pytest
from fake_vllm import fake_model, fake_vllm_python

from conftest import free_port, run_cli
from oversight.errors import OversightError
from oversight.models import ModelPool, parse_spec
from oversight.serve import ServeOptions, plan, records
from oversight.serve.environment import has_vllm
from oversight.serve.processes import group_members


@pytest.fixture
def serve_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state folder of the test's own and a stand-in vLLM interpreter."""
    monkeypatch.setenv("OVERSIGHT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("OVERSIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("OVERSIGHT_VLLM_PYTHON", raising=False)
    monkeypatch.delenv("OVERSIGHT_VLLM_BASE_URL", raising=False)
    return fake_vllm_python(tmp_path)


def test_plan_cpu_replicas_get_their_own_cores_and_ports(serve_env: Path, tmp_path: Path):
    model = fake_model(tmp_path / "m")
    the_plan = plan(ServeOptions(model=str(model), replicas=2, port=9100), serve_env, device="cpu")
    assert the_plan.name == "m" and the_plan.device == "cpu"
    assert [r.port for r in the_plan.replicas] == [9100, 9101]
    assert [r.url for r in the_plan.replicas] == ["http://127.0.0.1:9100/v1", "http://127.0.0.1:9101/v1"]
    binds = [r.env["VLLM_CPU_OMP_THREADS_BIND"] for r in the_plan.replicas]
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) >= 2:
        assert len(set(binds)) == 2 and not set(binds[0].split(",")) & set(binds[1].split(","))
    command = the_plan.replicas[0].command
    for flag in ("--enable-prefix-caching", "--enable-prompt-tokens-details", "--served-model-name", "--dtype"):
        assert flag in command
    assert command[:3] == [str(serve_env), "-m", "vllm.entrypoints.openai.api_server"]


def test_plan_embed_task_and_extra_arguments(serve_env: Path, tmp_path: Path):
    model = fake_model(tmp_path / "m")
    the_plan = plan(ServeOptions(model=str(model), task="embed", name="enc", extra_args=["--seed=3"]), serve_env, device="cpu")
    command = the_plan.replicas[0].command
    assert command[command.index("--runner") + 1] == "pooling" and command[command.index("--convert") + 1] == "embed"
    assert command[command.index("--served-model-name") + 1] == "enc" and command[-1] == "--seed=3"


def test_plan_errors_are_one_line(serve_env: Path, tmp_path: Path):
    model = str(fake_model(tmp_path / "m"))
    for options, message in [
        (ServeOptions(model=model, replicas=64), "each CPU replica needs a core"),
        (ServeOptions(model=model, tensor_parallel_size=2), "applies to --device cuda"),
        (ServeOptions(model=str(tmp_path / "missing")), "no such directory"),
        (ServeOptions(model=str(tmp_path)), "no config.json"),
    ]:
        with pytest.raises(OversightError, match=message) as err:
            plan(options, serve_env, device="cpu")
        assert "\n" not in str(err.value)


def test_dry_run_prints_the_commands(serve_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    model = fake_model(tmp_path / "m")
    assert (
        run_cli("serve", str(model), "--python", str(serve_env), "--device", "cpu", "--replicas", "2", "--port", "9200", "--dry-run") == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert [r["port"] for r in printed["replicas"]] == [9200, 9201]
    assert records.load_all() == []  # nothing started, nothing recorded


def test_missing_vllm_says_how_to_get_it(serve_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    if has_vllm(sys.executable):
        pytest.skip("this interpreter has vLLM installed, so vLLM is not missing here")
    model = fake_model(tmp_path / "m")
    assert run_cli("serve", str(model), "--device", "cpu") == 1
    err = capsys.readouterr().err
    assert "oversight serve --install-cpu" in err and "Traceback" not in err
    assert run_cli("serve", str(model), "--python", str(tmp_path / "nope"), "--device", "cpu") == 1
    assert "no such interpreter" in capsys.readouterr().err


def test_lifecycle_start_list_use_stop(serve_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    model = fake_model(tmp_path / "toy")
    port = free_port(2)
    args = ("serve", str(model), "--python", str(serve_env), "--device", "cpu", "--port", str(port), "--log-dir", str(tmp_path / "logs"))
    assert run_cli(*args, "--replicas", "2") == 0
    record = records.load("toy")
    assert record is not None and record.urls == (f"http://127.0.0.1:{port}/v1", f"http://127.0.0.1:{port + 1}/v1")
    groups = [r.pid for r in record.replicas]
    assert all(len(group_members(g)) >= 2 for g in groups)  # the server and its helper
    capsys.readouterr()
    assert run_cli("serve", "--list", "--format", "json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["state"]) for r in listed] == [("toy", "ready"), ("toy", "ready")]

    # a run names the served model without a URL; requests reach both replicas
    assert ModelPool().get("vllm/toy").provider.urls == record.urls  # type: ignore[attr-defined]

    # the same name cannot be started twice
    assert run_cli(*args) == 1
    assert "already served" in capsys.readouterr().err

    assert run_cli("serve", "--stop", "toy") == 0
    assert all(group_members(g) == [] for g in groups)  # no orphans: helpers stopped with their servers
    assert records.load_all() == []
    assert run_cli("serve", "--stop", "toy") == 1
    assert "nothing named 'toy'" in capsys.readouterr().err


def test_a_server_that_fails_to_start_leaves_nothing(serve_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    model = fake_model(tmp_path / "bad", "broken")
    assert run_cli("serve", str(model), "--python", str(serve_env), "--device", "cpu", "--port", str(free_port())) == 1
    err = capsys.readouterr().err
    first = next(line for line in err.splitlines() if line.startswith("error:"))
    assert first.startswith("error: vLLM for bad") and "ValueError: the model type 'nosuch' is not supported" in first
    assert "Traceback (most recent call last)" in err  # the log's tail follows the one line
    assert records.load_all() == []


def test_a_server_that_never_answers_times_out_and_is_stopped(serve_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    model = fake_model(tmp_path / "slow", "hang")
    code = run_cli(
        "serve", str(model), "--python", str(serve_env), "--device", "cpu", "--port", str(free_port()), "--startup-timeout", "2"
    )  # fmt: skip
    assert code == 1
    assert "was not ready after 2 s" in capsys.readouterr().err
    assert records.load_all() == []
    assert not [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline(p).count(str(model))]


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_port_in_use_is_refused(serve_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    model = fake_model(tmp_path / "m")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert run_cli("serve", str(model), "--python", str(serve_env), "--device", "cpu", "--port", str(port)) == 1
    assert f"port {port} is in use" in capsys.readouterr().err


def test_stale_records_are_ignored(serve_env: Path):
    stale = records.ServedModel(
        name="gone", model="/x", device="cpu", started_at=0.0, command=[],
        replicas=[records.ReplicaRecord(url="http://127.0.0.1:9/v1", port=9, pid=2**22 + 7, log="/dev/null")],
    )  # fmt: skip
    records.save(stale)
    assert records.served_urls("gone") == ()
    with pytest.raises(OversightError, match="oversight serve gone"):
        ModelPool().get("vllm/gone")
    assert parse_spec("vllm/gone").base_urls == ()


def test_plan_cuda_replicas_split_the_gpus(serve_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import oversight.serve.launch as launch

    monkeypatch.setattr(launch, "gpu_count", lambda: 4)
    options = ServeOptions(model=str(fake_model(tmp_path / "m")), replicas=2, tensor_parallel_size=2, gpu_memory_utilization=0.8)
    the_plan = plan(options, serve_env, device="cuda")
    assert [r.env["CUDA_VISIBLE_DEVICES"] for r in the_plan.replicas] == ["0,1", "2,3"]
    command = the_plan.replicas[1].command
    assert command[command.index("--tensor-parallel-size") + 1] == "2" and command[command.index("--gpu-memory-utilization") + 1] == "0.8"
    assert "--dtype" not in command and "VLLM_CPU_KVCACHE_SPACE" not in the_plan.replicas[0].env
    with pytest.raises(OversightError, match="needs 6 GPUs; 4 found"):
        plan(options.model_copy(update={"replicas": 3}), serve_env, device="cuda")
