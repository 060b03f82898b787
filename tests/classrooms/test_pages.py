"""The teacher's pages and the student's join form: create a class, join it with the code, read the
class page (roster, heatmap, weekly rate chart, review), correct a sentence; tenancy as in the API."""

import re

import pytest
from django.test import Client

from classrooms.models import JoinCode
from classrooms.services import classroom_join
from learning.models import SessionQuestion
from learning.services import practice_answer_submit, practice_session_start
from tests.factories import (
    AnswerSentenceFactory,
    ConversationFactory,
    CurriculumFactory,
    MasteryStateFactory,
    MessageFactory,
    TeacherFactory,
    TeachingClassroomFactory,
    TopicFactory,
    UnitFactory,
    UserFactory,
)
from tests.learning.factories import PracticeQuestionFactory
from tutor.models import SentenceReview
from verification.selectors import verifier_operating_point

pytestmark = pytest.mark.django_db


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_teacher_creates_a_class_and_a_student_joins_it_with_the_code():
    # given a teacher, a syllabus and a student
    teacher = TeacherFactory()
    CurriculumFactory(slug="bio", title="Biology")
    student = UserFactory(username="ada")

    # when the teacher creates a class on their page
    teacher_client = _login(teacher)
    created = teacher_client.post("/teach/", {"name": "10B", "curriculum": "bio"})

    # then they land on its page, which shows the code
    code = JoinCode.objects.get(classroom__name="10B").code
    assert created.status_code == 302
    page = teacher_client.get(created["Location"]).content.decode()
    assert f'<code class="join-code" id="join-code">{code}</code>' in page
    assert "No student has joined yet." in page

    # and when the student joins with the code (from a link on their home page)
    student_client = _login(student)
    assert 'href="/classes/join/"' in student_client.get("/").content.decode()
    assert "Your classes (teacher)" not in student_client.get("/").content.decode()
    joined = student_client.post("/classes/join/", {"code": code.lower()})

    # then they study its syllabus and the teacher's roster lists them
    assert (joined.status_code, joined["Location"]) == (302, "/study/bio/")
    assert '<ul id="roster">' in teacher_client.get(created["Location"]).content.decode()
    assert "ada" in teacher_client.get(created["Location"]).content.decode()
    listed = teacher_client.get("/teach/").content.decode()
    assert "1 student" in listed and code in listed


def test_a_wrong_code_is_explained_on_the_form():
    response = _login(UserFactory()).post("/classes/join/", {"code": "ZZZZZZZ"})

    assert response.status_code == 200
    assert "No class has that code." in response.content.decode()


@pytest.fixture
def class_page():
    classroom = TeachingClassroomFactory(name="10B")
    unit = UnitFactory(curriculum=classroom.curriculum, position=1, number="5", title="Membranes")
    topic = TopicFactory(unit=unit, position=1, number="5.1", title="Components")
    student = UserFactory(username="ada")
    classroom_join(student=student, code=classroom.join_code.code)
    MasteryStateFactory(student=student, topic=topic, mastery=0.9, answers=3)
    message = MessageFactory(
        conversation=ConversationFactory(student=student, curriculum=classroom.curriculum), question="What is ATP?"
    )
    AnswerSentenceFactory(message=message, index=0, text="ATP stores energy.")
    withheld = AnswerSentenceFactory(
        message=message, index=1, text="ATP is a protein.", verdict="unsupported", delivery="withheld"
    )
    return classroom, student, withheld


def test_the_class_page_shows_the_heatmap_chart_and_review(class_page):
    classroom, _, withheld = class_page

    html = _login(classroom.teacher).get(f"/teach/classes/{classroom.pk}/").content.decode()

    # the heatmap: one row per student, a coloured cell per chapter (sections on request)
    assert '<th scope="col"><span>Membranes</span></th>' in html
    assert re.search(r'<td style="background: hsl\(108 70% 82%\)" title="3 answers">90</td>', html)
    by_topic = _login(classroom.teacher).get(f"/teach/classes/{classroom.pk}/?mastery=topic").content.decode()
    assert '<th scope="col"><span>5.1 Components</span></th>' in by_topic
    # the weekly chart: one bar at 50 % (1 of 2 checked sentences withheld)
    assert '<svg id="rate-chart" role="img"' in html
    assert len(re.findall(r'<rect [^>]*class="bar"', html)) == 1
    assert "50 %, 1 of 2 sentences" in html
    # no practice yet: the weekly practice chart says so
    assert "<p>No practice answers yet.</p>" in html
    # the review: the withheld sentence with its forms, labelled
    assert f'id="sentence-{withheld.pk}"' in html
    assert "ATP is a protein." in html
    assert f'<label for="correction-{withheld.pk}">Correction</label>' in html


def test_a_teacher_corrects_a_sentence_and_the_student_sees_it(class_page):
    classroom, student, withheld = class_page

    response = _login(classroom.teacher).post(
        f"/teach/classes/{classroom.pk}/review/{withheld.pk}/",
        {"outcome": "corrected", "correction": "ATP is a nucleotide."},
    )

    assert (response.status_code, response["Location"]) == (
        302,
        f"/teach/classes/{classroom.pk}/#sentence-{withheld.pk}",
    )
    review = SentenceReview.objects.get(sentence=withheld)
    assert (review.outcome, review.correction, review.teacher) == (
        "corrected",
        "ATP is a nucleotide.",
        classroom.teacher,
    )
    html = _login(classroom.teacher).get(f"/teach/classes/{classroom.pk}/?review=reviewed").content.decode()
    assert "<strong>Corrected by the teacher</strong>: “ATP is a nucleotide.”" in html
    payload = _login(student).get(f"/api/v1/messages/{withheld.message_id}/").json()
    assert payload["sentences"][1]["correction"]["text"] == "ATP is a nucleotide."


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/teach/classes/{c}/"), ("post", "/teach/classes/{c}/review/{s}/")],
)
def test_another_teacher_gets_404_and_a_student_403(class_page, method, path):
    classroom, student, withheld = class_page
    url = path.format(c=classroom.pk, s=withheld.pk)
    data = {"outcome": "confirmed"}

    other = (
        getattr(_login(TeacherFactory()), method)(url, data) if method == "post" else _login(TeacherFactory()).get(url)
    )
    own_student = getattr(_login(student), method)(url, data) if method == "post" else _login(student).get(url)

    assert (other.status_code, own_student.status_code) == (404, 403)
    assert not SentenceReview.objects.exists()


def test_a_student_cannot_open_the_teacher_class_list():
    assert _login(UserFactory()).get("/teach/").status_code == 403


def test_the_class_page_draws_the_class_practice_by_week(class_page):
    # given the class's student answered two practice questions, one right
    classroom, student, _ = class_page
    topic = classroom.curriculum.units.get().topics.get()
    for _ in range(2):
        PracticeQuestionFactory(topic=topic)
    session = practice_session_start(student=student, curriculum=classroom.curriculum, kind="topic", topic=topic)
    for position, right in enumerate([True, False]):
        served = SessionQuestion.objects.get(session=session, position=position)
        option = served.key_option if right else (served.key_option + 1) % len(served.options)
        practice_answer_submit(session=session, position=position, option=option)

    # when the teacher opens the class page
    html = _login(classroom.teacher).get(f"/teach/classes/{classroom.pk}/").content.decode()

    # then the practice chart has this week's one bar at 50 %, with what it rests on
    [chart] = re.findall(r'<svg id="progress-chart".*?</svg>', html, re.S)
    assert 'aria-labelledby="progress-heading progress-chart-desc"' in chart
    assert len(re.findall(r'<rect [^>]*class="bar"', chart)) == 1
    assert "50 %, 1 of 2 answers right, 1 student." in chart


def test_a_teacher_reports_a_syllabus_gap_from_the_class_page(class_page):
    # given the class page offers the gap next to confirm and correct
    classroom, _, withheld = class_page
    html = _login(classroom.teacher).get(f"/teach/classes/{classroom.pk}/").content.decode()
    assert 'name="outcome" value="syllabus_gap"' in html

    # when the teacher reports the withheld sentence as missing from the syllabus, with a note
    _login(classroom.teacher).post(
        f"/teach/classes/{classroom.pk}/review/{withheld.pk}/",
        {"outcome": "syllabus_gap", "correction": "Chapter 5 never says what ATP is made of."},
    )

    # then the reviewed list shows it so, with the note
    reviewed = _login(classroom.teacher).get(f"/teach/classes/{classroom.pk}/?review=reviewed").content.decode()
    assert (
        "<strong>True, but missing from the syllabus</strong>: “Chapter 5 never says what ATP is made of.”" in reviewed
    )


def test_the_settings_explain_the_verifiers_operating_point_in_use(class_page):
    # given the shipped checker and its measured operating point (weights/operating_point.json)
    classroom, _, _ = class_page
    point = verifier_operating_point()
    assert point.measured is not None and point.measured.precision is not None

    # when the teacher opens the class page
    html = _login(classroom.teacher).get(f"/teach/classes/{classroom.pk}/").content.decode()

    # then the settings say the threshold in use and what was measured for this very checker
    explained = re.search(r'<p class="small" id="operating-point">(.*?)</p>', html, re.S)
    assert explained is not None
    text = " ".join(explained.group(1).split())
    assert text.startswith(
        f"The verifier shows a sentence as verified when it judges it supported with probability {point.threshold * 100:g} % or more."
    )
    assert (
        f"of the {point.measured.labelled_supported} claims it passed, {point.measured.precision * 100:g} % were true"
        in text
    )
    assert f"and it passed {round(point.measured.recall * 100, 1):g} % of the true ones" in text
