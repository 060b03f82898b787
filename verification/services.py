"""Writes on the verification side: batch verification of claims a teacher submits.

A batch checks given text against the syllabus and never rewrites it (no revision step). The
answer path records its own runs through the tutor service.
"""

import asyncio
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from config.celery_enqueue import task_send
from curriculum.models import Curriculum

from .models import VerificationRecord, VerificationRun
from .pipeline import SentenceVerdict, verify_sentence

logger = logging.getLogger(__name__)

# A worksheet or a page of notes; beyond this, split the batch (each claim costs a retrieval and a
# model pass, and one task should finish in minutes, not hours).
MAX_BATCH_CLAIMS = 200
MAX_CLAIM_CHARS = 1000


class BatchInputError(ValueError):
    pass


@transaction.atomic
def verification_batch_create(
    *, curriculum: Curriculum, claims: list[str], created_by: AbstractBaseUser | None
) -> VerificationRun:
    cleaned = [c.strip() for c in claims if c and c.strip()]
    if not cleaned:
        raise BatchInputError("Give at least one non-empty claim.")
    if len(cleaned) > MAX_BATCH_CLAIMS:
        raise BatchInputError(f"At most {MAX_BATCH_CLAIMS} claims per batch ({len(cleaned)} given).")
    too_long = [i for i, c in enumerate(cleaned) if len(c) > MAX_CLAIM_CHARS]
    if too_long:
        raise BatchInputError(f"Claim {too_long[0] + 1} is over {MAX_CLAIM_CHARS} characters.")
    run = VerificationRun.objects.create(
        curriculum=curriculum,
        kind=VerificationRun.Kind.BATCH,
        status=VerificationRun.Status.PENDING,
        claims=cleaned,
        created_by=created_by,
    )
    from .tasks import verification_batch_execute_task

    # With the broker down the run stays pending and the sweep sends it again.
    transaction.on_commit(lambda: task_send(verification_batch_execute_task, run_id=run.pk))
    return run


def verification_batches_requeue() -> int:
    """Send again the batch runs still pending ``settings.PENDING_REQUEUE_AFTER_S`` after they were
    created: accepted while the broker was down (config/celery_enqueue.py), or lost with it. A run has
    no time of its last send, so a run still pending is sent once a sweep until a worker takes it
    (``verification_batch_execute`` leaves a finished run alone). Stops at the first run the broker
    refuses. Returns how many were sent. Run by a periodic task
    (``verification.tasks.verification_batches_requeue_task``)."""
    from .tasks import verification_batch_execute_task

    before = timezone.now() - timedelta(seconds=settings.PENDING_REQUEUE_AFTER_S)
    stale = (
        VerificationRun.objects.filter(
            kind=VerificationRun.Kind.BATCH, status=VerificationRun.Status.PENDING, created_at__lt=before
        )
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )
    sent = 0
    for run_id in list(stale):
        if not task_send(verification_batch_execute_task, run_id=run_id):
            break
        sent += 1
    if sent:
        logger.warning("re-sent %d verification batches left pending", sent)
    return sent


def verification_batch_execute(*, run_id: int) -> VerificationRun:
    """Verify every claim of a batch. Idempotent: a finished run is returned as it is, and a run
    interrupted half-way (a worker lost with acks_late) starts over cleanly."""
    run = VerificationRun.objects.get(pk=run_id)
    if run.status in (VerificationRun.Status.DONE, VerificationRun.Status.FAILED):
        return run
    VerificationRun.objects.filter(pk=run.pk).update(status=VerificationRun.Status.RUNNING)
    try:
        verdicts = asyncio.run(_verify_all(run))
    except Exception as exc:  # noqa: BLE001 - the run records any failure for the teacher
        VerificationRun.objects.filter(pk=run.pk).update(
            status=VerificationRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}", completed_at=timezone.now()
        )
    else:
        _records_replace(run=run, verdicts=verdicts)
    run.refresh_from_db()
    return run


async def _verify_all(run: VerificationRun) -> list[SentenceVerdict]:
    return list(
        await asyncio.gather(
            *(
                verify_sentence(
                    index=i, sentence=claim, curriculum_id=run.curriculum_id, answer_evidence=[], allow_revision=False
                )
                for i, claim in enumerate(run.claims)
            )
        )
    )


@transaction.atomic
def verification_run_record(*, curriculum: Curriculum, verdicts: list[SentenceVerdict]) -> VerificationRun:
    """Record an answer's finished verification: the run and one record per claim and attempt."""
    run = VerificationRun.objects.create(
        curriculum=curriculum,
        kind=VerificationRun.Kind.ANSWER,
        status=VerificationRun.Status.DONE,
        completed_at=timezone.now(),
    )
    verification_records_create(run=run, verdicts=verdicts)
    return run


def verification_records_create(*, run: VerificationRun, verdicts: list[SentenceVerdict]) -> None:
    """Store the audit trail of checked sentences: one VerificationRecord per claim and attempt."""
    VerificationRecord.objects.bulk_create(
        VerificationRecord(
            run=run,
            sentence_index=v.index,
            claim_index=r.claim_index,
            attempt=r.attempt,
            claim=r.claim,
            verdict=r.verdict,
            score=r.score,
            evidence_chunk_ids=list(r.evidence_chunk_ids),
            checker_versions={"scorer": r.checker_version},
            details={"reasons": list(r.reasons), "sentence_verdict": v.verdict},
            latency_ms=r.latency_ms,
        )
        for v in verdicts
        for r in v.records
    )


@transaction.atomic
def _records_replace(*, run: VerificationRun, verdicts: list[SentenceVerdict]) -> None:
    # Two deliveries of one run (the re-send sweep, a redelivery) may both verify it; the run's row
    # orders their writes, and the second leaves the first's records as they are.
    locked = VerificationRun.objects.select_for_update().filter(pk=run.pk).values_list("status", flat=True).first()
    if locked == VerificationRun.Status.DONE:
        return
    VerificationRecord.objects.filter(run=run).delete()
    verification_records_create(run=run, verdicts=verdicts)
    VerificationRun.objects.filter(pk=run.pk).update(status=VerificationRun.Status.DONE, completed_at=timezone.now())
