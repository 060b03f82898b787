"""The student web app in a real browser (Debian's chromium driven by Playwright) against the real
stack: uvicorn serving config.asgi, the session-authenticated websocket, SmolLM2 drafting, the
trained verifier checking every sentence before the page shows it.

chromium comes from Debian's packages (`make test` installs it where apt can); without it the test
is skipped with that reason, never passed.
"""

import re
import shutil
import time

import pytest
from django.db.utils import OperationalError

from curriculum.models import Chunk
from curriculum.services import enrollment_create
from tests.asgi_server import serving
from tests.factories import UserFactory
from tutor.models import Message

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's


@pytest.fixture
def site_url(transactional_db):
    """uvicorn on a free loopback port with the real ASGI app; /static/ served from the finders
    (the test settings run with DEBUG off, where the app expects a front server for files)."""
    from channels.routing import ProtocolTypeRouter
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from config import asgi

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

    # Playwright's sync API keeps an event loop on this thread, which makes Django refuse the
    # test's own (synchronous) ORM calls; the test is synchronous, so the guard is a false alarm.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.set_default_timeout(60_000)
        yield page
        browser.close()


def test_student_logs_in_asks_and_sees_only_verified_cited_sentences(site_url, browser_page, imported_mini_book):
    # given a student enrolled in the imported book
    student = UserFactory()
    enrollment_create(student=student, curriculum=imported_mini_book)
    page = browser_page

    # when they log in through the form
    page.goto(f"{site_url}/accounts/login/")
    page.fill("input[name=username]", student.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{site_url}/")  # the home page: the log-in page itself ends with a slash too

    # and open the study page, wait for the socket, and ask a question
    page.goto(f"{site_url}/study/{imported_mini_book.slug}/")
    page.wait_for_selector("#connection:has-text('Connected to the tutor.')")
    page.fill("#question", "At what temperature does water boil?")
    page.click("#ask")

    # then the answer finishes, and every sentence on the page is one the verifier supported, released
    # and cited by the book's section number and title
    message = _wait_for_finished_message(student)
    page.wait_for_selector("#ask:not([disabled])")
    shown = page.locator("#transcript .answer .sentence")
    released = list(message.sentences.filter(delivery="released").order_by("index"))
    assert message.status == "completed"
    assert len(released) >= 1
    assert {s.verdict for s in released} == {"supported"}
    assert shown.count() == len(released)
    for i, sentence in enumerate(released):
        text = shown.nth(i).inner_text()
        assert text.startswith(sentence.text)
        chips = shown.nth(i).locator("cite.citation")
        assert chips.count() == 1
        assert chips.inner_text() == sentence.citations[0]["label"]
        assert re.fullmatch(r"\d+\.\d+ .+", chips.inner_text())
    # and the book's attribution is in the footer of the page that shows its text
    assert imported_mini_book.attribution
    assert imported_mini_book.attribution in page.locator("footer").inner_text()

    # when the student opens the first citation
    shown.nth(0).locator("cite.citation button").click()

    # then the passage opens with its section and the book's attribution
    dialog = page.locator("dialog#passage")
    dialog.wait_for(state="visible")
    page.wait_for_selector("#passage-attribution:not(:empty)")
    cited = Chunk.objects.select_related("document__topic").get(pk=released[0].citations[0]["chunk_id"])
    assert page.locator("#passage-label").inner_text() == cited.document.topic.label
    assert page.locator("#passage-text").inner_text().split() == cited.text.split()
    assert page.locator("#passage-attribution").inner_text() == imported_mini_book.attribution


def _wait_for_finished_message(student, timeout_s: float = 120) -> Message:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            message = Message.objects.filter(student=student).order_by("-pk").first()
        except OperationalError:
            # SQLite's shared in-memory test database locks a table while the server thread writes
            # it ("database table is locked"); the next poll reads it.
            time.sleep(0.2)
            continue
        if message is not None and message.status not in ("pending", "streaming"):
            return message
        time.sleep(0.2)
    raise AssertionError("the answer did not finish in time")
