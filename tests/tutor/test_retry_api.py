"""POST /api/v1/messages/<id>/retry/: a failed answer is answered again, same message and question."""

import pytest
from rest_framework.authtoken.models import Token

from llm.errors import LLMUnavailableError
from tests.factories import EnrollmentFactory, UserFactory
from tests.fakes import LexicalScorer, ScriptedChatClient

pytestmark = pytest.mark.django_db(transaction=True)


def test_failed_answer_is_retried_in_place(api_client, imported_mini_book, use_chat_client, use_scorer):
    # given a question that failed because the model was down
    student = UserFactory()
    EnrollmentFactory(student=student, curriculum=imported_mini_book)
    token, _ = Token.objects.get_or_create(user=student)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client = use_chat_client(
        ScriptedChatClient(
            answer="Speed is the magnitude of velocity [1].", fail_with=LLMUnavailableError("timeout", "slow")
        )
    )
    use_scorer(LexicalScorer())
    failed = api_client.post(
        "/api/v1/ask/", {"curriculum": "mini-physics", "question": "What is speed?"}, format="json"
    )
    message_id = failed.json()["error"]["details"]["message_id"]

    # when the model is back
    client.fail_with = None
    retried = api_client.post(f"/api/v1/messages/{message_id}/retry/")
    again = api_client.post(f"/api/v1/messages/{message_id}/retry/")

    # then
    assert (failed.status_code, failed.json()["error"]["code"]) == (503, "llm_timeout")
    assert retried.status_code == 200
    body = retried.json()
    assert (body["id"], body["question"], body["status"]) == (message_id, "What is speed?", "completed")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_retryable"


def test_someone_elses_message_cannot_be_retried(api_client, imported_mini_book):
    stranger = UserFactory()
    token, _ = Token.objects.get_or_create(user=stranger)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.post("/api/v1/messages/999/retry/").status_code == 404
