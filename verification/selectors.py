"""Reads on the verification side."""

import json
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from .models import VerificationRecord, VerificationRun


def verification_run_get(*, user: AbstractBaseUser, run_id: int) -> VerificationRun | None:
    """A batch run, visible to the teacher who submitted it (and staff)."""
    qs = VerificationRun.objects.select_related("curriculum").filter(kind=VerificationRun.Kind.BATCH)
    if not user.is_staff:  # type: ignore[attr-defined]
        qs = qs.filter(created_by=user)
    return qs.filter(pk=run_id).first()


def verification_record_list(*, run: VerificationRun) -> QuerySet[VerificationRecord]:
    return VerificationRecord.objects.filter(run=run).order_by("sentence_index", "claim_index", "attempt")


@dataclass(frozen=True, kw_only=True)
class MeasuredOperatingPoint:
    """The shipped scorer's verdicts on a labelled set, as `bench/bench_verify_eval.py` measured them."""

    claims: int
    labelled_supported: int
    precision: float | None
    """Of the claims labelled supported, the share truly supported (None when none was labelled)."""
    precision_lower_95: float | None
    """Wilson 95 % lower bound of that precision: how low it may be, given the sample."""
    recall: float
    measured_on: str
    date: str
    commit: str


@dataclass(frozen=True, kw_only=True)
class OperatingPoint:
    checker_version: str
    """The checker that runs now (stored with every verdict)."""
    threshold: float
    """P(supported) at or above which a claim is released as verified."""
    measured: MeasuredOperatingPoint | None
    """The last measurement of this very checker; None when it was never measured (or the weights
    changed since): a teacher is never shown numbers of another checker."""


def verifier_operating_point() -> OperatingPoint:
    """The operating point in use, without loading the model (its metadata files only)."""
    from django.conf import settings

    from verification.entailment.combiner import OPERATING_POINT_FILE, Combiner
    from verification.entailment.cross_encoder import META_FILE, WEIGHTS_DIR
    from verification.entailment.scorer import checker_version

    combiner = Combiner.load(WEIGHTS_DIR)
    judge_model = settings.VERIFIER_JUDGE_MODEL if getattr(settings, "VERIFIER_LLM_JUDGE", False) else None
    version = checker_version(
        model_version=str(json.loads((WEIGHTS_DIR / META_FILE).read_text())["version"]),
        combiner=combiner,
        judge_model=judge_model,
    )
    measured = None
    path = WEIGHTS_DIR / OPERATING_POINT_FILE
    if path.exists():
        record = json.loads(path.read_text())
        if record.pop("checker_version", None) == version:
            measured = MeasuredOperatingPoint(**record)
    return OperatingPoint(checker_version=version, threshold=combiner.threshold, measured=measured)
