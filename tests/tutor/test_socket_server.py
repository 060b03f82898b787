"""The tutor socket on a real ASGI server (uvicorn on a loopback port) with a real websocket client."""

import json
import time

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.asgi_server import serving
from tutor.models import Message


@pytest.fixture
def server_url(transactional_db):
    """uvicorn serving config.asgi on a free loopback port, in a thread of this process."""
    from config.asgi import application

    with serving(application) as port:
        yield f"127.0.0.1:{port}"


def receive_until_done(ws) -> list[dict]:
    frames = []
    while not frames or frames[-1]["type"] not in ("done", "error"):
        frames.append(json.loads(ws.recv(timeout=10)))
    return frames


def test_a_full_answer_over_a_real_server_with_token_auth(server_url, token, scripted_answers):
    # given a mobile client with a token (no Origin header, as native clients send)
    with connect(f"ws://{server_url}/ws/tutor/", subprotocols=["token", token], open_timeout=10) as ws:
        # when it asks a question
        ws.send(
            json.dumps({"type": "ask", "curriculum": "biology", "question": "What is osmosis?", "client_msg_id": "m1"})
        )
        frames = receive_until_done(ws)
        # then the server selected the token subprotocol and streamed accepted, sentences, done
        assert ws.subprotocol == "token"
    message = Message.objects.get(client_msg_id="m1")
    assert [f["type"] for f in frames] == ["accepted", "sentence", "sentence", "done"]
    assert (frames[0]["message_id"], frames[-1]["status"]) == (message.pk, "completed")
    assert [f["text"] for f in frames if f["type"] == "sentence"] == scripted_answers.sentences


def test_a_client_that_drops_mid_answer_fetches_it_over_rest(server_url, token, scripted_answers):
    # given an answer that takes a while
    scripted_answers.pace_s = 0.2
    with connect(f"ws://{server_url}/ws/tutor/", subprotocols=["token", token], open_timeout=10) as ws:
        ws.send(
            json.dumps({"type": "ask", "curriculum": "biology", "question": "What is osmosis?", "client_msg_id": "m2"})
        )
        assert json.loads(ws.recv(timeout=10))["type"] == "accepted"
    # when the connection is gone and the client polls by its client_msg_id
    deadline = time.monotonic() + 10
    while True:
        body = httpx.get(
            f"http://{server_url}/api/v1/messages/by-client-id/m2/", headers={"Authorization": f"Token {token}"}
        ).json()
        if body["status"] == "completed" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    # then the whole answer was finished and saved
    assert (body["status"], [s["text"] for s in body["sentences"]]) == ("completed", scripted_answers.sentences)


def test_a_real_server_refuses_a_client_without_credentials(server_url):
    # given a client with no token and no session
    # when it opens the socket
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://{server_url}/ws/tutor/", open_timeout=10)
    # then the handshake is answered 403
    assert refused.value.response.status_code == 403
