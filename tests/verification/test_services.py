"""verification.services: recording an answer's verification."""

import pytest

from tests.factories import CurriculumFactory
from verification.graph.state import ClaimRecord
from verification.models import VerificationRecord, VerificationRun
from verification.pipeline import SentenceVerdict
from verification.services import verification_run_record


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
