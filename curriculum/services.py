"""Writes on the curriculum side: imports, uploads, enrolment, policy.

An import is all-or-nothing across the database and the vector index: rows are written in one
transaction, the new chunks are indexed inside it, and if anything fails the new vectors are
removed before the transaction rolls back. Vectors of replaced chunks are only deleted once the
transaction has committed, so a failed re-import leaves the previous version fully searchable. A
killed import (SIGKILL: no cleanup runs) leaves vectors that no row owns; the next import of the
curriculum removes them first (``_index_orphans_delete``), so a redelivered job indexes it once.
"""

import hashlib
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from config.celery_enqueue import task_send

from .importers.errors import SyllabusImportError
from .importers.openstax import parse_openstax_book
from .importers.parsed import ParsedSyllabus, ParsedTopic
from .importers.uploads import check_upload, unpack_book
from .indexing.chunking import split_into_chunks
from .indexing.index import IndexedChunk, delete_chunks, drop_curriculum_index, index_chunks, indexed_chunk_ids
from .models import (
    Chunk,
    Classroom,
    Curriculum,
    Enrollment,
    IngestionJob,
    PracticeQuestion,
    SyllabusDocument,
    Topic,
    Unit,
)
from .selectors import ingestion_jobs_pending_since

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, kw_only=True)
class ImportResult:
    curriculum_id: int
    slug: str
    units: int
    topics: int
    documents_changed: int
    documents_unchanged: int
    chunks_indexed: int
    chunks_removed: int
    questions: int


def curriculum_import_openstax(
    *, path: Path, slug: str | None = None, on_progress: ProgressCallback | None = None
) -> ImportResult:
    """Import (or re-import) an OpenStax CNXML book folder as a curriculum."""
    parsed = parse_openstax_book(Path(path), slug=slug)
    return curriculum_import_parsed(parsed=parsed, on_progress=on_progress)


def curriculum_import_upload(
    *, curriculum: Curriculum, filename: str, content: bytes, on_progress: ProgressCallback | None = None
) -> ImportResult:
    """Add a Markdown, plain-text or PDF document, or a zipped OpenStax book, to an existing curriculum."""
    parsed = parse_upload(filename=filename, content=content)
    return curriculum_import_parsed(parsed=parsed, curriculum=curriculum, on_progress=on_progress)


def parse_upload(*, filename: str, content: bytes) -> ParsedSyllabus:
    """Parse an uploaded file whose content was checked against its name (importers/uploads.py)."""
    from .importers.pdf import parse_pdf_document
    from .importers.text import parse_text_document

    kind = check_upload(filename=filename, content=content, limit_size=False)
    if kind == "openstax-zip":
        with tempfile.TemporaryDirectory(prefix="veritutor-upload-") as folder:
            book = unpack_book(filename=filename, content=content, into=Path(folder))
            try:
                return parse_openstax_book(book)
            except SyllabusImportError as exc:
                # Name the file inside the upload, not the temporary folder it was unpacked to.
                inner = Path(exc.filename)
                inside = inner.relative_to(book) if inner.is_relative_to(book) else inner.name
                raise SyllabusImportError(filename=f"{filename}:{inside}", problem=exc.problem) from exc
    if kind == "pdf":
        return parse_pdf_document(filename=filename, content=content)
    return parse_text_document(filename=filename, content=content, is_markdown=kind == "markdown")


@transaction.atomic
def curriculum_import_parsed(
    *, parsed: ParsedSyllabus, curriculum: Curriculum | None = None, on_progress: ProgressCallback | None = None
) -> ImportResult:
    if curriculum is None:
        curriculum, _ = Curriculum.objects.get_or_create(
            slug=parsed.slug, defaults={"title": parsed.title, "source_format": parsed.source_format}
        )
        curriculum.title = parsed.title
        curriculum.source_format = parsed.source_format
        curriculum.attribution = parsed.attribution
        curriculum.save(update_fields=["title", "source_format", "attribution", "updated_at"])
    curriculum = Curriculum.objects.select_for_update().get(pk=curriculum.pk)
    _index_orphans_delete(curriculum_id=curriculum.pk)

    new_chunks: list[IndexedChunk] = []
    stale_chunk_ids: list[int] = []
    changed = unchanged = questions = 0
    for unit_data in parsed.units:
        unit = _unit_upsert(curriculum=curriculum, title=unit_data.title, part=unit_data.part, number=unit_data.number)
        for topic_data in unit_data.topics:
            topic = _topic_upsert(unit=unit, data=topic_data)
            document, stale = _document_upsert(topic=topic, data=topic_data)
            if stale is None:
                unchanged += 1
            else:
                changed += 1
                stale_chunk_ids.extend(stale)
                new_chunks.extend(_chunks_create(curriculum=curriculum, unit=unit, topic=topic, document=document))
            questions += _questions_upsert(topic=topic, data=topic_data)

    try:
        index_chunks(chunks=new_chunks, on_progress=on_progress)
    except BaseException:
        # Keep the index equal to the database that the rollback is about to restore.
        delete_chunks(curriculum_id=curriculum.pk, chunk_ids=[c.chunk_id for c in new_chunks])
        raise
    if stale_chunk_ids:
        curriculum_id = curriculum.pk
        transaction.on_commit(lambda: delete_chunks(curriculum_id=curriculum_id, chunk_ids=stale_chunk_ids))
    return ImportResult(
        curriculum_id=curriculum.pk,
        slug=curriculum.slug,
        units=len(parsed.units),
        topics=parsed.topic_count,
        documents_changed=changed,
        documents_unchanged=unchanged,
        chunks_indexed=len(new_chunks),
        chunks_removed=len(stale_chunk_ids),
        questions=questions,
    )


def _index_orphans_delete(*, curriculum_id: int) -> int:
    """Remove the vectors that no chunk row owns: those of an import whose process was killed (a
    worker's SIGKILL, an OOM kill) after it had indexed and before its transaction committed, which
    no ``except`` could clean up. Called under the curriculum's row lock, so no other import of it
    is in flight; the broker's redelivery of the killed import then indexes the book exactly once."""
    indexed = indexed_chunk_ids(curriculum_id=curriculum_id)
    if not indexed:
        return 0
    orphans = indexed - set(Chunk.objects.filter(curriculum_id=curriculum_id).values_list("id", flat=True))
    if orphans:
        logger.warning(
            "curriculum %s: removing %d vectors of an import that never committed", curriculum_id, len(orphans)
        )
        delete_chunks(curriculum_id=curriculum_id, chunk_ids=sorted(orphans))
    return len(orphans)


def _unit_upsert(*, curriculum: Curriculum, title: str, part: str, number: str) -> Unit:
    unit = Unit.objects.filter(curriculum=curriculum, title=title, part=part).first()
    if unit is None:
        position = (Unit.objects.filter(curriculum=curriculum).aggregate(m=Max("position"))["m"] or 0) + 1
        unit = Unit.objects.create(curriculum=curriculum, title=title, part=part, number=number, position=position)
    elif unit.number != number:
        unit.number = number
        unit.save(update_fields=["number"])
    return unit


def _topic_upsert(*, unit: Unit, data: ParsedTopic) -> Topic:
    topic = Topic.objects.filter(unit=unit, documents__source_id=data.source_id).first()
    if topic is None:
        topic = Topic.objects.filter(unit=unit, title=data.title).first()
    if topic is None:
        position = (Topic.objects.filter(unit=unit).aggregate(m=Max("position"))["m"] or 0) + 1
        topic = Topic.objects.create(
            unit=unit, title=data.title, number=data.number, position=position, objectives=data.objectives
        )
    elif (topic.title, topic.number, topic.objectives) != (data.title, data.number, data.objectives):
        topic.title, topic.number, topic.objectives = data.title, data.number, data.objectives
        topic.save(update_fields=["title", "number", "objectives"])
    return topic


def _document_upsert(*, topic: Topic, data: ParsedTopic) -> tuple[SyllabusDocument, list[int] | None]:
    """Returns the document and the ids of the chunks it replaces (None when unchanged)."""
    content_hash = hashlib.sha256(data.text.encode()).hexdigest()
    document = SyllabusDocument.objects.filter(topic=topic, source_id=data.source_id).first()
    if document is not None and document.content_hash == content_hash:
        return document, None
    if document is None:
        document = SyllabusDocument.objects.create(
            topic=topic, source_id=data.source_id, title=data.title, text=data.text, content_hash=content_hash
        )
        return document, []
    stale = list(document.chunks.values_list("id", flat=True))
    document.chunks.all().delete()
    document.title, document.text, document.content_hash = data.title, data.text, content_hash
    document.save(update_fields=["title", "text", "content_hash"])
    return document, stale


def _chunks_create(
    *, curriculum: Curriculum, unit: Unit, topic: Topic, document: SyllabusDocument
) -> list[IndexedChunk]:
    spans = split_into_chunks(document.text)
    rows = Chunk.objects.bulk_create(
        [
            Chunk(
                document=document,
                curriculum=curriculum,
                position=i,
                text=span.text,
                char_start=span.char_start,
                char_end=span.char_end,
            )
            for i, span in enumerate(spans)
        ]
    )
    return [
        IndexedChunk(
            chunk_id=row.pk,
            text=row.text,
            curriculum_id=curriculum.pk,
            unit_id=unit.pk,
            topic_id=topic.pk,
            document_id=document.pk,
            module=document.source_id,
            position=row.position,
        )
        for row in rows
    ]


def _questions_upsert(*, topic: Topic, data: ParsedTopic) -> int:
    for q in data.questions:
        PracticeQuestion.objects.update_or_create(
            topic=topic,
            source_id=q.source_id,
            defaults={
                "stem": q.stem,
                "choices": q.choices,
                "answer_index": q.answer_index,
                "explanation": q.explanation,
            },
        )
    return len(data.questions)


def curriculum_reindex(*, curriculum_id: int, on_progress: ProgressCallback | None = None) -> int:
    """Rebuild a curriculum's vector index from the database (after a model change, or a lost index)."""
    drop_curriculum_index(curriculum_id=curriculum_id)
    rows = Chunk.objects.filter(curriculum_id=curriculum_id).select_related("document__topic__unit")
    chunks = [
        IndexedChunk(
            chunk_id=row.pk,
            text=row.text,
            curriculum_id=curriculum_id,
            unit_id=row.document.topic.unit_id,
            topic_id=row.document.topic_id,
            document_id=row.document_id,
            module=row.document.source_id,
            position=row.position,
        )
        for row in rows.iterator()
    ]
    index_chunks(chunks=chunks, on_progress=on_progress)
    return len(chunks)


# --- uploads through the API: an IngestionJob tracks them -----------------------------------


def _progress_key(job_id: int) -> str:
    return f"ingestion-job:{job_id}:progress"


def ingestion_job_progress(*, job_id: int) -> tuple[int, int] | None:
    # Progress lives in the cache, not the job row: the import holds its transaction open, so row
    # updates would be invisible to readers (and would block on SQLite) until it ends.
    return cache.get(_progress_key(job_id))


@transaction.atomic
def ingestion_job_create(
    *, curriculum: Curriculum, created_by: AbstractBaseUser | None, filename: str, content: bytes
) -> IngestionJob:
    """Store the upload and queue its import once the job row is committed."""
    from django.core.files.base import ContentFile

    from .tasks import ingestion_job_run_task

    # Name, size and content must agree before anything is stored: a refused file leaves no job.
    check_upload(filename=filename, content=content)
    suffix = Path(filename).suffix.lower()
    job = IngestionJob.objects.create(curriculum=curriculum, created_by=created_by, kind="upload", filename=filename)
    job.upload.save(f"{job.pk}{suffix}", ContentFile(content), save=True)
    # With the broker down the job stays pending (the upload is kept) and the sweep sends it again.
    transaction.on_commit(lambda: task_send(ingestion_job_run_task, job_id=job.pk))
    return job


def ingestion_job_run(*, job_id: int) -> IngestionJob:
    """Run a queued upload import. Idempotent: a finished job is left as it is.

    A job may be delivered more than once (the re-send sweep, the broker's redelivery of a killed
    worker's task) and is imported once: the import and the job's final state are written in one
    transaction that holds the job's row, so a copy that finds the row held leaves the job to the
    run holding it, and one that comes after finds it finished. A job left running by a killed worker
    holds no row (its transaction died with it), so the redelivered task imports it.
    """
    IngestionJob.objects.filter(pk=job_id, status=IngestionJob.Status.PENDING).update(
        status=IngestionJob.Status.RUNNING
    )
    with transaction.atomic():
        job = IngestionJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None:
            # Held by another run of the same job (or absent: .get raises as it always has).
            logger.info("ingestion job %s is being run by another delivery; leaving it to that one", job_id)
            return IngestionJob.objects.get(pk=job_id)
        if job.status in (IngestionJob.Status.SUCCEEDED, IngestionJob.Status.FAILED):
            return job
        _ingestion_job_import(job)
    job.refresh_from_db()
    return job


def _ingestion_job_import(job: IngestionJob) -> None:
    """Import the job's upload and record the outcome, inside the caller's transaction."""

    def report(done: int, total: int) -> None:
        cache.set(_progress_key(job.pk), (done, total), timeout=3600)

    try:
        # A savepoint: a failed import rolls back to here, and the failure is recorded after it.
        with transaction.atomic():
            with job.upload.open("rb") as handle:
                content = handle.read()
            result = curriculum_import_upload(
                curriculum=job.curriculum, filename=job.filename, content=content, on_progress=report
            )
    except SyllabusImportError as exc:
        IngestionJob.objects.filter(pk=job.pk).update(status=IngestionJob.Status.FAILED, error=str(exc))
        # A refused file is not kept (it may be hostile, and a retry is a new upload); the job keeps the reason.
        job.upload.delete(save=False)
        IngestionJob.objects.filter(pk=job.pk).update(upload="")
    except Exception as exc:
        logger.exception("ingestion job %s failed", job.pk)
        IngestionJob.objects.filter(pk=job.pk).update(
            status=IngestionJob.Status.FAILED, error=f"{job.filename}: import failed ({type(exc).__name__}: {exc})"
        )
    else:
        done = result.chunks_indexed
        IngestionJob.objects.filter(pk=job.pk).update(
            status=IngestionJob.Status.SUCCEEDED,
            progress_done=done,
            progress_total=done,
            result={
                "units": result.units,
                "topics": result.topics,
                "chunks_indexed": result.chunks_indexed,
                "questions": result.questions,
            },
        )


def ingestion_jobs_requeue() -> int:
    """Send again the upload jobs still pending ``settings.PENDING_REQUEUE_AFTER_S`` after their task
    was last sent: accepted while the broker was down (config/celery_enqueue.py), or lost with it.
    A job's ``updated_at`` is when its task was last sent (a pending job is not otherwise written), so
    each job is re-sent at most once a grace period. Stops at the first job the broker refuses: the
    next sweep tries again. Returns how many were sent. Run by a periodic task
    (``curriculum.tasks.ingestion_jobs_requeue_task``)."""
    from .tasks import ingestion_job_run_task

    before = timezone.now() - timedelta(seconds=settings.PENDING_REQUEUE_AFTER_S)
    sent = 0
    for job_id in ingestion_jobs_pending_since(before=before):
        if not task_send(ingestion_job_run_task, job_id=job_id):
            break
        IngestionJob.objects.filter(pk=job_id, status=IngestionJob.Status.PENDING).update(updated_at=timezone.now())
        sent += 1
    if sent:
        logger.warning("re-sent %d ingestion jobs left pending", sent)
    return sent


# --- enrolment and policy -----------------------------------------------------------------------


@transaction.atomic
def enrollment_create(
    *, student: AbstractBaseUser, curriculum: Curriculum, classroom: Classroom | None = None
) -> Enrollment:
    enrollment, _ = Enrollment.objects.get_or_create(
        student=student, curriculum=curriculum, defaults={"classroom": classroom}
    )
    if classroom is not None and enrollment.classroom_id != classroom.pk:
        enrollment.classroom = classroom
        enrollment.save(update_fields=["classroom"])
    return enrollment


@transaction.atomic
def classroom_create(*, teacher: AbstractBaseUser, curriculum: Curriculum, name: str) -> Classroom:
    return Classroom.objects.create(teacher=teacher, curriculum=curriculum, name=name)


@transaction.atomic
def curriculum_set_unsupported_policy(*, curriculum: Curriculum, policy: str) -> Curriculum:
    if policy not in Curriculum.UnsupportedPolicy.values:
        raise ValueError(f"unknown policy {policy!r}; choose one of {Curriculum.UnsupportedPolicy.values}")
    curriculum.unsupported_policy = policy
    curriculum.save(update_fields=["unsupported_policy", "updated_at"])
    return curriculum
