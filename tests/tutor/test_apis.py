"""The mobile REST API under /api/v1/: accounts, enrolment, asking, history."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.throttling import ScopedRateThrottle

from tests.factories import CurriculumFactory, EnrollmentFactory, UserFactory
from tutor.models import AnswerSentence, Conversation, Message
from tutor.services import MAX_QUESTION_CHARS

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api_client, enrolled_student):
    api_client.force_authenticate(enrolled_student)
    return api_client


def make_message(student, curriculum, *, client_msg_id="", question="What is osmosis?") -> Message:
    conversation = Conversation.objects.create(student=student, curriculum=curriculum, title=question)
    message = Message.objects.create(
        conversation=conversation,
        student=student,
        question=question,
        client_msg_id=client_msg_id,
        status=Message.Status.COMPLETED,
        answer="Osmosis moves water.",
    )
    AnswerSentence.objects.create(
        message=message,
        index=0,
        text="Osmosis moves water.",
        verdict="supported",
        citations=[{"chunk_id": 7, "topic": "Passive Transport", "module": "m66374"}],
    )
    AnswerSentence.objects.create(
        message=message, index=1, text="The moon is cheese.", verdict="unsupported", delivery="withheld"
    )
    return message


# --- accounts -----------------------------------------------------------------------------------------


def test_register_creates_a_student_whose_token_works(api_client):
    # given a new student's details
    payload = {
        "username": "amira",
        "password": "a-long-passphrase-42",
        "email": "amira@example.org",
        "level": "beginner",
    }
    # when they register
    response = api_client.post("/api/v1/auth/register/", payload, format="json")
    # then they get a token that authenticates them, and they are a plain student
    assert response.status_code == 201
    token = response.json()["token"]
    assert Token.objects.get(key=token).user.username == "amira"
    me = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.json() == {
        "id": response.json()["id"],
        "username": "amira",
        "email": "amira@example.org",
        "level": "beginner",
        "is_teacher": False,
    }


def test_register_refuses_a_weak_password_with_the_error_body(api_client):
    # given a password the validators reject
    # when registering with it
    response = api_client.post("/api/v1/auth/register/", {"username": "bo", "password": "12345"}, format="json")
    # then the error body names the field and nothing is created
    body = response.json()
    assert (response.status_code, body["error"]["code"]) == (400, "invalid")
    assert "password" in body["error"]["details"]
    assert not Token.objects.exists()


def test_register_refuses_a_taken_username(api_client):
    # given an existing user "carla"
    UserFactory(username="carla")
    # when someone registers as "Carla"
    response = api_client.post("/api/v1/auth/register/", {"username": "Carla", "password": "a-long-passphrase-42"})
    # then the username is refused
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"username": ["That username is taken."]}


def test_login_returns_the_token(api_client):
    # given a registered student
    api_client.post("/api/v1/auth/register/", {"username": "dee", "password": "a-long-passphrase-42"})
    # when they log in
    response = api_client.post("/api/v1/auth/token/", {"username": "dee", "password": "a-long-passphrase-42"})
    # then they get their token
    assert response.json()["token"] == Token.objects.get(user__username="dee").key


def test_login_ignores_a_stale_token_header(api_client):
    # given a registered student whose app still sends a revoked token
    api_client.post("/api/v1/auth/register/", {"username": "eve", "password": "a-long-passphrase-42"})
    api_client.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    # when they log in again
    response = api_client.post("/api/v1/auth/token/", {"username": "eve", "password": "a-long-passphrase-42"})
    # then the credentials in the body count, and they get their token
    assert (response.status_code, response.json()) == (200, {"token": Token.objects.get(user__username="eve").key})


def test_register_takes_the_documented_blank_email(api_client):
    # given the schema's default for email, sent as generated clients send defaults
    body = {"username": "fay", "password": "a-long-passphrase-42", "email": ""}
    # when registering
    response = api_client.post("/api/v1/auth/register/", body, format="json")
    # then the account is made without an email
    assert (response.status_code, response.json()["email"]) == (201, "")


def test_me_needs_authentication(api_client):
    # given no credentials
    # when asking who I am
    response = api_client.get("/api/v1/me/")
    # then it is refused in the error body
    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")


# --- enrolment ------------------------------------------------------------------------------------------


def test_enrol_then_list_my_curricula(client, curriculum):
    # given a second curriculum in the catalogue
    CurriculumFactory(slug="chemistry", title="Chemistry")
    # when the student enrols in it (twice: idempotent)
    first = client.post("/api/v1/me/enrollments/", {"curriculum": "chemistry"}, format="json")
    again = client.post("/api/v1/me/enrollments/", {"curriculum": "chemistry"}, format="json")
    # then both curricula are theirs, listed once each
    assert (first.status_code, again.status_code, first.json()["curriculum"]) == (201, 201, "chemistry")
    listing = client.get("/api/v1/me/curricula/").json()
    assert (listing["count"], [c["slug"] for c in listing["results"]]) == (2, ["biology", "chemistry"])


def test_enrol_in_an_unknown_curriculum_is_404(client):
    # given no curriculum "astrology"
    # when enrolling in it
    response = client.post("/api/v1/me/enrollments/", {"curriculum": "astrology"}, format="json")
    # then it is not found
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


# --- asking ---------------------------------------------------------------------------------------------


def test_ask_returns_the_whole_verified_answer(client, scripted_answers):
    # given an answer whose second sentence fails verification (withheld)
    scripted_answers.sentences = ["Osmosis moves water.", "The moon is cheese."]
    scripted_answers.flagged = {1: "unsupported"}
    # when the student asks over REST
    response = client.post(
        "/api/v1/ask/", {"curriculum": "biology", "question": "What is osmosis?", "client_msg_id": "r1"}, format="json"
    )
    # then the whole answer comes back with verdicts and citations, the withheld text hidden
    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["client_msg_id"], body["curriculum"], body["answer"]) == (
        "completed",
        "r1",
        "biology",
        "Osmosis moves water.",
    )
    assert body["sentences"] == [
        {
            "index": 0,
            "text": "Osmosis moves water.",
            "verdict": "supported",
            "delivery": "released",
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
            "correction": None,
        },
        {
            "index": 1,
            "text": None,
            "verdict": "unsupported",
            "delivery": "withheld",
            "citations": [],
            "correction": None,
        },
    ]


def test_ask_for_the_full_answer_reaches_the_tutor_and_the_message_says_its_mode(client, scripted_answers):
    # given
    ask = {"curriculum": "biology", "question": "What is osmosis?", "client_msg_id": "r1", "full_answer": True}
    # when the student asks for the full answer (after a hint-first clue)
    response = client.post("/api/v1/ask/", ask, format="json")
    # then the flag reaches the tutor, and the saved message is an answer, not a hint
    assert response.status_code == 200
    assert [call["full_answer"] for call in scripted_answers.calls] == [True]
    assert response.json()["mode"] == "answer"


def test_ask_when_the_llm_fails_is_503_with_the_saved_message(client, scripted_answers):
    # given an LLM that times out
    scripted_answers.failure = ("llm_timeout", "The tutor is taking too long; please try again.")
    # when the student asks
    response = client.post("/api/v1/ask/", {"curriculum": "biology", "question": "What is osmosis?"}, format="json")
    # then it is a 503 in the error body naming the saved question, kept for a retry
    message = Message.objects.get()
    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "code": "llm_timeout",
            "message": "The tutor is taking too long; please try again.",
            "details": {"message_id": message.pk, "retryable": True},
        }
    }
    assert (message.status, message.question) == ("failed", "What is osmosis?")


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"curriculum": "chemistry", "question": "Q?"}, 403, "not_enrolled"),
        ({"curriculum": "astrology", "question": "Q?"}, 404, "unknown_curriculum"),
        ({"curriculum": "biology", "question": "   "}, 400, "empty_question"),
        ({"curriculum": "biology", "question": "a" * (MAX_QUESTION_CHARS + 1)}, 400, "question_too_long"),
        ({"curriculum": "biology", "question": "Q?", "conversation_id": 999999}, 404, "unknown_conversation"),
    ],
)
def test_ask_refusals_from_the_real_service(client, payload, status, code):
    # given the real tutor service, and a chemistry course the student is not enrolled in
    CurriculumFactory(slug="chemistry", title="Chemistry")
    # when the student asks something it refuses
    response = client.post("/api/v1/ask/", payload, format="json")
    # then the status and code say why, and nothing is saved
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert not Message.objects.exists()


def test_ask_with_a_reused_client_msg_id_is_409(client, enrolled_student, curriculum):
    # given a message already sent as "dup"
    make_message(enrolled_student, curriculum, client_msg_id="dup")
    # when the client sends a new question under the same id
    response = client.post("/api/v1/ask/", {"curriculum": "biology", "question": "Q?", "client_msg_id": "dup"})
    # then it is a conflict
    assert (response.status_code, response.json()["error"]["code"]) == (409, "duplicate_client_msg_id")


def test_ask_is_throttled_by_the_ask_scope(client, scripted_answers, monkeypatch):
    # given an "ask" rate of two a minute
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"ask": "2/min"})
    # when the student asks three times
    codes = [
        client.post("/api/v1/ask/", {"curriculum": "biology", "question": f"Q{n}?"}, format="json").status_code
        for n in range(3)
    ]
    # then the third is throttled
    assert codes == [200, 200, 429]


# --- history ------------------------------------------------------------------------------------------------


def test_conversations_are_paginated_and_filtered_by_curriculum(client, enrolled_student, curriculum):
    # given two biology conversations and one chemistry conversation, and another student's
    chemistry = EnrollmentFactory(student=enrolled_student, curriculum=CurriculumFactory(slug="chemistry")).curriculum
    make_message(enrolled_student, curriculum)
    make_message(enrolled_student, curriculum)
    make_message(enrolled_student, chemistry)
    make_message(UserFactory(), curriculum)
    # when listing biology conversations one per page
    page = client.get("/api/v1/conversations/", {"curriculum": "biology", "limit": 1}).json()
    # then there are two, and the next page link is given
    assert (page["count"], len(page["results"]), page["results"][0]["curriculum"]) == (2, 1, "biology")
    assert "offset=1" in page["next"]
    assert client.get("/api/v1/conversations/").json()["count"] == 3


def test_conversation_messages_carry_verdicts_and_citations(client, enrolled_student, curriculum):
    # given a conversation with an answered message
    message = make_message(enrolled_student, curriculum)
    # when listing its messages
    page = client.get(f"/api/v1/conversations/{message.conversation_id}/messages/").json()
    # then the message has its sentences, the withheld one without text; a citation saved before
    # sections were numbered reads with an empty label (clients show its topic)
    (listed,) = page["results"]
    assert [(s["index"], s["text"], s["verdict"]) for s in listed["sentences"]] == [
        (0, "Osmosis moves water.", "supported"),
        (1, None, "unsupported"),
    ]
    assert listed["sentences"][0]["citations"] == [
        {
            "chunk_id": 7,
            "topic": "Passive Transport",
            "module": "m66374",
            "marker": None,
            "label": "",
            "section": "",
            "unit": "",
        }
    ]


def test_another_students_conversation_and_message_are_not_found(client, curriculum):
    # given another student's message
    message = make_message(UserFactory(), curriculum, client_msg_id="theirs")
    # when this student asks for it every way
    urls = [
        f"/api/v1/conversations/{message.conversation_id}/messages/",
        f"/api/v1/messages/{message.pk}/",
        "/api/v1/messages/by-client-id/theirs/",
    ]
    # then each is 404
    assert [client.get(url).status_code for url in urls] == [404, 404, 404]


def test_a_message_is_fetched_by_its_client_msg_id(client, enrolled_student, curriculum):
    # given a message sent as "phone-42"
    message = make_message(enrolled_student, curriculum, client_msg_id="phone-42")
    # when the client fetches it by that id
    body = client.get("/api/v1/messages/by-client-id/phone-42/").json()
    # then it is that message with its answer
    assert (body["id"], body["status"], body["answer"]) == (message.pk, "completed", "Osmosis moves water.")
