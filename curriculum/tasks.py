"""Celery tasks: thin wrappers that take ids and call one service."""

from celery import shared_task


@shared_task(acks_late=True)
def ingestion_job_run_task(*, job_id: int) -> str:
    from .services import ingestion_job_run

    return ingestion_job_run(job_id=job_id).status


@shared_task(acks_late=True)
def curriculum_reindex_task(*, curriculum_id: int) -> int:
    from .services import curriculum_reindex

    return curriculum_reindex(curriculum_id=curriculum_id)


@shared_task(acks_late=True)
def ingestion_jobs_requeue_task() -> int:
    """Periodic (``CELERY_BEAT_SCHEDULE``): upload jobs left pending while the broker was down are sent again."""
    from .services import ingestion_jobs_requeue

    return ingestion_jobs_requeue()
