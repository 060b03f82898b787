"""Writes for classes: create a class with its join code (on a catalogue syllabus or one of the
teacher's own), join one with the code, change its settings, add to its syllabus, review a sentence."""

import secrets

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from curriculum.importers.errors import SyllabusImportError
from curriculum.models import Classroom, Curriculum, Enrollment, IngestionJob
from curriculum.selectors import TEACHER_GROUP, user_is_teacher
from curriculum.services import enrollment_create, ingestion_job_create
from tutor.models import AnswerSentence, SentenceReview

from .models import ClassroomSettings, JoinCode

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
    """A teacher's new class on a curriculum, with its join code and default settings (the curriculum's
    policy for unsupported sentences, answers first). Another teacher's own syllabus is refused as if it
    did not exist: a class on it would open its text to this teacher and their students."""
    if not user_is_teacher(user=teacher):
        raise ClassroomError(code="not_a_teacher", message="Only teachers can create classes.")
    if curriculum.owner_id is not None and curriculum.owner_id != teacher.pk:
        raise ClassroomError(code="unknown_curriculum", message="No such syllabus.")
    name = name.strip()
    if not name:
        raise ClassroomError(code="invalid_name", message="Give the class a name.")
    classroom = Classroom.objects.create(teacher=teacher, curriculum=curriculum, name=name)
    join_code_issue(classroom=classroom)
    ClassroomSettings.objects.create(classroom=classroom, unsupported_policy=curriculum.unsupported_policy)
    return classroom


def _syllabus_slug(title: str) -> str:
    base = (slugify(title)[:60].strip("-") or "syllabus") + "-"
    while True:
        slug = base + "".join(secrets.choice("abcdefghjkmnpqrstwxyz23456789") for _ in range(6))
        if not Curriculum.objects.filter(slug=slug).exists():
            return slug


@transaction.atomic
def classroom_create_with_syllabus(*, teacher: AbstractBaseUser, name: str, syllabus_title: str) -> Classroom:
    """A class on a new, empty syllabus of the teacher's own (``Curriculum.owner``): not in the catalogue,
    studied only in the teacher's classes; the teacher fills it with uploads (``classroom_upload_create``)."""
    if not user_is_teacher(user=teacher):
        raise ClassroomError(code="not_a_teacher", message="Only teachers can create classes.")
    syllabus_title = syllabus_title.strip()
    if not syllabus_title:
        raise ClassroomError(code="invalid_syllabus_title", message="Give your syllabus a title.")
    curriculum = Curriculum.objects.create(
        slug=_syllabus_slug(syllabus_title), title=syllabus_title[:255], owner=teacher, source_format="upload"
    )
    return classroom_create(teacher=teacher, curriculum=curriculum, name=name)


@transaction.atomic
def classroom_settings_update(
    *, classroom: Classroom, unsupported_policy: str | None = None, hint_first: bool | None = None
) -> ClassroomSettings:
    """Change the class's settings (the caller has checked that the class is the teacher's); a value
    left None stays as it is."""
    current, _ = ClassroomSettings.objects.select_for_update().get_or_create(
        classroom=classroom, defaults={"unsupported_policy": classroom.curriculum.unsupported_policy}
    )
    if unsupported_policy is not None:
        if unsupported_policy not in ClassroomSettings.UnsupportedPolicy.values:
            choices = ", ".join(ClassroomSettings.UnsupportedPolicy.values)
            raise ClassroomError(code="invalid_policy", message=f"Choose one of {choices}.")
        current.unsupported_policy = unsupported_policy
    if hint_first is not None:
        current.hint_first = hint_first
    current.save()
    return current


@transaction.atomic
def classroom_upload_create(
    *, teacher: AbstractBaseUser, classroom: Classroom, filename: str, content: bytes
) -> IngestionJob:
    """Add a Markdown, text or PDF file to the class's syllabus: an ingestion job, run by Celery once this
    transaction commits, whose progress ``classrooms.selectors.upload_progress`` reads. Only a syllabus the
    teacher owns takes uploads here: text added to a catalogue syllabus would reach every class on it."""
    curriculum = classroom.curriculum
    if curriculum.owner_id != teacher.pk:
        raise ClassroomError(
            code="shared_syllabus",
            message=f"{curriculum.title} is shared by every class on it; create a class on a syllabus of "
            "your own to add your material.",
        )
    try:
        return ingestion_job_create(curriculum=curriculum, created_by=teacher, filename=filename, content=content)
    except SyllabusImportError as exc:
        raise ClassroomError(code="invalid_file", message=str(exc)) from exc


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
    # A syllabus gap keeps its text as the teacher's note of what the syllabus lacks (optional).
    review, _ = SentenceReview.objects.update_or_create(
        sentence=sentence,
        defaults={"teacher": teacher, "outcome": outcome, "correction": correction, "reviewed_at": timezone.now()},
    )
    return review
