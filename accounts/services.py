"""Deleting a student's account and everything that is theirs.

What goes, in one transaction:

- the user row, and by cascade every row keyed to it: API token, learner profile, the tutor's and the
  learner model's mastery, conversations → messages → answer sentences, enrolments → study plans →
  plan items, practice sessions → served questions → graded and typed answers, review cards, the
  practice preference, group memberships, admin log entries;
- the verification audit of their answers and typed practice answers (``VerificationRun`` and its
  records): a run's claims are the student's answer sentences or the student's own words, and the
  relation from the message or answer is ``SET_NULL``, so a cascade alone would orphan them;
- import jobs they started (their uploaded files are removed once the transaction commits).

Teachers' records about the student: a ``SentenceReview`` is keyed to one of the student's answer
sentences, so it is **deleted** with it (cascade), not anonymised. It holds the teacher's correction
next to the sentence it corrects and the student's question; the sentence cannot be kept without its
message, whose student cannot be null, and a correction with no sentence is no training pair for
``export_corrections``. Corrections already exported to files are outside the database. The class
hallucination rate and the review queue are computed live from the sentences (no stored aggregate),
so the student's sentences simply stop counting; the class itself, its join code, settings and plan
defaults are the teacher's and stay.

A teacher's account is refused: deleting it would delete their classes for every student in them
(``Classroom.teacher`` cascades) and turn their private syllabi public (``Curriculum.owner`` is
``SET_NULL``, and an ownerless curriculum is in the catalogue). An administrator removes those.
"""

from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from curriculum.models import Classroom, Curriculum, IngestionJob
from curriculum.selectors import user_is_teacher
from learning.models import TextAnswer
from tutor.models import Message
from verification.models import VerificationRun


@dataclass
class AccountDeletionError(Exception):
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def _orphans_delete(*, run_ids: set[int], job_ids: list[int]) -> None:
    """What the user's cascade leaves behind (``SET_NULL`` relations) that is still theirs."""
    VerificationRun.objects.filter(pk__in=run_ids).delete()
    IngestionJob.objects.filter(pk__in=job_ids).delete()


@transaction.atomic
def user_delete(*, user: AbstractBaseUser, password: str) -> None:
    """Delete ``user`` and all their data, after checking ``password``. Nothing is deleted when it
    raises: ``wrong_password`` (the password is not theirs) or ``teacher_account``."""
    if not password or not user.check_password(password):
        raise AccountDeletionError(code="wrong_password", message="The password is not correct.")
    if (
        user_is_teacher(user=user)
        or Classroom.objects.filter(teacher=user).exists()
        or Curriculum.objects.filter(owner=user).exists()
    ):
        raise AccountDeletionError(
            code="teacher_account",
            message="A teacher's account has classes and syllabi other students use; an administrator removes it.",
        )
    run_ids = set(
        Message.objects.filter(student=user, verification_run__isnull=False).values_list(
            "verification_run_id", flat=True
        )
    )
    run_ids |= set(
        TextAnswer.objects.filter(session_question__session__student=user, verification_run__isnull=False).values_list(
            "verification_run_id", flat=True
        )
    )
    run_ids |= set(VerificationRun.objects.filter(created_by=user).values_list("id", flat=True))
    jobs = list(IngestionJob.objects.filter(created_by=user))
    files = [job.upload for job in jobs if job.upload]

    user.delete()
    _orphans_delete(run_ids=run_ids, job_ids=[job.pk for job in jobs])

    def remove_files() -> None:
        for upload in files:
            upload.storage.delete(upload.name)

    transaction.on_commit(remove_files)
