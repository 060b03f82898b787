"""Celery tasks: thin wrappers that call one service."""

from celery import shared_task


@shared_task(acks_late=True)
def interrupted_answers_sweep_task() -> int:
    """Periodic (``CELERY_BEAT_SCHEDULE``): answers cut off by a restart are failed, to be retried."""
    from .services import tutor_interrupted_answers_sweep

    return tutor_interrupted_answers_sweep()
