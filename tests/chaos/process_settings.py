"""Settings of a web server or Celery worker that a chaos test starts and kills.

The test's own stores, passed by environment (tests/config/worker_settings.py), and, for a worker,
vectors written in small steps (``CHAOS_EMBED_STEP``): an import of a small book then upserts to
Chroma many times before it commits, so that a kill lands between two upserts.
"""

from tests.config.worker_settings import *  # noqa: F403
from tests.config.worker_settings import env

if env.int("CHAOS_EMBED_STEP", default=0):
    import curriculum.indexing.index

    curriculum.indexing.index.EMBED_STEP = env.int("CHAOS_EMBED_STEP")
