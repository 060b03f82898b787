"""The Redis server (cache, channel layer) is killed while an answer streams, then started again.

The answer in flight reaches the student in full, the frames after the kill without waiting on the
dead layer (the answer runs in the socket's own process, which writes to the socket directly), and
is saved; once Redis is back, the same socket (once channels_redis has subscribed it again, within
about a second) and new ones stream answers through it again.

With Redis dead before the student comes, log-in, the REST ask and the socket are answered and saved:
the throttles and the socket's question limit fail open (config/cache.py) and a socket's channel is
subscribed once Redis is back (config/channel_layers.py).
"""

import json
import time

import httpx
import pytest
import redis
from rest_framework.authtoken.models import Token
from websockets.sync.client import connect

from config.settings import base as base_settings
from tests.chaos.processes import free_port, kill_hard, redis_server, wait_until
from tests.factories import CurriculumFactory
from tests.tutor import answer_double
from tutor.models import Message

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]

SENTENCES = [f"Osmosis moves water across a membrane, step {n}." for n in range(1, 11)]


@pytest.fixture
def redis_port(settings, tmp_path) -> int:
    """The cache and the channel layer on a Redis of this test's own (not the machine's on 6379)."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    # The production shape (config/settings/base.py with REDIS_URL set): the outage-tolerant classes.
    timeouts = {
        "socket_connect_timeout": base_settings.REDIS_CACHE_TIMEOUT_S,
        "socket_timeout": base_settings.REDIS_CACHE_TIMEOUT_S,
    }
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.OutageTolerantRedisCache", "LOCATION": url, "OPTIONS": timeouts}
    }
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "config.channel_layers.OutageTolerantPubSubChannelLayer", "CONFIG": {"hosts": [url]}}
    }
    return port


@pytest.fixture
def paced_answers(settings) -> answer_double.AnswerScript:
    settings.TUTOR_ANSWER_BACKEND = answer_double.DOTTED_PATH
    script = answer_double.reset()
    script.sentences, script.pace_s = list(SENTENCES), 0.3
    return script


def _ask(ws, client_msg_id: str) -> None:  # type: ignore[no-untyped-def]
    ask = {"type": "ask", "curriculum": "biology", "question": "What is osmosis?", "client_msg_id": client_msg_id}
    ws.send(json.dumps(ask))


def _frames_until_over(ws) -> list[dict]:  # type: ignore[no-untyped-def]
    frames = [json.loads(ws.recv(timeout=10))]
    while frames[-1]["type"] not in ("done", "error"):
        frames.append(json.loads(ws.recv(timeout=10)))
    return frames


def _publishes(port: int) -> int:
    stats = redis.Redis(port=port).info("commandstats")
    return int(stats.get("cmdstat_publish", {}).get("calls", 0))


@pytest.mark.parametrize("delivery", ["channel_layer", "direct"])
def test_redis_killed_mid_answer_is_survived_and_recovered_from(
    delivery, settings, tmp_path, redis_port, paced_answers, token_for, web_port
):
    # given an answer streaming to a student, its frames going through the Redis layer or direct
    settings.TUTOR_SOCKET_DELIVERY = delivery
    token = token_for(CurriculumFactory(slug="biology", title="Biology"))
    url = f"ws://127.0.0.1:{web_port}/ws/tutor/"
    with redis_server(redis_port, tmp_path) as server, connect(url, subprotocols=["token", token]) as ws:
        _ask(ws, "before-1")
        frames = [json.loads(ws.recv(timeout=10)) for _ in range(2)]
        assert [f["type"] for f in frames] == ["accepted", "sentence"]

        # when Redis is killed mid-answer
        kill_hard(server)
        killed_at = time.monotonic()
        frames.append(json.loads(ws.recv(timeout=10)))
        next_frame_s = time.monotonic() - killed_at
        frames += _frames_until_over(ws)

        # then the student gets the whole answer, the next frame with no wait on the dead layer
        assert [f.get("text") for f in frames if f["type"] == "sentence"] == SENTENCES
        assert frames[-1]["type"] == "done"
        assert next_frame_s < 1.0
        # and it is saved
        message = Message.objects.get(client_msg_id="before-1")
        assert (message.status, message.answer) == ("completed", " ".join(SENTENCES))

        # when Redis is back (same port, empty)
        with redis_server(redis_port, tmp_path):
            # then the layer subscribes the socket that lived through the outage again, by itself
            resubscribed_s = wait_until(
                lambda: redis.Redis(port=redis_port).pubsub_channels(), timeout_s=10, what="the resubscription"
            )
            assert resubscribed_s < 3.0
            # and that socket, and a new one, are answered again
            _ask(ws, "after-1")
            same_socket = _frames_until_over(ws)
            with connect(url, subprotocols=["token", token]) as fresh:
                _ask(fresh, "after-2")
                new_socket = _frames_until_over(fresh)
            # through Redis, when that is the delivery: one publish per frame
            published = _publishes(redis_port)

    for answer in (same_socket, new_socket):
        assert [f["type"] for f in answer] == ["accepted", *["sentence"] * len(SENTENCES), "done"]
    expected_publishes = 2 * (len(SENTENCES) + 2) if delivery == "channel_layer" else 0
    assert published == expected_publishes
    assert wait_until(lambda: Message.objects.filter(status="completed").count() == 3, timeout_s=5, what="saves") >= 0


def test_requests_made_while_redis_is_down_are_answered_and_saved(
    settings, tmp_path, redis_port, paced_answers, token_for, web_port, caplog
):
    # given a student, and the Redis behind the throttles, the socket's rate limit and the layer killed
    paced_answers.pace_s = 0.0
    token = token_for(CurriculumFactory(slug="biology", title="Biology"))
    username = Token.objects.get(key=token).user.username
    base = f"127.0.0.1:{web_port}"
    with redis_server(redis_port, tmp_path) as server:
        kill_hard(server)

    # when the student logs in (anonymous throttle), asks over REST (user and "ask" throttles) and
    # opens the socket and asks there (its per-student limit)
    login = httpx.post(
        f"http://{base}/api/v1/auth/token/",
        json={"username": username, "password": "correct-horse-battery"},
        timeout=30,
    )
    asked = httpx.post(
        f"http://{base}/api/v1/ask/",
        json={"curriculum": "biology", "question": "What is osmosis?", "client_msg_id": "rest-1"},
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    )
    with connect(f"ws://{base}/ws/tutor/", subprotocols=["token", token]) as ws:
        _ask(ws, "socket-1")
        during = _frames_until_over(ws)

        # then each is answered as if the limits were not there (fail open), and the outage is logged
        assert (login.status_code, login.json()) == (200, {"token": token})
        assert asked.status_code == 200
        assert (asked.json()["status"], asked.json()["answer"]) == ("completed", " ".join(SENTENCES))
        assert [f["type"] for f in during] == ["accepted", *["sentence"] * len(SENTENCES), "done"]
        assert {
            m.client_msg_id: (m.status, m.answer)
            for m in Message.objects.filter(client_msg_id__in=["rest-1", "socket-1"])
        } == {"rest-1": ("completed", " ".join(SENTENCES)), "socket-1": ("completed", " ".join(SENTENCES))}
        outage_warnings = [r for r in caplog.records if r.name in ("config.cache", "config.channel_layers")]
        assert {r.levelname for r in outage_warnings} == {"WARNING"}
        assert {r.name for r in outage_warnings} == {"config.cache", "config.channel_layers"}
        assert [r for r in caplog.records if r.levelname == "ERROR"] == []

        # when Redis is back (same port, empty)
        with redis_server(redis_port, tmp_path):
            # then the socket opened during the outage subscribes its channel by itself
            subscribed_s = wait_until(
                lambda: redis.Redis(port=redis_port).pubsub_channels(), timeout_s=10, what="the late subscription"
            )
            assert subscribed_s < 3.0
            # and the limits count again: a socket question and a REST request leave their counters in Redis
            _ask(ws, "socket-2")
            after = _frames_until_over(ws)
            httpx.get(f"http://{base}/api/v1/me/", headers={"Authorization": f"Token {token}"}, timeout=30)
            keys = sorted(k.decode() for k in redis.Redis(port=redis_port).keys())

    assert [f["type"] for f in after] == ["accepted", *["sentence"] * len(SENTENCES), "done"]
    # (the socket's counter is per window: ":1:rate:ask:<student>:<window>")
    student_id = Token.objects.get(key=token).user_id
    assert [k.rsplit(":", 1)[0] if k.startswith(":1:rate:") else k for k in keys] == [
        f":1:rate:ask:{student_id}",
        f":1:throttle_user_{student_id}",
    ]
