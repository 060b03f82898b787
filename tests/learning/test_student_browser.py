"""A student's plan, practice and progress in a real browser (Debian's chromium driven by Playwright)
against the ASGI app on uvicorn: enrolled on the mini book with an exam date, the student opens the
plan from the study page, sees today's item and the days up to the exam, practises the first section
from the progress table, answers its question and sees the feedback, and finds the section's mastery
moved from the prior with one answer behind it; the pages fit a 390 px phone screen.

The mini book is imported for real (its review question comes from the book); chromium comes from
Debian's packages and without it the test is skipped with that reason (the teacher test's fixtures).
With SCREENSHOTS_DIR set, the plan (desktop) and the progress after the answer (phone) are saved
there (docs/screenshots/ holds the ones the README shows).
"""

from datetime import timedelta

import pytest
from django.utils import dateformat, timezone

from learning.models import StudyPlan
from learning.services import study_plan_enrol
from tests.classrooms import test_teacher_browser as teacher_browser
from tests.factories import UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# The teacher test's server, browser (skipped without chromium), log-in and screenshots.
site_url, browser = teacher_browser.site_url, teacher_browser.browser
_logged_in, _shot = teacher_browser._logged_in, teacher_browser._shot
PHONE = {"width": 390, "height": 844}


def _progress_rows(page) -> list[list[str]]:
    """The progress table as the student reads it: section, mastery, ±, right/answered."""
    rows = page.locator("table.progress tbody tr")
    return [
        [cell.inner_text().strip() for cell in rows.nth(i).locator("th, td").all()[:4]] for i in range(rows.count())
    ]


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_student_follows_the_plan_practises_a_section_and_sees_its_mastery_move(
    site_url, browser, imported_mini_book
):
    # given a student enrolled on the mini book with the exam six days away
    today = timezone.localdate()
    exam = today + timedelta(days=6)
    student = UserFactory(username="ada")
    study_plan_enrol(student=student, curriculum=imported_mini_book, exam_date=exam, daily_minutes=30)
    readiness = StudyPlan.objects.get(enrollment__student=student).predicted_readiness
    page = _logged_in(browser, site_url, student)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # when they open their plan from the study page
    page.get_by_role("link", name="Study Mini Physics").click()
    page.get_by_role("link", name="Your study plan, practice and progress").click()
    page.wait_for_url(f"{site_url}/learn/{imported_mini_book.slug}/")

    # then they see the exam date, today's item, the days up to the exam and the prior mastery
    assert page.locator("h1").inner_text() == "Mini Physics: your study plan"
    assert page.get_by_label("Exam date").input_value() == exam.isoformat()
    assert page.locator("#readiness").inner_text() == (
        f"Predicted exam readiness if you follow the plan: {round(readiness * 100)} % "
        "(1 practice session does not fit before the exam: more minutes a day would help.)"
    )
    assert page.locator(".plan-today li").all_inner_texts() == [
        "Learn: 1.1 Velocity and Speed (1 question) · 20 min · planned"
    ]
    days = [today + timedelta(days=n) for n in range(1, 6)]  # tomorrow to the day before the exam
    assert page.locator(".plan-calendar strong").all_inner_texts() == [dateformat.format(d, "D j M") for d in days]
    assert page.locator(".plan-calendar li").first.inner_text() == (
        f"{dateformat.format(days[0], 'D j M')} · 28 min: 1.2 Acceleration; 1.1 Velocity and Speed"
    )
    assert _progress_rows(page) == [
        ["1.1 Velocity and Speed", "20 %", "40", "0/0"],
        ["1.2 Acceleration", "20 %", "40", "0/0"],
        ["2.1 Heat and Temperature", "20 %", "40", "0/0"],
    ]
    _shot(page, "student-plan.png")

    # when they practise the first section from the progress table
    page.locator("table.progress tbody tr").first.get_by_role("button", name="Practise").click()
    page.wait_for_url("**/learn/practice/*/")

    # then the book's review question is asked with its four options
    assert page.locator("#stem").inner_text() == "Which quantity has a direction?"
    assert page.locator("label.option").all_inner_texts() == ["speed", "velocity", "distance", "time"]
    assert page.locator(".practice .small").first.inner_text() == "0 of 1 answered, 0 right. Back to the plan"

    # when they choose "velocity" and answer
    page.get_by_label("velocity").check()
    page.get_by_role("button", name="Answer", exact=True).click()
    page.wait_for_url("**/?answered=0")

    # then the page says it is right, with the key and the section's new mastery
    feedback = page.locator("#feedback")
    assert feedback.get_attribute("class") == "feedback right"
    assert feedback.locator("p").all_inner_texts() == [
        "Right. The answer is: velocity",
        "1.1 Velocity and Speed: mastery now 53 %.",
    ]
    assert page.locator(".practice .small").first.inner_text() == "1 of 1 answered, 1 right. Back to the plan"
    page.set_viewport_size(PHONE)
    assert _fits(page)

    # when they go back to the plan, on a phone
    page.get_by_role("link", name="Back to the plan").click()
    page.wait_for_url(f"{site_url}/learn/{imported_mini_book.slug}/")

    # then the section's mastery has moved from the prior with one right answer behind it
    assert _progress_rows(page) == [
        ["1.1 Velocity and Speed", "53 %", "35", "1/1"],
        ["1.2 Acceleration", "20 %", "40", "0/0"],
        ["2.1 Heat and Temperature", "20 %", "40", "0/0"],
    ]
    assert _fits(page)
    _shot(page, "student-progress.png")
    assert errors == []
