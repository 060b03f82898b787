"""Celery tasks: thin wrappers that take ids and call one service."""

from celery import shared_task


@shared_task(acks_late=True)
def verification_batch_execute_task(*, run_id: int) -> str:
    from .services import verification_batch_execute

    return verification_batch_execute(run_id=run_id).status


@shared_task(acks_late=True)
def verification_batches_requeue_task() -> int:
    """Periodic (``CELERY_BEAT_SCHEDULE``): batch runs left pending while the broker was down are sent again."""
    from .services import verification_batches_requeue

    return verification_batches_requeue()
