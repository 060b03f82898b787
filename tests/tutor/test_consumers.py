"""The tutor websocket through the full ASGI stack (origin check, token/session auth, routing)."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.authtoken.models import Token

from config.asgi import application
from tests.factories import CurriculumFactory, UserFactory
from tutor.consumers import answers_in_flight
from tutor.models import Message
from tutor.services import MAX_QUESTION_CHARS

pytestmark = pytest.mark.django_db(transaction=True)

SAME_SITE = (b"origin", b"http://127.0.0.1:8000")


def ask(client_msg_id: str = "c1", question: str = "What is osmosis?", curriculum: str = "biology", **extra) -> dict:
    return {"type": "ask", "curriculum": curriculum, "question": question, "client_msg_id": client_msg_id, **extra}


async def open_socket(token: str | None = None, *, headers=(SAME_SITE,), path: str = "/ws/tutor/"):
    subprotocols = ["token", token] if token else None
    communicator = WebsocketCommunicator(application, path, headers=list(headers), subprotocols=subprotocols)
    connected, detail = await communicator.connect()
    return communicator, connected, detail


async def receive_until(communicator, last_type: str, wait_s: float = 3) -> list[dict]:
    frames = []
    while True:
        frame = await communicator.receive_json_from(timeout=wait_s)
        frames.append(frame)
        if frame["type"] in (last_type, "error"):
            return frames


@pytest.fixture(autouse=True)
async def _no_answer_left_running():
    yield
    for task in answers_in_flight():
        task.cancel()
    await asyncio.gather(*answers_in_flight(), return_exceptions=True)


# --- handshake --------------------------------------------------------------------------------------


async def test_a_connection_without_credentials_is_refused():
    # given a same-site browser connection with neither session nor token
    # when it connects
    _, connected, _ = await open_socket()
    # then the handshake is refused
    assert connected is False


async def test_an_unknown_token_is_refused(enrolled_student):
    # given a token that does not exist
    # when a client connects with it
    _, connected, _ = await open_socket("0" * 40)
    # then it is refused
    assert connected is False


async def test_a_token_subprotocol_is_accepted_with_the_token_subprotocol(token):
    # given a valid token offered as the subprotocol pair ["token", key]
    # when the client connects
    communicator, connected, subprotocol = await open_socket(token)
    # then the server accepts and selects "token" (clients check a selected subprotocol was offered)
    assert (connected, subprotocol) == (True, "token")
    await communicator.disconnect()


async def test_a_token_in_the_query_string_is_accepted(token):
    # given a valid token in ?token=
    # when the client connects without subprotocols
    communicator, connected, subprotocol = await open_socket(path=f"/ws/tutor/?token={token}")
    # then it is accepted with no subprotocol
    assert (connected, subprotocol) == (True, None)
    await communicator.disconnect()


async def test_a_foreign_origin_is_refused_even_with_a_valid_token(token):
    # given a page on another site holding a valid token
    # when it connects with its own Origin
    _, connected, _ = await open_socket(token, headers=[(b"origin", b"https://evil.example")])
    # then the origin check refuses it
    assert connected is False


async def test_a_native_client_without_origin_connects_with_a_token(token):
    # given a mobile client, which sends no Origin header
    # when it connects with a token
    communicator, connected, _ = await open_socket(token, headers=[])
    # then it is accepted
    assert connected is True
    await communicator.disconnect()


async def test_the_session_cookie_counts_only_with_a_same_site_origin(enrolled_student):
    # given a logged-in browser session
    client = Client()
    await sync_to_async(client.force_login)(enrolled_student)
    cookie = (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())
    # when the same-site page connects with the cookie
    communicator, same_site, _ = await open_socket(headers=[SAME_SITE, cookie])
    # and a client without any Origin presents only the cookie
    _, without_origin, _ = await open_socket(headers=[cookie])
    # then only the same-site page is accepted
    assert (same_site, without_origin) == (True, False)
    await communicator.disconnect()


# --- bad input: an error frame, the socket stays usable ----------------------------------------------


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"type": "ask", "question": "What is osmosis?"}', "invalid_ask"),
        (
            '{"type": "ask", "curriculum": "biology", "question": "Q?", "client_msg_id": "c", "conversation_id": "1"}',
            "invalid_ask",
        ),
        ("x" * 20_000, "frame_too_large"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_usable(token, scripted_answers, payload, code):
    communicator, _, _ = await open_socket(token)
    # given a frame the server cannot act on
    await communicator.send_to(text_data=payload)
    # when the server answers it
    error = await communicator.receive_json_from()
    # then it is an error frame with its code, and a valid question on the same socket is answered
    assert (error["type"], error["code"], error["message_id"]) == ("error", code, None)
    await communicator.send_json_to(ask())
    frames = await receive_until(communicator, "done")
    assert [f["type"] for f in frames] == ["accepted", "sentence", "sentence", "done"]
    await communicator.disconnect()


async def test_a_binary_frame_gets_an_error(token):
    communicator, _, _ = await open_socket(token)
    # given a binary frame
    await communicator.send_to(bytes_data=b"\x00\x01")
    # when the server answers it
    error = await communicator.receive_json_from()
    # then it asks for JSON text
    assert error["code"] == "bad_frame"
    await communicator.disconnect()


async def test_an_oversized_question_is_refused_and_nothing_is_saved(token):
    # given the real tutor service and a question one character over its limit
    communicator, _, _ = await open_socket(token)
    # when it is asked
    await communicator.send_json_to(ask(question="a" * (MAX_QUESTION_CHARS + 1)))
    error = await communicator.receive_json_from(timeout=30)
    # then the service's refusal arrives as an error frame and no message was saved
    assert (error["type"], error["code"]) == ("error", "question_too_long")
    assert await Message.objects.acount() == 0
    await communicator.disconnect()


async def test_a_curriculum_the_student_is_not_enrolled_in_is_refused(token):
    # given the real tutor service and a curriculum the student never enrolled in
    await sync_to_async(CurriculumFactory)(slug="chemistry", title="Chemistry")
    communicator, _, _ = await open_socket(token)
    # when the student asks about it
    await communicator.send_json_to(ask(curriculum="chemistry"))
    error = await communicator.receive_json_from(timeout=30)
    # then it is refused, nothing is saved, and the socket still takes a question
    assert (error["code"], error["message"]) == ("not_enrolled", "You are not enrolled in Chemistry.")
    assert await Message.objects.acount() == 0
    await communicator.send_json_to({"type": "cancel"})
    assert (await communicator.receive_json_from())["code"] == "nothing_to_cancel"
    await communicator.disconnect()


async def test_a_reused_client_msg_id_is_refused_by_the_real_service(token, enrolled_student):
    # given a message already sent under client id "c1"
    communicator, _, _ = await open_socket(token)
    conversation = await sync_to_async(
        lambda: enrolled_student.conversations.create(curriculum_id=enrolled_student.enrollments.get().curriculum_id)
    )()
    await Message.objects.acreate(
        conversation=conversation, student=enrolled_student, question="Q?", client_msg_id="c1"
    )
    # when the client sends another question under the same id
    await communicator.send_json_to(ask(client_msg_id="c1"))
    error = await communicator.receive_json_from(timeout=30)
    # then it is told to fetch the first one's answer
    assert error["code"] == "duplicate_client_msg_id"
    await communicator.disconnect()


# --- answering ----------------------------------------------------------------------------------------


async def test_an_answer_streams_accepted_sentences_flags_and_done(token, scripted_answers):
    # given an answer whose middle sentence fails verification (policy: withhold)
    scripted_answers.sentences = ["Osmosis moves water.", "The moon is cheese.", "Cells swell in hypotonic solutions."]
    scripted_answers.flagged = {1: "unsupported"}
    communicator, _, _ = await open_socket(token)
    # when the student asks
    await communicator.send_json_to(ask(client_msg_id="q-1"))
    frames = await receive_until(communicator, "done")
    # then the frames follow the protocol, with the saved message's id
    message = await Message.objects.aget()
    assert frames == [
        {
            "type": "accepted",
            "message_id": message.pk,
            "conversation_id": message.conversation_id,
            "client_msg_id": "q-1",
        },
        {
            "type": "sentence",
            "index": 0,
            "text": "Osmosis moves water.",
            "verdict": "supported",
            "citations": [
                {
                    "chunk_id": 1000,
                    "topic": "Passive Transport",
                    "module": "m66374",
                    "marker": 1,
                    "label": "5.2 Passive Transport",
                    "section": "5.2",
                    "unit": "Structure and Function of Plasma Membranes",
                }
            ],
        },
        {"type": "flagged", "index": 1, "reason": "unsupported", "text": None},
        {
            "type": "sentence",
            "index": 2,
            "text": "Cells swell in hypotonic solutions.",
            "verdict": "supported",
            "citations": [
                {
                    "chunk_id": 1002,
                    "topic": "Passive Transport",
                    "module": "m66374",
                    "marker": 3,
                    "label": "5.2 Passive Transport",
                    "section": "5.2",
                    "unit": "Structure and Function of Plasma Membranes",
                }
            ],
        },
        {"type": "done", "message_id": message.pk, "status": "completed", "timings": {"total": 0.01}},
    ]
    # and the withheld sentence's text never reached the socket
    assert "cheese" not in repr(frames)
    assert message.status == Message.Status.COMPLETED
    await communicator.disconnect()


async def test_a_second_question_while_one_is_in_flight_is_busy(token, scripted_answers):
    # given an answer held in flight
    scripted_answers.hold = asyncio.Event()
    communicator, _, _ = await open_socket(token)
    await communicator.send_json_to(ask(client_msg_id="first"))
    assert (await communicator.receive_json_from())["type"] == "accepted"
    # when a second question arrives on the same socket
    await communicator.send_json_to(ask(client_msg_id="second"))
    busy = await communicator.receive_json_from()
    # then it is refused as busy, and the first answer still completes
    assert (busy["code"], busy["retryable"]) == ("busy", False)
    scripted_answers.hold.set()
    frames = await receive_until(communicator, "done")
    assert [f["type"] for f in frames] == ["sentence", "sentence", "done"]
    assert len(scripted_answers.calls) == 1
    await communicator.disconnect()


async def test_cancel_stops_the_answer_and_marks_the_message_cancelled(token, scripted_answers):
    # given an answer held in flight
    scripted_answers.hold = asyncio.Event()
    communicator, _, _ = await open_socket(token)
    await communicator.send_json_to(ask())
    accepted = await communicator.receive_json_from()
    # when the client cancels it
    await communicator.send_json_to({"type": "cancel"})
    cancelled = await communicator.receive_json_from()
    # then it is told so, the message is kept as cancelled, and the socket takes the next question
    assert cancelled == {
        "type": "error",
        "code": "cancelled",
        "message": "The answer was cancelled.",
        "message_id": accepted["message_id"],
        "retryable": True,
    }
    assert (await Message.objects.aget()).status == Message.Status.CANCELLED
    scripted_answers.hold = None
    await communicator.send_json_to(ask(client_msg_id="again"))
    assert [f["type"] for f in await receive_until(communicator, "done")][-1] == "done"
    await communicator.disconnect()


async def test_an_llm_failure_arrives_as_a_retryable_error_with_the_saved_message(token, scripted_answers):
    # given an LLM that is down
    scripted_answers.failure = ("llm_unavailable", "The tutor is unavailable right now.")
    communicator, _, _ = await open_socket(token)
    # when the student asks
    await communicator.send_json_to(ask())
    frames = await receive_until(communicator, "done")
    # then the error names the saved (failed) message so the student can retry it
    message = await Message.objects.aget()
    assert frames[-1] == {
        "type": "error",
        "code": "llm_unavailable",
        "message": "The tutor is unavailable right now.",
        "message_id": message.pk,
        "retryable": True,
    }
    assert (message.status, message.question) == (Message.Status.FAILED, "What is osmosis?")
    await communicator.disconnect()


async def test_a_dropped_connection_does_not_lose_the_answer(token, scripted_answers, enrolled_student):
    # given an answer in flight
    scripted_answers.hold = asyncio.Event()
    communicator, _, _ = await open_socket(token)
    await communicator.send_json_to(ask(client_msg_id="lost-1"))
    assert (await communicator.receive_json_from())["type"] == "accepted"
    # when the connection drops and the answer then finishes
    await communicator.disconnect()
    scripted_answers.hold.set()
    await asyncio.wait_for(asyncio.gather(*answers_in_flight()), timeout=5)
    # then the whole answer is saved for the client to fetch by its client_msg_id
    message = await Message.objects.aget(client_msg_id="lost-1")
    assert message.status == Message.Status.COMPLETED
    assert [s.text async for s in message.sentences.order_by("index")] == scripted_answers.sentences


async def test_the_question_rate_limit_spans_all_sockets_of_a_student(token, scripted_answers, settings):
    # given a limit of two questions a minute
    settings.TUTOR_SOCKET_ASK_RATE = "2/min"
    first, _, _ = await open_socket(token)
    second, _, _ = await open_socket(token)
    # when the student asks twice on one socket and a third time on another
    for n in range(2):
        await first.send_json_to(ask(client_msg_id=f"a{n}"))
        await receive_until(first, "done")
    await second.send_json_to(ask(client_msg_id="b0"))
    refused = await second.receive_json_from()
    # then the third is refused as rate limited, retryable, and nothing was saved for it
    assert (refused["code"], refused["retryable"]) == ("rate_limited", True)
    assert await Message.objects.acount() == 2
    await first.disconnect()
    await second.disconnect()


async def test_another_students_limit_is_their_own(token, scripted_answers, settings, curriculum):
    # given a limit of one question a minute, used up by one student
    settings.TUTOR_SOCKET_ASK_RATE = "1/min"
    first, _, _ = await open_socket(token)
    await first.send_json_to(ask(client_msg_id="a"))
    await receive_until(first, "done")
    other = await sync_to_async(UserFactory)()
    await sync_to_async(other.enrollments.create)(curriculum=curriculum)
    other_token = (await Token.objects.acreate(user=other)).key
    # when another student asks
    second, _, _ = await open_socket(other_token)
    await second.send_json_to(ask(client_msg_id="a"))
    frames = await receive_until(second, "done")
    # then their question is answered
    assert frames[-1]["type"] == "done"
    await first.disconnect()
    await second.disconnect()


async def test_frames_can_travel_through_the_channel_layer(token, scripted_answers, settings):
    # given delivery through the configured channel layer instead of straight to the socket
    settings.TUTOR_SOCKET_DELIVERY = "channel_layer"
    communicator, _, _ = await open_socket(token)
    # when the student asks
    await communicator.send_json_to(ask(client_msg_id="layer-1"))
    frames = await receive_until(communicator, "done")
    # then the same frames arrive, in order
    assert [(f["type"], f.get("index")) for f in frames] == [
        ("accepted", None),
        ("sentence", 0),
        ("sentence", 1),
        ("done", None),
    ]
    await communicator.disconnect()


async def test_a_deactivated_students_token_is_refused(token, enrolled_student):
    # given a student whose account was deactivated
    enrolled_student.is_active = False
    await enrolled_student.asave(update_fields=["is_active"])
    # when their app connects with its token
    _, connected, _ = await open_socket(token)
    # then it is refused
    assert connected is False
