"""The class page's progress bar reads real progress: a real Celery worker (a subprocess on the Redis
broker) imports a teacher's upload while the class's upload endpoint is polled, as the page polls it.

Runs where a worker can see the test database (PostgreSQL: ``make test-postgres``) and Redis is up;
skipped otherwise, saying why.
"""

import time

import pytest
from celery import Celery
from django.core.cache import cache
from django.core.files.base import ContentFile

from classrooms.services import classroom_create_with_syllabus
from curriculum.indexing.index import EMBED_STEP, drop_curriculum_index
from curriculum.models import Chunk, IngestionJob
from curriculum.services import _progress_key
from tests.config import test_celery_worker as worker_tests
from tests.factories import TeacherFactory

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not worker_tests._redis_reachable(), reason=f"no Redis broker at {worker_tests.BROKER_URL}"),
]

worker_queue = worker_tests.worker_queue  # the fixture: a worker subprocess on a queue of its own
POLL_S = 0.05


def _long_notes(sections: int) -> str:
    """Markdown with ``sections`` sections of ~1,500 distinct words each (about ten passages a section)."""
    parts = ["# Field notes\n"]
    for s in range(sections):
        parts.append(f"\n## Site {s}\n\n")
        parts.extend(
            f"Sample {s}-{n} was taken at depth {n * 7 + s} metres where the water held {n + s} units of "
            f"dissolved oxygen and {2 * n + s} units of nitrate on day {n}. "
            for n in range(60)
        )
    return "".join(parts)


def test_a_worker_reports_an_uploads_progress_as_it_indexes(worker_queue, settings, as_user):
    # given a class on the teacher's own syllabus with an upload of several embedding steps, and the cache
    # the worker writes progress to (its Redis)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": worker_tests.BROKER_URL}
    }
    classroom = classroom_create_with_syllabus(teacher=TeacherFactory(), name="Ecology", syllabus_title="Field notes")
    job = IngestionJob.objects.create(
        curriculum=classroom.curriculum, created_by=classroom.teacher, kind="upload", filename="field-notes.md"
    )
    job.upload.save(f"{job.pk}.md", ContentFile(_long_notes(60).encode()), save=True)
    cache.delete(_progress_key(job.pk))  # the test database reuses job ids; the worker's Redis keeps keys
    client = as_user(classroom.teacher)
    url = f"/api/v1/teacher/classes/{classroom.pk}/uploads/{job.pk}/"
    broker = Celery("veritutor-test-client", broker=worker_tests.BROKER_URL, set_as_current=False)

    # when the worker runs the import and the endpoint is polled meanwhile
    seen: list[tuple[str, int, int, int]] = []
    try:
        broker.send_task("curriculum.tasks.ingestion_job_run_task", kwargs={"job_id": job.pk}, queue=worker_queue)
        deadline = time.monotonic() + worker_tests.TASK_TIMEOUT_S
        while time.monotonic() < deadline:
            body = client.get(url).json()
            state = (body["status"], body["percent"], body["done"], body["total"])
            if not seen or seen[-1] != state:
                seen.append(state)
            if body["status"] in ("succeeded", "failed"):
                break
            time.sleep(POLL_S)
        passages = Chunk.objects.filter(curriculum=classroom.curriculum).count()
    finally:
        broker.close()
        drop_curriculum_index(curriculum_id=classroom.curriculum_id)

    print("progress seen (status, percent, done, total):", seen)

    # then it moved through intermediate steps of EMBED_STEP passages, never backwards, and ended at 100 %
    assert passages > 2 * EMBED_STEP
    assert seen[-1] == ("succeeded", 100, passages, passages)
    steps = [done for status, _, done, _ in seen if status == "running" and done]
    assert steps, f"no progress was seen while running: {seen}"
    assert set(steps) <= {min(n * EMBED_STEP, passages) for n in range(1, passages // EMBED_STEP + 2)}
    percents = [percent for _, percent, _, _ in seen]
    assert percents == sorted(percents)
    assert any(0 < percent < 100 for percent in percents)
