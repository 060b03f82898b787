"""Per-student limits on questions, shared by every socket (and server process) of the student.

A sliding-window counter over the Django cache: two fixed windows, the previous one weighted by
how much of it still overlaps the sliding window. Only ``add`` and ``incr`` touch the counters,
and both are atomic in the locmem and Redis caches, so concurrent sockets cannot both slip under
the limit. It approximates a true sliding log (it assumes the previous window's hits were spread
evenly) in two keys per student instead of one entry per question.
"""

import math
import re
import time
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache

_PERIOD_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")


@dataclass(frozen=True, kw_only=True)
class Rate:
    limit: int
    window_s: int


@dataclass(frozen=True, kw_only=True)
class RateDecision:
    allowed: bool
    retry_after_s: int
    """Seconds until a question would be allowed again; 0 when allowed."""


def parse_rate(text: str) -> Rate:
    """ "20/min", "5/10s", "100/hour" (DRF's format, plus an optional multiplier)."""
    match = _RATE.match(text.lower())
    if match is None or match.group(3) not in _PERIOD_SECONDS:
        raise ValueError(f"not a rate: {text!r} (expected e.g. '20/min')")
    multiplier = int(match.group(2) or 1)
    return Rate(limit=int(match.group(1)), window_s=multiplier * _PERIOD_SECONDS[match.group(3)])


def _key(scope: str, user_id: int, window: int) -> str:
    return f"rate:{scope}:{user_id}:{window}"


async def ask_rate_limit_take(*, user_id: int, now: float | None = None) -> RateDecision:
    """Count one question for the student, or refuse it (a refused question is not counted)."""
    return await rate_limit_take(scope="ask", user_id=user_id, rate=parse_rate(settings.TUTOR_SOCKET_ASK_RATE), now=now)


async def rate_limit_take(*, scope: str, user_id: int, rate: Rate, now: float | None = None) -> RateDecision:
    # One hop to a worker thread for the whole check (not one per cache call): a burst of questions
    # then costs one thread switch each, and the sockets' event loop never waits on Redis.
    return await sync_to_async(_take, thread_sensitive=False)(scope=scope, user_id=user_id, rate=rate, now=now)


def _take(*, scope: str, user_id: int, rate: Rate, now: float | None) -> RateDecision:
    now = time.time() if now is None else now
    window = int(now // rate.window_s)
    elapsed = (now % rate.window_s) / rate.window_s
    current_key = _key(scope, user_id, window)
    # Two windows' lifetime: the counter is read as "previous" during the whole next window.
    cache.add(current_key, 0, timeout=2 * rate.window_s)
    try:
        current = cache.incr(current_key)
    except ValueError:  # expired between add and incr (at a window's very end)
        cache.set(current_key, 1, timeout=2 * rate.window_s)
        current = 1
    previous = cache.get(_key(scope, user_id, window - 1), 0)
    weighted = previous * (1.0 - elapsed) + current
    if weighted <= rate.limit:
        return RateDecision(allowed=True, retry_after_s=0)
    cache.decr(current_key)
    return RateDecision(
        allowed=False, retry_after_s=_retry_after(rate=rate, previous=previous, current=current - 1, elapsed=elapsed)
    )


def _retry_after(*, rate: Rate, previous: int, current: int, elapsed: float) -> int:
    """When the previous window's weight has decayed enough for one more question."""
    if previous == 0 or current + 1 > rate.limit:
        return max(1, math.ceil((1.0 - elapsed) * rate.window_s))
    # previous * (1 - e) + current + 1 <= limit  <=>  e >= 1 - (limit - current - 1) / previous
    needed = 1.0 - (rate.limit - current - 1) / previous
    return max(1, math.ceil((needed - elapsed) * rate.window_s))
