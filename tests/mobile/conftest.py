"""The generated mobile client on ``sys.path``, made from the schema this code serves.

``make mobile-client`` generates it before the suite; a pytest run alone regenerates it here when the
schema changed since (tests/mobile/generate_client.py), so the test never drives a stale client.
"""

import sys

import pytest
from django.core.cache import cache

from tests.asgi_server import serving
from tests.mobile.generate_client import ensure_client

sys.path.insert(0, str(ensure_client()))


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters (sign-up, log-in, asking) live in the cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def server(transactional_db):
    """uvicorn serving config.asgi on a loopback port, as the phone reaches it."""
    from config.asgi import application
    from tests.mobile.mobile_app import Server  # after the generated client is on sys.path

    with serving(application) as port:
        yield Server(host=f"127.0.0.1:{port}")
