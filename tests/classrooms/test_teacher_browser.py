"""The teacher and a student in a real browser (Debian's chromium driven by Playwright) against the
ASGI app on uvicorn: the teacher creates a class, the student joins it with the code, the teacher
sees the student's mastery and a withheld sentence, corrects it, and the student gets the correction;
and a teacher uploads to a syllabus of their own, watches the import's progress bar reach 100 %,
searches the new text and changes the class's settings.

The answer is stored by factories (no language model needed); chromium comes from Debian's
packages and without it the test is skipped with that reason. With SCREENSHOTS_DIR set, the
teacher's pages are saved there (docs/screenshots/ holds the ones the README shows).
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from classrooms.selectors import ClassSettings, classroom_settings_get
from curriculum.models import Chunk, Classroom
from tests.asgi_server import serving
from tests.factories import (
    AnswerSentenceFactory,
    ChunkFactory,
    ConversationFactory,
    CurriculumFactory,
    MasteryStateFactory,
    MessageFactory,
    TeacherFactory,
    TopicFactory,
    UnitFactory,
    UserFactory,
    VerificationRecordFactory,
    VerificationRunFactory,
)
from tutor.models import SentenceReview

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")
OPTICS = (
    b"# Optics\n\n## Lenses\n\nA convex lens converges light rays to a focal point; a concave lens spreads them.\n\n"
    b"## Mirrors\n\nA plane mirror reflects light so that the angle of incidence equals the angle of reflection.\n"
)


@pytest.fixture
def site_url(transactional_db):
    from channels.routing import ProtocolTypeRouter
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.urls import get_resolver

    from config import asgi

    # Import every view before the first request: on a loaded 2-core host the URLconf's imports
    # alone can outlast the browser's navigation timeout.
    get_resolver().url_patterns  # noqa: B018
    application = ProtocolTypeRouter(
        {
            "http": ASGIStaticFilesHandler(asgi.django_asgi_app),
            "websocket": asgi.application.application_mapping["websocket"],
        }
    )
    with serving(application) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def browser(monkeypatch):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian package chromium; `make test` installs it)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the sync API's loop vs the test's ORM calls
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def _logged_in(browser, site_url: str, user):
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{site_url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site_url}/")  # the home page: the log-in page itself ends with a slash too
    return page


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def test_teacher_creates_a_class_student_joins_teacher_corrects_student_sees_it(site_url, browser):
    # given a teacher, a student and a two-chapter syllabus
    curriculum = CurriculumFactory(slug="biology", title="Biology")
    units = [
        UnitFactory(curriculum=curriculum, position=1, number="5", title="Membranes"),
        UnitFactory(curriculum=curriculum, position=2, number="6", title="Metabolism"),
    ]
    topics = [
        TopicFactory(unit=units[0], position=1, number="5.1", title="Components"),
        TopicFactory(unit=units[0], position=2, number="5.2", title="Passive Transport"),
        TopicFactory(unit=units[1], position=1, number="6.1", title="Energy"),
    ]
    teacher, student = TeacherFactory(username="ms-curie"), UserFactory(username="ada")

    # when the teacher creates a class on their page
    teacher_page = _logged_in(browser, site_url, teacher)
    teacher_page.get_by_role("link", name="Your classes (teacher)").click()
    teacher_page.get_by_label("Class name").fill("Biology 10B")
    teacher_page.get_by_label("Syllabus").select_option("biology")
    teacher_page.get_by_role("button", name="Create the class").click()
    code = teacher_page.locator("#join-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{7}", code)

    # and the student joins it with the code, typed with the keyboard
    student_page = _logged_in(browser, site_url, student)
    student_page.get_by_role("link", name="Join a class with a code").click()
    student_page.get_by_label("Class code").fill(code.lower())
    student_page.keyboard.press("Enter")
    student_page.wait_for_url(re.compile(r".*/study/biology/$"))
    assert "You joined Biology 10B." in student_page.locator(".messages").inner_text()

    # and the student practises and asks; the verifier withholds one sentence of the answer
    MasteryStateFactory(student=student, topic=topics[0], mastery=0.9, answers=5)
    MasteryStateFactory(student=student, topic=topics[2], mastery=0.3, answers=4)
    chunk = ChunkFactory(document__topic=topics[1], text="Osmosis is the diffusion of water through a membrane.")
    run = VerificationRunFactory(curriculum=curriculum)
    message = MessageFactory(
        conversation=ConversationFactory(student=student, curriculum=curriculum),
        question="What is osmosis?",
        verification_run=run,
    )
    AnswerSentenceFactory(message=message, index=0, text="Osmosis moves water across a membrane.")
    withheld = AnswerSentenceFactory(
        message=message, index=1, text="Osmosis needs ATP.", verdict="unsupported", delivery="withheld"
    )
    VerificationRecordFactory(run=run, sentence_index=1, claim="Osmosis needs ATP.", evidence_chunk_ids=[chunk.pk])

    # then the teacher's class page lists the student, their mastery and the withheld sentence
    teacher_page.reload()
    assert teacher_page.locator("#roster").inner_text().startswith("ada")
    heatmap = teacher_page.locator("#heatmap")
    assert heatmap.locator("thead th").all_inner_texts() == ["Student", "Membranes", "Metabolism"]
    assert heatmap.locator("tbody tr").first.inner_text().split() == ["ada", "55", "30"]
    item = teacher_page.locator(f"#sentence-{withheld.pk}")
    assert "Osmosis needs ATP." in item.inner_text()
    item.get_by_text("Evidence (1 passage)").click()
    assert chunk.text in item.locator("blockquote").inner_text()
    assert teacher_page.locator("#rate-chart rect.bar").count() == 1
    _shot(teacher_page, "teacher-class.png")

    # when the teacher corrects it
    item.get_by_label("Correction").fill("Osmosis is passive: it needs no ATP.")
    item.get_by_role("button", name=re.compile("^Save correction")).click()

    # then it is stored, shown as reviewed, and the student's answer carries the correction
    teacher_page.wait_for_selector(".messages:has-text('Review saved.')")
    review = SentenceReview.objects.get(sentence=withheld)
    assert (review.outcome, review.correction, review.teacher_id) == (
        "corrected",
        "Osmosis is passive: it needs no ATP.",
        teacher.pk,
    )
    teacher_page.get_by_role("link", name="Reviewed").click()
    assert "Osmosis is passive: it needs no ATP." in teacher_page.locator(f"#sentence-{withheld.pk}").inner_text()
    _shot(teacher_page, "teacher-review.png")
    payload = student_page.request.get(f"{site_url}/api/v1/messages/{message.pk}/").json()
    assert [s["correction"] and s["correction"]["text"] for s in payload["sentences"]] == [
        None,
        "Osmosis is passive: it needs no ATP.",
    ]


@pytest.mark.integration
def test_teacher_uploads_to_a_syllabus_of_their_own_with_a_progress_bar_then_searches_it(site_url, browser):
    # given a teacher
    teacher = TeacherFactory(username="mr-huygens")
    page = _logged_in(browser, site_url, teacher)

    # when they create a class on a new syllabus of their own
    page.get_by_role("link", name="Your classes (teacher)").click()
    page.get_by_label("Class name").fill("Physics 11")
    page.get_by_label("Syllabus").select_option(label="A new syllabus of my own (title below)")
    page.get_by_label("Or start your own: its title").fill("Optics notes")
    page.get_by_role("button", name="Create the class").click()
    page.wait_for_selector(".messages:has-text('Class Physics 11 created')")
    classroom = Classroom.objects.select_related("curriculum").get(name="Physics 11")
    assert (classroom.curriculum.title, classroom.curriculum.owner_id) == ("Optics notes", teacher.pk)

    # and upload a Markdown file to it: the page posts it to the API and polls the import job
    page.get_by_label("Add a file to the syllabus").set_input_files(
        {"name": "optics.md", "mimeType": "text/markdown", "buffer": OPTICS}
    )
    page.get_by_role("button", name="Upload", exact=True).click()

    # then the progress bar reaches 100 % and says what was imported
    page.wait_for_function("document.getElementById('upload-progress').value === 100")
    status = page.locator("#upload-status")
    status.filter(has_text="imported").wait_for()
    passages = Chunk.objects.filter(curriculum=classroom.curriculum).count()
    assert status.inner_text() == (
        f"optics.md imported: 2 sections, {passages} passage{'s' if passages != 1 else ''}. "
        "The tutor can answer from it now."
    )
    assert page.locator("#upload-percent").inner_text() == "100 %"
    _shot(page, "teacher-upload.png")

    # and the syllabus is searchable from the class page at once
    page.get_by_label("Search this syllabus").fill("Which lens brings light rays to a focal point?")
    page.keyboard.press("Enter")
    first = page.locator("#search-results li strong").first
    first.wait_for()
    assert first.inner_text() == "Lenses"

    # when the teacher shows unsupported sentences marked and turns hint-first on
    page.get_by_label("Show them marked").check()
    page.get_by_label("Hint first").check()
    page.get_by_role("button", name="Save the settings").click()

    # then the class keeps them
    page.wait_for_selector(".messages:has-text('Settings saved.')")
    assert classroom_settings_get(classroom=classroom) == ClassSettings(unsupported_policy="mark", hint_first=True)
    assert page.get_by_label("Show them marked").is_checked()
