"""The learner model's REST API: enrol with an exam date, today's plan, calendar, reschedule, practice,
reviews due and progress, through HTTP with token auth."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from learning.models import SessionQuestion
from learning.services import practice_answer_submit, practice_session_start
from tests.factories import CurriculumFactory, TopicFactory, UnitFactory, UserFactory
from tests.learning.factories import PracticeQuestionFactory

pytestmark = pytest.mark.django_db


def _auth(client, user):
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def course():
    curriculum = CurriculumFactory(slug="biology", title="Biology")
    unit = UnitFactory(curriculum=curriculum, position=1, number="5", title="Membranes")
    topics = [
        TopicFactory(unit=unit, position=1, number="5.1", title="Components"),
        TopicFactory(unit=unit, position=2, number="5.2", title="Passive Transport"),
    ]
    for topic in topics:
        for n in range(3):
            PracticeQuestionFactory(
                topic=topic, stem=f"{topic.title} {n}?", choices=["a", "b", "c", "d"], answer_index=2
            )
    return curriculum, topics


def test_a_student_enrols_practises_and_sees_progress(api_client, course):
    # given
    _, (components, transport) = course
    _auth(api_client, UserFactory())
    exam = timezone.localdate() + timedelta(days=20)

    # when they enrol with an exam date and a budget
    enrolled = api_client.post(
        "/api/v1/me/study-plans/", {"curriculum": "biology", "exam_date": exam.isoformat(), "daily_minutes": 30}
    )
    today = api_client.get("/api/v1/me/study-plans/biology/today/").json()
    # and practise today's plan: first answer right, second wrong, third right
    started = api_client.post("/api/v1/me/practice-sessions/", {"curriculum": "biology", "kind": "plan"})
    session = started.json()
    answers = [
        api_client.post(f"/api/v1/me/practice-sessions/{session['id']}/answers/", {"position": p, "option": o}).json()
        for p, o in [(0, 2), (1, 0), (2, 2)]
    ]
    finished = api_client.post(f"/api/v1/me/practice-sessions/{session['id']}/finish/").json()
    progress = api_client.get("/api/v1/me/progress/biology/topics/").json()
    history = api_client.get("/api/v1/me/progress/biology/history/").json()
    calendar = api_client.get("/api/v1/me/study-plans/biology/calendar/").json()
    today_after = api_client.get("/api/v1/me/study-plans/biology/today/").json()

    # then
    assert enrolled.status_code == 201
    assert (enrolled.json()["exam_date"], enrolled.json()["daily_minutes"]) == (exam.isoformat(), 30)
    assert [(i["kind"], i["topic"], i["status"]) for i in today["items"]] == [("learn", "5.1 Components", "planned")]
    assert started.status_code == 201
    assert (session["kind"], session["topic_id"], len(session["questions"])) == ("plan", components.pk, 3)
    assert session["questions"][0]["options"] == ["a", "b", "c", "d"]
    assert "key_option" not in session["questions"][0]
    assert [(a["correct"], a["key_option"], a["evidence"]) for a in answers] == [
        (True, 2, 1),
        (False, 2, 2),
        (True, 2, 3),
    ]
    assert (finished["answered"], finished["correct"], finished["plan_item_done"]) == (3, 2, True)
    assert [(t["label"], t["answers"], t["correct"]) for t in progress] == [
        ("5.1 Components", 3, 2),
        ("5.2 Passive Transport", 0, 0),
    ]
    assert progress[0]["mastery"] == pytest.approx(answers[-1]["mastery"])
    assert progress[1]["prerequisites"] == [components.pk]
    assert [(h["answers"], h["correct"]) for h in history] == [(3, 2)]
    assert calendar["plan"]["curriculum"] == "biology"
    assert all(day["day"] < exam.isoformat() for day in calendar["days"])
    assert today_after["items"][0]["status"] == "done"
    # both topics are planned, and the three answered questions come back as reviews (no topic)
    assert {i["topic_id"] for d in calendar["days"] for i in d["items"]} == {components.pk, transport.pk, None}
    assert sum(i["questions"] for d in calendar["days"] for i in d["items"] if i["kind"] == "review") == 3


def test_reschedule_changes_budget_and_exam_date(api_client, course):
    # given
    _auth(api_client, UserFactory())
    exam = timezone.localdate() + timedelta(days=20)
    api_client.post(
        "/api/v1/me/study-plans/", {"curriculum": "biology", "exam_date": exam.isoformat(), "daily_minutes": 30}
    )
    # when
    later = exam + timedelta(days=10)
    moved = api_client.post(
        "/api/v1/me/study-plans/biology/reschedule/", {"exam_date": later.isoformat(), "daily_minutes": 45}
    )
    refused = api_client.post("/api/v1/me/study-plans/biology/reschedule/", {"daily_minutes": 2})
    # then
    assert moved.status_code == 200
    assert (moved.json()["exam_date"], moved.json()["daily_minutes"]) == (later.isoformat(), 45)
    assert refused.status_code == 400


def test_refusals_carry_the_error_body(api_client, course):
    # given a student not enrolled
    _, (components, _) = course
    _auth(api_client, UserFactory())
    # when
    no_plan = api_client.get("/api/v1/me/study-plans/biology/today/")
    not_enrolled = api_client.post(
        "/api/v1/me/practice-sessions/", {"curriculum": "biology", "kind": "topic", "topic_id": components.pk}
    )
    past = api_client.post(
        "/api/v1/me/study-plans/",
        {"curriculum": "biology", "exam_date": timezone.localdate().isoformat(), "daily_minutes": 30},
    )
    progress = api_client.get("/api/v1/me/progress/biology/topics/")
    # then
    assert no_plan.status_code == 404
    assert (not_enrolled.status_code, not_enrolled.json()["error"]["code"]) == (403, "not_enrolled")
    assert (past.status_code, past.json()["error"]["code"]) == (400, "exam_date_past")
    assert (progress.status_code, progress.json()["error"]["code"]) == (403, "not_enrolled")


def test_a_session_is_only_its_students_and_an_answer_counts_once(api_client, course):
    # given a student's session
    _, (components, _) = course
    owner = UserFactory()
    _auth(api_client, owner)
    exam = timezone.localdate() + timedelta(days=20)
    api_client.post(
        "/api/v1/me/study-plans/", {"curriculum": "biology", "exam_date": exam.isoformat(), "daily_minutes": 30}
    )
    session = api_client.post(
        "/api/v1/me/practice-sessions/", {"curriculum": "biology", "kind": "topic", "topic_id": components.pk}
    ).json()
    first = api_client.post(f"/api/v1/me/practice-sessions/{session['id']}/answers/", {"position": 0, "option": 2})
    again = api_client.post(f"/api/v1/me/practice-sessions/{session['id']}/answers/", {"position": 0, "option": 1})
    # when another student tries it
    _auth(api_client, UserFactory())
    other = api_client.post(f"/api/v1/me/practice-sessions/{session['id']}/answers/", {"position": 1, "option": 2})
    # then
    assert (first.status_code, again.status_code, again.json()["error"]["code"]) == (200, 409, "already_answered")
    assert other.status_code == 404
    assert SessionQuestion.objects.filter(session_id=session["id"], answer__isnull=False).count() == 1


def test_reviews_due_lists_cards_that_fsrs_has_due(api_client, course):
    # given a student who answered wrong yesterday
    _, (components, _) = course
    student = UserFactory()
    _auth(api_client, student)
    exam = timezone.localdate() + timedelta(days=20)
    api_client.post(
        "/api/v1/me/study-plans/", {"curriculum": "biology", "exam_date": exam.isoformat(), "daily_minutes": 30}
    )
    yesterday = timezone.now() - timedelta(days=1)
    session = practice_session_start(
        student=student, curriculum=components.unit.curriculum, kind="topic", topic=components, size=1, now=yesterday
    )
    practice_answer_submit(session=session, position=0, option=0, now=yesterday)
    # when
    due = api_client.get("/api/v1/me/reviews/due/", {"curriculum": "biology"})
    # then
    assert due.status_code == 200
    assert [(r["topic"], r["reviews"], r["lapses"]) for r in due.json()] == [("5.1 Components", 1, 1)]
