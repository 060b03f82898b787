"""Settings of a web server or Celery worker that a chaos test starts and kills.

The test's own stores, passed by environment (tests/config/worker_settings.py), and, for a worker,
vectors written in small steps (``CHAOS_EMBED_STEP``): an import of a small book then upserts to
Chroma many times before it commits, so that a kill lands between two upserts; on a Redis broker, a
short visibility timeout (``CHAOS_VISIBILITY_TIMEOUT_S``), so that a killed worker's task is
delivered again in seconds rather than an hour.
"""

from tests.config.worker_settings import *  # noqa: F403
from tests.config.worker_settings import env

if env.int("CHAOS_EMBED_STEP", default=0):
    import curriculum.indexing.index

    curriculum.indexing.index.EMBED_STEP = env.int("CHAOS_EMBED_STEP")

if env.int("CHAOS_VISIBILITY_TIMEOUT_S", default=0):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CHAOS_VISIBILITY_TIMEOUT_S"),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
