"""The Chroma server goes down and comes back while the web process keeps running.

Searches and questions during the outage fail fast with a clear answer (the question kept); once the
server is back (same port, same data), the same process's searches return what they returned before,
with no restart or reconnect, and the question is answered on retry.
"""

import json
import time

import httpx
import pytest
from websockets.sync.client import connect

from curriculum.indexing import vector_store
from curriculum.indexing.chroma_server import running_chroma_server
from tests.chaos.processes import free_port
from tests.curriculum.indexing_fixtures import BIOLOGY_TOPICS, build_curriculum
from tests.fakes import LexicalScorer, ScriptedChatClient
from tutor.models import Message
from tutor.services import SEARCH_UNAVAILABLE_MESSAGE

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]

QUERY = {"q": "How does water cross a membrane?", "k": 3}
ANSWER = "Osmosis is the movement of water through a semipermeable membrane [1]."


def test_searches_and_answers_recover_when_the_chroma_server_restarts(
    settings, tmp_path, web_port, token_for, use_chat_client, use_scorer
):
    # given a curriculum indexed on a Chroma server and searched through the web process
    port, path = free_port(), tmp_path / "chroma"
    settings.CHROMA_HOST, settings.CHROMA_PORT, settings.TUTOR_COMPOSITION = "127.0.0.1", port, "draft"
    use_chat_client(ScriptedChatClient(answer=ANSWER))
    use_scorer(LexicalScorer())
    base = f"127.0.0.1:{web_port}"
    url = f"http://{base}/api/v1/curricula/biology/search/"
    with running_chroma_server(path, port=port):
        biology = build_curriculum(BIOLOGY_TOPICS, slug="biology")
        token = token_for(biology.curriculum)
        headers = {"Authorization": f"Token {token}"}
        client = vector_store.get_client()
        before = httpx.get(url, params=QUERY, headers=headers, timeout=30)
    assert before.status_code == 200, before.text

    # when the server is down and the student searches, then asks over the socket
    started = time.monotonic()
    during = httpx.get(url, params=QUERY, headers=headers, timeout=30)
    search_s = time.monotonic() - started
    with connect(f"ws://{base}/ws/tutor/", subprotocols=["token", token], open_timeout=10) as ws:
        ask = {"type": "ask", "curriculum": "biology", "question": "What is osmosis?", "client_msg_id": "down-1"}
        started = time.monotonic()
        ws.send(json.dumps(ask))
        frames = [json.loads(ws.recv(timeout=30))]
        while frames[-1]["type"] not in ("done", "error"):
            frames.append(json.loads(ws.recv(timeout=30)))
        answer_s = time.monotonic() - started

    # then both fail at once with a clear, retryable answer, and the question is kept
    assert (during.status_code, during.json()["error"]["code"]) == (503, "search_unavailable")
    assert [f["type"] for f in frames] == ["accepted", "error"]
    assert (frames[-1]["code"], frames[-1]["message"], frames[-1]["retryable"]) == (
        "search_unavailable",
        SEARCH_UNAVAILABLE_MESSAGE,
        True,
    )
    assert (search_s < 3.0, answer_s < 3.0) == (True, True)
    message = Message.objects.get(client_msg_id="down-1")
    assert (message.question, message.status, message.error_code) == (
        "What is osmosis?",
        "failed",
        "search_unavailable",
    )

    # when it is back on the same port with the same data
    with running_chroma_server(path, port=port):
        after = httpx.get(url, params=QUERY, headers=headers, timeout=30)
        retried = httpx.post(f"http://{base}/api/v1/messages/{message.pk}/retry/", headers=headers, timeout=60)

    # then the same process, with the same client, finds the same passages, osmosis first
    assert after.status_code == 200, after.text
    assert after.json() == before.json()
    assert after.json()[0]["chunk_id"] == biology.chunk_with("Osmosis").id
    assert vector_store.get_client() is client
    # and answers the question kept
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], [s["text"] for s in retried.json()["sentences"]]) == (
        "completed",
        ["Osmosis is the movement of water through a semipermeable membrane."],
    )
