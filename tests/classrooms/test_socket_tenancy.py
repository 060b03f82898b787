"""Tenancy over the tutor websocket (the real ASGI stack: origin check, token auth, routing, consumer).

A teacher's own syllabus is reachable over the socket by its owner and the students of the owner's
classes only; to anyone else an ask on it is answered exactly as an ask on a slug that does not
exist, and nothing is saved. Another student's conversation cannot be continued either.
"""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from rest_framework.authtoken.models import Token

from classrooms.services import classroom_create, classroom_create_with_syllabus, classroom_join
from config.asgi import application
from tests.factories import ConversationFactory, EnrollmentFactory, MessageFactory, TeacherFactory, UserFactory
from tests.tutor import answer_double
from tutor.consumers import answers_in_flight
from tutor.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

SAME_SITE = (b"origin", b"http://127.0.0.1:8000")
SECRET_TITLE = "Ms Noether's Ring Theory Notes"


@pytest.fixture(autouse=True)
async def _clean():
    await sync_to_async(cache.clear)()  # rate-limit counters
    yield
    for task in answers_in_flight():
        task.cancel()
    await asyncio.gather(*answers_in_flight(), return_exceptions=True)


@pytest.fixture
def world(transactional_db):
    """Teacher A with a class on a syllabus of their own and a student in it; teacher B with a class on a
    catalogue syllabus and a student in it; a student who enrolled in A's syllabus without the code."""
    teacher_a, teacher_b = TeacherFactory(), TeacherFactory()
    class_a = classroom_create_with_syllabus(teacher=teacher_a, name="Algebra 12A", syllabus_title=SECRET_TITLE)
    catalogue = EnrollmentFactory().curriculum
    class_b = classroom_create(teacher=teacher_b, curriculum=catalogue, name="Physics 9")
    student_a, student_b, sneak = UserFactory(), UserFactory(), UserFactory()
    classroom_join(student=student_a, code=class_a.join_code.code)
    classroom_join(student=student_b, code=class_b.join_code.code)
    EnrollmentFactory(student=sneak, curriculum=class_a.curriculum)
    tokens = {
        name: Token.objects.create(user=user).key
        for name, user in {
            "teacher_a": teacher_a,
            "teacher_b": teacher_b,
            "student_a": student_a,
            "student_b": student_b,
            "sneak": sneak,
        }.items()
    }
    return {"slug": class_a.curriculum.slug, "tokens": tokens, "student_a": student_a, "student_b": student_b}


@pytest.fixture
def scripted(settings) -> answer_double.AnswerScript:
    """The scripted double answers instead of the answer graph (no model): what reaches it was let through."""
    settings.TUTOR_ANSWER_BACKEND = answer_double.DOTTED_PATH
    return answer_double.reset()


def ask(curriculum: str, client_msg_id: str = "c1", **extra) -> dict:
    return {
        "type": "ask",
        "curriculum": curriculum,
        "question": "What is a ring?",
        "client_msg_id": client_msg_id,
    } | extra


async def first_frame(token: str, frame: dict) -> dict:
    communicator = WebsocketCommunicator(application, "/ws/tutor/", headers=[SAME_SITE], subprotocols=["token", token])
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to(frame)
    received = await communicator.receive_json_from(timeout=30)
    await communicator.disconnect()
    return received


@pytest.mark.parametrize("intruder", ["teacher_b", "student_b", "sneak"])
async def test_an_ask_on_another_teachers_syllabus_reads_as_an_unknown_curriculum(world, intruder):
    # given someone outside teacher A's classes (with the real tutor service behind the socket)
    token = world["tokens"][intruder]

    # when they ask on A's own syllabus, and on a slug that does not exist
    refused = await first_frame(token, ask(world["slug"]))
    unknown = await first_frame(token, ask("no-such-slug", client_msg_id="c2"))

    # then both are the same refusal (only the slug differs), A's title never leaks, and nothing is saved
    assert refused == {
        "type": "error",
        "code": "unknown_curriculum",
        "message": f"There is no curriculum '{world['slug']}'.",
        "message_id": None,
        "retryable": False,
    }
    assert unknown == refused | {"message": "There is no curriculum 'no-such-slug'."}
    assert SECRET_TITLE not in str(refused)
    assert await Message.objects.acount() == 0


async def test_the_refusal_comes_before_any_answer_backend(world, scripted):
    # given a backend that would answer anything it is handed
    # when teacher B asks on teacher A's syllabus
    refused = await first_frame(world["tokens"]["teacher_b"], ask(world["slug"]))

    # then the consumer refused it itself: the backend was never called
    assert (refused["type"], refused["code"]) == ("error", "unknown_curriculum")
    assert scripted.calls == []


@pytest.mark.parametrize("member", ["teacher_a", "student_a"])
async def test_the_owner_and_their_students_ask_on_it(world, scripted, member):
    # given the syllabus's owner, or a student who joined their class with the code
    # when they ask on it
    accepted = await first_frame(world["tokens"][member], ask(world["slug"]))

    # then the question goes through to the tutor
    assert accepted["type"] == "accepted"
    assert [call["curriculum"] for call in scripted.calls] == [world["slug"]]


async def test_a_student_cannot_continue_another_students_conversation(world):
    # given student A's conversation on A's syllabus, and student B also joined A's class
    conversation = await sync_to_async(ConversationFactory)(
        student=world["student_a"], curriculum=await _curriculum(world["slug"])
    )
    await sync_to_async(MessageFactory)(conversation=conversation, client_msg_id="a-1")
    await sync_to_async(EnrollmentFactory)(
        student=world["student_b"], curriculum=conversation.curriculum, classroom=await _class_of(world["slug"])
    )

    # when student B asks in student A's conversation (the real service checks it)
    refused = await first_frame(world["tokens"]["student_b"], ask(world["slug"], conversation_id=conversation.pk))

    # then it does not exist for them and nothing is added to it
    assert (refused["code"], refused["message"]) == ("unknown_conversation", "That conversation does not exist.")
    assert await Message.objects.acount() == 1


@sync_to_async
def _curriculum(slug: str):
    from curriculum.models import Curriculum

    return Curriculum.objects.get(slug=slug)


@sync_to_async
def _class_of(slug: str):
    from curriculum.models import Classroom

    return Classroom.objects.get(curriculum__slug=slug)
