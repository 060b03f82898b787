"""Batch verification: a teacher submits claims; a Celery task checks each against the syllabus."""

import pytest
from rest_framework.authtoken.models import Token

from tests.factories import ClassroomFactory, EnrollmentFactory, UserFactory
from tests.fakes import LexicalScorer, ScriptedChatClient
from verification.models import VerificationRun
from verification.services import verification_batch_execute

pytestmark = pytest.mark.django_db(transaction=True)


def _auth(client, user):
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_teacher_batch_is_checked_without_rewriting(api_client, imported_mini_book, use_chat_client, use_scorer):
    # given
    client = use_chat_client(ScriptedChatClient(answer="", revision="never used"))
    use_scorer(LexicalScorer())
    classroom = ClassroomFactory(curriculum=imported_mini_book)
    _auth(api_client, classroom.teacher)
    claims = ["Water boils at 100 degrees Celsius at sea level.", "Water boils at 40 degrees Celsius at sea level."]

    # when (the task runs eagerly once the request commits)
    accepted = api_client.post("/api/v1/curricula/mini-physics/verify/", {"claims": claims}, format="json")
    run = api_client.get(f"/api/v1/verification-runs/{accepted.json()['run_id']}/").json()

    # then
    assert accepted.status_code == 202
    assert run["status"] == "done"
    assert [(r["sentence_index"], r["claim"], r["verdict"]) for r in run["records"]] == [
        (0, claims[0], "supported"),
        (1, claims[1], "contradicted"),
    ]
    assert "number not in evidence: 40" in run["records"][1]["details"]["reasons"]
    assert client.prompts == []


def test_students_cannot_run_batches(api_client, imported_mini_book):
    student = UserFactory()
    EnrollmentFactory(student=student, curriculum=imported_mini_book)
    _auth(api_client, student)
    response = api_client.post("/api/v1/curricula/mini-physics/verify/", {"claims": ["x y z w"]}, format="json")
    assert response.status_code == 403


def test_finished_runs_are_not_executed_again(imported_mini_book, use_scorer):
    # given a run that is already done
    use_scorer(LexicalScorer())
    run = VerificationRun.objects.create(
        curriculum=imported_mini_book, kind="batch", status="done", claims=["Heat flows from hot to cold."]
    )

    # when
    again = verification_batch_execute(run_id=run.pk)

    # then
    assert again.status == "done"
    assert again.records.count() == 0


def test_another_teachers_run_is_not_visible(api_client, imported_mini_book):
    run = VerificationRun.objects.create(
        curriculum=imported_mini_book, kind="batch", status="done", claims=["a b c d"], created_by=UserFactory()
    )
    _auth(api_client, ClassroomFactory(curriculum=imported_mini_book).teacher)
    assert api_client.get(f"/api/v1/verification-runs/{run.pk}/").status_code == 404
