"""Free-text answers: checked against the syllabus by the verifier (a fake here; the real one in
test_free_text_integration.py), graded right only when verified and on the key, otherwise assessed by
the student after seeing the key and the evidence; never graded wrong by the machine."""

from datetime import UTC, date, datetime, timedelta

import pytest

from learning.free_text import decide
from learning.models import MasteryState, PracticeAnswer, ReviewCard, SessionQuestion, TextAnswer
from learning.services import (
    LearningError,
    practice_answer_submit,
    practice_session_start,
    practice_text_answer_assess,
    practice_text_answer_submit,
    study_plan_enrol,
)
from tests.factories import (
    ChunkFactory,
    CurriculumFactory,
    SyllabusDocumentFactory,
    TopicFactory,
    UnitFactory,
    UserFactory,
)
from tests.learning.factories import PracticeQuestionFactory
from tests.learning.fake_verifier import FakeVerifier
from verification.graph.state import EvidencePassage
from verification.models import VerificationRecord, VerificationRun

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
KEY = "Because the displacement over a closed lap is zero."
STEM = "Why can average velocity be zero when average speed is not?"


@pytest.fixture
def course():
    """One section with a passage, a free-response question with its key and a multiple-choice one."""
    curriculum = CurriculumFactory(slug="physics")
    topic = TopicFactory(
        unit=UnitFactory(curriculum=curriculum, position=1, number="1"), number="1.1", title="Velocity"
    )
    document = SyllabusDocumentFactory(topic=topic, source_id="m90001")
    chunk = ChunkFactory(
        document=document,
        text="Speed is the magnitude of velocity. The displacement over a closed lap is zero.",
    )
    text_question = PracticeQuestionFactory(topic=topic, stem=STEM, choices=[], answer_index=None, explanation=KEY)
    choice_question = PracticeQuestionFactory(topic=topic, stem="Which has a direction?", choices=["speed", "velocity"])
    return curriculum, topic, chunk, text_question, choice_question


@pytest.fixture
def verifier(monkeypatch):
    fake = FakeVerifier()
    monkeypatch.setattr("learning.services.verify_sentence", fake)
    return fake


def _text_session(curriculum, topic):
    student = UserFactory()
    study_plan_enrol(student=student, curriculum=curriculum, exam_date=date(2027, 3, 20), daily_minutes=30, now=NOW)
    session = practice_session_start(
        student=student, curriculum=curriculum, kind="topic", topic=topic, question_format="text", now=NOW
    )
    return student, session


def test_a_text_session_serves_only_free_response_questions_with_a_key(course):
    # given
    curriculum, topic, _, text_question, _ = course
    PracticeQuestionFactory(topic=topic, stem="No key here?", choices=[], answer_index=None, explanation="")
    # when
    _, session = _text_session(curriculum, topic)
    # then
    served = list(SessionQuestion.objects.filter(session=session))
    assert [(s.question_id, s.options, s.key_option) for s in served] == [(text_question.pk, [], None)]


def test_a_verified_answer_on_the_key_is_graded_right_with_its_evidence(course, verifier):
    # given an answer the verifier finds supported
    curriculum, topic, chunk, _, _ = course
    student, session = _text_session(curriculum, topic)
    verifier.verdicts = {"The displacement over a closed lap is zero.": "supported"}

    # when it is submitted
    checked = practice_text_answer_submit(
        session=session, position=0, text="The displacement over a closed lap is zero.", now=NOW
    )

    # then it is graded right at once, citing the passage, and mastery and the card are updated
    assert checked.outcome == "verified"
    assert checked.graded is not None and checked.graded.correct is True
    assert [c.pk for c in checked.evidence] == [chunk.pk]
    assert checked.key == KEY
    answer = PracticeAnswer.objects.get(session_question__session=session)
    assert (answer.correct, answer.grading, answer.chosen_option) == (True, "verified", None)
    assert MasteryState.objects.get(student=student, topic=topic).answers == 1
    assert ReviewCard.objects.filter(student=student).count() == 1
    # each sentence was checked with the section as evidence, never revised
    assert verifier.calls == [
        {
            "sentence": "The displacement over a closed lap is zero.",
            "curriculum_id": curriculum.pk,
            "evidence": [chunk.pk],
            "allow_revision": False,
        }
    ]
    # and the check is kept in the verifier's audit trail
    stored = TextAnswer.objects.get(session_question__session=session)
    assert stored.verification_run.kind == VerificationRun.Kind.ANSWER
    assert list(VerificationRecord.objects.filter(run=stored.verification_run).values_list("claim", "verdict")) == [
        ("The displacement over a closed lap is zero.", "supported")
    ]


def test_a_true_sentence_that_misses_the_key_is_not_graded_right(course, verifier):
    # given a supported sentence of the section that does not answer the question
    curriculum, topic, _, _, _ = course
    _, session = _text_session(curriculum, topic)
    verifier.verdicts = {"Speed is the magnitude of velocity.": "supported"}
    # when
    checked = practice_text_answer_submit(
        session=session, position=0, text="Speed is the magnitude of velocity.", now=NOW
    )
    # then it waits for the student's own assessment: it uses none of the key's own words
    assert (checked.outcome, checked.graded, checked.key_coverage) == ("unconfirmed", None, 0.0)
    assert not PracticeAnswer.objects.filter(session_question__session=session).exists()


def test_an_unconfirmed_answer_is_graded_by_the_students_assessment(course, verifier):
    # given a paraphrase the verifier cannot confirm
    curriculum, topic, chunk, _, _ = course
    student, session = _text_session(curriculum, topic)
    checked = practice_text_answer_submit(session=session, position=0, text="You end where you started.", now=NOW)
    assert (checked.outcome, checked.graded) == ("unconfirmed", None)
    assert [c.pk for c in checked.evidence] == [chunk.pk]  # the passage it was checked against

    # when the student, having seen the key, says it was right
    graded = practice_text_answer_assess(session=session, position=0, correct=True, now=NOW + timedelta(minutes=1))

    # then it counts as a right answer, graded by the student
    assert (graded.correct, graded.explanation) == (True, KEY)
    answer = PracticeAnswer.objects.get(session_question__session=session)
    assert (answer.correct, answer.grading) == (True, "self")
    assert MasteryState.objects.get(student=student, topic=topic).correct == 1


def test_a_contradicted_answer_is_shown_with_its_reasons_and_left_to_the_student(course, verifier):
    # given
    curriculum, topic, _, _, _ = course
    _, session = _text_session(curriculum, topic)
    verifier.verdicts = {"The displacement is 400 meters.": "contradicted"}
    verifier.reasons = ("number not in evidence: 400",)
    # when
    checked = practice_text_answer_submit(session=session, position=0, text="The displacement is 400 meters.", now=NOW)
    # then
    assert (checked.outcome, checked.graded, checked.reasons) == ("contradicted", None, ["number not in evidence: 400"])
    assert not PracticeAnswer.objects.filter(session_question__session=session).exists()


def test_a_text_answer_is_checked_once_and_assessed_once(course, verifier):
    # given an answer already assessed
    curriculum, topic, _, _, _ = course
    _, session = _text_session(curriculum, topic)
    practice_text_answer_submit(session=session, position=0, text="Something.", now=NOW)
    practice_text_answer_assess(session=session, position=0, correct=False, now=NOW)
    # when it is sent again, or assessed again
    with pytest.raises(LearningError) as again:
        practice_text_answer_submit(session=session, position=0, text="Something else.", now=NOW)
    with pytest.raises(LearningError) as reassess:
        practice_text_answer_assess(session=session, position=0, correct=True, now=NOW)
    # then both are refused
    assert (again.value.code, reassess.value.code) == ("already_answered", "already_answered")
    assert len(verifier.calls) == 1


def test_refusals_of_typed_answers(course, verifier):
    # given a session with a text question and a choice session
    curriculum, topic, _, _, _ = course
    student, text_session = _text_session(curriculum, topic)
    choice_session = practice_session_start(student=student, curriculum=curriculum, kind="topic", topic=topic, now=NOW)
    codes = []
    # when: an empty answer, an option for a text question, text for a choice question, assessing unanswered
    for call in (
        lambda: practice_text_answer_submit(session=text_session, position=0, text="   ", now=NOW),
        lambda: practice_answer_submit(session=text_session, position=0, option=0, now=NOW),
        lambda: practice_text_answer_submit(session=choice_session, position=0, text="velocity", now=NOW),
        lambda: practice_text_answer_assess(session=text_session, position=0, correct=True, now=NOW),
    ):
        with pytest.raises(LearningError) as refused:
            call()
        codes.append(refused.value.code)
    # then
    assert codes == ["empty_answer", "free_text_question", "choice_question", "not_answered"]
    assert verifier.calls == []


def _verdict(sentence: str, verdict: str, chunk_id: int = 7):
    import asyncio

    passage = EvidencePassage(chunk_id=chunk_id, text=sentence, topic="Velocity", module="m1")
    return asyncio.run(
        FakeVerifier({sentence: verdict})(index=0, sentence=sentence, curriculum_id=1, answer_evidence=[passage])
    )


def test_decide_needs_every_sentence_supported_and_the_key_covered():
    # given two sentences, one not supported, and the same answer with both supported
    first, second = "The displacement is zero.", "The lap is closed."
    mixed = [_verdict(first, "supported"), _verdict(second, "unsupported")]
    both = [_verdict(first, "supported"), _verdict(second, "supported", chunk_id=8)]
    answer = f"{first} {second}"
    # when
    partly = decide(verdicts=mixed, answer=answer, key=KEY, stem=STEM, evidence=[])
    fully = decide(verdicts=both, answer=answer, key=KEY, stem=STEM, evidence=[])
    # then
    assert (partly.outcome, partly.score) == ("unconfirmed", 0.2)
    assert (fully.outcome, fully.supporting_chunk_ids, fully.key_coverage) == ("verified", (7, 8), 1.0)
