"""The per-student sliding-window limit, on whichever cache the run uses (locmem, or Redis)."""

import pytest

from tutor.rate_limits import Rate, parse_rate, rate_limit_take

THREE_PER_10S = Rate(limit=3, window_s=10)
T0 = 1_000_000.0  # a window boundary (a multiple of 10 s)


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("20/min", Rate(limit=20, window_s=60)),
        ("5/10s", Rate(limit=5, window_s=10)),
        ("100/hour", Rate(limit=100, window_s=3600)),
    ],
)
def test_parse_rate(text, rate):
    assert parse_rate(text) == rate


def test_parse_rate_refuses_nonsense():
    with pytest.raises(ValueError, match="not a rate"):
        parse_rate("lots")


async def take(at: float, user_id: int = 1):
    return await rate_limit_take(scope="test", user_id=user_id, rate=THREE_PER_10S, now=T0 + at)


async def test_the_limit_is_reached_within_a_window_and_refusals_are_not_counted():
    # given three questions in the first seconds of a window
    allowed = [(await take(at)).allowed for at in (0, 1, 2)]
    # when a fourth and fifth arrive in the same window
    fourth, fifth = await take(3), await take(4)
    # then the first three pass and the others are refused until the window is over
    assert allowed == [True, True, True]
    assert (fourth.allowed, fourth.retry_after_s, fifth.retry_after_s) == (False, 7, 6)


async def test_the_previous_window_weighs_in_as_it_slides_away():
    # given a full previous window (3 questions)
    for at in (0, 1, 2):
        await take(at)
    # when asking at the start of the next window, then half-way through it
    at_start = await take(10)
    half_way = await take(15)
    # then the start is still full (3 x 100 % + 1 > 3), half-way has room (3 x 50 % + 1 <= 3)
    assert (at_start.allowed, at_start.retry_after_s) == (False, 4)
    assert half_way.allowed is True


async def test_students_have_separate_budgets():
    # given one student at the limit
    for at in (0, 1, 2):
        await take(at, user_id=1)
    # when another student asks
    other = await take(3, user_id=2)
    # then they are allowed
    assert other.allowed is True
