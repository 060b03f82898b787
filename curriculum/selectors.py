"""Reads on the curriculum side, always scoped to what the asking user may see."""

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from .models import Chunk, Classroom, Curriculum, Enrollment, IngestionJob, PracticeQuestion, Topic, Unit

TEACHER_GROUP = "teacher"


def user_is_teacher(*, user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    return bool(user.is_staff or user.groups.filter(name=TEACHER_GROUP).exists())  # type: ignore[attr-defined]


def curriculum_list() -> QuerySet[Curriculum]:
    """The catalogue: every curriculum a student could enrol in. A teacher's own syllabus (one with an
    ``owner``) is not listed: its students reach it through the owner's class join code."""
    return (
        Curriculum.objects.filter(owner__isnull=True)
        .annotate(unit_count=Count("units", distinct=True))
        .order_by("title")
    )


def curriculum_get(*, slug: str) -> Curriculum | None:
    return Curriculum.objects.filter(slug=slug).first()


def curriculum_get_for_user(*, user: AbstractBaseUser | AnonymousUser, slug: str) -> Curriculum | None:
    """The curriculum as this user may name it: a teacher's own syllabus (one with an ``owner``) is None,
    as absent as a slug that does not exist, to everyone who may not study it. A catalogue curriculum
    is returned to anyone (whether they may study it is ``curriculum_can_study``'s answer)."""
    curriculum = curriculum_get(slug=slug)
    if curriculum is None or curriculum.owner_id is None:
        return curriculum
    return curriculum if curriculum_can_study(user=user, curriculum=curriculum) else None


def curriculum_list_for_teacher(*, teacher: AbstractBaseUser) -> QuerySet[Curriculum]:
    """What a teacher may put a class on: the catalogue and the syllabi they own themselves."""
    return Curriculum.objects.filter(Q(owner__isnull=True) | Q(owner=teacher)).order_by("title", "id")


def unsupported_policy_for(*, student: AbstractBaseUser, curriculum: Curriculum) -> str:
    """How the tutor shows this student a sentence the verifier could not support: their class's setting
    (``classrooms.ClassroomSettings``) when they study the curriculum in a class that has one, else the
    curriculum's own ``unsupported_policy``."""
    policy = (
        Enrollment.objects.filter(student=student, curriculum=curriculum, classroom__isnull=False)
        .values_list("classroom__class_settings__unsupported_policy", flat=True)
        .first()
    )
    return policy or curriculum.unsupported_policy


def curriculum_list_for_student(*, user: AbstractBaseUser) -> QuerySet[Curriculum]:
    return Curriculum.objects.filter(enrollments__student=user).order_by("title")


def curriculum_can_study(*, user: AbstractBaseUser | AnonymousUser, curriculum: Curriculum) -> bool:
    """Students must be enrolled; staff and teachers of a class on it may also query it (its passages,
    its vector collection, the tutor). A teacher's own syllabus only by its owner and their classes."""
    if not user.is_authenticated:
        return False
    if user.is_staff:  # type: ignore[union-attr]
        return True
    if curriculum.owner_id is not None:
        # A teacher's own syllabus: its owner and the students of the owner's classes, no one else (an
        # enrolment made without the class's join code does not count).
        return (
            curriculum.owner_id == user.pk
            or Enrollment.objects.filter(
                student=user, curriculum=curriculum, classroom__teacher=curriculum.owner_id
            ).exists()
        )
    return (
        Enrollment.objects.filter(student=user, curriculum=curriculum).exists()
        or Classroom.objects.filter(teacher=user, curriculum=curriculum).exists()
        or curriculum.owner_id == user.pk
    )


def curriculum_can_edit(*, user: AbstractBaseUser | AnonymousUser, curriculum: Curriculum) -> bool:
    """Uploads (new text in the syllabus): staff, or the teacher who owns it. A catalogue book is shared
    by every class on it, so a teacher with a class on one may not change it for the others' students;
    their own material goes into a syllabus of their own."""
    if not user.is_authenticated:
        return False
    if user.is_staff:  # type: ignore[union-attr]
        return True
    return curriculum.owner_id is not None and curriculum.owner_id == user.pk and user_is_teacher(user=user)


def curriculum_can_teach(*, user: AbstractBaseUser | AnonymousUser, curriculum: Curriculum) -> bool:
    """Teacher tools that read the syllabus without changing it (batch verification): staff, its owner,
    or a teacher with a class on it."""
    if curriculum_can_edit(user=user, curriculum=curriculum):
        return True
    if not user.is_authenticated or not user_is_teacher(user=user):
        return False
    return Classroom.objects.filter(teacher=user, curriculum=curriculum).exists()


def unit_list(*, curriculum: Curriculum) -> QuerySet[Unit]:
    return Unit.objects.filter(curriculum=curriculum).annotate(topic_count=Count("topics")).order_by("position")


def unit_get(*, unit_id: int) -> Unit | None:
    return Unit.objects.select_related("curriculum").filter(pk=unit_id).first()


def topic_list(*, unit: Unit) -> QuerySet[Topic]:
    return Topic.objects.filter(unit=unit).order_by("position")


def topic_get(*, topic_id: int) -> Topic | None:
    return Topic.objects.select_related("unit__curriculum").filter(pk=topic_id).first()


def chunk_get(*, chunk_id: int) -> Chunk | None:
    """A passage with its section, chapter and curriculum (for its label and attribution)."""
    return Chunk.objects.select_related("curriculum", "document__topic__unit").filter(pk=chunk_id).first()


def chunk_map(*, chunk_ids: Iterable[int]) -> dict[int, Chunk]:
    """Passages by id, with their section and chapter loaded: what a citation names."""
    chunks = Chunk.objects.select_related("document__topic__unit").filter(pk__in=sorted(set(chunk_ids)))
    return {chunk.pk: chunk for chunk in chunks}


def practice_question_list(*, curriculum: Curriculum, multiple_choice_only: bool = False) -> QuerySet[PracticeQuestion]:
    qs = PracticeQuestion.objects.filter(topic__unit__curriculum=curriculum).select_related("topic__unit")
    if multiple_choice_only:
        qs = qs.filter(~Q(choices=[]), answer_index__isnull=False)
    return qs.order_by("topic__unit__position", "topic__position", "id")


def ingestion_job_get(*, user: AbstractBaseUser, job_id: int) -> IngestionJob | None:
    qs = IngestionJob.objects.select_related("curriculum")
    if not user.is_staff:  # type: ignore[attr-defined]
        qs = qs.filter(created_by=user)
    return qs.filter(pk=job_id).first()


def ingestion_jobs_pending_since(*, before: datetime) -> list[int]:
    """Ids of the upload jobs still pending whose task was last sent before ``before`` (their
    ``updated_at``: set when the job is created and when the re-send sweep sends it again), oldest first."""
    return list(
        IngestionJob.objects.filter(status=IngestionJob.Status.PENDING, kind="upload", updated_at__lt=before)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )
