"""Sending a Celery task from a request: never lost, never hanging the request on a dead broker.

The caller has already committed the row the task works on, in a pending state (an upload's
``IngestionJob``, a batch's ``VerificationRun``). When the broker cannot be reached within a second
or so the task is not sent: a warning is logged, the caller answers as usual, and the row stays
pending until a periodic sweep sends it again once the broker is back
(``curriculum.tasks.ingestion_jobs_requeue_task``,
``verification.tasks.verification_batches_requeue_task``). The tasks take ids and are idempotent, so a row
sent twice is worked on once.

In eager mode (no broker: the embedded default) the task runs inline exactly as ``.delay`` runs it.
"""

import logging
from typing import Any

from celery import Task
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 0.5
"""A broker on the same network accepts a connection in milliseconds; one that has not within half a
second is down or unreachable (the default, 4 s and then retried, would hold the request that long)."""
SOCKET_TIMEOUT_S = 1.0
"""A publish is one short command; a broker that accepts the connection but does not answer it within
a second is stalled (without a timeout the request would wait on it for ever)."""
RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 0.2}
"""One retry after 0.2 s rides out a broker restarting or a dropped pooled connection; with the
timeouts above a request waits at most about 1.5 s before the task is left to the sweep."""


def task_send(task: Task, **kwargs: Any) -> bool:  # type: ignore[type-arg]
    """Send ``task`` with these keyword arguments (ids). True when it was sent (or run, in eager
    mode); False when the broker could not be reached, after logging a warning: the caller's row
    stays pending for the re-send sweep. Any other error is raised as ``.delay`` raises it."""
    if task.app.conf.task_always_eager:
        task.delay(**kwargs)
        return True
    try:
        with task.app.connection_for_write(
            connect_timeout=CONNECT_TIMEOUT_S,
            transport_options={
                "socket_connect_timeout": CONNECT_TIMEOUT_S,
                "socket_timeout": SOCKET_TIMEOUT_S,
                **RETRY_POLICY,
            },
        ) as connection:
            # ignore_result: no caller reads these tasks' results (the rows hold their outcome), and
            # subscribing to a result on a dead Redis backend retries for some 20 s before failing.
            task.apply_async(
                kwargs=kwargs, connection=connection, ignore_result=True, retry=True, retry_policy=RETRY_POLICY
            )
    except (OperationalError, OSError) as exc:
        # The exception's text names the broker's host and port, never its credentials.
        logger.warning(
            "broker unreachable: %s(%s) not sent, left pending for the re-send sweep (%s: %s)",
            task.name,
            ", ".join(f"{key}={value}" for key, value in kwargs.items()),
            type(exc).__name__,
            exc,
        )
        return False
    return True
