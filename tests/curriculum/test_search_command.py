import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.curriculum.indexing_fixtures import IndexedCurriculum

pytestmark = pytest.mark.integration


def _run(*args: str) -> str:
    out = StringIO()
    call_command("search", *args, stdout=out)
    return out.getvalue()


def test_json_output_lists_the_best_chunks(biology: IndexedCurriculum):
    # given an indexed curriculum
    osmosis = biology.chunk_with("Osmosis")

    # when a question is searched with --json
    payload = json.loads(_run("How does water cross a membrane?", "--curriculum", "biology", "-k", "2", "--json"))

    # then it prints k results, best first, with exactly these fields
    assert len(payload) == 2
    assert payload[0] == {
        "chunk_id": osmosis.id,
        "topic": "Passive Transport",
        "label": "Passive Transport",
        "module": "m66374",
        "score": payload[0]["score"],
        "text": osmosis.text,
    }
    assert 0 < payload[1]["score"] <= payload[0]["score"] <= 1


def test_batch_mode_prints_one_json_line_per_question_in_order(biology: IndexedCurriculum, tmp_path: Path):
    # given a file of questions, with a blank line
    questions = tmp_path / "questions.txt"
    questions.write_text("What does chlorophyll absorb?\n\nWhere is DNA transcribed?\nWhat is diffusion?\n")

    # when it is searched in batch mode
    lines = _run("--batch", str(questions), "--curriculum", "biology", "-k", "1", "--json").splitlines()

    # then each question gets its own line, in the file's order
    assert [json.loads(line)[0]["topic"] for line in lines] == [
        "The Light-Dependent Reactions",
        "Protein Synthesis",
        "Passive Transport",
    ]


def test_readable_listing_names_topic_path_and_module(biology: IndexedCurriculum):
    out = _run("What is osmosis?", "--curriculum", "biology", "-k", "1")
    assert "Q: What is osmosis?" in out
    assert "1. [" in out
    assert "Structure and Function of Plasma Membranes › Passive Transport (m66374#" in out


def test_unknown_curriculum_is_a_clear_error(biology: IndexedCurriculum):
    with pytest.raises(CommandError, match="No curriculum with slug 'physics' \\(known: biology\\)"):
        _run("What is osmosis?", "--curriculum", "physics")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Give a question, or --batch FILE"),
        (("--batch", "/nonexistent/questions.txt"), "Cannot read /nonexistent/questions.txt"),
        (("   ",), "The query is empty"),
        (("What is osmosis?", "-k", "0"), "-k must be at least 1"),
    ],
)
def test_bad_input_is_a_clear_error(biology: IndexedCurriculum, args: tuple[str, ...], message: str):
    with pytest.raises(CommandError, match=message):
        _run(*args, "--curriculum", "biology")
