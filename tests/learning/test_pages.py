"""The learner model's web pages: make a plan, practise today's item, see feedback and progress."""

from datetime import timedelta

import pytest
from django.utils import timezone

from learning.models import PlanItem, SessionQuestion, StudyPlan
from learning.selectors import plan_days
from tests.factories import CurriculumFactory, EnrollmentFactory, TopicFactory, UnitFactory, UserFactory
from tests.learning.factories import PracticeQuestionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolled_client(client):
    curriculum = CurriculumFactory(slug="biology-2e", title="Biology 2e")
    unit = UnitFactory(curriculum=curriculum, position=1, number="5", title="Membranes")
    topic = TopicFactory(unit=unit, position=1, number="5.2", title="Passive Transport")
    for n in range(2):
        PracticeQuestionFactory(
            topic=topic,
            stem=f"Which moves water {n}?",
            choices=["osmosis", "active transport", "endocytosis"],
            answer_index=0,
            explanation="Water crosses by osmosis.",
        )
    student = UserFactory()
    EnrollmentFactory(student=student, curriculum=curriculum)
    client.force_login(student)
    return client, student, topic


def test_the_study_page_links_to_the_plan(enrolled_client):
    client, _, _ = enrolled_client
    html = client.get("/study/biology-2e/").content.decode()
    assert '<a href="/learn/biology-2e/">Your study plan, practice and progress</a>' in html


def test_a_student_makes_a_plan_practises_and_sees_feedback_and_progress(enrolled_client):
    # given
    client, student, _ = enrolled_client
    exam = timezone.localdate() + timedelta(days=14)

    # when they make a plan and start today's item
    saved = client.post("/learn/biology-2e/plan/", {"exam_date": exam.isoformat(), "daily_minutes": "30"})
    plan_html = client.get("/learn/biology-2e/").content.decode()
    started = client.post("/learn/biology-2e/practice/", {"kind": "plan"})
    session_url = started["Location"]
    question_html = client.get(session_url).content.decode()
    # and answer the first question wrong
    session_id = int(session_url.rstrip("/").split("/")[-1])
    served = SessionQuestion.objects.get(session_id=session_id, position=0)
    answered = client.post(f"{session_url}answer/", {"position": "0", "option": "1"})
    feedback_html = client.get(answered["Location"]).content.decode()

    # then
    assert saved.status_code == 302
    assert StudyPlan.objects.get(enrollment__student=student).daily_minutes == 30
    assert "Learn: 5.2 Passive Transport (2 questions)" in plan_html
    assert "Predicted exam readiness" in plan_html
    assert served.options == ["osmosis", "active transport", "endocytosis"]
    assert "Which moves water" in question_html
    assert question_html.count('type="radio" name="option"') == 3
    assert "Not quite." in feedback_html and "The answer is: osmosis" in feedback_html
    assert "Water crosses by osmosis." in feedback_html


def test_finishing_marks_the_item_done_on_the_plan(enrolled_client):
    # given a plan and a session answered in full
    client, student, _ = enrolled_client
    exam = timezone.localdate() + timedelta(days=14)
    client.post("/learn/biology-2e/plan/", {"exam_date": exam.isoformat(), "daily_minutes": "30"})
    session_url = client.post("/learn/biology-2e/practice/", {"kind": "plan"})["Location"]
    for position in (0, 1):
        client.post(f"{session_url}answer/", {"position": str(position), "option": "0"})
    # when
    finished = client.post(f"{session_url}finish/")
    plan_html = client.get(finished["Location"]).content.decode()
    # then
    assert PlanItem.objects.filter(plan__enrollment__student=student, done_at__isnull=False).count() == 1
    assert "Session finished: 2 of 2 right." in plan_html
    assert '<span class="status">done</span>' in plan_html
    assert "<td>2/2</td>" in plan_html


def test_a_past_exam_date_is_refused_with_a_message(enrolled_client):
    client, student, _ = enrolled_client
    response = client.post(
        "/learn/biology-2e/plan/", {"exam_date": timezone.localdate().isoformat(), "daily_minutes": "30"}, follow=True
    )
    assert "The exam date must be after today." in response.content.decode()
    assert not StudyPlan.objects.filter(enrollment__student=student).exists()


def test_pages_need_enrolment(client):
    CurriculumFactory(slug="chemistry")
    client.force_login(UserFactory())
    response = client.get("/learn/chemistry/")
    assert (response.status_code, response["Location"]) == (302, "/")


def test_a_typed_answer_the_verifier_cannot_confirm_is_assessed_on_the_page(enrolled_client, monkeypatch):
    # given a free-response question and a verifier that confirms nothing
    from tests.learning.fake_verifier import FakeVerifier

    client, _, topic = enrolled_client
    monkeypatch.setattr("learning.services.verify_sentence", FakeVerifier())
    PracticeQuestionFactory(
        topic=topic,
        stem="Why does water cross by osmosis?",
        choices=[],
        answer_index=None,
        explanation="Water follows solutes.",
    )
    client.post(
        "/learn/biology-2e/plan/",
        {"exam_date": (timezone.localdate() + timedelta(days=14)).isoformat(), "daily_minutes": "30"},
    )
    started = client.post(
        "/learn/biology-2e/practice/", {"kind": "topic", "topic_id": topic.pk, "question_format": "text"}
    )
    session_url = started["Location"]

    # when the student types an answer, sees the book's answer, and grades it right
    client.post(f"{session_url}answer/", {"position": "0", "text": "It goes where there is more salt."})
    assess_html = client.get(session_url).content.decode()
    assessed = client.post(f"{session_url}answer/", {"position": "0", "action": "assess", "correct": "1"})
    feedback_html = client.get(assessed["Location"]).content.decode()

    # then
    assert "<p>The book's answer: Water follows solutes.</p>" in assess_html
    assert 'id="assess-right"' in assess_html
    assert "Marked right by you." in feedback_html


def test_hint_first_on_the_page_gives_a_hint_and_a_second_try(enrolled_client):
    # given a student who chose hint-first practice
    client, _, topic = enrolled_client
    client.post(
        "/learn/biology-2e/plan/",
        {"exam_date": (timezone.localdate() + timedelta(days=14)).isoformat(), "daily_minutes": "30"},
    )
    client.post("/learn/biology-2e/plan/", {"action": "hint_first", "hint_first": "1"})
    started = client.post("/learn/biology-2e/practice/", {"kind": "topic", "topic_id": topic.pk})
    session_url = started["Location"]

    # when they answer the first question wrong
    wrong = client.post(f"{session_url}answer/", {"position": "0", "option": "1"})
    retry_html = client.get(wrong["Location"]).content.decode()
    # and then right
    right = client.post(f"{session_url}answer/", {"position": "0", "option": "0"})
    feedback_html = client.get(right["Location"]).content.decode()

    # then the same question comes back with a hint and no key, then the key with the feedback
    assert "Not quite. Hint (5.2 Passive Transport)" in retry_html
    assert "Try again" in retry_html
    assert "Which moves water 0?" in retry_html
    assert "Right on the second try." in feedback_html
    assert "The answer is: osmosis" in feedback_html


def test_the_plan_shows_the_exam_day_and_counts_the_days_past_the_first_week(client):
    # given a student with twelve sections to learn and an exam in 20 days
    curriculum = CurriculumFactory(slug="biology-2e", title="Biology 2e")
    unit = UnitFactory(curriculum=curriculum, position=1, number="5", title="Membranes")
    for n in range(12):
        topic = TopicFactory(unit=unit, position=n + 1, number=f"5.{n + 1}", title=f"Section {n + 1}")
        PracticeQuestionFactory.create_batch(3, topic=topic)
    student = UserFactory()
    EnrollmentFactory(student=student, curriculum=curriculum)
    client.force_login(student)
    today = timezone.localdate()
    exam = today + timedelta(days=20)

    # when they plan 10 minutes a day and open the plan
    client.post("/learn/biology-2e/plan/", {"exam_date": exam.isoformat(), "daily_minutes": "10"})
    html = client.get("/learn/biology-2e/").content.decode()

    # then the exam day is named, a week of coming days is listed and the rest are counted
    coming = [day for day in plan_days(plan=StudyPlan.objects.get(), start=today) if day.day > today]
    assert len(coming) > 7
    assert f'<p id="exam-day">Exam in 20 days: <strong>{exam:%a} {exam.day} {exam:%b %Y}</strong></p>' in html
    assert html.count("<li><strong>") == 7
    more = len(coming) - 7
    assert f"and {more} more study day{'s' if more > 1 else ''} up to the exam." in html
