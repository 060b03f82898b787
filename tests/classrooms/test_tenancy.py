"""Tenancy: a teacher sees only their own classes. Every class endpoint answers 404 to another
teacher (as if the class did not exist), 403 to a student (not a teacher) and 401 to anyone signed
out; and a student never sees another student's answers or classes."""

import pytest
from django.core.cache import cache

from classrooms.selectors import classroom_settings_get
from classrooms.services import classroom_join
from curriculum.models import IngestionJob
from tests.factories import (
    AnswerSentenceFactory,
    ConversationFactory,
    MessageFactory,
    TeacherFactory,
    TeachingClassroomFactory,
    UserFactory,
)
from tutor.models import SentenceReview

pytestmark = pytest.mark.django_db

# (method, path template); {c} is the first teacher's class, {s} a flagged sentence of its student,
# {j} its teacher's upload to the class's syllabus.
CLASS_ENDPOINTS = [
    ("get", "/api/v1/teacher/classes/{c}/"),
    ("get", "/api/v1/teacher/classes/{c}/students/"),
    ("get", "/api/v1/teacher/classes/{c}/mastery/"),
    ("get", "/api/v1/teacher/classes/{c}/review/"),
    ("post", "/api/v1/teacher/classes/{c}/review/{s}/"),
    ("get", "/api/v1/teacher/classes/{c}/hallucination-rate/"),
    ("get", "/api/v1/teacher/classes/{c}/settings/"),
    ("patch", "/api/v1/teacher/classes/{c}/settings/"),
    ("get", "/api/v1/teacher/classes/{c}/uploads/"),
    ("post", "/api/v1/teacher/classes/{c}/uploads/"),
    ("get", "/api/v1/teacher/classes/{c}/uploads/{j}/"),
]
TEACHER_ENDPOINTS = [("get", "/api/v1/teacher/classes/"), ("post", "/api/v1/teacher/classes/"), *CLASS_ENDPOINTS]
CORRECTION = {
    "outcome": "corrected",
    "correction": "Not so.",
    "name": "Stolen",
    "curriculum": "x",
    "unsupported_policy": "mark",
    "hint_first": True,
}


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


@pytest.fixture
def world():
    """Two teachers with a class each; a student in each class with a withheld sentence."""
    first, second = TeachingClassroomFactory(), TeachingClassroomFactory()
    students = []
    sentences = []
    for classroom in (first, second):
        student = UserFactory()
        classroom_join(student=student, code=classroom.join_code.code)
        message = MessageFactory(
            conversation=ConversationFactory(student=student, curriculum=classroom.curriculum), client_msg_id="c-1"
        )
        sentences.append(AnswerSentenceFactory(message=message, index=0, verdict="unsupported", delivery="withheld"))
        students.append(student)
    job = IngestionJob.objects.create(
        curriculum=first.curriculum, created_by=first.teacher, kind="upload", filename="notes.md"
    )
    return {"classes": (first, second), "students": students, "sentences": sentences, "job": job}


def _call(client, method, template, world):
    path = template.format(c=world["classes"][0].pk, s=world["sentences"][0].pk, j=world["job"].pk)
    if method in ("post", "patch"):
        return getattr(client, method)(path, CORRECTION, format="json")
    return client.get(path)


def _untouched(world) -> bool:
    """Nothing an intruder could write was written: no review, no settings change, no new upload."""
    settings = classroom_settings_get(classroom=world["classes"][0])
    return (
        not SentenceReview.objects.exists()
        and (settings.unsupported_policy, settings.hint_first) == ("withhold", False)
        and list(IngestionJob.objects.values_list("pk", flat=True)) == [world["job"].pk]
    )


@pytest.mark.parametrize(("method", "template"), CLASS_ENDPOINTS)
def test_another_teacher_gets_404_for_every_class_endpoint(world, as_user, method, template):
    # given the second class's teacher
    intruder = world["classes"][1].teacher

    # when they call an endpoint of the first teacher's class
    response = _call(as_user(intruder), method, template, world)

    # then the class does not exist for them, and nothing was written
    assert response.status_code == 404
    assert _untouched(world)


@pytest.mark.parametrize(("method", "template"), CLASS_ENDPOINTS)
def test_a_teacher_without_classes_gets_404_too(world, as_user, method, template):
    response = _call(as_user(TeacherFactory()), method, template, world)

    assert response.status_code == 404


@pytest.mark.parametrize(("method", "template"), TEACHER_ENDPOINTS)
def test_a_student_of_the_class_gets_403_on_teacher_endpoints(world, as_user, method, template):
    response = _call(as_user(world["students"][0]), method, template, world)

    assert response.status_code == 403
    assert _untouched(world)


@pytest.mark.parametrize(("method", "template"), TEACHER_ENDPOINTS)
def test_signed_out_gets_401_on_teacher_endpoints(world, api_client, method, template):
    response = _call(api_client, method, template, world)

    assert response.status_code == 401


def test_a_teacher_cannot_review_another_class_sentence_through_their_own_class(world, as_user):
    # given the first teacher and the second class's sentence
    own = world["classes"][0]

    # when they post it under their own class
    response = as_user(own.teacher).post(
        f"/api/v1/teacher/classes/{own.pk}/review/{world['sentences'][1].pk}/", CORRECTION, format="json"
    )

    # then it is not theirs to review
    assert response.status_code == 404
    assert not SentenceReview.objects.exists()


def test_a_teacher_lists_and_reads_only_their_own(world, as_user):
    own = world["classes"][0]
    client = as_user(own.teacher)

    listed = client.get("/api/v1/teacher/classes/").json()["results"]
    review = client.get(f"/api/v1/teacher/classes/{own.pk}/review/").json()
    roster = client.get(f"/api/v1/teacher/classes/{own.pk}/students/").json()["results"]
    mastery = client.get(f"/api/v1/teacher/classes/{own.pk}/mastery/").json()

    assert [c["id"] for c in listed] == [own.pk]
    assert [i["sentence_id"] for i in review] == [world["sentences"][0].pk]
    assert [s["id"] for s in roster] == [world["students"][0].pk]
    assert [r["student_id"] for r in mastery["rows"]] == [world["students"][0].pk]


def test_answers_outside_the_class_are_not_in_its_review(world, as_user):
    # given the first class's student also answered on the second class's curriculum, outside it
    other = world["classes"][1]
    student = world["students"][0]
    message = MessageFactory(conversation=ConversationFactory(student=student, curriculum=other.curriculum))
    AnswerSentenceFactory(message=message, verdict="unsupported", delivery="withheld")

    # when the second teacher reads their review list
    review = as_user(other.teacher).get(f"/api/v1/teacher/classes/{other.pk}/review/").json()

    # then only their own student's sentence is there
    assert [i["sentence_id"] for i in review] == [world["sentences"][1].pk]


STUDENT_PATHS = [
    "/api/v1/messages/{m}/",
    "/api/v1/messages/by-client-id/c-1/",
    "/api/v1/conversations/{conv}/messages/",
]


@pytest.mark.parametrize("template", STUDENT_PATHS)
def test_a_student_never_sees_another_students_answers(world, as_user, template):
    # given the second class's student and the first student's message
    message = world["sentences"][0].message
    client = as_user(world["students"][1])

    # when they ask for it
    response = client.get(template.format(m=message.pk, conv=message.conversation_id))

    # then it is someone else's: 404, or their own message under that client id
    if "by-client-id" in template:
        assert (response.status_code, response.json()["id"]) == (200, world["sentences"][1].message_id)
    else:
        assert response.status_code == 404


def test_a_student_lists_only_their_own_classes(world, as_user):
    response = as_user(world["students"][1]).get("/api/v1/me/classes/")

    assert [c["id"] for c in response.json()] == [world["classes"][1].pk]
