"""Settings for a Celery worker that a test starts: the test's own stores, passed by environment.

The worker is a separate process, so it must use the test run's database, media folder and
Chroma store rather than fresh temporary ones (config.settings.test makes new ones per process).
"""

from pathlib import Path

from config.settings.test import *  # noqa: F403
from config.settings.test import env

MEDIA_ROOT = Path(env("WORKER_MEDIA_ROOT"))
CHROMA_PATH = Path(env("WORKER_CHROMA_PATH"))
CHROMA_COLLECTION_PREFIX = env("WORKER_CHROMA_COLLECTION_PREFIX")
