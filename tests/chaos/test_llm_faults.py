"""The LLM server down, past its deadline, trickling, or answering garbage, under a real web server.

The student is told why within 3 s of the deadline over the socket, the question is kept, and a
retry over REST answers it once the server is healthy again.
"""

import json
import time

import httpx
import pytest
from websockets.sync.client import connect

from llm.openai_backend import OpenAIBackendConfig
from tests.chaos.conftest import LLM_DEADLINE_S
from tests.chaos.processes import kill_hard, llm_server
from tests.fakes import LexicalScorer
from tutor.models import AnswerSentence, Message

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]

QUESTION = "What is speed?"
UNREACHABLE = "The tutor's language model cannot be reached right now. Please try again in a minute."
TOO_SLOW = "The tutor's language model is taking too long to answer. Please try again in a minute."
UNREADABLE = "The tutor's language model gave an answer it could not read. Please try again."
# A trickling server sends a word this often: inside the read timeout (LLM_DEADLINE_S), so that only
# the whole-answer deadline can end the answer.
TRICKLE_EVERY_S = 1.0
# A short answer budget keeps the whole-answer deadline (connect + read timeout + tokens at the
# slowest rate worth waiting for) at a few seconds.
TRICKLE_MAX_TOKENS = 8


def _ask(port: int, token: str, client_msg_id: str) -> tuple[list[dict], list[float]]:
    """Ask over the socket; the frames up to done or error, and when each arrived (seconds after the ask)."""
    with connect(f"ws://127.0.0.1:{port}/ws/tutor/", subprotocols=["token", token], open_timeout=10) as ws:
        asked = time.monotonic()
        ws.send(
            json.dumps(
                {"type": "ask", "curriculum": "mini-physics", "question": QUESTION, "client_msg_id": client_msg_id}
            )
        )
        frames, arrivals = [], []
        while not frames or frames[-1]["type"] not in ("done", "error"):
            frames.append(json.loads(ws.recv(timeout=LLM_DEADLINE_S + 30)))
            arrivals.append(time.monotonic() - asked)
        return frames, arrivals


def _ask_until_over(port: int, token: str, client_msg_id: str) -> tuple[list[dict], float]:
    """Ask over the socket; the frames up to done or error, and the seconds between the last two
    (after the last thing the LLM server sent, the student waited that long to hear why)."""
    frames, arrivals = _ask(port, token, client_msg_id)
    return frames, arrivals[-1] - arrivals[-2]


def _retry(port: int, token: str, message_id: int) -> httpx.Response:
    return httpx.post(
        f"http://127.0.0.1:{port}/api/v1/messages/{message_id}/retry/",
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    )


@pytest.mark.parametrize(
    ("mode", "code", "text", "released"),
    [
        ("down", "llm_unavailable", UNREACHABLE, []),
        ("stall", "llm_timeout", TOO_SLOW, []),
        ("stall-mid", "llm_timeout", TOO_SLOW, ["Speed is the magnitude of velocity."]),
        ("garbage", "llm_unavailable", UNREADABLE, []),
    ],
)
def test_an_llm_fault_is_told_in_time_the_question_kept_and_a_retry_answers(
    mode, code, text, released, imported_mini_book, web_port, llm_port, token_for, use_scorer
):
    # given a student asking while the LLM server is killed (down), stalls, or answers garbage
    use_scorer(LexicalScorer())
    token = token_for(imported_mini_book)
    with llm_server(llm_port, mode="healthy" if mode == "down" else mode) as server:
        if mode == "down":
            kill_hard(server)

        # when the question is asked over the socket
        frames, seconds = _ask_until_over(web_port, token, f"{mode}-1")

    # then the student gets a clear, retryable error within 3 s of the deadline
    error = frames[-1]
    assert (error["type"], error["code"], error["message"], error["retryable"]) == ("error", code, text, True)
    assert seconds < LLM_DEADLINE_S + 3.0
    # and a sentence released before a stall was shown and is kept with the question
    assert [f["text"] for f in frames if f["type"] == "sentence"] == released
    message = Message.objects.get(client_msg_id=f"{mode}-1")
    assert (message.question, message.status, message.error_code, message.error_message) == (
        QUESTION,
        "failed",
        code,
        text,
    )
    kept = AnswerSentence.objects.filter(message=message, delivery=AnswerSentence.Delivery.RELEASED)
    assert [s.text for s in kept] == released

    # when the server is healthy again and the student retries
    with llm_server(llm_port, mode="healthy"):
        retried = _retry(web_port, token, message.pk)

    # then the same question is answered in the same message
    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert (body["id"], body["question"], body["status"], body["error_code"]) == (
        message.pk,
        QUESTION,
        "completed",
        "",
    )
    assert [s["text"] for s in body["sentences"]] == ["Speed is the magnitude of velocity."]


def test_an_llm_server_trickling_inside_the_read_timeout_is_cut_at_the_whole_answer_deadline(
    imported_mini_book, web_port, llm_port, token_for, use_scorer, settings
):
    # given an LLM server that streams a first sentence, then a word a second for ever (each wait
    # inside the 2 s read timeout), and the whole-answer deadline of a short answer
    use_scorer(LexicalScorer())
    settings.TUTOR_MAX_ANSWER_TOKENS = TRICKLE_MAX_TOKENS
    deadline_s = OpenAIBackendConfig(
        base_url=settings.LLM_BASE_URL,
        model=settings.LLM_MODEL,
        connect_timeout_s=settings.LLM_CONNECT_TIMEOUT_S,
        read_timeout_s=settings.LLM_READ_TIMEOUT_S,
    ).deadline_s(TRICKLE_MAX_TOKENS)
    assert deadline_s == 7.0  # 1 s connect + 2 s read + 8 tokens at 2 tokens/s
    token = token_for(imported_mini_book)

    # when the question is asked over the socket
    with llm_server(llm_port, mode="trickle", word_delay_s=TRICKLE_EVERY_S):
        frames, arrivals = _ask(web_port, token, "trickle-1")

    # then the first sentence is shown, and at the deadline (not before, and within 3 s of it) the
    # student is told the model is too slow, retryably, instead of waiting for ever
    error = frames[-1]
    assert (error["type"], error["code"], error["message"], error["retryable"]) == (
        "error",
        "llm_timeout",
        TOO_SLOW,
        True,
    )
    assert deadline_s <= arrivals[-1] < deadline_s + 3.0
    assert [f["text"] for f in frames if f["type"] == "sentence"] == ["Speed is the magnitude of velocity."]
    # and the question is kept, failed, with the sentence shown before the deadline
    message = Message.objects.get(client_msg_id="trickle-1")
    assert (message.question, message.status, message.error_code, message.error_message) == (
        QUESTION,
        "failed",
        "llm_timeout",
        TOO_SLOW,
    )
    kept = AnswerSentence.objects.filter(message=message, delivery=AnswerSentence.Delivery.RELEASED)
    assert [s.text for s in kept] == ["Speed is the magnitude of velocity."]

    # when the server keeps its pace again and the student retries
    with llm_server(llm_port, mode="healthy"):
        retried = _retry(web_port, token, message.pk)

    # then the same question is answered in the same message
    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert (body["id"], body["question"], body["status"], body["error_code"]) == (
        message.pk,
        QUESTION,
        "completed",
        "",
    )
    assert [s["text"] for s in body["sentences"]] == ["Speed is the magnitude of velocity."]
