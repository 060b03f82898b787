"""The REST API of free-text answers, hints, hint-first practice and the class's plan defaults."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

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
from tests.learning.fake_verifier import FakeVerifier

pytestmark = pytest.mark.django_db

KEY = "Osmosis is the diffusion of water through a semipermeable membrane."


def _auth(client, user):
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def course():
    curriculum = CurriculumFactory(slug="biology")
    topic = TopicFactory(
        unit=UnitFactory(curriculum=curriculum, position=1, number="5"), number="5.2", title="Passive Transport"
    )
    chunk = ChunkFactory(document=SyllabusDocumentFactory(topic=topic, source_id="m1"), text=KEY)
    PracticeQuestionFactory(topic=topic, stem="What is osmosis?", choices=[], answer_index=None, explanation=KEY)
    PracticeQuestionFactory(
        topic=topic,
        stem="Water diffusing through a semipermeable membrane is called what?",
        choices=["osmosis", "endocytosis", "exocytosis", "active transport"],
        answer_index=0,
    )
    return curriculum, topic, chunk


def _enrol(client, **extra):
    exam = (timezone.localdate() + timedelta(days=20)).isoformat()
    body = {"curriculum": "biology", "exam_date": exam, "daily_minutes": 30, **extra}
    return client.post("/api/v1/me/study-plans/", {k: v for k, v in body.items() if v is not None})


def test_a_typed_answer_is_verified_or_assessed_through_the_api(api_client, course, monkeypatch):
    # given a student in a text session, and a verifier that supports the key's sentence
    _, topic, chunk = course
    monkeypatch.setattr("learning.services.verify_sentence", FakeVerifier({KEY: "supported"}))
    _auth(api_client, UserFactory())
    _enrol(api_client)
    session = api_client.post(
        "/api/v1/me/practice-sessions/",
        {"curriculum": "biology", "kind": "topic", "topic_id": topic.pk, "question_format": "any", "size": 2},
    ).json()
    formats = [(q["format"], q["options"]) for q in session["questions"]]
    text_position = next(q["position"] for q in session["questions"] if q["format"] == "text")

    # when the student types the syllabus's sentence
    checked = api_client.post(
        f"/api/v1/me/practice-sessions/{session['id']}/text-answers/", {"position": text_position, "text": KEY}
    )

    # then it is verified and graded right, with the passage as evidence
    assert sorted(f for f, _ in formats) == ["choice", "text"]
    assert checked.status_code == 200
    body = checked.json()
    assert (body["check"], body["graded"]["correct"], body["key"]) == ("verified", True, KEY)
    assert body["evidence"] == [{"chunk_id": chunk.pk, "module": "m1", "section": "5.2 Passive Transport", "text": KEY}]
    # and assessing it again is refused
    again = api_client.post(
        f"/api/v1/me/practice-sessions/{session['id']}/text-answers/assess/",
        {"position": text_position, "correct": True},
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_answered")


def test_an_unconfirmed_answer_is_assessed_by_the_student(api_client, course, monkeypatch):
    # given
    _, topic, _ = course
    monkeypatch.setattr("learning.services.verify_sentence", FakeVerifier())
    _auth(api_client, UserFactory())
    _enrol(api_client)
    session = api_client.post(
        "/api/v1/me/practice-sessions/",
        {"curriculum": "biology", "kind": "topic", "topic_id": topic.pk, "question_format": "text"},
    ).json()
    # when the verifier cannot confirm it and the student says it was wrong
    checked = api_client.post(
        f"/api/v1/me/practice-sessions/{session['id']}/text-answers/", {"position": 0, "text": "Water moves."}
    ).json()
    assessed = api_client.post(
        f"/api/v1/me/practice-sessions/{session['id']}/text-answers/assess/", {"position": 0, "correct": False}
    )
    # then
    assert (checked["check"], checked["graded"]) == ("unconfirmed", None)
    assert assessed.status_code == 200
    assert (assessed.json()["correct"], assessed.json()["explanation"]) == (False, KEY)


def test_hint_first_through_the_api(api_client, course):
    # given a student who switches hint-first on
    _, topic, chunk = course
    _auth(api_client, UserFactory())
    _enrol(api_client)
    switched = api_client.put("/api/v1/me/practice-preferences/", {"hint_first": True}, format="json")
    session = api_client.post(
        "/api/v1/me/practice-sessions/", {"curriculum": "biology", "kind": "topic", "topic_id": topic.pk}
    ).json()

    # when they answer wrong, then right
    wrong = api_client.post(
        f"/api/v1/me/practice-sessions/{session['id']}/answers/", {"position": 0, "option": 1}
    ).json()
    retry = api_client.post(
        f"/api/v1/me/practice-sessions/{session['id']}/answers/", {"position": 0, "option": 0}
    ).json()

    # then the first answer gets a hint and no key; the second is graded with the key
    assert switched.json() == {"hint_first": True, "source": "student"}
    assert session["hint_first"] is True
    assert (wrong["correct"], wrong["key_option"], wrong["revealed"], wrong["can_retry"]) == (False, None, False, True)
    assert wrong["hint"] == {
        "text": "_____ is the diffusion of water through a semipermeable membrane.",
        "section": "5.2 Passive Transport",
        "chunk_id": chunk.pk,
    }
    assert (retry["correct"], retry["key_option"], retry["retry"]) == (True, 0, True)


def test_a_hint_before_answering(api_client, course):
    # given
    _, topic, chunk = course
    _auth(api_client, UserFactory())
    _enrol(api_client)
    session = api_client.post(
        "/api/v1/me/practice-sessions/", {"curriculum": "biology", "kind": "topic", "topic_id": topic.pk}
    ).json()
    # when
    hint = api_client.post(f"/api/v1/me/practice-sessions/{session['id']}/hints/", {"position": 0})
    detail = api_client.get(f"/api/v1/me/practice-sessions/{session['id']}/").json()
    # then
    assert hint.status_code == 200
    assert hint.json()["chunk_id"] == chunk.pk
    assert detail["questions"][0]["hint_shown"] is True


def test_a_teacher_sets_the_classs_plan_defaults_and_a_student_enrols_with_them(api_client, course):
    # given a teacher's class and a student in it
    curriculum, _, _ = course
    classroom = ClassroomFactory(curriculum=curriculum)
    student = EnrollmentFactory(curriculum=curriculum, classroom=classroom).student
    exam = timezone.localdate() + timedelta(days=30)

    # when the teacher sets the exam date and budget, and the student enrols giving neither
    _auth(api_client, classroom.teacher)
    empty = api_client.get(f"/api/v1/teacher/classes/{classroom.pk}/plan-defaults/").json()
    saved = api_client.put(
        f"/api/v1/teacher/classes/{classroom.pk}/plan-defaults/",
        {"exam_date": exam.isoformat(), "daily_minutes": 40},
        format="json",
    )
    _auth(api_client, student)
    enrolled = api_client.post("/api/v1/me/study-plans/", {"curriculum": "biology"})

    # then
    assert empty == {"exam_date": None, "daily_minutes": None}
    assert saved.json() == {"exam_date": exam.isoformat(), "daily_minutes": 40}
    assert enrolled.status_code == 201
    assert (enrolled.json()["exam_date"], enrolled.json()["daily_minutes"]) == (exam.isoformat(), 40)


def test_plan_defaults_are_the_classs_teachers_only(api_client, course):
    # given a class, another teacher and a student
    curriculum, _, _ = course
    classroom = ClassroomFactory(curriculum=curriculum)
    url = f"/api/v1/teacher/classes/{classroom.pk}/plan-defaults/"
    statuses = []
    # when each tries to read and set them
    for user in (TeacherFactory(), UserFactory(), None):
        if user is None:
            api_client.credentials()
        else:
            _auth(api_client, user)
        statuses.append(
            (
                api_client.get(url).status_code,
                api_client.put(url, {"exam_date": None, "daily_minutes": 30}, format="json").status_code,
            )
        )
    # then another teacher finds no such class, a student is refused, a signed-out user is asked to sign in
    assert statuses == [(404, 404), (403, 403), (401, 401)]
