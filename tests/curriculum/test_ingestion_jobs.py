"""Upload jobs when the Celery broker is down: accepted and kept pending, then sent again by the sweep.

The broker is real (tests/curriculum/brokers.py): Redis at a closed port (nothing listening) or at a
socket that never answers, and kombu's in-memory transport where a test reads back what was sent.
"""

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from config.celery_enqueue import task_send
from curriculum.models import Chunk, IngestionJob
from curriculum.selectors import ingestion_jobs_pending_since
from curriculum.services import ingestion_job_run, ingestion_jobs_requeue
from curriculum.tasks import ingestion_job_run_task
from tests.curriculum.brokers import PASSWORD, closed_broker_url, sending_to, sent_tasks
from tests.factories import CurriculumFactory, IngestionJobFactory, TeacherFactory

pytestmark = pytest.mark.django_db(transaction=True)

BOOK = b"# Optics\n\n## Lenses\n\nA convex lens converges light rays to a focal point.\n"


@pytest.fixture
def closed_broker() -> Iterator[str]:
    """Redis at a port where nothing listens (with a password, which must never be logged)."""
    with sending_to(closed_broker_url()) as url:
        yield url


@pytest.fixture
def memory_broker() -> Iterator[str]:
    """kombu's in-memory transport: what is sent stays on its queue for the test to read."""
    with sending_to("memory://") as url:
        yield url
        sent_tasks(url)


def _pending(*, age_s: int, **fields) -> IngestionJob:
    job = IngestionJobFactory(**fields)
    IngestionJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(seconds=age_s))
    job.refresh_from_db()
    return job


def test_an_upload_while_the_broker_is_down_is_accepted_and_kept_pending(api_client, closed_broker, caplog):
    # given a teacher's own syllabus, and a broker that refuses connections
    teacher = TeacherFactory()
    CurriculumFactory(slug="optics", owner=teacher)
    token = Token.objects.create(user=teacher)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    # when they upload a book
    response = api_client.post(
        "/api/v1/curricula/optics/documents/", {"file": SimpleUploadedFile("optics.md", BOOK)}, format="multipart"
    )

    # then the upload is accepted as usual, its job pending with the file kept, and the warning names
    # the task and the job but not the broker's password
    job = IngestionJob.objects.get()
    assert (response.status_code, response.json()["job_id"]) == (202, job.pk)
    assert (job.status, job.filename, job.upload.name) == ("pending", "optics.md", f"uploads/{job.pk}.md")
    with job.upload.open("rb") as handle:
        assert handle.read() == BOOK
    warnings = [r.getMessage() for r in caplog.records if r.name == "config.celery_enqueue"]
    assert len(warnings) == 1
    assert warnings[0].startswith(
        f"broker unreachable: curriculum.tasks.ingestion_job_run_task(job_id={job.pk}) not sent"
    )
    assert PASSWORD not in caplog.text


def test_a_refusing_broker_is_given_up_at_once(closed_broker):
    # when a task is sent to a broker that refuses connections
    started = time.monotonic()
    sent = task_send(ingestion_job_run_task, job_id=1)
    elapsed = time.monotonic() - started

    # then the send reports it, within the bound (one retry after 0.2 s)
    assert sent is False
    assert elapsed < 2.0


def test_a_stalled_broker_holds_the_send_for_about_a_second():
    # given a broker that accepts connections and never answers
    with socket.socket() as stalled:
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(8)
        with sending_to(f"redis://127.0.0.1:{stalled.getsockname()[1]}/0"):
            # when a task is sent to it
            started = time.monotonic()
            sent = task_send(ingestion_job_run_task, job_id=1)
            elapsed = time.monotonic() - started

    # then it is given up within the bound, not waited on
    assert sent is False
    assert elapsed < 3.0


def test_eager_mode_runs_the_task_inline_as_before(dropped_indexes):
    # given the embedded default (no broker: tasks run eagerly) and a pending upload
    job = IngestionJobFactory()
    dropped_indexes.append(job.curriculum_id)

    # when it is sent
    sent = task_send(ingestion_job_run_task, job_id=job.pk)

    # then it ran in this process and the book is imported
    job.refresh_from_db()
    assert (sent, job.status, job.result["topics"], job.result["chunks_indexed"]) == (True, "succeeded", 1, 1)


def test_the_sweep_selects_exactly_the_stale_pending_uploads(settings):
    # given pending uploads last sent 10 and 2 minutes ago, and stale ones no longer pending
    settings.PENDING_REQUEUE_AFTER_S = 300
    stale = [_pending(age_s=600), _pending(age_s=900)]
    _pending(age_s=120)
    for status in ("running", "succeeded", "failed"):
        _pending(age_s=600, status=status)
    _pending(age_s=600, kind="reindex")

    # when
    selected = ingestion_jobs_pending_since(before=timezone.now() - timedelta(seconds=300))

    # then the two stale pending uploads, oldest first
    assert selected == [stale[0].pk, stale[1].pk]


def test_the_sweep_sends_the_stale_pending_uploads_again_once_a_grace_period(settings, memory_broker):
    # given one stale pending upload and one just sent
    settings.PENDING_REQUEUE_AFTER_S = 300
    stale, fresh = _pending(age_s=600), _pending(age_s=10)

    # when the sweep runs twice in a row
    first, second = ingestion_jobs_requeue(), ingestion_jobs_requeue()

    # then the stale one is sent once (its send time moved on), the fresh one not at all
    stale.refresh_from_db()
    assert (first, second) == (1, 0)
    assert sent_tasks(memory_broker) == [("curriculum.tasks.ingestion_job_run_task", {"job_id": stale.pk})]
    assert stale.status == "pending"
    assert timezone.now() - stale.updated_at < timedelta(seconds=60)
    assert IngestionJob.objects.get(pk=fresh.pk).updated_at == fresh.updated_at


def test_the_sweep_leaves_jobs_pending_while_the_broker_is_still_down(settings, closed_broker):
    # given a stale pending upload and a broker still down
    settings.PENDING_REQUEUE_AFTER_S = 300
    job = _pending(age_s=600)

    # when the sweep runs
    sent = ingestion_jobs_requeue()

    # then nothing is sent and the job waits for the next sweep, as stale as it was
    assert sent == 0
    assert IngestionJob.objects.get(pk=job.pk).updated_at == job.updated_at
    assert ingestion_jobs_pending_since(before=timezone.now()) == [job.pk]


def test_a_job_sent_twice_is_imported_once(dropped_indexes):
    # given a pending upload whose task was sent twice (the request's send and the sweep's)
    job = IngestionJobFactory()
    dropped_indexes.append(job.curriculum_id)

    # when both deliveries run
    first = ingestion_job_run(job_id=job.pk)
    second = ingestion_job_run(job_id=job.pk)

    # then the book is imported by the first, and the second leaves it and its count as they are
    assert (first.status, first.result["chunks_indexed"]) == ("succeeded", 1)
    assert (second.status, second.result) == ("succeeded", first.result)
    assert Chunk.objects.filter(curriculum=job.curriculum).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: SQLite has no SELECT ... FOR UPDATE")
def test_a_copy_delivered_while_the_job_is_being_imported_leaves_it_to_that_run(dropped_indexes):
    # given a job taken by one delivery, which holds its row (another connection, as another worker)
    job = IngestionJobFactory(status="running")
    dropped_indexes.append(job.curriculum_id)
    held, release = threading.Event(), threading.Event()

    def first_delivery() -> None:
        with transaction.atomic():
            IngestionJob.objects.select_for_update().get(pk=job.pk)
            held.set()
            release.wait(timeout=30)
        connections.close_all()

    holder = threading.Thread(target=first_delivery)
    holder.start()
    try:
        assert held.wait(timeout=30)

        # when a second copy of the job is run meanwhile
        second = ingestion_job_run(job_id=job.pk)
    finally:
        release.set()
        holder.join(timeout=30)

    # then it returns at once, importing nothing: the job is left to the run that holds it
    assert (second.status, second.result) == ("running", {})
    assert Chunk.objects.filter(curriculum=job.curriculum).count() == 0
