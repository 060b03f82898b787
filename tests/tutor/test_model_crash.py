"""The model process dies mid-answer, over a real server and real websockets, on the real model.

The web server must survive, tell the asking student within 3 s, keep what was already released,
leave other students' sockets open, and answer a retry once the model child is back.
"""

import json
import os
import signal
import time

import httpx
import pytest
from rest_framework.authtoken.models import Token
from websockets.sync.client import connect

import llm.factory
from llm.child_backend import ChildProcessChatClient
from tests.asgi_server import serving
from tests.factories import EnrollmentFactory, UserFactory
from tutor.models import AnswerSentence, Message
from verification.entailment.scorer import get_scorer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

QUESTION = "What is the difference between speed and velocity?"


@pytest.fixture
def model_child(settings):
    """The default deployment: the embedded model in a supervised child process."""
    settings.LLM_BACKEND = "embedded"
    settings.LLM_EMBEDDED_PROCESS = "child"
    # Long enough an answer that the kill lands while it is still being generated.
    settings.TUTOR_MAX_ANSWER_TOKENS = 220
    llm.factory.reset_chat_client()
    client = llm.factory.get_chat_client()
    assert isinstance(client, ChildProcessChatClient)
    client.process.wait_ready()
    # The verifier warm, as in a running server: a cold scorer (model load, seconds) would hold the
    # first sentence back until the whole answer is generated, and the kill would land after it.
    get_scorer()
    yield client.process
    llm.factory.reset_chat_client()


def _token_for(curriculum) -> str:
    student = UserFactory()
    EnrollmentFactory(student=student, curriculum=curriculum)
    return Token.objects.create(user=student).key


def _cpu_ticks(pid: int) -> int:
    """User + system CPU time of a process in clock ticks (/proc/<pid>/stat fields 14 and 15)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _wait_until_busy(pid: int, timeout_s: float = 60.0) -> None:
    """Until the idle model child burns CPU (it is generating): 2 ticks in 50 ms is ~40 % of a core."""
    deadline = time.monotonic() + timeout_s
    before = _cpu_ticks(pid)
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = _cpu_ticks(pid)
        if now - before >= 2:
            return
        before = now
    raise AssertionError(f"the model child did not start generating within {timeout_s:g} s")


def _ask(ws, slug: str, client_msg_id: str) -> None:
    ws.send(json.dumps({"type": "ask", "curriculum": slug, "question": QUESTION, "client_msg_id": client_msg_id}))


def test_a_model_crash_mid_answer_fails_only_that_answer_and_a_retry_succeeds(imported_mini_book, model_child):
    from config.asgi import application

    slug = imported_mini_book.slug
    alice, bob = _token_for(imported_mini_book), _token_for(imported_mini_book)
    with (
        serving(application) as port,
        connect(f"ws://127.0.0.1:{port}/ws/tutor/", subprotocols=["token", alice], open_timeout=10) as ws_alice,
        connect(f"ws://127.0.0.1:{port}/ws/tutor/", subprotocols=["token", bob], open_timeout=10) as ws_bob,
    ):
        # given Alice's answer streaming from the model child, Bob connected and idle
        _ask(ws_alice, slug, "alice-1")
        frames = [json.loads(ws_alice.recv(timeout=30))]
        assert frames[0]["type"] == "accepted"
        while frames[-1]["type"] not in ("sentence", "flagged", "done", "error"):
            frames.append(json.loads(ws_alice.recv(timeout=180)))
        assert frames[-1]["type"] in ("sentence", "flagged"), frames

        # when the model process segfaults mid-answer (the first sentences come from the answer
        # plan, before the model is asked: wait until it is generating)
        assert model_child.pid is not None
        _wait_until_busy(model_child.pid)
        os.kill(model_child.pid, signal.SIGSEGV)
        killed_at = time.monotonic()
        while frames[-1]["type"] not in ("done", "error"):
            frames.append(json.loads(ws_alice.recv(timeout=10)))
        seconds_to_error = time.monotonic() - killed_at

        # then Alice gets a retryable error within 3 s
        error = frames[-1]
        assert error["type"] == "error", frames
        assert (error["code"], error["retryable"]) == ("llm_unavailable", True)
        assert error["message"] == "The tutor's language model failed while answering. Please try again."
        assert seconds_to_error < 3.0
        # and her question and the sentences already released are saved
        message = Message.objects.get(client_msg_id="alice-1")
        assert (message.question, message.status, message.error_code) == (QUESTION, "failed", "llm_unavailable")
        released_frames = [f["text"] for f in frames if f["type"] == "sentence"]
        saved = AnswerSentence.objects.filter(message=message, delivery=AnswerSentence.Delivery.RELEASED)
        assert [s.text for s in saved.order_by("index")] == released_frames
        # and Bob's socket is still open: it answers his next frame
        ws_bob.send(json.dumps({"type": "cancel"}))
        assert json.loads(ws_bob.recv(timeout=10))["code"] == "nothing_to_cancel"

        # when Alice retries, once the child has been restarted
        retried = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/messages/{message.pk}/retry/",
            headers={"Authorization": f"Token {alice}"},
            timeout=120,
        )

        # then the same message is answered and completed
        assert retried.status_code == 200, retried.text
        assert (retried.json()["id"], retried.json()["status"]) == (message.pk, "completed")
        assert (model_child.restarts, model_child.last_exit) == (1, -signal.SIGSEGV)
