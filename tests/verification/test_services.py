"""verification.services: recording an answer's verification; batches sent while the broker is down."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.curriculum.brokers import closed_broker_url, sending_to, sent_tasks
from tests.factories import CurriculumFactory, VerificationRunFactory
from verification.graph.state import ClaimRecord
from verification.models import VerificationRecord, VerificationRun
from verification.pipeline import SentenceVerdict
from verification.services import verification_batch_create, verification_batches_requeue, verification_run_record


def _record(*, attempt: int, verdict: str, score: float) -> ClaimRecord:
    return ClaimRecord(
        claim_index=0,
        attempt=attempt,
        claim="Osmosis moves water.",
        verdict=verdict,
        score=score,
        evidence_chunk_ids=(7,),
        checker_version="test-checker",
        reasons=("number differs",) if verdict != "supported" else (),
        latency_ms=3.0,
    )


@pytest.mark.django_db
def test_an_answers_verification_is_recorded_with_every_attempt():
    # given a curriculum and one sentence checked twice (as drafted, then revised)
    curriculum = CurriculumFactory()
    verdict = SentenceVerdict(
        index=2,
        text="Osmosis moves water across a membrane.",
        original="Osmosis moves salt.",
        verdict="supported",
        score=0.97,
        citations=(),
        records=(
            _record(attempt=0, verdict="unsupported", score=0.2),
            _record(attempt=1, verdict="supported", score=0.97),
        ),
    )
    # when the verification is recorded
    run = verification_run_record(curriculum=curriculum, verdicts=[verdict])
    # then one finished answer run holds one record per attempt, in order, with its evidence
    assert (run.kind, run.status, run.curriculum_id) == (
        VerificationRun.Kind.ANSWER,
        VerificationRun.Status.DONE,
        curriculum.pk,
    )
    assert run.completed_at is not None
    rows = list(
        VerificationRecord.objects.filter(run=run)
        .order_by("attempt")
        .values_list("sentence_index", "attempt", "verdict", "score", "evidence_chunk_ids", "details")
    )
    assert rows == [
        (2, 0, "unsupported", 0.2, [7], {"reasons": ["number differs"], "sentence_verdict": "supported"}),
        (2, 1, "supported", 0.97, [7], {"reasons": [], "sentence_verdict": "supported"}),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_batch_submitted_while_the_broker_is_down_is_kept_pending():
    # given a curriculum, and a broker that refuses connections
    curriculum = CurriculumFactory()

    # when a teacher submits a batch of claims
    with sending_to(closed_broker_url()):
        run = verification_batch_create(curriculum=curriculum, claims=["Osmosis moves water."], created_by=None)

    # then the run is stored, pending, for the re-send sweep
    run.refresh_from_db()
    assert (run.kind, run.status, run.claims) == ("batch", "pending", ["Osmosis moves water."])


def _batch(*, age_s: int, status: str = "pending") -> VerificationRun:
    run = VerificationRunFactory(kind="batch", status=status, claims=["Osmosis moves water."])
    VerificationRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(seconds=age_s))
    return run


@pytest.mark.django_db(transaction=True)
def test_the_sweep_sends_exactly_the_stale_pending_batches_again(settings):
    # given batches pending for 10 and 15 minutes, one for 2 minutes, and stale ones no longer pending
    settings.PENDING_REQUEUE_AFTER_S = 300
    stale = [_batch(age_s=600), _batch(age_s=900)]
    _batch(age_s=120)
    for status in ("running", "done", "failed"):
        _batch(age_s=600, status=status)
    VerificationRunFactory(kind="answer", status="pending")

    # when the sweep runs with the broker up
    with sending_to("memory://") as url:
        sent = verification_batches_requeue()
        messages = sent_tasks(url)

    # then the two stale pending batches are sent again, oldest first
    task = "verification.tasks.verification_batch_execute_task"
    assert sent == 2
    assert messages == [(task, {"run_id": stale[1].pk}), (task, {"run_id": stale[0].pk})]


@pytest.mark.django_db(transaction=True)
def test_the_sweep_sends_nothing_while_the_broker_is_still_down(settings):
    # given a stale pending batch and the broker still down
    settings.PENDING_REQUEUE_AFTER_S = 300
    run = _batch(age_s=600)

    # when the sweep runs
    with sending_to(closed_broker_url()):
        sent = verification_batches_requeue()

    # then nothing is sent and the run stays pending for the next sweep
    assert (sent, VerificationRun.objects.get(pk=run.pk).status) == (0, "pending")
