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


def test_answer_cut_off_by_a_restart_is_shown_failed_and_can_be_retried(
    api_client, imported_mini_book, use_chat_client, use_scorer, settings
):
    # given an answer left streaming by a server that stopped 11 minutes ago, and one started just now
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import ConversationFactory, MessageFactory

    settings.TUTOR_ANSWER_INTERRUPTED_AFTER_S = 600
    student = UserFactory()
    EnrollmentFactory(student=student, curriculum=imported_mini_book)
    conversation = ConversationFactory(student=student, curriculum=imported_mini_book)
    cut_off = MessageFactory(
        conversation=conversation,
        student=student,
        question="What is speed?",
        status="streaming",
        started_at=timezone.now() - timedelta(minutes=11),
    )
    live = MessageFactory(conversation=conversation, student=student, question="What is mass?", status="streaming")
    token, _ = Token.objects.get_or_create(user=student)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    use_chat_client(ScriptedChatClient(answer="Speed is the magnitude of velocity [1]."))
    use_scorer(LexicalScorer())

    # when the client fetches both
    shown = api_client.get(f"/api/v1/messages/{cut_off.pk}/").json()
    still = api_client.get(f"/api/v1/messages/{live.pk}/").json()

    # then the cut-off one reads as failed, interrupted, and the live one is left alone
    assert (shown["status"], shown["error_code"]) == ("failed", "interrupted")
    assert "ask it again" in shown["error_message"]
    assert (still["status"], still["error_code"]) == ("streaming", "")
    # and the cut-off one can be retried (the live one cannot), keeping its question
    assert api_client.post(f"/api/v1/messages/{live.pk}/retry/").status_code == 409
    retried = api_client.post(f"/api/v1/messages/{cut_off.pk}/retry/")
    assert retried.status_code == 200
    assert (retried.json()["question"], retried.json()["status"]) == ("What is speed?", "completed")
