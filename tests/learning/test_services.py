"""The learner model's services on the database: enrol, practise, grade, mastery, reviews, plan, fit."""

import dataclasses
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from learning import bkt
from learning.models import (
    MasteryState,
    PlanItem,
    PracticeAnswer,
    ReviewCard,
    SessionQuestion,
    StudyPlan,
    TopicBktParams,
)
from learning.selectors import progress_by_topic, progress_over_time, reviews_due
from learning.services import (
    LearningError,
    practice_answer_submit,
    practice_session_finish,
    practice_session_start,
    study_plan_enrol,
    study_plan_recompute,
    study_plan_refresh,
    topic_bkt_fit,
)
from tests.factories import CurriculumFactory, EnrollmentFactory, TopicFactory, UnitFactory, UserFactory
from tests.learning.factories import PracticeQuestionFactory
from tutor.models import TopicMastery

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
TODAY = date(2027, 3, 1)


@pytest.fixture
def course():
    """A curriculum of two chapters: 1.1 and 1.2 (1.2 needs 1.1), and 2.1; four questions each."""
    curriculum = CurriculumFactory(slug="biology", title="Biology")
    first = UnitFactory(curriculum=curriculum, position=1, number="1")
    second = UnitFactory(curriculum=curriculum, position=2, number="2")
    topics = [
        TopicFactory(unit=first, position=1, number="1.1", title="Cells"),
        TopicFactory(unit=first, position=2, number="1.2", title="Membranes"),
        TopicFactory(unit=second, position=1, number="2.1", title="Energy"),
    ]
    for topic in topics:
        for n in range(4):
            PracticeQuestionFactory(topic=topic, stem=f"{topic.title} question {n}?", answer_index=n % 4)
    return curriculum, topics


def _enrolled(curriculum, days=14, minutes=30):
    student = UserFactory()
    plan = study_plan_enrol(
        student=student, curriculum=curriculum, exam_date=TODAY + timedelta(days=days), daily_minutes=minutes, now=NOW
    )
    return student, plan


def _answer_all(session, *, right, now=NOW):
    results = []
    for served in SessionQuestion.objects.filter(session=session).order_by("position"):
        option = served.key_option if right else (served.key_option + 1) % len(served.options)
        results.append(practice_answer_submit(session=session, position=served.position, option=option, now=now))
    return results


def test_enrolling_sets_the_exam_date_and_plans_prerequisites_first(course):
    # given
    curriculum, (cells, membranes, energy) = course
    # when
    _student, plan = _enrolled(curriculum)
    # then
    assert plan.enrollment.exam_date == date(2027, 3, 15)
    today = list(PlanItem.objects.filter(plan=plan, day=TODAY).order_by("position"))
    assert [(i.kind, i.topic_id) for i in today] == [("learn", cells.pk)]
    first_days = {}
    for item in PlanItem.objects.filter(plan=plan).order_by("day", "position"):
        first_days.setdefault(item.topic_id, item.day)
    assert first_days[cells.pk] <= first_days[membranes.pk]
    assert set(first_days) == {cells.pk, membranes.pk, energy.pk}
    assert PlanItem.objects.filter(plan=plan, day__gte=date(2027, 3, 15)).count() == 0
    assert 0.0 < plan.predicted_readiness < 1.0


def test_enrolling_refuses_a_past_exam_and_an_impossible_budget(course):
    curriculum, _ = course
    student = UserFactory()
    with pytest.raises(LearningError) as past:
        study_plan_enrol(student=student, curriculum=curriculum, exam_date=TODAY, daily_minutes=30, now=NOW)
    with pytest.raises(LearningError) as budget:
        study_plan_enrol(
            student=student, curriculum=curriculum, exam_date=TODAY + timedelta(days=3), daily_minutes=5, now=NOW
        )
    assert (past.value.code, budget.value.code) == ("exam_date_past", "daily_minutes_out_of_range")


def test_a_topic_session_serves_distinct_questions_and_grades_the_key_exactly(course):
    # given
    curriculum, (cells, _, _) = course
    student, _ = _enrolled(curriculum)
    # when a session of 10 is asked for a topic with 4 questions
    session = practice_session_start(
        student=student, curriculum=curriculum, kind="topic", topic=cells, size=10, now=NOW
    )
    served = list(SessionQuestion.objects.filter(session=session).order_by("position"))
    right = practice_answer_submit(session=session, position=0, option=served[0].key_option, now=NOW)
    wrong = practice_answer_submit(session=session, position=1, option=(served[1].key_option + 1) % 4, now=NOW)
    # then
    assert len(served) == 4 and len({s.question_id for s in served}) == 4
    assert all(len(set(s.options)) == len(s.options) for s in served)
    assert (right.correct, wrong.correct) == (True, False)
    assert right.mastery.mastery == pytest.approx(0.2 / 0.38)
    assert wrong.mastery_before == pytest.approx(0.2 / 0.38)
    assert wrong.mastery.evidence == 2


def test_an_answer_updates_mastery_the_tutors_mirror_and_a_review_card(course):
    # given
    curriculum, (cells, _, _) = course
    student, _ = _enrolled(curriculum)
    session = practice_session_start(student=student, curriculum=curriculum, kind="topic", topic=cells, now=NOW)
    # when every answer is right
    results = _answer_all(session, right=True)
    # then
    state = MasteryState.objects.get(student=student, topic=cells)
    expected = bkt.estimate([True] * 4, bkt.DEFAULT_PARAMS).mastery
    assert (state.answers, state.correct) == (4, 4)
    assert state.mastery == pytest.approx(expected)
    assert TopicMastery.objects.get(student=student, topic=cells).mastery == pytest.approx(expected)
    cards = ReviewCard.objects.filter(student=student)
    assert cards.count() == 4
    assert all(card.due > NOW + timedelta(days=1) for card in cards)  # right first time: days away
    last = SessionQuestion.objects.get(session=session, position=3)
    assert results[-1].next_review == cards.get(question_id=last.question_id).due


def test_an_answer_cannot_be_given_twice_nor_after_the_session_is_finished(course):
    curriculum, (cells, _, _) = course
    student, _ = _enrolled(curriculum)
    session = practice_session_start(student=student, curriculum=curriculum, kind="topic", topic=cells, now=NOW)
    practice_answer_submit(session=session, position=0, option=0, now=NOW)
    with pytest.raises(LearningError) as twice:
        practice_answer_submit(session=session, position=0, option=1, now=NOW)
    with pytest.raises(LearningError) as bad_option:
        practice_answer_submit(session=session, position=1, option=9, now=NOW)
    practice_session_finish(session=session, now=NOW)
    with pytest.raises(LearningError) as finished:
        practice_answer_submit(session=session, position=1, option=0, now=NOW)
    assert (twice.value.code, bad_option.value.code, finished.value.code) == (
        "already_answered",
        "no_such_option",
        "session_finished",
    )
    assert PracticeAnswer.objects.count() == 1


def test_next_session_serves_unseen_then_wrong_questions_first(course):
    # given a student who got two of four questions right and two wrong in a 4-question session
    curriculum, (cells, _, _) = course
    student, _ = _enrolled(curriculum)
    first = practice_session_start(student=student, curriculum=curriculum, kind="topic", topic=cells, size=3, now=NOW)
    served = list(SessionQuestion.objects.filter(session=first).order_by("position"))
    practice_answer_submit(session=first, position=0, option=served[0].key_option, now=NOW)
    practice_answer_submit(session=first, position=1, option=(served[1].key_option + 1) % 4, now=NOW)
    practice_answer_submit(session=first, position=2, option=served[2].key_option, now=NOW)
    # when the next session of 2 starts
    second = practice_session_start(student=student, curriculum=curriculum, kind="topic", topic=cells, size=2, now=NOW)
    # then the never-seen question comes first, then the one got wrong
    ids = list(
        SessionQuestion.objects.filter(session=second).order_by("position").values_list("question_id", flat=True)
    )
    unseen = ({q.pk for q in cells.practice_questions.all()} - {s.question_id for s in served}).pop()
    assert ids == [unseen, served[1].question_id]


def test_the_plan_session_follows_the_plan_and_finishing_it_marks_the_item_done(course):
    # given
    curriculum, (cells, _, _) = course
    student, plan = _enrolled(curriculum)
    # when the student starts today's plan and answers it in full
    session = practice_session_start(student=student, curriculum=curriculum, kind="plan", now=NOW)
    _answer_all(session, right=True)
    summary = practice_session_finish(session=session, now=NOW)
    # then the learn item for 1.1 is done, kept, and the plan is recomputed around it
    assert session.topic_id == cells.pk
    assert (summary.answered, summary.correct, summary.plan_item_done) == (4, 4, True)
    done = PlanItem.objects.get(plan=plan, done_at__isnull=False)
    assert (done.day, done.kind, done.topic_id) == (TODAY, "learn", cells.pk)
    later_cells = PlanItem.objects.filter(plan=plan, topic=cells, done_at__isnull=True)
    assert all(item.day > TODAY for item in later_cells)
    # and finishing again changes nothing
    assert practice_session_finish(session=session, now=NOW) == summary


def test_rescheduling_after_missed_days_keeps_progress_and_history(course):
    # given a student who did day 1 and then missed two days
    curriculum, (cells, membranes, energy) = course
    student, plan = _enrolled(curriculum, days=10)
    session = practice_session_start(student=student, curriculum=curriculum, kind="plan", now=NOW)
    _answer_all(session, right=True)
    practice_session_finish(session=session, now=NOW)
    mastery_before = MasteryState.objects.get(student=student, topic=cells).mastery
    missed = list(PlanItem.objects.filter(plan=plan, day__in=[TODAY + timedelta(days=1), TODAY + timedelta(days=2)]))
    # when the plan is recomputed on day 4
    later = NOW + timedelta(days=3)
    study_plan_recompute(plan=plan, now=later)
    # then progress and past items stay, and every topic is planned again from day 4
    assert MasteryState.objects.get(student=student, topic=cells).mastery == mastery_before
    assert PlanItem.objects.filter(plan=plan, done_at__isnull=False).count() == 1
    assert set(PlanItem.objects.filter(plan=plan, day__lt=later.date()).values_list("pk", flat=True)) >= {
        i.pk for i in missed
    }
    future_topics = set(PlanItem.objects.filter(plan=plan, day__gte=later.date()).values_list("topic_id", flat=True))
    assert {membranes.pk, energy.pk} <= future_topics
    assert not PlanItem.objects.filter(plan=plan, day__gte=later.date(), kind="learn", topic=cells).exists()


def test_wrong_answers_bring_reviews_due_first_in_the_plan(course):
    # given a student who got every question of 1.1 wrong today
    curriculum, (cells, _, _) = course
    student, plan = _enrolled(curriculum)
    session = practice_session_start(student=student, curriculum=curriculum, kind="topic", topic=cells, now=NOW)
    _answer_all(session, right=False)
    practice_session_finish(session=session, now=NOW)
    # when tomorrow comes
    tomorrow = NOW + timedelta(days=1)
    study_plan_recompute(plan=plan, now=tomorrow)
    # then the four cards are due and open tomorrow's plan, and a review session serves them
    assert reviews_due(student=student, curriculum=curriculum, now=tomorrow).count() == 4
    first = PlanItem.objects.filter(plan=plan, day=tomorrow.date()).order_by("position").first()
    assert (first.kind, first.questions) == ("review", 4)
    review = practice_session_start(student=student, curriculum=curriculum, kind="plan", now=tomorrow)
    assert (review.topic_id, SessionQuestion.objects.filter(session=review).count()) == (None, 4)


def test_progress_per_topic_and_over_time(course):
    # given answers on two days
    curriculum, (cells, _membranes, energy) = course
    student, _ = _enrolled(curriculum)
    day_one = practice_session_start(student=student, curriculum=curriculum, kind="topic", topic=cells, now=NOW)
    _answer_all(day_one, right=True)
    day_two = practice_session_start(
        student=student, curriculum=curriculum, kind="topic", topic=energy, size=2, now=NOW + timedelta(days=1)
    )
    _answer_all(day_two, right=False, now=NOW + timedelta(days=1))
    # when
    topics = progress_by_topic(student=student, curriculum=curriculum)
    history = progress_over_time(student=student, curriculum=curriculum)
    # then
    assert [(t.label, t.answers, t.correct) for t in topics] == [
        ("1.1 Cells", 4, 4),
        ("1.2 Membranes", 0, 0),
        ("2.1 Energy", 2, 0),
    ]
    assert topics[1].mastery == 0.2 and topics[1].uncertainty == pytest.approx(0.4)
    assert topics[1].prerequisites == (cells.pk,)
    cells_mastery = bkt.estimate([True] * 4, bkt.DEFAULT_PARAMS).mastery
    # energy's prior leans toward the student's mastery of cells, the one other topic practised
    energy_prior = bkt.individual_prior(topic_prior=0.2, elsewhere=[cells_mastery])
    energy_mastery = bkt.estimate([False] * 2, dataclasses.replace(bkt.DEFAULT_PARAMS, p_init=energy_prior)).mastery
    assert [(h.day, h.answers, h.correct) for h in history] == [(TODAY, 4, 4), (TODAY + timedelta(days=1), 2, 0)]
    assert history[0].mean_mastery == pytest.approx((cells_mastery + 0.2 + 0.2) / 3)
    assert history[1].mean_mastery == pytest.approx((cells_mastery + 0.2 + energy_mastery) / 3)


def test_sessions_need_enrolment_and_questions(course):
    curriculum, (cells, _, _) = course
    outsider = UserFactory()
    with pytest.raises(LearningError) as not_enrolled:
        practice_session_start(student=outsider, curriculum=curriculum, kind="topic", topic=cells, now=NOW)
    enrolled = EnrollmentFactory(curriculum=curriculum).student
    with pytest.raises(LearningError) as no_reviews:
        practice_session_start(student=enrolled, curriculum=curriculum, kind="review", now=NOW)
    assert (not_enrolled.value.code, no_reviews.value.code) == ("not_enrolled", "no_questions")


def test_fit_bkt_fits_topics_with_enough_answers_and_replays_mastery(course):
    # given 12 students with 10 answers each on 1.1 (right from the 4th answer on), none on 1.2
    curriculum, (cells, membranes, _) = course
    for n in range(12):
        student, _ = _enrolled(curriculum)
        for round_index in range(3):
            at = NOW + timedelta(hours=round_index)
            session = practice_session_start(
                student=student, curriculum=curriculum, kind="topic", topic=cells, size=4, now=at
            )
            for served in SessionQuestion.objects.filter(session=session).order_by("position"):
                answered = PracticeAnswer.objects.filter(student=student).count()
                if answered >= 10:
                    break
                right = answered >= 3 or (n % 3 == 0 and answered == 1)
                option = served.key_option if right else (served.key_option + 1) % 4
                practice_answer_submit(session=session, position=served.position, option=option, now=at)
    # when
    out = io.StringIO()
    call_command("fit_bkt", "biology", stdout=out)
    # then 1.1 has fitted parameters that explain the data better than the defaults; 1.2 keeps them
    fitted = TopicBktParams.objects.get(topic=cells)
    assert (fitted.answers, fitted.students) == (120, 12)
    assert not TopicBktParams.objects.filter(topic=membranes).exists()
    assert out.getvalue().endswith("Fitted 1 topics; 2 kept their parameters (too few answers).\n")
    params = bkt.BktParams(p_init=fitted.p_init, p_learn=fitted.p_learn, p_slip=fitted.p_slip, p_guess=fitted.p_guess)
    sequences = [
        list(
            PracticeAnswer.objects.filter(student=s, topic=cells)
            .order_by("answered_at", "id")
            .values_list("correct", flat=True)
        )
        for s in MasteryState.objects.filter(topic=cells).values_list("student", flat=True)
    ]
    assert fitted.log_likelihood == pytest.approx(bkt.fit(sequences).log_likelihood)
    assert fitted.log_likelihood > bkt.fit(sequences, max_iterations=1).log_likelihood
    # and each student's mastery is replayed with the fitted parameters
    some = MasteryState.objects.filter(topic=cells).first()
    own = list(
        PracticeAnswer.objects.filter(student=some.student, topic=cells)
        .order_by("answered_at", "id")
        .values_list("correct", flat=True)
    )
    assert some.mastery == pytest.approx(bkt.estimate(own, params).mastery)
    assert TopicMastery.objects.get(student=some.student, topic=cells).mastery == pytest.approx(some.mastery)


def test_fit_keeps_the_defaults_with_too_few_answers(course):
    _, (cells, _, _) = course
    fit = topic_bkt_fit(topic=cells)
    assert (fit.fitted, fit.params, fit.answers) == (False, bkt.DEFAULT_PARAMS, 0)


def test_an_introduction_without_questions_is_not_planned(course):
    # given a chapter introduction with no practice questions
    curriculum, (cells, _, _) = course
    intro = TopicFactory(unit=cells.unit, position=0, title="Introduction")
    # when
    student, plan = _enrolled(curriculum)
    # then
    assert not PlanItem.objects.filter(plan=plan, topic=intro).exists()
    with pytest.raises(LearningError) as error:
        practice_session_start(student=student, curriculum=curriculum, kind="topic", topic=intro, now=NOW)
    assert error.value.code == "no_questions"


def test_a_stale_plan_is_refreshed_once_a_day(course):
    # given a plan computed on day 1 and not opened on days 2 and 3
    curriculum, _ = course
    _, plan = _enrolled(curriculum)
    day_one_items = set(PlanItem.objects.filter(plan=plan).values_list("pk", flat=True))
    # when it is opened on day 4, twice
    day_four = NOW + timedelta(days=3)
    study_plan_refresh(plan=plan, now=day_four)
    after_first = set(PlanItem.objects.filter(plan=plan).values_list("pk", flat=True))
    study_plan_refresh(plan=StudyPlan.objects.get(pk=plan.pk), now=day_four + timedelta(hours=2))
    after_second = set(PlanItem.objects.filter(plan=plan).values_list("pk", flat=True))
    # then the first opening re-plans from day 4 (days 1-3 stay as history), the second changes nothing
    assert StudyPlan.objects.get(pk=plan.pk).computed_for == day_four.date()
    kept = set(PlanItem.objects.filter(plan=plan, day__lt=day_four.date()).values_list("pk", flat=True))
    assert kept and kept <= day_one_items
    assert PlanItem.objects.filter(plan=plan, day=day_four.date()).exists()
    assert after_first == after_second


def test_the_plan_session_passes_over_reviews_already_done(course):
    # given yesterday's wrong answers due today, and a plan that opens today with them
    curriculum, (cells, _, _) = course
    student, plan = _enrolled(curriculum)
    first = practice_session_start(student=student, curriculum=curriculum, kind="topic", topic=cells, now=NOW)
    _answer_all(first, right=False)
    today = NOW + timedelta(days=1)
    study_plan_recompute(plan=plan, now=today)
    # when the student reviews them in a review session, then starts the plan
    review = practice_session_start(student=student, curriculum=curriculum, kind="review", now=today)
    _answer_all(review, right=True, now=today)
    next_session = practice_session_start(student=student, curriculum=curriculum, kind="plan", now=today)
    # then the review session was tied to today's review item, and the plan moves on to a topic
    review_item = PlanItem.objects.get(plan=plan, day=today.date(), kind="review")
    assert review.plan_item_id == review_item.pk
    assert next_session.topic_id is not None


def test_a_student_who_mastered_another_topic_starts_a_new_one_from_a_higher_prior(course):
    # given two students: one answered all of 1.1 right, the other has practised nothing
    curriculum, (cells, _membranes, energy) = course
    strong, _ = _enrolled(curriculum)
    fresh, _ = _enrolled(curriculum)
    _answer_all(
        practice_session_start(student=strong, curriculum=curriculum, kind="topic", topic=cells, now=NOW), right=True
    )
    cells_mastery = MasteryState.objects.get(student=strong, topic=cells).mastery

    # when both get their first two questions on 2.1 wrong
    later = NOW + timedelta(days=1)
    for student in (strong, fresh):
        session = practice_session_start(
            student=student, curriculum=curriculum, kind="topic", topic=energy, size=2, now=later
        )
        _answer_all(session, right=False, now=later)

    # then the fresh student's 2.1 rests on the topic's prior, the strong one's on a prior moved toward
    # their mastery of 1.1: the same answers, a higher estimate
    fresh_energy = MasteryState.objects.get(student=fresh, topic=energy).mastery
    strong_energy = MasteryState.objects.get(student=strong, topic=energy).mastery
    strong_prior = bkt.individual_prior(topic_prior=0.2, elsewhere=[cells_mastery])
    assert fresh_energy == pytest.approx(bkt.estimate([False, False], bkt.DEFAULT_PARAMS).mastery)
    assert strong_energy == pytest.approx(
        bkt.estimate([False, False], dataclasses.replace(bkt.DEFAULT_PARAMS, p_init=strong_prior)).mastery
    )
    assert strong_energy > fresh_energy
