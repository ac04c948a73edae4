"""The fault campaign of `oversight bench reliability`, smaller, on SQLite and PostgreSQL: faults and SIGKILLs lose and double nothing."""

from __future__ import annotations

import pytest

from oversight.bench.reliability import reliability_campaign


@pytest.mark.slow
def test_faults_and_kills_lose_and_double_nothing(db_url: str):
    result = reliability_campaign(db=db_url, judge_items=300, debate_items=200, rounds=2, kills=5, seed=1)
    for run in ("judge_run", "debate_run"):
        r = result[run]
        assert r["status"] == "finished" and r["exit_code"] == 0, r
        assert r["rows_lost"] == 0 and r["rows_duplicated"] == 0, r
        seen = r["server_saw"]
        assert all(seen[k] > 0 for k in ("rate_limit", "server_error", "garbage")), seen  # the faults really happened
        assert r["attempts_match_server"], r  # every request the server saw is counted as an attempt
    assert result["judge_run"]["judgments_stored"] == 600 and result["debate_run"]["turns_stored"] == 200 * 4
    kills = result["kill_campaign"]
    assert kills["kills"] == 5 and kills["final_exit_code"] == 0 and kills["status"] == "finished", kills
    assert kills["rows_lost"] == 0 and kills["rows_duplicated"] == 0 and kills["transcripts_stored"] == 200
    assert all(0 < n < 200 for n in kills["stored_after_each_kill"])  # each kill fell in the middle of the run
