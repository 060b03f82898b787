"""The Redis cache, failing open: while Redis is unreachable the cache reads as empty and forgets writes.

What reads the cache is request throttling (DRF's throttles, the socket's per-student question limit
in ``tutor/rate_limits.py``) and import progress. Django's ``RedisCache`` raises on every call
while Redis is down, so each of those requests failed with a 500 (a refused websocket handshake,
for the socket) and the question was never saved. Here the throttles fail **open**: a school's
tutor keeps answering when its cache dies, and the limits come back with Redis. The cost is that
limits (log-in attempts included) are not enforced for as long as the outage lasts; each process
logs a warning while it lasts, so that the outage is seen and fixed, not hidden.

Failing open per operation: a read answers its default (no history: every throttle allows), a
write does nothing, ``incr`` counts from a fresh zero (the socket's limit then allows), and
``clear``/``delete`` report nothing removed.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# One warning per process at most this often while Redis stays down: every throttled request hits
# the cache, and a warning per request would flood the logs exactly when they are needed.
WARN_EVERY_S = 30.0

T = TypeVar("T")


class OutageTolerantRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` that treats a Redis error as a cache miss."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._warned_at: float | None = None
        self._warn_lock = threading.Lock()

    def _tolerant(self, operation: str, call: Callable[[], T], fallback: T) -> T:
        try:
            return call()
        except RedisError as exc:
            self._warn(operation, exc)
            return fallback

    def _warn(self, operation: str, exc: RedisError) -> None:
        now = time.monotonic()
        with self._warn_lock:
            if self._warned_at is not None and now - self._warned_at < WARN_EVERY_S:
                return
            self._warned_at = now
        logger.warning(
            "Redis cache unreachable (%s: %s): the cache reads as empty and rate limits are not enforced",
            operation,
            exc,
        )

    def add(self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._tolerant("add", partial(super().add, key, value, timeout, version), False)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._tolerant("get", partial(super().get, key, default, version), default)

    def set(self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._tolerant("set", partial(super().set, key, value, timeout, version), None)

    def touch(self, key: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._tolerant("touch", partial(super().touch, key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._tolerant("delete", partial(super().delete, key, version), False)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return self._tolerant("get_many", partial(super().get_many, keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._tolerant("has_key", partial(super().has_key, key, version), False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # A fresh counter (0 + delta): a limit counted here allows the request.
        return self._tolerant("incr", partial(super().incr, key, delta, version), delta)

    def set_many(
        self, data: dict[Any, Any], timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        # Django's contract: the keys that failed to be set.
        failed = list(data)
        return self._tolerant("set_many", partial(super().set_many, data, timeout, version), failed)

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self._tolerant("delete_many", partial(super().delete_many, keys, version), None)

    def clear(self) -> bool:
        return self._tolerant("clear", partial(super().clear), False)
