"""The Celery broker (Redis) is down when a teacher uploads a book; it comes back, and the sweep sends it.

The upload is accepted over the REST API with its job pending and its file kept (the task could not be
sent: config/celery_enqueue.py). Once Redis and a worker are up, the re-send sweep sends it, and a
second copy reaches the worker's other process while the first imports it: the book is indexed exactly
once, the same chunks in PostgreSQL and in the Chroma server, and the job's count is the import's.
"""

import sys
import time
from collections.abc import Iterator

import httpx
import pytest
import redis
from celery import Celery
from rest_framework.authtoken.models import Token

from config.celery import app
from curriculum.indexing import vector_store
from curriculum.indexing.chunking import split_into_chunks
from curriculum.indexing.index import drop_curriculum_index, indexed_chunk_ids
from curriculum.models import Chunk, IngestionJob
from curriculum.services import parse_upload
from tests.chaos.processes import django_env, free_port, port_open, redis_server, running, wait_until
from tests.factories import CurriculumFactory, TeacherFactory

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]

SWEEP = "curriculum.tasks.ingestion_jobs_requeue_task"
RUN = "curriculum.tasks.ingestion_job_run_task"


def _book(topics: int = 3, paragraphs: int = 4) -> str:
    lines = ["# Cell Transport"]
    for t in range(1, topics + 1):
        lines.append(f"## Section {t}")
        for p in range(1, paragraphs + 1):
            lines.append(
                " ".join(
                    f"In section {t}, paragraph {p}, sentence {s}, water moves across a semipermeable membrane "
                    f"from low to high solute concentration by osmosis ({t}.{p}.{s})."
                    for s in range(1, 7)
                )
            )
    return "\n\n".join(lines) + "\n"


@pytest.fixture
def broker_url() -> Iterator[str]:
    """This process (the web server's thread included) sends tasks, not eagerly, to a Redis of the
    test's own on a free port, where nothing listens yet."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    saved = (app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_write_url)
    app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_write_url = False, url, None
    yield url
    app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_write_url = saved


def _worker(broker: str):  # type: ignore[no-untyped-def]
    """A real worker with two processes, so that two deliveries of one job can run at once."""
    args = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=2"]
    args += ["--loglevel=warning", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    # No grace period in the worker's sweep: the job was pending before the broker came back.
    env = django_env(CELERY_BROKER_URL=broker, CELERY_TASK_ALWAYS_EAGER="false", PENDING_REQUEUE_AFTER_S="0")
    return running(args, ready=None, env=env)


def _vectors(curriculum_id: int) -> int:
    collection = vector_store.get_collection(curriculum_id, create=False)
    return 0 if collection is None else collection.count()


def test_a_book_uploaded_while_the_broker_is_down_is_indexed_once_when_it_is_back(
    broker_url, chroma_server, web_port, tmp_path
):
    # given a teacher's own syllabus, and the broker down (nothing listens on its port)
    port = int(broker_url.rsplit(":", 1)[1].split("/")[0])
    assert not port_open(port)
    teacher = TeacherFactory()
    curriculum = CurriculumFactory(slug="chaos-transport", title="Chaos Transport", owner=teacher)
    token = Token.objects.create(user=teacher).key
    text = _book()
    parsed = parse_upload(filename="transport.md", content=text.encode())
    expected = sum(len(split_into_chunks(topic.text)) for unit in parsed.units for topic in unit.topics)
    try:
        # when the teacher uploads the book over the REST API
        started = time.monotonic()
        response = httpx.post(
            f"http://127.0.0.1:{web_port}/api/v1/curricula/chaos-transport/documents/",
            headers={"Authorization": f"Token {token}"},
            files={"file": ("transport.md", text.encode(), "text/markdown")},
            timeout=30,
        )
        elapsed = time.monotonic() - started

        # then it is accepted as usual: the job pending, the file kept, nothing imported
        job = IngestionJob.objects.get(curriculum=curriculum)
        assert (response.status_code, response.json()["job_id"]) == (202, job.pk)
        assert (job.status, job.upload.name) == ("pending", f"uploads/{job.pk}.md")
        with job.upload.open("rb") as handle:
            assert handle.read() == text.encode()
        assert (Chunk.objects.filter(curriculum=curriculum).count(), _vectors(curriculum.pk)) == (0, 0)
        assert elapsed < 10.0

        # when Redis comes back, a worker starts and the re-send sweep runs
        with redis_server(port, tmp_path), _worker(broker_url):
            client = Celery("veritutor-chaos-client", broker=broker_url, set_as_current=False)
            client.send_task(SWEEP)
            wait_until(lambda: IngestionJob.objects.get(pk=job.pk).status != "pending", timeout_s=120, what="the sweep")
            # and the job is delivered a second time while the first delivery imports it
            client.send_task(RUN, kwargs={"job_id": job.pk})
            wait_until(
                lambda: IngestionJob.objects.get(pk=job.pk).status not in ("pending", "running"),
                timeout_s=240,
                what="the import",
            )
            # every delivery taken and acknowledged: the sweep and both copies of the job
            queues = redis.Redis(port=port)
            wait_until(
                lambda: queues.llen("celery") == 0 and queues.hlen("unacked") == 0,
                timeout_s=60,
                what="the queue to drain",
            )
            client.close()

        # then the book is imported once: every chunk once in the database and once in the index
        job.refresh_from_db()
        chunk_ids = set(Chunk.objects.filter(curriculum=curriculum).values_list("id", flat=True))
        assert (job.status, job.error, job.result["chunks_indexed"]) == ("succeeded", "", expected)
        assert len(chunk_ids) == expected
        assert indexed_chunk_ids(curriculum_id=curriculum.pk) == chunk_ids
        assert _vectors(curriculum.pk) == expected
    finally:
        drop_curriculum_index(curriculum_id=curriculum.pk)
