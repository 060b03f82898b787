"""The web server is killed (SIGKILL) while it streams an answer, and started again.

The answer's row is left streaming: nothing in the dead process could finish it. The periodic sweep
(a Celery beat task) fails it with a clear reason; the restarted server shows it as such and answers
a retry of the same question.
"""

import json
import sys
import time

import httpx
import pytest
from django.utils import timezone
from websockets.sync.client import connect

from config.celery import app
from tests.chaos.processes import django_env, free_port, kill_hard, llm_server, running
from tutor.models import Message
from tutor.selectors import INTERRUPTED_MESSAGE
from tutor.tasks import interrupted_answers_sweep_task

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]

LONG_ANSWER = " ".join(f"Speed is the magnitude of velocity number {n} [1]." for n in range(1, 40))


def _web_server(port: int, llm_port: int):  # type: ignore[no-untyped-def]
    """uvicorn serving config.asgi as a process of its own, on the real answer path (the LLM on a
    server, unverified: the verifier's model is not what this test breaks)."""
    env = django_env(
        LLM_BACKEND="openai",
        LLM_BASE_URL=f"http://127.0.0.1:{llm_port}/v1",
        LLM_MODEL="fake-model",
        TUTOR_VERIFY_ANSWERS="false",
        TUTOR_COMPOSITION="draft",
    )
    args = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    return running([*args, "--ws", "websockets", "--log-level", "warning"], ready=port, env=env, timeout_s=120)


def test_the_beat_schedule_runs_the_sweep_every_minute():
    # given the Celery app as the worker and beat load it
    # when its schedule is read
    entry = app.conf.beat_schedule["tutor-interrupted-answers-sweep"]
    # then the sweep task is scheduled every 60 s and is a registered task
    assert (entry["task"], entry["schedule"]) == ("tutor.tasks.interrupted_answers_sweep_task", 60.0)
    assert entry["task"] in app.tasks


def test_an_answer_cut_by_a_killed_server_is_swept_to_failed_and_retried(imported_mini_book, token_for, settings):
    # given a student's answer streaming slowly from a web server process
    token = token_for(imported_mini_book)
    auth = {"Authorization": f"Token {token}"}
    web_port, model_port = free_port(), free_port()
    with llm_server(model_port, word_delay_s=0.2), _web_server(web_port, model_port) as server:
        with connect(f"ws://127.0.0.1:{web_port}/ws/tutor/", subprotocols=["token", token], open_timeout=30) as ws:
            ask = {"type": "ask", "curriculum": "mini-physics", "question": "What is speed?", "client_msg_id": "cut-1"}
            ws.send(json.dumps(ask))
            frames = [json.loads(ws.recv(timeout=60))]
            while frames[-1]["type"] not in ("sentence", "done", "error"):
                frames.append(json.loads(ws.recv(timeout=60)))
            assert [f["type"] for f in frames] == ["accepted", "sentence"]

            # when the server is killed in the middle of it
            kill_hard(server)

    # then its row is left streaming, its question kept
    message = Message.objects.get(client_msg_id="cut-1")
    assert (message.question, message.status) == ("What is speed?", "streaming")

    # when the periodic sweep runs once the answer is overdue (answers still in flight are left alone:
    # tests/tutor/test_interrupted_sweep.py)
    settings.TUTOR_ANSWER_INTERRUPTED_AFTER_S = 2
    time.sleep(max(0.0, 2.1 - (timezone.now() - message.started_at).total_seconds()))
    swept = interrupted_answers_sweep_task.apply().get()
    swept_again = interrupted_answers_sweep_task.apply().get()

    # then the cut answer is failed as interrupted, once
    message.refresh_from_db()
    assert (swept, swept_again) == (1, 0)
    assert (message.status, message.error_code, message.error_message) == ("failed", "interrupted", INTERRUPTED_MESSAGE)
    assert message.completed_at is not None

    # when the server is started again and the student's client looks the answer up and retries it
    with llm_server(model_port), _web_server(web_port, model_port):
        shown = httpx.get(f"http://127.0.0.1:{web_port}/api/v1/messages/by-client-id/cut-1/", headers=auth, timeout=60)
        retried = httpx.post(
            f"http://127.0.0.1:{web_port}/api/v1/messages/{message.pk}/retry/", headers=auth, timeout=120
        )

    # then the client is shown the failure and its reason, and the retry answers the same question
    assert (shown.json()["status"], shown.json()["error_code"], shown.json()["error_message"]) == (
        "failed",
        "interrupted",
        INTERRUPTED_MESSAGE,
    )
    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert (body["id"], body["question"], body["status"]) == (message.pk, "What is speed?", "completed")
    assert [s["text"] for s in body["sentences"]] == ["Speed is the magnitude of velocity."]
