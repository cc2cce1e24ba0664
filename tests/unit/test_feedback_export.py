"""`ivig-chat feedback export`: stored feedback comes out as CSV for maintainers."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ivig_chat.conversation import SQLiteConversationStore, Turn


def _turn(turn_id: str) -> Turn:
    return Turn(
        turn_id=turn_id,
        question="Does IVIG help in SPMS?",
        standalone_question="Does IVIG help in SPMS?",
        status="answered",
        answer="No. [1]\n\n---\n\nDisclaimer.",
        citations=[],
        disclaimer="Disclaimer.",
        suggested_questions=[],
        audience="clinician",
        created_at="2026-11-25T00:00:00.000+00:00",
    )


def test_export_writes_every_feedback_row_as_csv(tmp_path: Path) -> None:
    store = SQLiteConversationStore(tmp_path / "conversations.sqlite3")
    store.save_turn("conv_1", "ivig-ms", _turn("turn_1"))
    store.add_feedback("turn_1", "down", 'Missed the ESIMS trial, "please" add it')
    store.add_feedback("turn_1", "up", None)
    store.close()
    out = tmp_path / "feedback.csv"
    env = {**os.environ, "IVIG_CHAT_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "ivig_chat", "feedback", "export", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["rating"] for r in rows] == ["down", "up"]
    assert rows[0]["comment"] == 'Missed the ESIMS trial, "please" add it'
    assert rows[0]["conversation_id"] == "conv_1"
    assert rows[0]["standalone_question"] == "Does IVIG help in SPMS?"
    assert "2 feedback rows" in done.stderr


@pytest.mark.parametrize(
    "comment",
    ['=HYPERLINK("http://x.example","click")', "+1+1", "-2+3", "@SUM(A1:A2)", "\tx", "\rx"],
)
def test_a_comment_that_would_run_as_a_formula_opens_as_text(comment: str) -> None:
    from ivig_chat.cli import spreadsheet_safe

    assert spreadsheet_safe(comment) == "'" + comment
    assert spreadsheet_safe("Missed the ESIMS trial = bad") == "Missed the ESIMS trial = bad"
    assert spreadsheet_safe(None) is None
