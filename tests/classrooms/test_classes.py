"""Classes: a teacher creates one with a join code, a student joins with the code, the roster shows
them; the REST API over the same services."""

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from classrooms.models import JoinCode
from classrooms.services import (
    JOIN_CODE_ALPHABET,
    JOIN_CODE_LENGTH,
    ClassroomError,
    classroom_create,
    classroom_join,
    join_code_issue,
)
from curriculum.models import Enrollment
from curriculum.selectors import user_is_teacher
from tests.factories import (
    ClassroomFactory,
    CurriculumFactory,
    EnrollmentFactory,
    TeacherFactory,
    TeachingClassroomFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def test_a_class_is_created_with_a_short_unambiguous_code():
    # given a teacher and a curriculum
    teacher, curriculum = TeacherFactory(), CurriculumFactory()

    # when the teacher creates a class
    classroom = classroom_create(teacher=teacher, curriculum=curriculum, name="  Biology 10B ")

    # then it has a name, a curriculum and a code of the unambiguous alphabet
    assert (classroom.name, classroom.teacher, classroom.curriculum) == ("Biology 10B", teacher, curriculum)
    code = JoinCode.objects.get(classroom=classroom).code
    assert len(code) == JOIN_CODE_LENGTH
    assert set(code) <= set(JOIN_CODE_ALPHABET)
    assert not set(code) & set("01OILUV")


def test_a_student_cannot_create_a_class():
    with pytest.raises(ClassroomError) as exc:
        classroom_create(teacher=UserFactory(), curriculum=CurriculumFactory(), name="Mine")
    assert exc.value.code == "not_a_teacher"


def test_a_code_collision_draws_again(monkeypatch):
    # given a class holding the code the generator draws first
    first = TeachingClassroomFactory()
    taken = first.join_code.code
    draws = iter([taken, "ABCDEFG"])
    monkeypatch.setattr("classrooms.services._join_code_generate", lambda: next(draws))

    # when another class is given a code
    join_code = join_code_issue(classroom=ClassroomFactory())

    # then it gets the next draw, and the first class keeps its own
    assert join_code.code == "ABCDEFG"
    assert JoinCode.objects.get(classroom=first).code == taken


def test_joining_enrols_the_student_in_the_class_curriculum():
    # given a class and a student
    classroom = TeachingClassroomFactory()
    student = UserFactory()

    # when the student joins with the code typed in lower case with a dash
    code = classroom.join_code.code
    enrollment = classroom_join(student=student, code=f"{code[:3].lower()}-{code[3:].lower()}")

    # then they are enrolled in the curriculum within the class, once, even after joining again
    assert (enrollment.student, enrollment.curriculum, enrollment.classroom) == (
        student,
        classroom.curriculum,
        classroom,
    )
    classroom_join(student=student, code=code)
    assert Enrollment.objects.filter(student=student).count() == 1


def test_joining_moves_an_existing_enrolment_into_the_class():
    classroom = TeachingClassroomFactory()
    existing = EnrollmentFactory(curriculum=classroom.curriculum, classroom=None)

    enrollment = classroom_join(student=existing.student, code=classroom.join_code.code)

    assert (enrollment.pk, enrollment.classroom) == (existing.pk, classroom)


@pytest.mark.parametrize(
    ("who", "code", "error"),
    [("student", "NOPE999", "unknown_code"), ("teacher", None, "own_class")],
)
def test_joining_is_refused_with_a_reason(who, code, error):
    classroom = TeachingClassroomFactory()
    user = classroom.teacher if who == "teacher" else UserFactory()

    with pytest.raises(ClassroomError) as exc:
        classroom_join(student=user, code=code or classroom.join_code.code)

    assert exc.value.code == error
    assert not Enrollment.objects.exists()


# --- REST ---------------------------------------------------------------------------------------------


def test_a_teacher_creates_lists_and_reads_a_class_with_its_roster(as_user):
    # given a teacher and a curriculum
    teacher = TeacherFactory()
    CurriculumFactory(slug="bio", title="Biology")
    client = as_user(teacher)

    # when they create a class
    created = client.post("/api/v1/teacher/classes/", {"name": "10B", "curriculum": "bio"}, format="json")

    # then it comes back with a join code and no students
    assert created.status_code == 201
    body = created.json()
    code = JoinCode.objects.get(classroom_id=body["id"]).code
    assert body == {
        "id": body["id"],
        "name": "10B",
        "curriculum": "bio",
        "curriculum_title": "Biology",
        "own_syllabus": False,
        "join_code": code,
        "student_count": 0,
        "created_at": body["created_at"],
        "students": [],
    }

    # and when a student joins, the list and the detail show them
    student = UserFactory(username="ada")
    joined = as_user(student).post("/api/v1/me/classes/", {"code": code.lower()}, format="json")
    assert joined.status_code == 201
    assert joined.json() | {"joined_at": None} == {
        "id": body["id"],
        "name": "10B",
        "teacher": teacher.username,
        "curriculum": "bio",
        "curriculum_title": "Biology",
        "joined_at": None,
        "settings": {"unsupported_policy": "withhold", "hint_first": False},
    }
    client = as_user(teacher)
    listed = client.get("/api/v1/teacher/classes/").json()
    assert [(c["name"], c["join_code"], c["student_count"]) for c in listed["results"]] == [("10B", code, 1)]
    detail = client.get(f"/api/v1/teacher/classes/{body['id']}/").json()
    assert [s["username"] for s in detail["students"]] == ["ada"]
    roster = client.get(f"/api/v1/teacher/classes/{body['id']}/students/").json()
    assert [(s["id"], s["username"]) for s in roster["results"]] == [(student.pk, "ada")]


def test_a_student_lists_the_classes_they_joined(as_user):
    classroom = TeachingClassroomFactory(name="Chem")
    student = UserFactory()
    classroom_join(student=student, code=classroom.join_code.code)
    EnrollmentFactory(student=student)  # enrolled without a class: not listed

    response = as_user(student).get("/api/v1/me/classes/")

    assert response.status_code == 200
    assert [c["name"] for c in response.json()] == ["Chem"]


def test_an_unknown_code_is_404_with_its_code(as_user):
    response = as_user(UserFactory()).post("/api/v1/me/classes/", {"code": "ZZZZZZZ"}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_code"


def test_guessing_codes_is_throttled(as_user):
    client = as_user(UserFactory())

    statuses = [
        client.post("/api/v1/me/classes/", {"code": f"GUESS{n:02d}"}, format="json").status_code for n in range(11)
    ]

    assert statuses == [404] * 10 + [429]


def test_creating_on_an_unknown_curriculum_is_404(as_user):
    response = as_user(TeacherFactory()).post(
        "/api/v1/teacher/classes/", {"name": "X", "curriculum": "nope"}, format="json"
    )

    assert response.status_code == 404


def test_grant_teacher_gives_and_takes_the_role():
    # given a student
    user = UserFactory(username="grace")

    # when an admin grants the role, then revokes it
    call_command("grant_teacher", "grace")
    granted = user_is_teacher(user=user)
    call_command("grant_teacher", "grace", "--revoke")

    # then the user was a teacher in between and is not any more
    assert (granted, user_is_teacher(user=user)) == (True, False)


def test_grant_teacher_names_an_unknown_user():
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("grant_teacher", "nobody")
