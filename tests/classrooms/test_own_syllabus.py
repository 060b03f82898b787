"""A teacher's own syllabus (``Curriculum.owner``): who may study it, who may put a class on it."""

import pytest

from classrooms.services import ClassroomError, classroom_create, classroom_create_with_syllabus, classroom_join
from curriculum.models import Classroom
from curriculum.selectors import curriculum_can_study, curriculum_get_for_user
from tests.factories import CurriculumFactory, EnrollmentFactory, TeacherFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def own():
    """Teacher A's class on a syllabus of their own, with a student who joined it by the code."""
    classroom = classroom_create_with_syllabus(teacher=TeacherFactory(), name="Algebra", syllabus_title="Ring notes")
    student = UserFactory()
    classroom_join(student=student, code=classroom.join_code.code)
    return classroom, student


def test_who_may_study_a_teachers_own_syllabus(own):
    # given the owner, their student, another teacher, a student who enrolled without the code, and staff
    classroom, student = own
    sneak = UserFactory()
    EnrollmentFactory(student=sneak, curriculum=classroom.curriculum)
    users = [classroom.teacher, student, TeacherFactory(), sneak, UserFactory(is_staff=True)]

    # when each is checked
    may = [curriculum_can_study(user=u, curriculum=classroom.curriculum) for u in users]
    named = [curriculum_get_for_user(user=u, slug=classroom.curriculum.slug) for u in users]

    # then only the owner, their student and staff; to the others the slug names nothing
    assert may == [True, True, False, False, True]
    assert named == [classroom.curriculum, classroom.curriculum, None, None, classroom.curriculum]


def test_a_catalogue_curriculum_is_named_to_anyone():
    catalogue = CurriculumFactory(slug="bio")

    assert curriculum_get_for_user(user=UserFactory(), slug="bio") == catalogue


def test_another_teacher_cannot_put_a_class_on_it(own):
    classroom, _ = own

    with pytest.raises(ClassroomError) as refused:
        classroom_create(teacher=TeacherFactory(), curriculum=classroom.curriculum, name="Stolen")

    assert refused.value.code == "unknown_curriculum"
    assert list(Classroom.objects.values_list("name", flat=True)) == ["Algebra"]


def test_the_owner_opens_a_second_class_on_it(own):
    classroom, _ = own

    second = classroom_create(teacher=classroom.teacher, curriculum=classroom.curriculum, name="Algebra B")

    assert second.curriculum_id == classroom.curriculum_id


def test_an_own_syllabus_needs_a_title():
    with pytest.raises(ClassroomError) as refused:
        classroom_create_with_syllabus(teacher=TeacherFactory(), name="C", syllabus_title="  ")

    assert refused.value.code == "invalid_syllabus_title"
    assert not Classroom.objects.exists()


def test_the_create_form_offers_the_catalogue_and_the_teachers_own_only(own, client):
    # given teacher B, the catalogue's Biology, B's own syllabus and A's
    classroom, _ = own
    CurriculumFactory(slug="bio", title="Biology")
    teacher_b = TeacherFactory()
    mine = classroom_create_with_syllabus(teacher=teacher_b, name="Mine", syllabus_title="My notes").curriculum
    client.force_login(teacher_b)

    # when B opens their classes page and posts A's syllabus anyway
    page = client.get("/teach/").content.decode()
    posted = client.post("/teach/", {"name": "Stolen", "curriculum": classroom.curriculum.slug})

    # then A's syllabus is neither offered nor accepted
    assert f'value="{mine.slug}"' in page
    assert 'value="bio"' in page
    assert classroom.curriculum.slug not in page
    assert posted.status_code == 200
    assert "Select a valid choice" in posted.content.decode()
    assert not Classroom.objects.filter(name="Stolen").exists()


def test_the_create_form_makes_a_class_on_a_new_own_syllabus(client):
    teacher = TeacherFactory()
    client.force_login(teacher)

    response = client.post("/teach/", {"name": "Physics 11", "curriculum": "", "syllabus_title": "Optics notes"})

    classroom = Classroom.objects.select_related("curriculum").get()
    assert response.url == f"/teach/classes/{classroom.pk}/"
    assert (classroom.name, classroom.curriculum.title, classroom.curriculum.owner_id) == (
        "Physics 11",
        "Optics notes",
        teacher.pk,
    )


def test_the_create_form_needs_a_syllabus_or_a_title(client):
    client.force_login(TeacherFactory())

    response = client.post("/teach/", {"name": "Physics 11", "curriculum": "", "syllabus_title": ""})

    assert "Choose a syllabus, or give a syllabus of your own a title." in response.content.decode()
    assert not Classroom.objects.exists()
