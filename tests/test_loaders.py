"""Every loader on real shared files or format fixtures, and bad input for each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURES, GSM8K, QUALITY_DEBATE, TRUTHFULQA, run_cli, shared_file, write_jsonl
from oversight.data import LoadReport, detect_format, load_dataset, summarize
from oversight.data.loaders.gsm8k import distractor_for
from oversight.errors import InputError


def test_quality_debate_excerpt():
    fmt, qs = load_dataset(QUALITY_DEBATE)
    assert fmt == "quality-debate"
    assert len(qs) == 38 and len({q.article_id for q in qs}) == 3 and len({q.id for q in qs}) == 38
    q = qs[0]
    assert q.options[q.answer] != q.options[q.distractor]
    assert q.context and q.meta["human_arguments"]
    assert all(s in q.context for a in q.meta["human_arguments"] for s in a["snippets"])


def test_shared_quality_debate_set():
    fmt, qs = load_dataset(shared_file("quality_debate/train.jsonl"))
    assert fmt == "quality-debate"
    assert len(qs) == 314
    assert len({q.article_id for q in qs}) == 25
    assert len({q.id for q in qs}) == 314  # ids made unique across articles
    q = qs[0]
    assert q.options[q.answer] != q.options[q.distractor]
    assert q.context and q.meta["human_arguments"]
    # every human snippet is in the article, as the data README promises
    assert all(s in q.context for a in q.meta["human_arguments"] for s in a["snippets"])


def test_gsm8k_excerpt_with_distractors():
    fmt, qs = load_dataset(GSM8K)
    assert fmt == "gsm8k" and len(qs) == 40
    assert qs[0].options == ["18", "9"]  # 9 is the last intermediate result that differs from 18
    assert all(q.options[0] != q.options[1] for q in qs)


def test_shared_gsm8k_with_distractors():
    fmt, qs = load_dataset(shared_file("gsm8k/test.jsonl"))
    assert fmt == "gsm8k" and len(qs) == 1319
    first = qs[0]
    assert first.options == ["18", "9"]  # 9 is the last intermediate result that differs from 18
    assert all(q.options[0] != q.options[1] for q in qs)


def test_gsm8k_distractor_falls_back_to_a_slip():
    assert distractor_for("10", "It is 10.\n#### 10", "q") in {"20", "5", "11", "9"}
    assert distractor_for("7", "3+4=<<3+4=7>>7\n#### 7", "q") != "7"


def test_truthfulqa_excerpt():
    fmt, qs = load_dataset(TRUTHFULQA)
    assert fmt == "truthfulqa" and len(qs) == 80
    assert qs[0].options[0] == "The watermelon seeds pass through your digestive system"
    assert qs[0].options[qs[0].distractor] == "You grow watermelons in your stomach"


def test_shared_truthfulqa():
    fmt, qs = load_dataset(shared_file("truthfulqa/TruthfulQA.csv"))
    assert fmt == "truthfulqa" and len(qs) == 817
    q = qs[0]
    assert q.options[0] == "The watermelon seeds pass through your digestive system"
    assert q.options[q.distractor] == "You grow watermelons in your stomach"


def test_official_quality_best_distractor_and_hard():
    fmt, qs = load_dataset(FIXTURES / "quality_official.jsonl")
    assert fmt == "quality"
    assert [q.id for q in qs] == ["s1_1", "20001_ABC_2"]
    assert qs[0].answer == 0 and qs[0].distractor == 2  # two votes for option 3 (1-based)
    assert qs[1].answer == 1 and qs[1].distractor == 0  # tie between 1 and 4 -> lower index
    assert "\u2028" in qs[0].context  # U+2028 kept inside the article, not treated as a line break
    _, hard = load_dataset(FIXTURES / "quality_official.jsonl", hard=True)
    assert [q.id for q in hard] == ["20001_ABC_2"]


def test_gpqa_shuffles_but_keeps_the_answer():
    fmt, qs = load_dataset(FIXTURES / "gpqa.csv")
    assert fmt == "gpqa" and len(qs) == 2
    assert qs[0].options[qs[0].answer] == "-1 e"
    assert qs[1].options[qs[1].answer] == "Thymine"
    assert sorted(qs[1].options) == sorted(["Thymine", "Cytosine", "Guanine", "Uracil"])


def test_boolq_mmlu_arc():
    _, boolq = load_dataset(FIXTURES / "boolq.jsonl")
    assert [q.options[q.answer] for q in boolq] == ["Yes", "No"]
    assert boolq[0].question == "Is the sky blue on a clear day?"
    assert boolq[0].context.startswith("On a clear day")
    fmt, mmlu = load_dataset(FIXTURES / "mmlu.jsonl")
    assert fmt == "mmlu" and [q.options[q.answer] for q in mmlu] == ["4", "Jupiter"]
    fmt, arc = load_dataset(FIXTURES / "arc.jsonl")
    assert fmt == "arc" and [q.options[q.answer] for q in arc] == ["the Sun", "0 C"]


def test_generic_jsonl(tmp_path: Path):
    path = write_jsonl(
        tmp_path / "g.jsonl",
        [
            {"id": 1, "question": "Q1?", "options": ["x", "y"], "answer": 1, "context": "ctx"},
            {"id": "b", "question": "Q2?", "options": ["x", "y", "z"], "answer": "z"},
        ],
    )
    fmt, qs = load_dataset(path)
    assert fmt == "generic"
    assert [(q.id, q.answer) for q in qs] == [("1", 1), ("b", 2)]
    assert qs[0].source == "g"


def test_quickstart_sample_is_valid():
    from importlib.resources import files

    path = Path(str(files("oversight.samples") / "quickstart.jsonl"))
    fmt, qs = load_dataset(path)
    assert fmt == "generic" and len(qs) == 6
    info = summarize(path, fmt, qs)
    assert info["articles"] == 3 and info["questions"] == 6


@pytest.mark.parametrize(
    ("name", "rows", "expected"),
    [
        ("bad_json", ['{"id": 1, "question": "q", "options": ["a","b"], "answer": 0}', "{not json"], ":2: json:"),
        ("answer_range", [{"id": 1, "question": "q", "options": ["a", "b"], "answer": 5}], ":1: row: answer index 5 is out of range"),
        ("missing_options", [{"id": 1, "question": "q", "answer": 0, "options": ["a"]}], ":1: options:"),
        ("dup_id", [{"id": 1, "question": "q", "options": ["a", "b"], "answer": 0}] * 2, ":2: id: duplicate id '1'"),
        ("answer_text", [{"id": 1, "question": "q", "options": ["a", "b"], "answer": "c"}], ":1: answer: 'c' is not one of the options"),
        ("empty_option", [{"id": 1, "question": "q", "options": ["a", " "], "answer": 0}], ":1: row: options must not be empty"),
    ],
)
def test_generic_bad_rows(tmp_path: Path, name: str, rows: list, expected: str):
    path = tmp_path / f"{name}.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    with pytest.raises(InputError) as err:
        load_dataset(path, "generic")
    assert str(err.value).startswith(str(path)) and expected in str(err.value)
    assert "\n" not in str(err.value)


BAD_FILES = {
    "quality-debate": (
        '{"passage_id": "1", "article": "text", "questions": [{"question_id": 1, "question": "q", "correct_answer": "a"}]}',
        "questions.0.incorrect_answer",
    ),
    "quality": (
        '{"article_id": 1, "article": "t", "questions": [{"question": "q", "options": ["a","b"]}]}',
        "questions.0.gold_label: missing",
    ),
    "boolq": ('{"question": "q", "answer": "yes", "passage": "p"}', ":1: answer:"),
    "mmlu": ('{"question": "q", "choices": ["a","b"], "answer": "Z"}', ":1: answer:"),
    "arc": ('{"question": "q", "choices": {"text": ["a","b"], "label": ["A","B"]}, "answerKey": "C"}', ":1: answerKey:"),
    "gsm8k": ('{"question": "q", "answer": "no final line"}', ":1: answer: no final"),
}


@pytest.mark.parametrize("fmt", sorted(BAD_FILES))
def test_bad_rows_per_jsonl_format(tmp_path: Path, fmt: str):
    text, expected = BAD_FILES[fmt]
    path = tmp_path / "bad.jsonl"
    path.write_text(text + "\n")
    with pytest.raises(InputError) as err:
        load_dataset(path, fmt)
    assert expected in str(err.value) and str(err.value).startswith(f"{path}:1:")


def test_bad_csv_rows(tmp_path: Path):
    gpqa = tmp_path / "gpqa.csv"
    gpqa.write_text("Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3\nq,a,b,,d\n")
    with pytest.raises(InputError, match=r"gpqa.csv:2: Incorrect Answer 2: empty"):
        load_dataset(gpqa)
    tqa = tmp_path / "tqa.csv"
    tqa.write_text("Type,Category,Question,Best Answer,Correct Answers,Incorrect Answers,Source\nA,B,q?,yes,yes,,src\n")
    with pytest.raises(InputError, match=r"tqa.csv:2: Incorrect Answers: no incorrect answer listed"):
        load_dataset(tqa)
    wrong_header = tmp_path / "w.csv"
    wrong_header.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match=r"w.csv:1: header: unknown CSV layout"):
        load_dataset(wrong_header)
    missing_col = tmp_path / "m.csv"
    missing_col.write_text("Question,Best Answer\nq,a\n")
    with pytest.raises(InputError, match=r"m.csv:1: header: missing column\(s\): Incorrect Answers"):
        load_dataset(missing_col, "truthfulqa")


def test_file_level_errors(tmp_path: Path):
    with pytest.raises(InputError, match="no such file"):
        load_dataset(tmp_path / "missing.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(InputError, match="no rows"):
        load_dataset(empty)
    odd = write_jsonl(tmp_path / "odd.jsonl", [{"foo": 1}])
    with pytest.raises(InputError, match=r"odd.jsonl:1: row: cannot tell the format"):
        detect_format(odd)
    with pytest.raises(InputError, match="--format 'nope': unknown"):
        load_dataset(odd, "nope")
    with pytest.raises(InputError, match="--hard only applies"):
        load_dataset(FIXTURES / "mmlu.jsonl", hard=True)
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match=r"bin.jsonl:1: "):
        load_dataset(binary, "generic")


# --- warts of published files: repaired and counted, or skipped only when asked -------------------


def test_mmlu_row_with_a_repeated_correct_option_is_repaired_not_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from conftest import run_cli
    from oversight.data import LoadReport

    rows = [{"question": f"What is {i} + {i}?", "subject": "arithmetic", "choices": [str(2 * i), str(2 * i + 1), str(2 * i + 2), str(2 * i + 3)], "answer": 0}
            for i in range(1, 4)]  # fmt: skip
    rows.insert(
        1, {"question": "Subtract. 2,396 – 1,709", "subject": "arithmetic", "choices": ["687", "687", "1,493", "1,695"], "answer": 1}
    )
    path = write_jsonl(tmp_path / "mmlu.jsonl", rows)
    report = LoadReport()
    fmt, qs = load_dataset(path, report=report)
    assert fmt == "mmlu" and len(qs) == 4
    fixed = qs[1]
    assert fixed.options == ["687", "1,493", "1,695"] and fixed.options[fixed.answer] == "687"
    assert fixed.meta["repaired"] == ["dropped option 1, a repeat of option 0 ('687')"]
    assert report.repaired == [f"{path}:2: dropped option 1, a repeat of option 0 ('687')"] and report.skipped == []
    assert run_cli("data", "inspect", str(path), "--json") == 0
    info = json.loads(capsys.readouterr().out)
    assert info["questions"] == 4 and info["repaired"] == 1 and info["skipped_bad_rows"] == 0


def test_repairs_move_the_distractor_and_drop_empty_options(tmp_path: Path):
    rows = [
        {"id": "a", "question": "q?", "options": ["yes", "no", "yes ", "maybe"], "answer": "yes", "distractor": 2},
        {"id": "b", "question": "q?", "options": ["", "red", "blue", "red"], "answer": 2, "distractor": 3},
    ]
    _, (a, b) = load_dataset(write_jsonl(tmp_path / "g.jsonl", rows))
    assert a.options == ["yes", "no", "maybe"] and a.answer == 0 and a.distractor is None  # it named a copy of the answer
    assert b.options == ["red", "blue"] and b.answer == 1 and b.distractor == 0


def test_bad_rows_stop_the_load_or_are_skipped_and_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from conftest import run_cli

    rows = [{"id": i, "question": f"q{i}?", "options": ["x", "y"], "answer": 0} for i in range(5)]
    rows[2] = {"id": 2, "question": "", "options": ["x", "y"], "answer": 0}
    path = write_jsonl(tmp_path / "g.jsonl", rows)
    path.write_text(
        path.read_text() + "{not json\n" + json.dumps({"id": 9, "question": "only", "options": ["same", " same"], "answer": 0}) + "\n"
    )
    with pytest.raises(InputError, match=r"g\.jsonl:3: question: String should have at least 1 character"):
        load_dataset(path)
    assert run_cli("data", "inspect", str(path), "--skip-bad-rows", "--json") == 0
    info = json.loads(capsys.readouterr().out)
    assert info["questions"] == 4 and info["skipped_bad_rows"] == 3 and info["repaired"] == 0
    assert info["first_problems"][0].endswith("g.jsonl:3: question: String should have at least 1 character")
    assert any(":6: json:" in p for p in info["first_problems"]) and any(
        ":7:" in p and "appears as a wrong option" in p for p in info["first_problems"]
    )


def test_one_broken_question_does_not_cost_its_article(tmp_path: Path):
    from oversight.data import LoadReport

    article = json.loads(QUALITY_DEBATE.read_text().splitlines()[0])
    article["questions"][1]["correct_answer"] = ""
    path = tmp_path / "qd.jsonl"
    path.write_text(json.dumps(article) + "\n")
    with pytest.raises(InputError, match=r":1: questions\.1\.correct_answer"):
        load_dataset(path)
    report = LoadReport()
    _, qs = load_dataset(path, skip_bad_rows=True, report=report)
    assert len(qs) == len(article["questions"]) - 1 and len(report.skipped) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": 1, "question": "q?", "options": ["a", "b"], "answer": true}\n', "answer"),  # a boolean is not an index
        ('{"question": "How many?", "answer": "seven"}\n', "cannot tell the format"),  # not GSM8K without '####'
    ],
)
def test_ambiguous_rows_are_refused_in_one_line(tmp_path: Path, content: str, message: str):
    path = tmp_path / "d.jsonl"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as err:
        load_dataset(path)
    assert "\n" not in str(err.value)


def test_byte_order_mark_and_directories(tmp_path: Path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": 1, "question": "q?", "options": ["a", "b"], "answer": 1}).encode() + b"\n")
    fmt, qs = load_dataset(path)
    assert fmt == "generic" and qs[0].answer == 1
    with pytest.raises(InputError, match="is a directory"):
        load_dataset(tmp_path)


def test_a_run_skips_bad_rows_only_when_asked_and_records_it(tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_server):
    from conftest import run_cli
    from oversight.db import connect
    from oversight.db.queries import run_row

    rows = [{"id": i, "question": f"q{i}?", "options": ["x", "y"], "answer": 0} for i in range(3)] + [{"id": 3, "question": "q3?"}]
    path = write_jsonl(tmp_path / "g.jsonl", rows)
    db = f"sqlite:///{tmp_path / 'r.db'}"
    args = ("run", "--protocol", "naive", "--dataset", str(path), "--judge", f"openai-compatible/m@{fake_server.base_url}", "--db", db,
            "--no-progress", "--run-name", "r")  # fmt: skip
    assert run_cli(*args) == 2
    assert "g.jsonl:4: options: Field required" in capsys.readouterr().err
    assert run_cli(*args, "--skip-bad-rows") == 0
    assert "1 bad row(s) skipped" in capsys.readouterr().err
    stored = run_row(connect(db), "r")
    assert stored["config"]["load_report"] == {"repaired": 0, "skipped": 1} and stored["config"]["skip_bad_rows"] is True


def _official_article(article_id: str, questions: list[tuple[list[int], list[int], list[int]]]) -> dict:
    """An official-format QuALITY article; each question is (untimed answers, speed answers, context ratings), gold 1."""
    return {
        "article_id": article_id, "set_unique_id": f"{article_id}_s", "title": "T", "article": f"Story {article_id}.",
        "questions": [
            {"question": f"Q{i}?", "options": ["right", "w1", "w2", "w3"], "gold_label": 1, "writer_label": 1, "difficult": 1,
             "validation": [{"untimed_answer": a, "untimed_eval2_context": c, "untimed_best_distractor": 2} for a, c in zip(untimed, context, strict=True)],
             "speed_validation": [{"speed_answer": a} for a in speed]}
            for i, (untimed, speed, context) in enumerate(questions)
        ],
    }  # fmt: skip


def test_quality_filters_as_the_debate_papers_use_them(tmp_path: Path):
    from oversight.errors import InputError

    path = write_jsonl(tmp_path / "quality.jsonl", [
        _official_article("a1", [([1, 1, 1], [2, 3, 1, 4, 2], [3, 3, 4]),   # answerable, hard (1/5 fast), needs context: kept
                                 ([1, 2, 1], [2, 2, 2, 2, 2], [3, 3, 3]),   # one untimed validator missed it
                                 ([1, 1, 1], [1, 1, 1, 2, 2], [3, 3, 3]),   # speed validators mostly right: guessable
                                 ([1, 1, 1], [2, 2, 2, 2, 2], [1, 1, 2]),   # a sentence or two suffice
                                 ([1, 1, 1], [2, 2, 2, 2, 2], [2, 2, 2])]), # kept
        _official_article("a2", [([1, 1], [2, 1], [4, 4])] * 3),            # three keepers in one article
    ])  # fmt: skip
    _, everything = load_dataset(path)
    assert everything[0].meta["untimed_accuracy"] == 1.0 and everything[0].meta["speed_accuracy"] == 0.2
    assert everything[0].meta["context_required"] == pytest.approx(10 / 3, abs=1e-3)
    filters = {"min_untimed_accuracy": 1.0, "max_speed_accuracy": 0.5, "min_context_required": 2}
    report = LoadReport()
    _, kept = load_dataset(path, filters=filters, report=report)
    assert [q.id for q in kept] == ["a1_s_1", "a1_s_5", "a2_s_1", "a2_s_2", "a2_s_3"]
    assert report.filtered == {"min_untimed_accuracy": 1, "max_speed_accuracy": 1, "min_context_required": 1}
    _, capped = load_dataset(path, filters=filters | {"max_per_article": 2})
    assert [q.id for q in capped] == ["a1_s_1", "a1_s_5", "a2_s_1", "a2_s_2"]
    with pytest.raises(InputError, match="needs QuALITY's validation fields"):
        load_dataset(FIXTURES / "gpqa.csv", filters={"min_untimed_accuracy": 1.0})
    with pytest.raises(InputError, match="the filters keep no question"):
        load_dataset(path, filters={"min_context_required": 4.0, "max_speed_accuracy": 0.0})
    assert run_cli("run", "-d", str(path), "--filter", "max_per_article=0", "--dry-run") == 2  # out of range: one line


def test_gpqa_extractive_hides_the_explanation_as_context(tmp_path: Path):
    from oversight.errors import InputError

    header = "Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3,Explanation,Record ID\n"
    path = tmp_path / "gpqa.csv"
    path.write_text(header + "Which gas?,Argon,Neon,Xenon,Radon,The spectrum shows argon's lines at 811 nm.,rec1\n", encoding="utf-8")
    fmt, qs = load_dataset(path, "gpqa-extractive")
    assert fmt == "gpqa-extractive" and qs[0].context == "The spectrum shows argon's lines at 811 nm."
    assert qs[0].options[qs[0].answer] == "Argon" and qs[0].source == "gpqa-extractive"
    assert load_dataset(path, "gpqa")[1][0].context == ""
    with pytest.raises(InputError, match="missing column"):
        load_dataset(FIXTURES / "gpqa.csv", "gpqa-extractive")  # no Explanation column
