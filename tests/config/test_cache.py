"""The outage-tolerant Redis cache (config/cache.py): a dead Redis reads as an empty cache, so the
throttles and the socket's question limit let requests through (fail open) and a warning is logged."""

import logging
import os
import socket
import uuid

import pytest
import redis
from django.test import RequestFactory
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle

from config.cache import WARN_EVERY_S, OutageTolerantRedisCache
from tests.factories import UserFactory
from tutor.rate_limits import ask_rate_limit_take

BACKEND = "config.cache.OutageTolerantRedisCache"
LIVE_REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def _dead_redis_url() -> str:
    """A loopback port nothing listens on: every connection is refused, as with a killed Redis."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{probe.getsockname()[1]}/0"


def _live_redis() -> bool:
    try:
        return bool(redis.Redis.from_url(LIVE_REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


class OnePerMinute(UserRateThrottle):
    # On the class: DRF reads DEFAULT_THROTTLE_RATES once, when rest_framework.throttling is imported.
    rate = "1/min"


needs_redis = pytest.mark.skipif(not _live_redis(), reason=f"no Redis at {LIVE_REDIS_URL}")


@pytest.fixture
def dead_cache(settings) -> None:
    settings.CACHES = {"default": {"BACKEND": BACKEND, "LOCATION": _dead_redis_url()}}


@pytest.fixture
def live_cache(settings) -> None:
    # A key prefix of the test's own: the shared Redis database never mixes its counters with another run's.
    settings.CACHES = {"default": {"BACKEND": BACKEND, "LOCATION": LIVE_REDIS_URL, "KEY_PREFIX": uuid.uuid4().hex}}


def test_every_operation_on_a_dead_redis_answers_as_an_empty_cache():
    # given the tolerant cache on a Redis that refuses connections
    dead = OutageTolerantRedisCache(_dead_redis_url(), {})
    # when each operation is called, then none raises and each answers as on an empty cache
    assert dead.get("k", "default") == "default"
    assert dead.get_many(["a", "b"]) == {}
    assert dead.has_key("k") is False
    assert dead.add("k", 1) is False
    assert dead.set("k", 1) is None
    assert dead.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert dead.touch("k") is False
    assert dead.incr("k", 3) == 3
    assert dead.decr("k", 2) == -2
    assert dead.delete("k") is False
    assert dead.delete_many(["a", "b"]) is None
    assert dead.clear() is False
    assert dead.get_or_set("k", "computed") == "computed"


def test_an_outage_is_warned_about_once_per_period_not_per_call(caplog, monkeypatch):
    # given the tolerant cache on a dead Redis, and a clock that moves only when told
    now = [1000.0]
    monkeypatch.setattr("config.cache.time.monotonic", lambda: now[0])
    dead = OutageTolerantRedisCache(_dead_redis_url(), {})
    caplog.set_level(logging.WARNING, logger="config.cache")
    # when it is called five times at once, and once more a warning period later
    for _ in range(5):
        dead.get("k")
    now[0] += WARN_EVERY_S
    dead.incr("k")
    # then two warnings are logged, each naming the operation and what the outage means
    assert [(r.name, r.levelname) for r in caplog.records] == [("config.cache", "WARNING")] * 2
    assert caplog.records[0].getMessage().startswith("Redis cache unreachable (get: Error 111 connecting to 127.0.0.1:")
    assert (
        caplog.records[1].getMessage().startswith("Redis cache unreachable (incr: Error 111 connecting to 127.0.0.1:")
    )
    assert (
        caplog.records[1]
        .getMessage()
        .endswith("Connection refused.): the cache reads as empty and rate limits are not enforced")
    )


@pytest.mark.django_db
def test_a_drf_throttle_lets_requests_through_while_redis_is_down(dead_cache):
    # given a user throttle of one request a minute, over the cache on a dead Redis
    request = Request(RequestFactory().get("/api/v1/me/"))
    request.user = UserFactory()
    # when three requests come within the minute
    allowed = [OnePerMinute().allow_request(request, view=None) for _ in range(3)]  # type: ignore[arg-type]
    # then every one is allowed (fail open)
    assert allowed == [True, True, True]


async def test_the_socket_question_limit_lets_questions_through_while_redis_is_down(dead_cache, settings):
    # given the socket's limit of one question a minute, over the cache on a dead Redis
    settings.TUTOR_SOCKET_ASK_RATE = "1/min"
    # when a student asks three times within the minute
    decisions = [await ask_rate_limit_take(user_id=7, now=60.0 * 1000 + n) for n in range(3)]
    # then every question is allowed
    assert [(d.allowed, d.retry_after_s) for d in decisions] == [(True, 0), (True, 0), (True, 0)]


@needs_redis
@pytest.mark.django_db
def test_with_redis_up_the_drf_throttle_still_refuses_past_its_rate(live_cache):
    # given a user throttle of one request a minute, over the tolerant cache on a live Redis
    request = Request(RequestFactory().get("/api/v1/me/"))
    request.user = UserFactory()
    # when three requests come within the minute
    allowed = [OnePerMinute().allow_request(request, view=None) for _ in range(3)]  # type: ignore[arg-type]
    # then only the first is allowed
    assert allowed == [True, False, False]


@needs_redis
async def test_with_redis_up_the_socket_question_limit_still_refuses_past_its_rate(live_cache, settings):
    # given the socket's limit of one question a minute, over the tolerant cache on a live Redis
    settings.TUTOR_SOCKET_ASK_RATE = "1/min"
    # when a student asks three times within the first second of a minute
    decisions = [await ask_rate_limit_take(user_id=7, now=60.0 * 1000 + n / 10) for n in range(3)]
    # then only the first is allowed; the others are told to wait out the minute
    assert [(d.allowed, d.retry_after_s) for d in decisions] == [(True, 0), (False, 60), (False, 60)]
