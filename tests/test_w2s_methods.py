"""Weak-to-strong beyond bag-of-words probes: embedding endpoints, MiniLM, the prompt method against the
scripted server, the finetune method with tiny random models on CPU, YAML config, export and the CUDA path."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import QUALITY_DEBATE, TRUTHFULQA, need_train_extra, run_cli, write_jsonl
from fake_openai import FakeOpenAIServer, Reply, chat_completion, embeddings_reply
from oversight.config import W2SConfig
from oversight.errors import InputError, ModelError
from oversight.w2s.features import features
from oversight.w2s.learners.prompt import INSTRUCTION, PromptLearner, query, read_truth
from oversight.w2s.pipeline import make_splits, run_seed


def last_error(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    return lines[-1]


def dataset_rows(n: int) -> list[dict]:
    """Questions whose correct answer says "yes" and whose distractor says "no": learnable by any model that reads."""
    colours = ["red", "blue", "green", "amber"]
    return [
        {"id": i, "question": f"Is item {i} {colours[i % 4]}?", "options": [f"no, item {i}", f"yes, item {i}"][:: 1 if i % 3 else -1],
         "answer": f"yes, item {i}"}
        for i in range(n)
    ]  # fmt: skip


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code = run_cli(*args, "--json")
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


# --- embeddings -------------------------------------------------------------------------------


def test_embeddings_endpoint_features_are_batched_and_cached(fake_server: FakeOpenAIServer, tmp_path: Path):
    texts = [f"Question: q{i}\nAnswer: a{i}" for i in range(70)] + ["Question: q0\nAnswer: a0"]
    spec = f"openai-compatible/emb-small@{fake_server.base_url}"
    x = features(spec, texts, cache_dir=tmp_path)
    assert x.shape == (71, 16) and np.array_equal(x[0], x[70])
    assert [len(r["input"]) for r in fake_server.requests] == [64, 6]  # batches of 64, the repeated text embedded once
    assert all(r["model"] == "emb-small" for r in fake_server.requests)
    assert (tmp_path / "openai-compatible_emb-small").is_dir()  # cached by model, not by endpoint
    again = features(f"openai-compatible/emb-small@{fake_server.base_url}/", texts, cache_dir=tmp_path)
    assert np.array_equal(again, x) and len(fake_server.requests) == 2


def test_embeddings_endpoint_faults_are_one_clear_error(fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch):
    spec = f"openai-compatible/emb@{fake_server.base_url}"
    fake_server.push(
        Reply(status=400, body={"error": {"message": "model emb does not support embeddings", "type": "invalid_request_error"}})
    )
    with pytest.raises(ModelError, match="HTTP 400: .*does not support embeddings"):
        features(spec, ["a", "b"])
    short = embeddings_reply({"input": ["only one"]})
    fake_server.push(short)
    with pytest.raises(ModelError, match="returned 1 embeddings for 2 texts"):
        features(spec, ["a", "b"])
    monkeypatch.setenv("OVERSIGHT_MAX_RETRIES", "2")
    fake_server.push(Reply(status=503), Reply(status=503))
    assert features(spec, ["a", "b"]).shape == (2, 16)  # transient faults are retried
    monkeypatch.setenv("OVERSIGHT_MAX_RETRIES", "0")
    fake_server.push(Reply(status=500))
    with pytest.raises(ModelError, match="HTTP 500"):
        features(spec, ["a"])


def test_w2s_cli_with_an_embeddings_endpoint_and_yaml_config(capsys, fake_server: FakeOpenAIServer, tmp_path: Path):
    data = write_jsonl(tmp_path / "d.jsonl", dataset_rows(40))
    config = tmp_path / "w2s.yaml"
    config.write_text(
        f"dataset: {data}\nweak: bow\nstrong: openai-compatible/emb@{fake_server.base_url}\nseeds: 3\nloss: logconf\n"
        f"cache-dir: {tmp_path / 'cache'}\ndb: sqlite:///{tmp_path / 'w.db'}\n"
    )
    summary = cli_json(capsys, "w2s", "--config", str(config), "--seeds", "2", "--run-name", "emb")  # the CLI wins over the file
    assert summary["seeds"] == 2 and summary["loss"] == "logconf" and summary["strong"].startswith("openai-compatible/emb@")
    assert summary["examples"] == 80 and summary["peak_rss_mib"] > 0 and summary["total_s"] >= 0
    assert sum(len(r["input"]) for r in fake_server.requests) == 80

    config.write_text(f"dataset: {data}\nweak: bow\nepochs_probes: 3\n")
    assert run_cli("w2s", "--config", str(config)) == 2
    assert last_error(capsys.readouterr().err) == f"error: {config}: epochs-probes: unknown option"
    config.write_text(f"dataset: {data}\nmethod: distill\n")
    assert run_cli("w2s", "--config", str(config)) == 2
    assert "method: Input should be 'probe', 'finetune' or 'prompt'" in last_error(capsys.readouterr().err)
    few = write_jsonl(tmp_path / "few.jsonl", dataset_rows(5))
    assert run_cli("w2s", "--dataset", str(few), "--weak", "bow", "--strong", "bow") == 2
    assert last_error(capsys.readouterr().err) == f"error: {few}: weak-to-strong needs at least 8 questions, the file has 5"
    assert run_cli("w2s", "--dataset", str(data), "--n", "4") == 2
    assert "n: Input should be greater than or equal to 8" in last_error(capsys.readouterr().err)
    assert run_cli("w2s", "--dataset", str(data), "--strong", f"openai-compatible/emb@{fake_server.base_url}", "--intermediate", "bow",
                   "--intermediate", "bow", "--intermediate", "bow", "--n", "8") == 2  # fmt: skip
    assert "transfer questions" in last_error(capsys.readouterr().err)


def test_a_failing_endpoint_stores_nothing(capsys, fake_server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OVERSIGHT_MAX_RETRIES", "0")
    data = write_jsonl(tmp_path / "d.jsonl", dataset_rows(40))
    db = f"sqlite:///{tmp_path / 'w.db'}"
    fake_server.push(embeddings_reply({"input": [f"t{i}" for i in range(64)]}), Reply(status=500))  # the second batch fails
    code = run_cli("w2s", "--dataset", str(data), "--weak", "bow", "--strong", f"openai-compatible/emb@{fake_server.base_url}",
                   "--db", db, "--cache-dir", str(tmp_path / "cache"), "--run-name", "broken")  # fmt: skip
    assert code == 1 and "HTTP 500" in last_error(capsys.readouterr().err)
    assert not list((tmp_path / "cache").glob("openai-compatible_emb/*.npy"))  # no partial feature set is cached
    assert run_cli("leaderboard", "--metric", "pgr", "--db", db, "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == []  # and no run, result or example row was written
    assert run_cli("export", "w2s", "--db", db) == 0 and capsys.readouterr().out == ""


def test_minilm_features_are_real_sentence_embeddings(tmp_path: Path):
    need_train_extra()
    texts = ["The cat sat on the mat.", "A cat was sitting on a mat.", "Quarterly revenue grew by four percent."]
    x = features("minilm", texts, cache_dir=tmp_path)
    assert x.shape == (3, 384) and np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-4)
    assert x[0] @ x[1] > 0.7 > 0.2 > x[0] @ x[2]  # paraphrases are close, unrelated sentences are not


# --- prompt method ----------------------------------------------------------------------------


def truthful_server_reply(accurate_models: set[str]):
    """Accurate models put 0.9 on the truth; others on "True" whatever the answer (a credulous weak model)."""

    def reply(body: dict) -> Reply:
        last = body["messages"][-1]["content"]
        correct = "Answer: yes" in last
        p_true = (0.9 if correct else 0.1) if body["model"] in accurate_models else 0.8
        return Reply(body=chat_completion("True" if p_true > 0.5 else "False", logprobs={"True": p_true, "False": 1 - p_true}))

    return reply


def test_prompt_learner_shows_k_labelled_examples_and_reads_logprobs(tmp_path: Path):
    texts = [f"Question: q{i}?\nAnswer: {'yes' if i % 2 == 0 else 'no'}" for i in range(20)]
    with FakeOpenAIServer(default=truthful_server_reply({"strong"})) as server:
        learner = PromptLearner(f"openai-compatible/strong@{server.base_url}", texts, W2SConfig(dataset="-", k_shot=4))
        labels = np.array([0.9, 0.2, 0.7, 0.1, 0.6, 0.4, 0.3, 0.8])
        predict = learner.fit(np.arange(8), labels, val_rows=None, val_targets=None, loss="xent", seed=0)
        p = predict(np.array([10, 11]))
        assert p == pytest.approx([0.9, 0.1])
        assert sorted(r["messages"][-1]["content"] for r in server.requests) == [query(texts[10]), query(texts[11])]
        messages = server.requests[0]["messages"]  # requests run concurrently; both carry the same demonstrations
        assert messages[0] == {"role": "system", "content": INSTRUCTION} and messages[1:-1] == server.requests[1]["messages"][1:-1]
        demos = [(messages[i]["content"], messages[i + 1]["content"]) for i in range(1, len(messages) - 1, 2)]
        assert len(demos) == 4 and sorted(label for _, label in demos) == ["False", "False", "True", "True"]  # balanced
        for content, label in demos:
            row = texts.index(content.removesuffix("\nIs the proposed answer correct?"))
            assert row < 8 and label == ("True" if labels[row] > 0.5 else "False")  # the labels it was given, hardened
        assert server.requests[0]["logprobs"] is True and server.requests[0]["max_tokens"] == 2
        server.push(Reply(body=chat_completion("Maybe")), Reply(body=chat_completion("False, because")))
        assert sorted(predict(np.array([12, 13])).tolist()) == [0.0, 0.5]  # stated answer read; unreadable counted
        assert learner.invalid == 1


def test_prompt_method_checks_its_models_before_any_work(capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    data = write_jsonl(tmp_path / "d.jsonl", dataset_rows(12))
    assert (
        run_cli("w2s", "--dataset", str(data), "--method", "prompt", "--weak", "local/smollm2-135m", "--strong", "openai/gpt-4o-mini") == 2
    )
    err = capsys.readouterr().err
    assert last_error(err) == "error: openai/gpt-4o-mini: set OPENAI_API_KEY to use the OpenAI API" and "weak:" not in err
    assert run_cli("w2s", "--dataset", str(data), "--method", "prompt", "--strong", "local/llama-70b") == 2
    assert "unknown local model" in last_error(capsys.readouterr().err)


def test_read_truth_from_logprobs_and_text():
    assert read_truth("True", {"True": 0.6, " False": 0.2, "The": 0.2}) == pytest.approx(0.75)
    assert read_truth("true", {"true": 0.9, "I": 0.05}) == pytest.approx(0.9 / 0.95)  # False bounded by the smallest listed
    assert read_truth("False.", {}) == 0.0 and read_truth("I think", {}) is None


def test_prompt_method_end_to_end_stores_weak_labels_and_predictions(capsys, tmp_path: Path):
    data = write_jsonl(tmp_path / "d.jsonl", dataset_rows(24))
    db = f"sqlite:///{tmp_path / 'w.db'}"
    with FakeOpenAIServer(default=truthful_server_reply({"strong"})) as server:
        summary = cli_json(capsys, "w2s", "--dataset", str(data), "--method", "prompt", "--weak", f"openai-compatible/weak@{server.base_url}",
                           "--strong", f"openai-compatible/strong@{server.base_url}", "--seeds", "1", "--k-shot", "2", "--db", db,
                           "--run-name", "icl")  # fmt: skip
        strong_requests = [r for r in server.requests if r["model"] == "strong"]
    assert summary["ceiling"]["accuracy"]["mean"] == 1.0 and summary["weak"]["accuracy"]["mean"] == 0.5  # credulous weak model
    assert summary["invalid"] == 0
    splits = make_splits(24, 0)
    assert len(strong_requests) == 2 * 2 * len(splits.test)  # the student and the ceiling each answer every test example
    # the student's demonstrations carry the weak model's labels ("True" for everything), the ceiling's the truth
    student_demos = {m["content"] for m in strong_requests[0]["messages"] if m["role"] == "assistant"}
    ceiling_demos = sorted(m["content"] for m in strong_requests[-1]["messages"] if m["role"] == "assistant")
    assert student_demos == {"True"} and ceiling_demos == ["False", "True"]

    import hashlib

    from sqlalchemy import select

    from oversight.db import connect
    from oversight.db.schema import W2SRun

    engine = connect(db)
    with engine.connect() as conn:
        stored = conn.execute(select(W2SRun.config, W2SRun.method, W2SRun.package_version)).one()
    engine.dispose()
    assert stored.method == "prompt" and stored.config["k_shot"] == 2 and stored.package_version
    assert stored.config["dataset_sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()

    assert run_cli("export", "w2s", "--db", db, "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 48 and {r["run"] for r in rows} == {"icl"}
    transfer = [r for r in rows if r["split"] == "transfer"]
    assert transfer and all(float(r["weak_label"]) == pytest.approx(0.8) for r in transfer)
    test = [r for r in rows if r["split"] == "test"]
    assert all(r["student_prediction"] and r["weak_prediction"] and r["ceiling_prediction"] for r in test)
    assert all(r["option"].startswith("yes" if r["label"] == "1.0" else "no") for r in rows)
    assert all(not r["weak_label"] for r in rows if r["split"] != "transfer")


# --- finetune method --------------------------------------------------------------------------


def yes_no_texts(n: int) -> tuple[list[str], np.ndarray]:
    texts = [f"Question: is item {i} {['red', 'blue', 'green'][i % 3]}?\nAnswer: {'yes' if i % 2 == 0 else 'no'}" for i in range(n)]
    return texts, np.array([1.0 if i % 2 == 0 else 0.0 for i in range(n)])


@pytest.fixture
def tiny_models(tmp_path: Path):
    need_train_extra(("torch", "transformers", "peft"))
    import torch

    from tiny_models import tiny_bert, tiny_llama

    texts, _ = yes_no_texts(200)
    torch.manual_seed(0)
    return {"llama": tiny_llama(tmp_path / "tiny-llama", texts), "bert": tiny_bert(tmp_path / "tiny-bert", texts)}


def finetune_options(**kw) -> W2SConfig:
    return W2SConfig(**({"dataset": "-", "method": "finetune", "device": "cpu", "batch_size": 16} | kw))


def test_finetune_learns_with_lora_and_full_training(tiny_models):
    from oversight.w2s.learners.finetune import FinetuneLearner

    texts, y = yes_no_texts(200)
    rows, held_out = np.arange(150), np.arange(150, 200)
    for name, mode, lr in (("llama", "lora", 3e-3), ("bert", "full", 2e-3)):
        learner = FinetuneLearner(str(tiny_models[name]), texts, finetune_options(finetune=mode, epochs=3, lr=lr))
        predict = learner.fit(rows, y[rows], val_rows=held_out, val_targets=y[held_out], loss="logconf", seed=0)
        assert np.mean((predict(held_out) > 0.5) == (y[held_out] > 0.5)) >= 0.9, (name, mode)
    lora = FinetuneLearner(str(tiny_models["llama"]), texts, finetune_options(finetune="lora"))._model(0)
    full = FinetuneLearner(str(tiny_models["llama"]), texts, finetune_options(finetune="full"))._model(0)
    trainable = [sum(p.numel() for p in m.parameters() if p.requires_grad) for m in (lora, full)]
    assert 0 < trainable[0] < trainable[1] / 3  # LoRA trains adapters and the head only


def test_finetune_selects_the_checkpoint_on_the_validation_labels_it_is_given(tiny_models):
    from oversight.w2s.learners.finetune import FinetuneLearner

    texts, y = yes_no_texts(120)
    learner = FinetuneLearner(str(tiny_models["llama"]), texts, finetune_options(finetune="lora", epochs=3, lr=3e-3))
    rows, val = np.arange(80), np.arange(80, 120)
    learner.fit(rows, y[rows], val_rows=val, val_targets=1 - y[val], loss="xent", seed=0)  # validation labels opposite to training
    losses = learner.selection["val_losses"]
    assert learner.selection["best_epoch"] == int(np.argmin(losses)) == 0 and losses[-1] > losses[0]


def test_finetune_method_end_to_end_on_cpu(capsys, tiny_models, tmp_path: Path):
    data = write_jsonl(tmp_path / "d.jsonl", dataset_rows(40))
    summary = cli_json(capsys, "w2s", "--dataset", str(data), "--method", "finetune", "--weak", "bow", "--strong", str(tiny_models["llama"]),
                       "--finetune", "lora", "--epochs", "8", "--lr", "3e-3", "--seeds", "2", "--device", "cpu",
                       "--db", f"sqlite:///{tmp_path / 'w.db'}", "--cache-dir", str(tmp_path / "cache"))  # fmt: skip
    assert summary["method"] == "finetune" and summary["seeds"] == 2
    for role in ("weak", "student", "ceiling"):
        assert summary[role]["accuracy"]["n"] == 2
    assert summary["ceiling"]["accuracy"]["mean"] > 0.75  # the tiny model does learn "yes" from "no" on ground truth
    assert run_cli("leaderboard", "--metric", "pgr", "--db", f"sqlite:///{tmp_path / 'w.db'}", "--format", "json") == 0
    (stored,) = json.loads(capsys.readouterr().out)
    assert stored["method"] == "finetune" and stored["strong"] == str(tiny_models["llama"]) and stored["seeds"] == 2
    assert run_cli("w2s", "--dataset", str(data), "--method", "finetune", "--strong", str(tmp_path / "nothing-here")) == 2
    assert "not a local Hugging Face model directory" in last_error(capsys.readouterr().err)
    assert run_cli("w2s", "--dataset", str(data), "--method", "finetune", "--strong", str(tiny_models["llama"]), "--device", "gpu") == 2
    assert "device: Input should be 'auto', 'cpu' or 'cuda'" in last_error(capsys.readouterr().err)


def test_cuda_requested_without_a_gpu_is_a_clear_error(tiny_models):
    import torch

    from oversight.w2s.learners.finetune import FinetuneLearner

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device; the error path needs one without")
    with pytest.raises(InputError, match="no CUDA device"):
        FinetuneLearner(str(tiny_models["llama"]), ["a"], finetune_options(device="cuda"))


@pytest.mark.gpu
def test_finetune_on_cuda_in_bf16(tiny_models):
    """The CUDA path: bf16 weights on the GPU, LoRA training, a learned task. Runs wherever a CUDA device is present."""
    import torch

    from oversight.w2s.learners.finetune import FinetuneLearner

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    texts, y = yes_no_texts(200)
    learner = FinetuneLearner(
        str(tiny_models["llama"]), texts, finetune_options(finetune="lora", epochs=3, lr=3e-3, device="auto", dtype="auto")
    )
    assert learner.device == "cuda" and learner.dtype == torch.bfloat16
    model = learner._model(0)
    assert next(model.parameters()).device.type == "cuda" and any(p.dtype == torch.bfloat16 for p in model.parameters())
    rows, held_out = np.arange(150), np.arange(150, 200)
    predict = learner.fit(rows, y[rows], val_rows=held_out, val_targets=y[held_out], loss="logconf", seed=0)
    assert np.mean((predict(held_out) > 0.5) == (y[held_out] > 0.5)) >= 0.9


# --- the pipeline on real data ----------------------------------------------------------------


def test_probe_pipeline_on_quality_two_option_data():
    from oversight.data import load_dataset
    from oversight.w2s.learners import ProbeLearner
    from oversight.w2s.pipeline import examples

    _, questions = load_dataset(QUALITY_DEBATE)
    ex = examples(questions)
    x = features("bow", ex.texts)
    result = run_seed(ProbeLearner("bow", x, epochs=100), ProbeLearner("bow", x, epochs=100), ex.y, seed=0)
    splits = make_splits(len(questions), 0)
    assert len(result.weak_labels) == 2 * len(splits.transfer) and all(0.0 <= p <= 1.0 for p in result.weak_labels)
    te = splits.examples("test")
    assert {k: len(v) for k, v in result.test_predictions.items()} == {"weak": len(te), "student": len(te), "ceiling": len(te)}
    weak_accuracy = np.mean((np.array(result.test_predictions["weak"]) > 0.5) == (ex.y[te] > 0.5))
    assert result.weak["accuracy"] == pytest.approx(weak_accuracy)  # the reported score is the stored predictions' score


def test_prompt_method_on_the_embedded_model(capsys, tmp_path: Path):
    """The in-context path on the real local model: True/False constrained by grammar, P(True) from its logits."""
    summary = cli_json(capsys, "w2s", "--dataset", str(TRUTHFULQA), "--method", "prompt", "--weak", "bow",
                       "--strong", "local/smollm2-135m", "--n", "10", "--seeds", "1", "--k-shot", "2",
                       "--db", f"sqlite:///{tmp_path / 'w.db'}", "--cache-dir", str(tmp_path / "cache"))  # fmt: skip
    assert summary["invalid"] == 0 and summary["student"]["accuracy"]["n"] == 1 and summary["ceiling"]["auroc"]["n"] == 1
    assert run_cli("export", "w2s", "--db", f"sqlite:///{tmp_path / 'w.db'}") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    predictions = [r["student_prediction"] for r in rows if r["split"] == "test"]
    assert predictions and all(0.0 < p < 1.0 for p in predictions) and len(set(predictions)) > 1  # probabilities, not hard labels
