"""The study plan as pure computation: prerequisites, weak-first order, budgets, reviews, spacing."""

from datetime import date, timedelta

import pytest

from learning.plan import (
    ItemKind,
    PlanInput,
    PlanTopic,
    build_plan,
    prerequisites_from_book,
    sessions_needed,
    topic_order,
)

TODAY = date(2027, 3, 1)


def _days(plan, topic_id):
    return [(item.day - TODAY).days for item in plan.items if item.topic_id == topic_id]


def test_prerequisites_chain_the_sections_of_a_chapter_only():
    # given topics 1, 2, 3 in chapter 10 and 4, 5 in chapter 11, in book order
    prerequisites = prerequisites_from_book([(1, 10), (2, 10), (3, 10), (4, 11), (5, 11)])
    # then
    assert prerequisites == {1: (), 2: (1,), 3: (2,), 4: (), 5: (4,)}


def test_order_puts_prerequisites_first_then_the_weakest():
    # given B (weakest) needs A; C in another chapter is weaker than A
    topics = [
        PlanTopic(topic_id=1, mastery=0.6, evidence=3),
        PlanTopic(topic_id=2, mastery=0.05, evidence=3, prerequisites=(1,)),
        PlanTopic(topic_id=3, mastery=0.1, evidence=3),
    ]
    # then C first (weakest available), A before B although B is weaker
    assert topic_order(topics) == [3, 1, 2]


def test_a_prerequisite_cycle_is_an_error():
    with pytest.raises(ValueError, match="cycle"):
        topic_order(
            [
                PlanTopic(topic_id=1, mastery=0.1, evidence=0, prerequisites=(2,)),
                PlanTopic(topic_id=2, mastery=0.1, evidence=0, prerequisites=(1,)),
            ]
        )


def test_weak_topics_need_more_sessions():
    assert sessions_needed(PlanTopic(topic_id=1, mastery=0.2, evidence=5)) == 6  # 27 answers, capped at 6
    assert sessions_needed(PlanTopic(topic_id=1, mastery=0.9, evidence=5)) == 2  # 7 answers
    assert sessions_needed(PlanTopic(topic_id=1, mastery=0.97, evidence=5)) == 0
    # a never-practised topic gets its learn session even when the prior says known
    assert sessions_needed(PlanTopic(topic_id=1, mastery=0.97, evidence=0)) == 1


def test_a_tight_plan_fills_each_day_to_its_budget_and_counts_what_does_not_fit():
    # given three new topics (B needs A), three study days of 30 minutes
    data = PlanInput(
        today=TODAY,
        exam_date=TODAY + timedelta(days=3),
        daily_minutes=30,
        topics=[
            PlanTopic(topic_id=1, mastery=0.2, evidence=0),
            PlanTopic(topic_id=2, mastery=0.2, evidence=0, prerequisites=(1,)),
            PlanTopic(topic_id=3, mastery=0.2, evidence=0),
        ],
    )
    # when
    plan = build_plan(data)
    # then every topic is learned first (coverage before repetition), follow-ups fill what is left
    assert [((i.day - TODAY).days, str(i.kind), i.topic_id, i.minutes) for i in plan.items] == [
        (0, "learn", 1, 20),
        (1, "learn", 2, 20),
        (1, "practice", 1, 8),
        (2, "learn", 3, 20),
        (2, "practice", 2, 8),
    ]
    assert plan.study_days == 3
    assert plan.unplaced_sessions == 6 * 3 - 5
    for offset in range(3):
        assert sum(i.minutes for i in plan.items if (i.day - TODAY).days == offset) <= 30


def test_nothing_is_planned_on_or_after_the_exam_day():
    data = PlanInput(
        today=TODAY,
        exam_date=TODAY,
        daily_minutes=60,
        topics=[PlanTopic(topic_id=1, mastery=0.2, evidence=0)],
    )
    plan = build_plan(data)
    assert (plan.items, plan.study_days, plan.unplaced_sessions) == ([], 0, 6)
    assert plan.predicted_readiness == pytest.approx(0.2 * 0.9 + 0.8 * 0.25)


def test_due_reviews_come_first_and_overflow_to_the_next_day():
    # given 12 overdue cards, 1 due tomorrow, a 10-minute budget, one topic
    data = PlanInput(
        today=TODAY,
        exam_date=TODAY + timedelta(days=5),
        daily_minutes=10,
        topics=[PlanTopic(topic_id=1, mastery=0.5, evidence=4)],
        review_due_dates=[TODAY - timedelta(days=3)] * 12 + [TODAY + timedelta(days=1)],
    )
    # when
    plan = build_plan(data)
    # then today is all reviews; tomorrow the 2 left over plus its own 1, which leaves 7 minutes:
    # too few for an 8-minute session, so practice starts the day after
    by_day = [((i.day - TODAY).days, str(i.kind), i.questions) for i in plan.items]
    assert by_day[:3] == [(0, "review", 10), (1, "review", 3), (2, "practice", 5)]
    assert plan.unplaced_reviews == 0


def test_weak_topics_come_back_more_often_with_expanding_gaps():
    # given a weak, a strong and a mastered topic, a month ahead, a generous budget
    data = PlanInput(
        today=TODAY,
        exam_date=TODAY + timedelta(days=30),
        daily_minutes=60,
        topics=[
            PlanTopic(topic_id=1, mastery=0.9, evidence=5),
            PlanTopic(topic_id=2, mastery=0.2, evidence=5),
            PlanTopic(topic_id=3, mastery=0.97, evidence=5),
        ],
    )
    # when
    plan = build_plan(data)
    # then
    assert _days(plan, 2) == [0, 1, 3, 7, 14, 21]
    assert _days(plan, 1) == [0, 1]
    assert _days(plan, 3) == []
    assert plan.topic_order[0] == 2
    assert plan.projected_mastery[2] > 0.95 and plan.projected_mastery[3] == pytest.approx(0.97)
    assert plan.unplaced_sessions == 0


def test_gaps_shrink_when_the_exam_is_near():
    # given a weak topic and six days
    data = PlanInput(
        today=TODAY,
        exam_date=TODAY + timedelta(days=6),
        daily_minutes=60,
        topics=[PlanTopic(topic_id=1, mastery=0.2, evidence=5)],
    )
    # then all six sessions fit, one a day
    assert _days(build_plan(data), 1) == [0, 1, 2, 3, 4, 5]


def test_a_topic_practised_today_comes_back_from_tomorrow_and_done_minutes_count():
    # given topic 1 practised today and 20 of today's 30 minutes used
    data = PlanInput(
        today=TODAY,
        exam_date=TODAY + timedelta(days=10),
        daily_minutes=30,
        topics=[
            PlanTopic(topic_id=1, mastery=0.5, evidence=5, last_practised=TODAY),
            PlanTopic(topic_id=2, mastery=0.6, evidence=5),
            PlanTopic(topic_id=3, mastery=0.7, evidence=5),
        ],
        minutes_done_today=20,
    )
    # when
    plan = build_plan(data)
    # then only one 8-minute session fits today, and it is not topic 1
    today_items = [i for i in plan.items if i.day == TODAY]
    assert [(i.topic_id, i.kind) for i in today_items] == [(2, ItemKind.PRACTICE)]
    assert _days(plan, 1)[0] == 1


def test_a_budget_below_one_session_still_gets_one_session_a_day():
    data = PlanInput(
        today=TODAY,
        exam_date=TODAY + timedelta(days=2),
        daily_minutes=10,
        topics=[PlanTopic(topic_id=1, mastery=0.2, evidence=0), PlanTopic(topic_id=2, mastery=0.2, evidence=0)],
    )
    plan = build_plan(data)
    assert [((i.day - TODAY).days, i.topic_id, str(i.kind)) for i in plan.items] == [(0, 1, "learn"), (1, 2, "learn")]


def test_a_topic_with_few_questions_gets_short_sessions_and_one_without_none():
    # given a section with 2 questions, an introduction with none
    few = PlanTopic(topic_id=1, mastery=0.9, evidence=2, question_count=2)
    none = PlanTopic(topic_id=2, mastery=0.2, evidence=0, question_count=0)
    plan = build_plan(
        PlanInput(today=TODAY, exam_date=TODAY + timedelta(days=30), daily_minutes=60, topics=[few, none])
    )
    # then 7 answers at 2 a session are 4 sessions of 2 questions; the introduction is not planned and
    # readiness is over the examined section only
    assert [(i.topic_id, i.questions) for i in plan.items] == [(1, 2)] * 4
    assert sessions_needed(none) == 0
    assert plan.predicted_readiness == pytest.approx(0.25 + 0.65 * plan.projected_mastery[1])
