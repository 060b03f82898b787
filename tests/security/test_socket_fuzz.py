"""Websocket fuzzing against a live uvicorn server (issue 15, "Bad input and security").

An authenticated student sends random, malformed, huge and flooding frames to /ws/tutor/ on a real
server (tests/asgi_server.py) running the real answer service with a scripted model and a lexical
scorer (so that times are stable). Asserted: the server stays up, each bad frame is answered with
the error frame docs/websocket-protocol.md documents (or a documented close), nothing is logged at
ERROR, and another student's answer on a second connection arrives in about the same time during
the flood as without it.
"""

import json
import logging
import random
import statistics
import threading
import time
from collections.abc import Iterator

import pytest
from rest_framework.authtoken.models import Token
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.asgi_server import serving
from tests.factories import EnrollmentFactory, UserFactory
from tests.fakes import LexicalScorer, ScriptedChatClient
from tutor.socket_protocol import MAX_FRAME_CHARS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ANSWER = "Speed is the magnitude of velocity [1]. Velocity has a direction [2]."
# Every code a bad frame may get (docs/websocket-protocol.md, "error"); a frame that is a valid
# ask may also be refused by the service or answered.
FRAME_ERRORS = {"bad_json", "bad_frame", "frame_too_large", "unknown_type", "invalid_ask"}
ASK_REFUSALS = {
    "busy",
    "rate_limited",
    "nothing_to_cancel",
    "empty_question",
    "question_too_long",
    "unknown_curriculum",
    "not_enrolled",
    "unknown_conversation",
    "duplicate_client_msg_id",
}
# Closes the protocol documents for frames the server does not read at all.
CLOSE_MESSAGE_TOO_BIG, CLOSE_INVALID_UTF8 = 1009, 1007
FLOOD_S = 6.0  # at least; the flood lasts as long as the victim's 8 questions


class _ErrorLog(logging.Handler):
    """Every record at ERROR or above, from any server-side logger (uvicorn's own do not reach the root).

    The test's own clients log through `websockets.client`: a flooding client whose socket the
    server closes mid-read logs "unexpected internal error" (EOFError: stream ended) on its side,
    which says nothing about the server, so those records are not collected.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("websockets.client"):
            self.records.append(record)


@pytest.fixture
def server_errors() -> Iterator[list[logging.LogRecord]]:
    handler = _ErrorLog()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn"), logging.getLogger("uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler.records
    for logger in loggers:
        logger.removeHandler(handler)


@pytest.fixture
def live(imported_mini_book, settings, use_chat_client, use_scorer, server_errors):
    """uvicorn on the real answer service over the mini book; a scripted model, a lexical scorer."""
    from config.asgi import application

    settings.TUTOR_COMPOSITION = "draft"  # only the scripted sentences: a stable time to first sentence
    use_chat_client(ScriptedChatClient(answer=ANSWER, token_delay_s=0.005))
    use_scorer(LexicalScorer())
    with serving(application) as port:
        yield f"ws://127.0.0.1:{port}/ws/tutor/", imported_mini_book


def _student_token(curriculum) -> str:
    student = UserFactory()
    EnrollmentFactory(student=student, curriculum=curriculum)
    return Token.objects.create(user=student).key


def _open(url: str, token: str) -> ClientConnection:
    return connect(url, subprotocols=["token", token], open_timeout=10, max_size=None, close_timeout=2)


def _ask(slug: str, client_msg_id: str, question: str = "What is speed?") -> str:
    return json.dumps({"type": "ask", "curriculum": slug, "question": question, "client_msg_id": client_msg_id})


def _until_done(ws: ClientConnection) -> list[dict]:
    frames: list[dict] = []
    while not frames or frames[-1]["type"] not in ("done", "error"):
        frames.append(json.loads(ws.recv(timeout=30)))
    return frames


def _time_to_first_sentence(ws: ClientConnection, slug: str, client_msg_id: str) -> float:
    started = time.perf_counter()
    ws.send(_ask(slug, client_msg_id))
    first = None
    for frame in _until_done(ws):
        if frame["type"] == "sentence" and first is None:
            first = time.perf_counter() - started
    assert first is not None, f"no sentence released for {client_msg_id}"
    return first


# --- malformed frames, one by one ---------------------------------------------------------------------


def _malformed(slug: str) -> list[tuple[str, str | bytes, str]]:
    """(case, frame, the error code it must get)."""
    ask = {"type": "ask", "curriculum": slug, "question": "What is speed?", "client_msg_id": "x"}
    return [
        ("truncated json", '{"type": "ask", "question": "Wh', "bad_json"),
        ("empty frame", "", "bad_json"),
        ("trailing garbage", '{"type": "cancel"} {}', "bad_json"),
        ("nested 5,000 deep", "[" * 5_000 + "]" * 5_000, "bad_json"),
        ("nested objects 2,000 deep", '{"a":' * 2_000 + "1" + "}" * 2_000, "bad_json"),
        ("a number", "42", "bad_frame"),
        ("NaN", "NaN", "bad_frame"),
        ("a string", '"ask"', "bad_frame"),
        ("null", "null", "bad_frame"),
        ("binary", b"\x00\xff\xfe binary", "bad_frame"),
        ("binary json", json.dumps(ask).encode(), "bad_frame"),
        ("no type", "{}", "unknown_type"),
        ("unknown type", '{"type": "shout"}', "unknown_type"),
        ("type is a list", '{"type": ["ask"]}', "unknown_type"),
        ("type is an object", '{"type": {"ask": 1}}', "unknown_type"),
        ("ask without fields", '{"type": "ask"}', "invalid_ask"),
        ("question is a number", json.dumps({**ask, "question": 7}), "invalid_ask"),
        ("curriculum is null", json.dumps({**ask, "curriculum": None}), "invalid_ask"),
        ("client_msg_id is a list", json.dumps({**ask, "client_msg_id": ["x"]}), "invalid_ask"),
        ("client_msg_id too long", json.dumps({**ask, "client_msg_id": "x" * 65}), "invalid_ask"),
        ("conversation_id a string", json.dumps({**ask, "conversation_id": "1"}), "invalid_ask"),
        ("conversation_id a float", json.dumps({**ask, "conversation_id": 1.5}), "invalid_ask"),
        ("conversation_id true", json.dumps({**ask, "conversation_id": True}), "invalid_ask"),
        ("conversation_id past 64 bits", json.dumps({**ask, "conversation_id": 2**70}), "invalid_ask"),
        ("full_answer a string", json.dumps({**ask, "full_answer": "yes"}), "invalid_ask"),
        ("NUL in the curriculum", json.dumps({**ask, "curriculum": slug + "\x00"}), "invalid_ask"),
        ("NUL in the question", json.dumps({**ask, "question": "What\x00 is speed?"}), "invalid_ask"),
        ("NUL in client_msg_id", json.dumps({**ask, "client_msg_id": "x\x00"}), "invalid_ask"),
        ("lone surrogate in the question", json.dumps({**ask, "question": "What is \ud800 speed?"}), "invalid_ask"),
        ("lone surrogate in the curriculum", json.dumps({**ask, "curriculum": "\udfff"}), "invalid_ask"),
        ("over the size limit", json.dumps({**ask, "question": "a" * MAX_FRAME_CHARS}), "frame_too_large"),
        ("1 MiB of spaces", " " * 2**20, "frame_too_large"),
        ("blank question", json.dumps({**ask, "question": "   "}), "empty_question"),
        ("question over 2,000 characters", json.dumps({**ask, "question": "a" * 2_001}), "question_too_long"),
        ("unknown curriculum", json.dumps({**ask, "curriculum": "no-such-book"}), "unknown_curriculum"),
        ("someone else's conversation", json.dumps({**ask, "conversation_id": 2**62}), "unknown_conversation"),
        ("cancel with nothing in flight", '{"type": "cancel", "extra": [1, 2]}', "nothing_to_cancel"),
    ]


def test_each_malformed_frame_gets_its_documented_error_and_the_socket_stays_usable(live, server_errors):
    # given a student connected to a live server
    url, curriculum = live
    token = _student_token(curriculum)
    with _open(url, token) as ws:
        # when every kind of malformed frame is sent on the same socket
        answered = {}
        for case, frame, _ in _malformed(curriculum.slug):
            ws.send(frame)
            reply = json.loads(ws.recv(timeout=30))
            if reply["type"] != "error":  # accepted: let the answer finish before the next frame
                reply = _until_done(ws)[-1]
            answered[case] = (reply["type"], reply.get("code"), reply.get("message_id"), bool(reply.get("message")))
        # then each got exactly its documented error code with a message, and no message was saved for it
        assert answered == {case: ("error", code, None, True) for case, _, code in _malformed(curriculum.slug)}
        # and the same socket still answers a valid question
        ws.send(_ask(curriculum.slug, "after-the-fuzz"))
        frames = _until_done(ws)
        assert [f["type"] for f in frames] == ["accepted", "sentence", "sentence", "done"]
    assert server_errors == []


def test_frames_the_server_does_not_read_close_the_socket_with_a_documented_code(live, server_errors):
    # given a student connected to a live server
    url, curriculum = live
    token = _student_token(curriculum)
    # when one socket sends a frame over the server's websocket limit (16 MiB) and another invalid UTF-8 text
    closes = {}
    with _open(url, token) as ws:
        ws.send(json.dumps({"type": "ask", "question": "a" * (17 * 2**20)}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
        closes["17 MiB"] = closed.value.rcvd.code if closed.value.rcvd else None
    with _open(url, token) as ws:
        # the client library refuses to send invalid UTF-8 as text; its protocol layer takes raw bytes
        with ws.send_context():
            ws.protocol.send_text(b'{"type": "\xff\xfe"}')
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
        closes["invalid UTF-8"] = closed.value.rcvd.code if closed.value.rcvd else None
    # then they were closed with "message too big" and "invalid data"
    assert closes == {"17 MiB": CLOSE_MESSAGE_TOO_BIG, "invalid UTF-8": CLOSE_INVALID_UTF8}
    # and the server is still up: a new socket is answered
    with _open(url, token) as ws:
        ws.send(_ask(curriculum.slug, "after-the-close"))
        assert _until_done(ws)[-1]["type"] == "done"
    assert server_errors == []


# --- random frames and a flood, while another student is answered ---------------------------------------


def _random_value(rng: random.Random, depth: int = 0) -> object:
    kinds = ["int", "float", "str", "bool", "null", "bigint"] + (["list", "dict"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.randint(-(2**31), 2**31)
    if kind == "bigint":
        return rng.choice([1, -1]) * 2 ** rng.randint(60, 200)
    if kind == "float":
        return rng.uniform(-1e6, 1e6)
    if kind == "str":
        alphabet = 'ab c\x00\n"\\é€😀\ud800\udfff{}[]'
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {str(_random_value(rng, depth + 1))[:10]: _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _random_frame(rng: random.Random, slug: str, n: int) -> str | bytes:
    """One random frame: garbage bytes, broken JSON, random JSON, or an ask with random fields."""
    roll = rng.random()
    if roll < 0.1:
        return rng.randbytes(rng.randint(0, 200))
    if roll < 0.25:
        text = json.dumps(_random_value(rng))
        return text[: rng.randint(0, len(text))]
    if roll < 0.4:
        return json.dumps(_random_value(rng))
    if roll < 0.45:
        return "x" * (MAX_FRAME_CHARS + rng.randint(1, 50_000))
    frame: dict[str, object] = {"type": rng.choice(["ask", "ask", "cancel", "ASK", "", "answer.frame"])}
    for field in ("curriculum", "question", "client_msg_id", "conversation_id", "full_answer"):
        if rng.random() < 0.7:
            frame[field] = _random_value(rng)
    if rng.random() < 0.5:
        frame.update(curriculum=slug, client_msg_id=f"fuzz-{n}", question=rng.choice(["What is speed?", "", "é" * 50]))
    return json.dumps(frame)


def _flood(url: str, token: str, slug: str, *, seed: int, stop: threading.Event, seen: list[dict]) -> None:
    """Send random frames as fast as the server takes them; read every reply on a second thread."""
    rng = random.Random(seed)
    with _open(url, token) as ws:

        def read() -> None:
            try:
                while True:
                    seen.append(json.loads(ws.recv(timeout=30)))
            except (ConnectionClosed, TimeoutError):
                return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        n = 0
        while not stop.is_set():
            try:
                ws.send(_random_frame(rng, slug, n))
            except ConnectionClosed as closed:
                seen.append({"type": "closed", "code": closed.rcvd.code if closed.rcvd else None})
                break
            n += 1
        seen.append({"type": "sent", "count": n})
        time.sleep(1)  # replies still on their way
    reader.join(timeout=10)


def test_a_flood_of_random_frames_leaves_the_server_up_and_another_students_answer_on_time(live, server_errors):
    # given a victim student and a flooding student on the same live server
    url, curriculum = live
    victim_token, flooder_token = _student_token(curriculum), _student_token(curriculum)
    with _open(url, victim_token) as victim:
        _time_to_first_sentence(victim, curriculum.slug, "warm-up")  # first-use costs out of the baseline
        quiet = [_time_to_first_sentence(victim, curriculum.slug, f"quiet-{i}") for i in range(5)]
        # when two sockets of the flooder send random frames as fast as the server takes them
        stop, seen = threading.Event(), [[], []]
        flooders = [
            threading.Thread(
                target=_flood,
                args=(url, flooder_token, curriculum.slug),
                kwargs={"seed": s, "stop": stop, "seen": seen[s]},
            )
            for s in (0, 1)
        ]
        for flooder in flooders:
            flooder.start()
        flood_started = time.monotonic()
        time.sleep(0.5)
        # (the victim's 1 + 5 + 8 questions stay under the default 20 a minute)
        flooded = [_time_to_first_sentence(victim, curriculum.slug, f"flooded-{i}") for i in range(8)]
        time.sleep(max(0.0, FLOOD_S - (time.monotonic() - flood_started)))
        stop.set()
        for flooder in flooders:
            flooder.join(timeout=30)
    sent = sum(f["count"] for s in seen for f in s if f["type"] == "sent")
    replies = [f for s in seen for f in s if f["type"] != "sent"]
    codes = {f.get("code") for f in replies if f["type"] == "error"}
    quiet_median, flooded_median = statistics.median(quiet), statistics.median(flooded)
    print(
        f"\nflood: {sent} frames in {FLOOD_S:.0f}+ s from 2 sockets, {len(replies)} replies, codes {sorted(codes)}; "
        f"victim's time to first sentence: quiet median {quiet_median * 1000:.0f} ms (max {max(quiet) * 1000:.0f}), "
        f"flooded median {flooded_median * 1000:.0f} ms (max {max(flooded) * 1000:.0f}, n={len(flooded)})"
    )
    # then every reply to the flood is a documented frame: an error with a documented code, or an answer
    assert {f["type"] for f in replies} <= {"error", "accepted", "sentence", "flagged", "notice", "done"}
    assert codes <= FRAME_ERRORS | ASK_REFUSALS | {"cancelled"}
    assert "internal" not in codes
    # and the victim's answers were not slowed beyond a generous bound
    assert flooded_median < 3 * quiet_median + 0.5
    # and nothing was logged as a server error
    assert server_errors == []
