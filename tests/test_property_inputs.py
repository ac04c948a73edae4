"""Property tests: whatever a dataset file or a YAML config holds, it loads or fails in one line naming where, never a traceback."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oversight.config import RunConfig, W2SConfig, merge_config
from oversight.data import Question, load_dataset
from oversight.errors import InputError
from oversight.plugins import DATASET_FORMATS

FORMATS = DATASET_FORMATS.builtin_names()

SETTINGS = settings(
    max_examples=int(os.environ.get("OVERSIGHT_PROPERTY_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
FIELDS = ["id", "question", "options", "answer", "context", "distractor", "choices", "answerKey", "passage", "subject", "label", "text",
          "passage_id", "article", "questions", "correct_answer", "incorrect_answer", "arguments", "gold_label", "article_id",
          "set_unique_id", "difficult", "validation", "meta", "source"]  # fmt: skip
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=20))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=6)),
    max_leaves=20,
)
rows = st.dictionaries(st.sampled_from(FIELDS), values, max_size=8)
CSV_COLUMNS = ["Question", "Best Answer", "Correct Answers", "Incorrect Answers", "Correct Answer", "Incorrect Answer 1",
               "Incorrect Answer 2", "Incorrect Answer 3", "Record ID", "Type"]  # fmt: skip


def _one_line_naming(err: InputError, path: Path) -> None:
    text = str(err)
    assert "\n" not in text and text.startswith(str(path)), text
    assert re.match(re.escape(str(path)) + r"(:\d+: [\w.\- ]+: .+|: .+)$", text), text


def _check(path: Path, fmt: str) -> None:
    try:
        _, questions = load_dataset(path, fmt)
    except InputError as err:
        _one_line_naming(err, path)
        return
    assert questions and all(isinstance(q, Question) for q in questions)


@SETTINGS
@given(lines=st.lists(st.one_of(rows.map(json.dumps), st.text(max_size=40)), min_size=0, max_size=6), fmt=st.sampled_from(
    [f for f in FORMATS if f not in ("gpqa", "truthfulqa")]))  # fmt: skip
def test_any_jsonl_loads_or_fails_in_one_line(lines: list[str], fmt: str):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.jsonl"
        path.write_text("\n".join(lines), encoding="utf-8")
        _check(path, fmt)


@SETTINGS
@given(raw=st.binary(max_size=200), fmt=st.sampled_from(list(FORMATS)))
def test_any_bytes_load_or_fail_in_one_line(raw: bytes, fmt: str):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.bin"
        path.write_bytes(raw)
        _check(path, fmt)


@SETTINGS
@given(
    header=st.lists(st.sampled_from(CSV_COLUMNS), min_size=1, max_size=8, unique=True),
    body=st.lists(st.lists(st.text(max_size=15), max_size=9), max_size=5),
    fmt=st.sampled_from(["gpqa", "truthfulqa"]),
)
def test_any_csv_loads_or_fails_in_one_line(header: list[str], body: list[list[str]], fmt: str):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(body)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        _check(path, fmt)


config_values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=5), scalars, max_size=2))
RUN_KEYS = list(RunConfig.model_fields) + ["judge", "nonsense", "rounds", "seed"]
W2S_KEYS = list(W2SConfig.model_fields) + ["nonsense"]


@SETTINGS
@given(
    doc=st.one_of(st.dictionaries(st.sampled_from(RUN_KEYS), config_values, max_size=6), st.text(max_size=60), scalars),
    model=st.sampled_from(["run", "w2s"]),
)
def test_any_yaml_config_loads_or_fails_in_one_line(doc: object, model: str):
    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc), encoding="utf-8")
        try:
            merge_config(RunConfig if model == "run" else W2SConfig, {}, str(path))
        except InputError as err:
            assert "\n" not in str(err) and str(err).startswith(str(path)), str(err)
