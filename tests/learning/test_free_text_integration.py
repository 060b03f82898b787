"""Free-text grading and question generation on the real embedded verifier (trained cross-encoder,
deterministic checks, per-claim retrieval from the real index of the mini book)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from curriculum.models import Topic
from learning.models import GeneratedQuestion, PracticeAnswer, TextAnswer
from learning.services import (
    practice_questions_generate,
    practice_session_start,
    practice_text_answer_submit,
    study_plan_enrol,
)
from tests.factories import UserFactory
from tests.learning.factories import PracticeQuestionFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

KEY = "Water boils at 100 degrees Celsius at sea level."


def _heat_session(curriculum):
    heat = Topic.objects.get(unit__curriculum=curriculum, documents__source_id="m90003")
    PracticeQuestionFactory(
        topic=heat,
        stem="At what temperature does water boil at sea level?",
        choices=[],
        answer_index=None,
        explanation=KEY,
    )
    student = UserFactory()
    study_plan_enrol(
        student=student, curriculum=curriculum, exam_date=timezone.localdate() + timedelta(days=10), daily_minutes=30
    )
    return practice_session_start(
        student=student, curriculum=curriculum, kind="topic", topic=heat, question_format="text"
    )


def test_the_syllabus_answer_is_verified_and_graded_right(imported_mini_book):
    # given a free-response question of the heat section
    right_session = _heat_session(imported_mini_book)

    # when one types the syllabus's answer
    right = practice_text_answer_submit(
        session=right_session, position=0, text="Water boils at 100 degrees Celsius at sea level."
    )

    # then the real verifier confirms it from the heat section, and it is graded right
    assert right.outcome == "verified"
    assert right.graded is not None and right.graded.correct is True
    assert {c.document.source_id for c in right.evidence} == {"m90003"}
    assert PracticeAnswer.objects.get(session_question__session=right_session).grading == "verified"


def test_a_wrong_number_is_not_graded_right_and_its_reason_is_shown(imported_mini_book):
    # given
    session = _heat_session(imported_mini_book)
    # when a student types a wrong number
    checked = practice_text_answer_submit(
        session=session, position=0, text="Water boils at 70 degrees Celsius at sea level."
    )
    # then it is not graded (the student assesses it against the key), and the failed check is shown
    assert checked.outcome == "contradicted"
    assert checked.graded is None
    assert "number not in evidence: 70" in checked.reasons
    assert TextAnswer.objects.get(session_question__session=session).outcome == "contradicted"
    assert not PracticeAnswer.objects.filter(session_question__session=session).exists()


def test_generated_clozes_are_verified_against_their_passage(imported_mini_book):
    # given the mini book, whose heat section has no review question
    # when questions are generated for the sections without any
    report = practice_questions_generate(curriculum=imported_mini_book)
    # then each stored one blanks a sentence of its passage that the verifier supports
    generated = list(GeneratedQuestion.objects.select_related("question", "chunk"))
    assert report.created == len(generated) >= 1
    for row in generated:
        assert row.sentence in row.chunk.text
        assert row.key_score >= 0.5
        assert row.question.choices[row.question.answer_index] == row.term
        assert len(set(row.question.choices)) == 4
    # and a second run, asking for more where there are fewer than 2, makes no duplicate
    again = practice_questions_generate(curriculum=imported_mini_book, below=2)
    assert again.existing == report.created
    rows = GeneratedQuestion.objects.values_list("question__topic_id", "sentence", "term")
    assert len(rows) == len(set(rows)) == report.created + again.created
