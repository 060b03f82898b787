"""Hint-first on the study page in a real browser (Debian's chromium driven by Playwright) against
config.asgi on uvicorn: a student of a class whose teacher turned hint-first on asks, gets the
guiding question and a cited clue with a "Show the full answer" button, presses it, and gets the
full answer in the same conversation.

The answer path is the real one (answer graph with its answer plan, retrieval on the imported mini
book, verifier graph, the session-authenticated websocket); the model is scripted and the entailment
scorer lexical (tests/fakes.py), as in the other tests that drive a live server. chromium comes from
Debian's packages and without it the test is skipped with that reason.
"""

import shutil
import time

import pytest
from django.db.utils import OperationalError

from classrooms.services import classroom_join, classroom_settings_update
from tests.asgi_server import serving
from tests.factories import TeachingClassroomFactory, UserFactory
from tests.fakes import LexicalScorer, ScriptedChatClient
from tutor.graph.prompts import hint_first_reply
from tutor.models import Message

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
QUESTION = "What is speed?"
GUIDE = hint_first_reply(section="Velocity and Speed", clue=True)
CLUE = "Speed is the magnitude of _____."
SPEED = "Speed is the magnitude of velocity."


@pytest.fixture
def site_url(transactional_db):
    """uvicorn on a free loopback port with the real ASGI app; /static/ served from the finders."""
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
def browser_page(monkeypatch):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian package chromium; `make test` installs it)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the sync API's loop vs the test's ORM calls
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.set_default_timeout(60_000)
        yield page
        browser.close()


@pytest.fixture
def scripted_model(settings, use_chat_client, use_scorer):
    """The embedded default's composition (the answer plan's syllabus sentences first), a scripted
    model after them and a lexical scorer."""
    settings.TUTOR_COMPOSITION = "plan"
    use_scorer(LexicalScorer())
    return use_chat_client(ScriptedChatClient(answer="Speed has no direction [1]."))


def test_a_hint_first_student_sees_the_clue_then_the_full_answer_on_request(
    site_url, browser_page, imported_mini_book, scripted_model
):
    # given a student of a class on the mini book whose teacher turned hint-first on
    classroom = TeachingClassroomFactory(curriculum=imported_mini_book)
    classroom_settings_update(classroom=classroom, hint_first=True)
    student = UserFactory()
    classroom_join(student=student, code=classroom.join_code.code)
    page = browser_page

    # when they log in, open the study page and ask
    page.goto(f"{site_url}/accounts/login/")
    page.get_by_label("Username").fill(student.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site_url}/")  # the home page: the log-in page itself ends with a slash too
    page.goto(f"{site_url}/study/{imported_mini_book.slug}/")
    page.wait_for_selector("#connection:has-text('Connected to the tutor.')")
    page.get_by_label("Your question").fill(QUESTION)
    page.get_by_role("button", name="Ask", exact=True).click()

    # then the tutor answers with the guiding question and the clue, cited, and no answer sentence
    hinted = _wait_for_finished_messages(student, count=1)[0]
    page.wait_for_selector("#ask:not([disabled])")
    turns = page.locator("#transcript > li.turn")
    first = turns.nth(0)
    assert (hinted.status, hinted.mode, hinted.answer) == ("completed", Message.Mode.HINT, f"{GUIDE} {CLUE}")
    assert turns.count() == 1
    assert first.locator(".notice.hint p").inner_text() == GUIDE
    clue = first.locator(".answer .sentence")
    assert clue.count() == 1
    assert clue.get_attribute("class") == "sentence clue"
    assert clue.inner_text() == f"{CLUE} 1.1 Velocity and Speed"
    assert clue.locator("cite.citation").inner_text() == "1.1 Velocity and Speed"
    reveal = first.get_by_role("button", name="Show the full answer")
    assert reveal.is_enabled()

    # when the student asks for the full answer
    reveal.click()

    # then the same question is asked again in the same conversation, for the whole answer
    messages = _wait_for_finished_messages(student, count=2)
    page.wait_for_selector("#ask:not([disabled])")
    full = messages[1]
    assert [(m.question, m.mode, m.conversation_id) for m in messages] == [
        (QUESTION, Message.Mode.HINT, hinted.conversation_id),
        (QUESTION, Message.Mode.ANSWER, hinted.conversation_id),
    ]
    assert full.status == "completed"
    # and the page shows it as a second turn: the verified sentences, the key term no longer blanked,
    # each cited; no second hint
    assert turns.count() == 2
    second = turns.nth(1)
    assert second.locator(".question").text_content() == f"You asked: {QUESTION}"
    assert second.locator(".notice").count() == 0
    released = list(full.sentences.filter(delivery="released").order_by("index"))
    shown = second.locator(".answer .sentence")
    assert released[0].text == SPEED
    assert shown.count() == len(released)
    for i, sentence in enumerate(released):
        assert sentence.verdict == "supported"
        assert shown.nth(i).get_attribute("class") == "sentence"
        assert shown.nth(i).inner_text().startswith(sentence.text)
    assert shown.nth(0).locator("cite.citation").inner_text() == "1.1 Velocity and Speed"
    # and the hint's button is spent: the answer is not asked for twice
    assert reveal.is_disabled()


def _wait_for_finished_messages(student, *, count: int, timeout_s: float = 120) -> list[Message]:
    """The student's first ``count`` messages, once each has finished."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            messages = list(Message.objects.filter(student=student).order_by("pk"))
        except OperationalError:
            # SQLite's shared in-memory test database locks a table while the server thread writes
            # it ("database table is locked"); the next poll reads it.
            time.sleep(0.2)
            continue
        if len(messages) >= count and all(m.status not in ("pending", "streaming") for m in messages[:count]):
            return messages[:count]
        time.sleep(0.2)
    raise AssertionError(f"{count} answer(s) did not finish in time")
