"""Writes for classes: create a class with its join code, join one with the code, review a sentence."""

import secrets

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from curriculum.models import Classroom, Curriculum, Enrollment
from curriculum.selectors import TEACHER_GROUP, user_is_teacher
from curriculum.services import enrollment_create
from tutor.models import AnswerSentence, SentenceReview

from .models import JoinCode

# No 0/O, 1/I/L, or U/V pairs: a code read aloud or copied from a board is typed right.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
JOIN_CODE_LENGTH = 7  # 29**7 ≈ 1.7e10 codes: guessing one under the join throttle is hopeless
_CODE_ATTEMPTS = 8


class ClassroomError(Exception):
    """A refusal the student or teacher can act on; ``code`` is the API's error code."""

    def __init__(self, *, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@transaction.atomic
def teacher_role_set(*, user: AbstractBaseUser, teacher: bool = True) -> None:
    """Make a user a teacher (the ``teacher`` group, which ``user_is_teacher`` reads), or no longer one.
    Their classes stay; without the role they cannot open them."""
    group, _ = Group.objects.get_or_create(name=TEACHER_GROUP)
    if teacher:
        group.user_set.add(user)
    else:
        group.user_set.remove(user)


def join_code_normalize(raw: str) -> str:
    """What a student typed, as stored: upper case, spaces and dashes dropped."""
    return "".join(ch for ch in raw.upper() if ch not in " -\t")


def _join_code_generate() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def join_code_issue(*, classroom: Classroom) -> JoinCode:
    """Give the class a fresh unique code (replacing any old one: rotating a leaked code)."""
    for _ in range(_CODE_ATTEMPTS):
        code = _join_code_generate()
        try:
            with transaction.atomic():
                join_code, _ = JoinCode.objects.update_or_create(
                    classroom=classroom, defaults={"code": code, "created_at": timezone.now()}
                )
        except IntegrityError:  # another class holds this code: draw again
            continue
        return join_code
    raise RuntimeError("could not draw an unused join code")  # 8 collisions in 1.7e10: not in practice


@transaction.atomic
def classroom_create(*, teacher: AbstractBaseUser, curriculum: Curriculum, name: str) -> Classroom:
    """A teacher's new class on a curriculum, with its join code."""
    if not user_is_teacher(user=teacher):
        raise ClassroomError(code="not_a_teacher", message="Only teachers can create classes.")
    name = name.strip()
    if not name:
        raise ClassroomError(code="invalid_name", message="Give the class a name.")
    classroom = Classroom.objects.create(teacher=teacher, curriculum=curriculum, name=name)
    join_code_issue(classroom=classroom)
    return classroom


@transaction.atomic
def classroom_join(*, student: AbstractBaseUser, code: str) -> Enrollment:
    """Join the class with this code: enrols the student in its curriculum (or moves their existing
    enrolment into the class). Joining twice is a no-op."""
    join_code = JoinCode.objects.select_related("classroom__curriculum").filter(code=join_code_normalize(code)).first()
    if join_code is None:
        raise ClassroomError(code="unknown_code", message="No class has that code. Check it with your teacher.")
    classroom = join_code.classroom
    if classroom.teacher_id == student.pk:
        raise ClassroomError(code="own_class", message="You teach this class; students join it.")
    return enrollment_create(student=student, curriculum=classroom.curriculum, classroom=classroom)


@transaction.atomic
def sentence_review_save(
    *, teacher: AbstractBaseUser, sentence: AnswerSentence, outcome: str, correction: str = ""
) -> SentenceReview:
    """Record (or replace) the teacher's review of a sentence. The caller has checked that the sentence
    is in one of the teacher's classes (``selectors.review_sentence_get``)."""
    if outcome not in SentenceReview.Outcome.values:
        raise ClassroomError(
            code="invalid_outcome", message=f"Choose one of {', '.join(SentenceReview.Outcome.values)}."
        )
    correction = correction.strip()
    if outcome == SentenceReview.Outcome.CORRECTED and not correction:
        raise ClassroomError(code="correction_required", message="Write what the sentence should say.")
    if outcome == SentenceReview.Outcome.CONFIRMED:
        correction = ""
    review, _ = SentenceReview.objects.update_or_create(
        sentence=sentence,
        defaults={"teacher": teacher, "outcome": outcome, "correction": correction, "reviewed_at": timezone.now()},
    )
    return review
