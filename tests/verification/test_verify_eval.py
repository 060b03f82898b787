import json

import pytest
from django.core.management import CommandError, call_command

PASSAGES = [
    {"id": "p1", "text": "Chloroplasts are found in plant cells and in algae, but not in animal cells."},
    {"id": "p2", "text": "The Treaty of Paris was signed in 1783, ending the American Revolutionary War."},
]
CLAIMS = [
    {"id": "c1", "passage_id": "p1", "claim": "Chloroplasts are found in plant cells.", "label": 1, "source": "bio"},
    {"id": "c2", "passage_id": "p1", "claim": "Chloroplasts are found in animal cells.", "label": 0, "source": "bio"},
    {"id": "c3", "passage_id": "p2", "claim": "The Treaty of Paris was signed in 1783.", "label": 1, "source": "hist"},
    {"id": "c4", "passage_id": "p2", "claim": "The Treaty of Paris was signed in 1812.", "source": "hist"},
]


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_verify_eval_writes_one_prediction_per_claim(tmp_path, capsys):
    # given a small labelled fixture (one claim unlabelled)
    passages = _write(tmp_path / "passages.jsonl", PASSAGES)
    claims = _write(tmp_path / "claims.jsonl", CLAIMS)
    out = tmp_path / "out" / "pred.jsonl"
    # when the command runs
    call_command("verify_eval", "--passages", str(passages), "--claims", str(claims), "--out", str(out))
    # then OUT has exactly id/label/score per claim, in input order
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["c1", "c2", "c3", "c4"]
    assert all(set(r) == {"id", "label", "score"} for r in rows)
    assert all(r["label"] in (0, 1) and isinstance(r["score"], float) and 0.0 <= r["score"] <= 1.0 for r in rows)
    # and the changed year scores below the faithful one
    assert rows[3]["score"] < rows[2]["score"]
    # and balanced accuracy is printed per labelled source plus the mean
    printed = capsys.readouterr().out
    assert "| bio | 2 |" in printed
    assert "| hist | 1 |" in printed
    assert "mean over sources" in printed


def test_verify_eval_rejects_unknown_passage(tmp_path):
    passages = _write(tmp_path / "passages.jsonl", PASSAGES[:1])
    claims = _write(tmp_path / "claims.jsonl", CLAIMS)
    with pytest.raises(CommandError, match="unknown passage 'p2'"):
        call_command(
            "verify_eval", "--passages", str(passages), "--claims", str(claims), "--out", str(tmp_path / "o.jsonl")
        )
    # and nothing is written on failure
    assert not (tmp_path / "o.jsonl").exists()
