"""A real Celery worker (a subprocess, Redis broker) runs an ingestion task against the test database."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection

from curriculum.indexing.index import drop_curriculum_index, indexed_chunk_ids
from curriculum.models import Chunk, IngestionJob
from tests.factories import CurriculumFactory

BROKER_URL = "redis://127.0.0.1:6379/14"
BASE_DIR = Path(settings.BASE_DIR)
TASK_TIMEOUT_S = 240  # worker start, embedding model load (and its one-off ONNX export) on 2 cores


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(BROKER_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _database_url() -> str | None:
    """The test database as another process can reach it; None for SQLite's in-memory test DB."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db["ENGINE"] == "django.db.backends.sqlite3" and not connection.is_in_memory_db():
        return f"sqlite:///{db['NAME']}"
    return None


pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not _redis_reachable(), reason=f"no Redis broker at {BROKER_URL}"),
]


@pytest.fixture
def worker_queue(transactional_db):
    """A worker subprocess consuming a queue of its own, on the test database; stopped after the test."""
    database_url = _database_url()
    if database_url is None:
        pytest.skip("SQLite's in-memory test database is invisible to a worker process (runs under PostgreSQL)")
    queue = f"test-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.config.worker_settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "WORKER_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "WORKER_CHROMA_PATH": str(settings.CHROMA_PATH),
        "WORKER_CHROMA_COLLECTION_PREFIX": settings.CHROMA_COLLECTION_PREFIX,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--loglevel=warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    yield queue
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
    redis.Redis.from_url(BROKER_URL).delete(queue)


def test_a_worker_imports_an_upload_end_to_end(worker_queue):
    # given a committed upload job for a curriculum
    curriculum = CurriculumFactory(slug="worker-biology", title="Worker Biology")
    job = IngestionJob.objects.create(curriculum=curriculum, kind="upload", filename="osmosis.md")
    text = "# Transport\n\n## Osmosis\n\nOsmosis is the movement of water through a semipermeable membrane.\n"
    job.upload.save(f"{job.pk}.md", ContentFile(text.encode()), save=True)
    # Not the current app: shared tasks elsewhere in the suite must keep resolving to config.celery.
    client = Celery("veritutor-test-client", broker=BROKER_URL, backend=BROKER_URL, set_as_current=False)
    try:
        # when the task is queued on the broker for the worker
        result = client.send_task(
            "curriculum.tasks.ingestion_job_run_task", kwargs={"job_id": job.pk}, queue=worker_queue
        )
        status = result.get(timeout=TASK_TIMEOUT_S)
        # then the worker ran the import: the job succeeded, and its chunks are in the DB and the index
        job.refresh_from_db()
        chunk_ids = set(Chunk.objects.filter(curriculum=curriculum).values_list("id", flat=True))
        assert (status, job.status, job.error) == ("succeeded", "succeeded", "")
        assert len(chunk_ids) == job.result["chunks_indexed"] == 1
        assert indexed_chunk_ids(curriculum_id=curriculum.pk) == chunk_ids
    finally:
        client.close()
        drop_curriculum_index(curriculum_id=curriculum.pk)
