"""The Celery app: eager (inline) unless REDIS_URL or CELERY_BROKER_URL names a broker."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("veritutor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
