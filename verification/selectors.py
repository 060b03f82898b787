"""Reads on the verification side."""

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
