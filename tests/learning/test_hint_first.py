"""Hint-first practice: a hint from the cited syllabus passage before the answer is revealed; the
student's switch and their class's setting; the teacher's plan defaults for a class."""

from datetime import UTC, date, datetime

import pytest

from learning.hints import AnswerHint, Passage, answer_hint, make_hint
from learning.models import MasteryState, PracticeAnswer, PracticePreference, SessionQuestion, StudyPlan
from learning.selectors import hint_first_for
from learning.services import (
    LearningError,
    classroom_plan_default_set,
    practice_answer_submit,
    practice_hint_show,
    practice_preference_set,
    practice_session_start,
    study_plan_enrol,
)
from tests.factories import (
    ChunkFactory,
    ClassroomFactory,
    CurriculumFactory,
    EnrollmentFactory,
    SyllabusDocumentFactory,
    TeacherFactory,
    TopicFactory,
    UnitFactory,
    UserFactory,
)
from tests.learning.factories import PracticeQuestionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PASSAGE = (
    "Osmosis is the diffusion of water through a semipermeable membrane. "
    "Facilitated transport moves substances down their gradient with the help of membrane proteins."
)


@pytest.fixture
def course():
    """Section 5.2 with a passage and one question whose key is "osmosis"."""
    curriculum = CurriculumFactory(slug="biology")
    topic = TopicFactory(
        unit=UnitFactory(curriculum=curriculum, position=1, number="5"), number="5.2", title="Passive Transport"
    )
    chunk = ChunkFactory(document=SyllabusDocumentFactory(topic=topic), text=PASSAGE)
    PracticeQuestionFactory(
        topic=topic,
        stem="What is the diffusion of water through a semipermeable membrane called?",
        choices=["active transport", "osmosis", "endocytosis", "exocytosis"],
        answer_index=1,
    )
    return curriculum, topic, chunk


def _session(curriculum, topic, *, student=None):
    student = student or UserFactory()
    study_plan_enrol(student=student, curriculum=curriculum, exam_date=date(2027, 3, 20), daily_minutes=30, now=NOW)
    return practice_session_start(student=student, curriculum=curriculum, kind="topic", topic=topic, now=NOW)


def test_the_hint_is_the_passage_sentence_with_the_answer_blanked():
    # given the passage and a question whose key is a word of its first sentence
    passages = [Passage(chunk_id=3, text=PASSAGE)]
    # when
    hint = make_hint(
        stem="Water crossing a semipermeable membrane by diffusion is called what?",
        key="osmosis",
        section="5.2 Passive Transport",
        passages=passages,
    )
    # then
    assert hint.text == "_____ is the diffusion of water through a semipermeable membrane."
    assert (hint.section, hint.chunk_id) == ("5.2 Passive Transport", 3)


def test_a_key_the_stem_already_names_gets_only_the_section():
    # given a key whose words are all in the stem: blanking could not hide it
    # when
    hint = make_hint(
        stem="Is osmosis passive?",
        key="osmosis",
        section="5.2 Passive Transport",
        passages=[Passage(chunk_id=3, text=PASSAGE)],
    )
    # then
    assert (hint.text, hint.chunk_id) == ("Re-read 5.2 Passive Transport: the answer is there.", None)


def test_a_tutor_hint_blanks_the_one_term_the_answer_turns_on():
    # given the sentences of the answer the tutor would give, "water" in both, the question's own
    # word "osmosis" in both too
    answer = [
        Passage(chunk_id=3, text="Osmosis is the diffusion of water through a semipermeable membrane."),
        Passage(chunk_id=4, text="In osmosis, water moves toward the higher solute concentration."),
    ]
    # when
    hint = answer_hint(question="What is osmosis?", answer=answer)
    # then the sentence sharing most with the question and the term is the clue, with that term
    # (the most used word the question does not give) blanked and nothing else
    assert hint == AnswerHint(
        sentence="Osmosis is the diffusion of water through a semipermeable membrane.",
        text="Osmosis is the diffusion of _____ through a semipermeable membrane.",
        chunk_id=3,
    )


def test_a_tutor_hint_needs_an_answer_that_adds_to_the_question():
    # given an answer that only repeats the question's words, and no answer at all
    # when / then
    assert (
        answer_hint(question="Is osmosis diffusion?", answer=[Passage(chunk_id=1, text="Osmosis: diffusion.")]) is None
    )
    assert answer_hint(question="What is osmosis?", answer=[]) is None


def test_asking_for_a_hint_before_answering_marks_the_answer_hinted(course):
    # given
    curriculum, topic, chunk = course
    session = _session(curriculum, topic)
    # when the student asks for a hint, then answers right
    hint = practice_hint_show(session=session, position=0, now=NOW)
    graded = practice_answer_submit(session=session, position=0, option=1, now=NOW)
    # then the hint came from the cited passage without the answer, and the answer is marked hinted
    assert (hint.text, hint.chunk_id) == ("_____ is the diffusion of water through a semipermeable membrane.", chunk.pk)
    assert "osmosis" not in hint.text.lower()
    assert graded.correct is True
    assert PracticeAnswer.objects.get(session_question__session=session).hinted is True
    # and no hint once answered
    with pytest.raises(LearningError) as refused:
        practice_hint_show(session=session, position=0, now=NOW)
    assert refused.value.code == "already_answered"


def test_hint_first_a_wrong_answer_gets_a_hint_and_a_second_try_before_the_key(course):
    # given a student who switched hint-first on
    curriculum, topic, _ = course
    student = UserFactory()
    practice_preference_set(student=student, hint_first=True)
    session = _session(curriculum, topic, student=student)
    assert session.hint_first is True

    # when they answer wrong
    first = practice_answer_submit(session=session, position=0, option=0, now=NOW)

    # then the key is not shown: a hint from the syllabus is, and they may try again
    assert (first.correct, first.revealed, first.key_option, first.explanation, first.can_retry) == (
        False,
        False,
        None,
        "",
        True,
    )
    assert first.hint is not None
    assert first.hint.text == "_____ is the diffusion of water through a semipermeable membrane."

    # when they try again, right this time
    second = practice_answer_submit(session=session, position=0, option=1, now=NOW)

    # then the second try is graded and the key shown; mastery took only the first answer
    assert (second.correct, second.revealed, second.key_option, second.retry, second.can_retry) == (
        True,
        True,
        1,
        True,
        False,
    )
    answer = PracticeAnswer.objects.get(session_question__session=session)
    assert (answer.chosen_option, answer.correct, answer.retry_option, answer.retry_correct) == (0, False, 1, True)
    state = MasteryState.objects.get(student=student, topic=topic)
    assert (state.answers, state.correct) == (1, 0)
    # and a third answer is refused
    with pytest.raises(LearningError) as refused:
        practice_answer_submit(session=session, position=0, option=2, now=NOW)
    assert refused.value.code == "already_answered"


def test_without_hint_first_a_wrong_answer_shows_the_key_at_once(course):
    # given the default (answers first)
    curriculum, topic, _ = course
    session = _session(curriculum, topic)
    # when
    graded = practice_answer_submit(session=session, position=0, option=0, now=NOW)
    # then
    assert (session.hint_first, graded.revealed, graded.key_option, graded.hint, graded.can_retry) == (
        False,
        True,
        1,
        None,
        False,
    )


def test_the_students_own_switch_wins_over_the_class_setting(course):
    # given a student in a class whose teacher set hint-first (the class's settings, by model name)
    from django.apps import apps

    try:
        settings_model = apps.get_model("classrooms", "ClassroomSettings")
    except LookupError:
        pytest.skip("classrooms has no per-class settings in this tree")
    curriculum, _, _ = course
    classroom = ClassroomFactory(curriculum=curriculum)
    enrollment = EnrollmentFactory(curriculum=curriculum, classroom=classroom)
    settings_model.objects.create(classroom=classroom, hint_first=True)
    student = enrollment.student

    # when the student has not chosen, then switches it off, then goes back to the class's
    from_class = hint_first_for(student=student, enrollment=enrollment)
    practice_preference_set(student=student, hint_first=False)
    own = hint_first_for(student=student, enrollment=enrollment)
    practice_preference_set(student=student, hint_first=None)
    back = hint_first_for(student=student, enrollment=enrollment)

    # then
    assert [(s.hint_first, s.source) for s in (from_class, own, back)] == [
        (True, "class"),
        (False, "student"),
        (True, "class"),
    ]
    assert PracticePreference.objects.get(student=student).hint_first is None


def test_a_student_in_a_class_enrols_with_the_teachers_exam_date_and_budget(course):
    # given a class whose teacher set its exam date and daily minutes
    curriculum, _, _ = course
    classroom = ClassroomFactory(curriculum=curriculum)
    classroom_plan_default_set(
        classroom=classroom, set_by=classroom.teacher, exam_date=date(2027, 4, 1), daily_minutes=45, now=NOW
    )
    student = EnrollmentFactory(curriculum=curriculum, classroom=classroom).student

    # when the student enrols without giving either, and another student gives their own
    plan = study_plan_enrol(student=student, curriculum=curriculum, now=NOW)
    other = EnrollmentFactory(curriculum=curriculum, classroom=classroom).student
    own = study_plan_enrol(student=other, curriculum=curriculum, exam_date=date(2027, 3, 25), daily_minutes=20, now=NOW)

    # then the first has the class's, the second their own
    assert (plan.enrollment.exam_date, plan.daily_minutes) == (date(2027, 4, 1), 45)
    assert (own.enrollment.exam_date, own.daily_minutes) == (date(2027, 3, 25), 20)


def test_without_a_class_default_the_exam_date_must_be_given(course):
    # given a student in no class
    curriculum, _, _ = course
    # when they enrol without a date
    with pytest.raises(LearningError) as refused:
        study_plan_enrol(student=UserFactory(), curriculum=curriculum, daily_minutes=30, now=NOW)
    # then
    assert refused.value.code == "no_exam_date"
    assert StudyPlan.objects.count() == 0


def test_only_the_classs_teacher_sets_its_defaults(course):
    # given
    curriculum, _, _ = course
    classroom = ClassroomFactory(curriculum=curriculum)
    # when another teacher tries, or the date is past
    codes = []
    for kwargs in (
        {"set_by": TeacherFactory(), "exam_date": date(2027, 4, 1)},
        {"set_by": classroom.teacher, "exam_date": date(2027, 2, 1)},
    ):
        with pytest.raises(LearningError) as refused:
            classroom_plan_default_set(classroom=classroom, daily_minutes=None, now=NOW, **kwargs)
        codes.append(refused.value.code)
    # then
    assert codes == ["not_your_class", "exam_date_past"]


def test_a_session_question_keeps_when_its_hint_was_shown(course):
    # given
    curriculum, topic, _ = course
    session = _session(curriculum, topic)
    # when
    practice_hint_show(session=session, position=0, now=NOW)
    practice_hint_show(session=session, position=0, now=datetime(2027, 3, 1, 9, 5, tzinfo=UTC))
    # then the first showing is kept
    assert SessionQuestion.objects.get(session=session).hint_shown_at == NOW
