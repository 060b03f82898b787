"""Real Celery brokers for the tests of tasks sent from a request (config/celery_enqueue.py).

Not mocks: the app sends, not eagerly, to a Redis URL at a closed port (nothing listens: the broker is
down) or to kombu's in-memory transport, whose queue a test then reads back.
"""

import contextlib
from collections.abc import Iterator
from typing import Any

from kombu import Connection

from config.celery import app
from tests.chaos.processes import free_port

PASSWORD = "broker-s3cret"
"""In the closed broker's URL: never to be logged."""


@contextlib.contextmanager
def sending_to(url: str) -> Iterator[str]:
    """The Celery app sends to ``url`` (not eagerly) in the block, as a deployment with a broker does."""
    saved = (app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_write_url)
    app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_write_url = False, url, None
    try:
        yield url
    finally:
        app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_write_url = saved


def closed_broker_url() -> str:
    return f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"


def sent_tasks(url: str = "memory://") -> list[tuple[str, dict[str, Any]]]:
    """(task name, kwargs) of every message on the default queue, in order; the queue is left empty."""
    messages = []
    with Connection(url) as connection:
        queue = connection.SimpleQueue("celery")
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            messages.append((message.headers["task"], message.decode()[1]))
            message.ack()
        queue.close()
    return messages
