"""Per-class settings: how unsupported sentences are shown to the class's students, and hint-first."""

import pytest

from classrooms.selectors import ClassSettings, classroom_settings_get
from classrooms.services import ClassroomError, classroom_create, classroom_join, classroom_settings_update
from curriculum.selectors import unsupported_policy_for
from tests.factories import CurriculumFactory, EnrollmentFactory, TeacherFactory, TeachingClassroomFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_new_class_starts_from_its_curriculums_policy_and_answers_first():
    # given a curriculum whose policy is to show unsupported sentences marked
    curriculum = CurriculumFactory(unsupported_policy="mark")

    # when a teacher creates a class on it
    classroom = classroom_create(teacher=TeacherFactory(), curriculum=curriculum, name="Biology 10B")

    # then the class has that policy, and no hint-first
    assert classroom_settings_get(classroom=classroom) == ClassSettings(unsupported_policy="mark", hint_first=False)


def test_a_class_made_before_settings_existed_reads_the_defaults():
    classroom = TeachingClassroomFactory(curriculum=CurriculumFactory(unsupported_policy="withhold"))

    assert classroom_settings_get(classroom=classroom) == ClassSettings(unsupported_policy="withhold", hint_first=False)


def test_the_teacher_changes_one_setting_and_the_other_stays():
    # given a class
    classroom = classroom_create(teacher=TeacherFactory(), curriculum=CurriculumFactory(), name="C")

    # when the teacher turns hint-first on, then the policy to mark
    classroom_settings_update(classroom=classroom, hint_first=True)
    classroom_settings_update(classroom=classroom, unsupported_policy="mark")

    # then both are kept
    assert classroom_settings_get(classroom=classroom) == ClassSettings(unsupported_policy="mark", hint_first=True)


def test_an_unknown_policy_is_refused():
    classroom = classroom_create(teacher=TeacherFactory(), curriculum=CurriculumFactory(), name="C")

    with pytest.raises(ClassroomError) as refused:
        classroom_settings_update(classroom=classroom, unsupported_policy="shout")

    assert refused.value.code == "invalid_policy"
    assert classroom_settings_get(classroom=classroom).unsupported_policy == "withhold"


def test_the_tutor_reads_the_class_policy_for_its_students_and_the_curriculums_for_others():
    # given a curriculum that withholds, a class on it that marks, a student in the class and a student
    # who enrolled on their own
    curriculum = CurriculumFactory(unsupported_policy="withhold")
    classroom = classroom_create(teacher=TeacherFactory(), curriculum=curriculum, name="C")
    classroom_settings_update(classroom=classroom, unsupported_policy="mark")
    in_class, alone = UserFactory(), UserFactory()
    classroom_join(student=in_class, code=classroom.join_code.code)
    EnrollmentFactory(student=alone, curriculum=curriculum)

    # when the tutor asks which policy applies to each
    policies = [unsupported_policy_for(student=s, curriculum=curriculum) for s in (in_class, alone)]

    # then the class's in the class, the curriculum's outside it
    assert policies == ["mark", "withhold"]


def test_practice_reads_the_class_hint_first_switch():
    # given a class whose teacher turned hint-first on, and a student in it
    hint_first_for = getattr(pytest.importorskip("learning.selectors"), "hint_first_for", None)
    if hint_first_for is None:
        pytest.skip("practice has no hint-first mode in this tree")
    classroom = classroom_create(teacher=TeacherFactory(), curriculum=CurriculumFactory(), name="C")
    classroom_settings_update(classroom=classroom, hint_first=True)
    student = UserFactory()
    enrollment = classroom_join(student=student, code=classroom.join_code.code)

    # when practice asks whether to hint first
    setting = hint_first_for(student=student, enrollment=enrollment)

    # then it is the class's switch
    assert (setting.hint_first, setting.source) == (True, "class")


def test_settings_over_the_api_and_what_the_student_reads(as_user):
    # given a class with a student
    classroom = classroom_create(teacher=TeacherFactory(), curriculum=CurriculumFactory(), name="C")
    student = UserFactory()
    classroom_join(student=student, code=classroom.join_code.code)
    path = f"/api/v1/teacher/classes/{classroom.pk}/settings/"

    # when the teacher reads them, changes the policy, and the student lists their classes
    before = as_user(classroom.teacher).get(path).json()
    changed = as_user(classroom.teacher).patch(path, {"unsupported_policy": "mark"}, format="json")
    mine = as_user(student).get("/api/v1/me/classes/").json()

    # then
    assert before == {"unsupported_policy": "withhold", "hint_first": False}
    assert (changed.status_code, changed.json()) == (200, {"unsupported_policy": "mark", "hint_first": False})
    assert [c["settings"] for c in mine] == [{"unsupported_policy": "mark", "hint_first": False}]


def test_a_bad_policy_over_the_api_is_400_and_changes_nothing(as_user):
    classroom = classroom_create(teacher=TeacherFactory(), curriculum=CurriculumFactory(), name="C")

    response = as_user(classroom.teacher).patch(
        f"/api/v1/teacher/classes/{classroom.pk}/settings/", {"unsupported_policy": "shout"}, format="json"
    )

    assert response.status_code == 400
    assert classroom_settings_get(classroom=classroom).unsupported_policy == "withhold"


def test_the_class_page_saves_the_settings(client):
    # given a teacher on their class page
    classroom = classroom_create(teacher=TeacherFactory(), curriculum=CurriculumFactory(), name="C")
    client.force_login(classroom.teacher)

    # when they choose "mark" and hint-first and save
    response = client.post(
        f"/teach/classes/{classroom.pk}/settings/", {"unsupported_policy": "mark", "hint_first": "on"}, follow=True
    )

    # then the settings are stored and the page says so, with the choices checked
    assert classroom_settings_get(classroom=classroom) == ClassSettings(unsupported_policy="mark", hint_first=True)
    page = response.content.decode()
    assert "Settings saved." in page
    assert 'value="mark" id="id_unsupported_policy_1" checked' in page
    assert 'id="id_hint_first" aria-describedby="hint-first-help" checked' in page


def test_another_teacher_cannot_save_the_settings_on_the_page(client):
    classroom = classroom_create(teacher=TeacherFactory(), curriculum=CurriculumFactory(), name="C")
    client.force_login(TeacherFactory())

    response = client.post(f"/teach/classes/{classroom.pk}/settings/", {"unsupported_policy": "mark"})

    assert response.status_code == 404
    assert classroom_settings_get(classroom=classroom).unsupported_policy == "withhold"
