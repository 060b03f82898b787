"""A Celery worker killed with SIGKILL in the middle of importing a book; another one takes over.

The broker (RabbitMQ on 5672, else the machine's Redis) delivers the unacknowledged task again
(acks_late), and the book ends up indexed exactly once: the same chunks in PostgreSQL and in the
Chroma server, none left behind by the lost attempt.
"""

import os
import sys
import uuid

import pytest
import redis
from celery import Celery
from django.core.files.base import ContentFile
from kombu import Connection
from kombu.exceptions import OperationalError

from curriculum.indexing import vector_store
from curriculum.indexing.chunking import split_into_chunks
from curriculum.indexing.index import drop_curriculum_index, indexed_chunk_ids
from curriculum.models import Chunk, IngestionJob
from curriculum.services import parse_upload
from tests.chaos.processes import django_env, kill_hard, running, wait_until
from tests.factories import CurriculumFactory

EMBED_STEP = 4
"""Chunks per upsert in the worker: the kill lands after a few upserts, long before the commit."""
REDIS_BROKER_URL = "redis://127.0.0.1:6379/13"
"""The machine's Redis (only used, never stopped), where there is no RabbitMQ."""
VISIBILITY_TIMEOUT_S = 3
"""On Redis, an unacknowledged task is delivered again this long after it was taken (an hour by
default); RabbitMQ delivers it again as soon as the killed worker's connection drops."""


def _reachable(url: str) -> bool:
    try:
        with Connection(url, connect_timeout=1) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except (OSError, OperationalError):
        return False


AMQP_URL = os.environ.get("CHAOS_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
BROKER_URL = next((url for url in (AMQP_URL, REDIS_BROKER_URL) if _reachable(url)), "")

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.skipif(not BROKER_URL, reason=f"no broker at {AMQP_URL} or {REDIS_BROKER_URL}"),
]


def _book(topics: int = 4, paragraphs: int = 8) -> str:
    """A Markdown book of one unit: ``topics`` sections of ``paragraphs`` paragraphs (a chunk each)."""
    lines = ["# Cell Transport"]
    for t in range(1, topics + 1):
        lines.append(f"## Section {t}")
        for p in range(1, paragraphs + 1):
            sentences = [
                f"In section {t}, paragraph {p}, sentence {s}, water moves across a semipermeable membrane "
                f"from low to high solute concentration by osmosis, a passive process ({t}.{p}.{s})."
                for s in range(1, 7)
            ]
            lines.append(" ".join(sentences))
    return "\n\n".join(lines) + "\n"


def _worker(queue: str):  # type: ignore[no-untyped-def]
    args = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue]
    args += ["--loglevel=warning", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    env = django_env(CELERY_BROKER_URL=BROKER_URL, CELERY_TASK_ALWAYS_EAGER="false", CHAOS_EMBED_STEP=str(EMBED_STEP))
    if BROKER_URL.startswith("redis://"):
        env["CHAOS_VISIBILITY_TIMEOUT_S"] = str(VISIBILITY_TIMEOUT_S)
    return running(args, ready=None, env=env)


def _vectors(curriculum_id: int) -> int:
    collection = vector_store.get_collection(curriculum_id, create=False)
    return 0 if collection is None else collection.count()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_leaves_the_book_indexed_exactly_once(chroma_server):
    # given an uploaded book queued for a worker on a queue of its own
    text = _book()
    parsed = parse_upload(filename="cells.md", content=text.encode())
    expected = sum(len(split_into_chunks(topic.text)) for unit in parsed.units for topic in unit.topics)
    curriculum = CurriculumFactory(slug="chaos-cells", title="Chaos Cells")
    job = IngestionJob.objects.create(curriculum=curriculum, kind="upload", filename="cells.md")
    job.upload.save(f"{job.pk}.md", ContentFile(text.encode()), save=True)
    queue = f"chaos-{uuid.uuid4().hex}"
    client = Celery("veritutor-chaos-client", broker=BROKER_URL, set_as_current=False)
    try:
        with _worker(queue) as first:
            client.send_task("curriculum.tasks.ingestion_job_run_task", kwargs={"job_id": job.pk}, queue=queue)
            wait_until(lambda: _vectors(curriculum.pk) >= 2 * EMBED_STEP, timeout_s=180, what="the first upserts")

            # when the worker is killed with SIGKILL half-way through the import
            kill_hard(first)

        # then nothing of the import is committed, but vectors of the lost attempt are on the server
        job.refresh_from_db()
        orphans = _vectors(curriculum.pk)
        assert (job.status, Chunk.objects.filter(curriculum=curriculum).count()) == ("running", 0)
        assert 2 * EMBED_STEP <= orphans < expected

        # when another worker starts and the broker delivers the task again
        with _worker(queue):
            wait_until(
                lambda: IngestionJob.objects.get(pk=job.pk).status != "running", timeout_s=180, what="the re-run"
            )

        # then the book is imported once: every chunk once in the database and once in the index
        job.refresh_from_db()
        chunk_ids = set(Chunk.objects.filter(curriculum=curriculum).values_list("id", flat=True))
        assert (job.status, job.error, job.result["chunks_indexed"]) == ("succeeded", "", expected)
        assert len(chunk_ids) == expected
        assert indexed_chunk_ids(curriculum_id=curriculum.pk) == chunk_ids
        assert _vectors(curriculum.pk) == expected
    finally:
        with Connection(BROKER_URL) as connection:
            connection.default_channel.queue_delete(queue)
        if BROKER_URL.startswith("redis://"):
            redis.Redis.from_url(BROKER_URL).delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        client.close()
        drop_curriculum_index(curriculum_id=curriculum.pk)
