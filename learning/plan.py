"""The exam-date study plan: which topics and reviews on which day, from today to the exam.

Pure Python over plain values, so the plan is recomputed from the current learner state whenever
anything changes (a missed day, new answers): progress lives in mastery and review cards, never in
the plan, so a recomputation cannot lose it.

How a plan is built:

1. Reviews that FSRS has falling due come first on their day (overdue ones today); a day's reviews
   beyond its budget move to the next day.
2. Each topic below mastery needs practice sessions: as many as BKT expects it to take to reach
   ``bkt.MASTERED`` (weak topics come back more often), the first one a "learn" session (read the
   section, then questions) if the student has never answered on it.
3. Topics are ordered prerequisites first and, among those whose prerequisites are placed, weakest
   first (Kahn's topological sort with a priority queue), so weak topics come earlier.
4. Sessions are placed in rounds: every topic's first session, then every topic's second, ..., each
   on the earliest day with room, spaced from the topic's previous session by an expanding gap
   (spacing beats massing), compressed when the exam is near. Coverage of the whole syllabus comes
   before extra rounds on any topic; what does not fit before the exam is counted, not hidden.
"""

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from . import bkt

# A session is five questions: one sitting of about ten minutes, short enough to fit beside reviews
# on a light day and long enough for BKT to move.
QUESTIONS_PER_SESSION = 5
# About 1.5 minutes per multiple-choice question read, answered and checked against the explanation.
PRACTICE_MINUTES = 8
# A learn session adds reading the book section (a Biology 2e section is 2,000-4,000 words: ~12
# minutes at a study pace) to the practice.
LEARN_MINUTES = 20
# A review is one question seen before: recall and check, about a minute.
REVIEW_MINUTES = 1
# Six sessions are ~30 answers: enough to take the default prior 0.2 to mastery at the default learn
# rate (27 answers). The cap binds only for topics fitted as slow to learn, where more drilling of the
# same few questions (a Biology 2e section has 4 keyed ones, median) would teach the answers, not the
# topic: the rest of the gap is left to reviews and the tutor.
MAX_SESSIONS_PER_TOPIC = 6
# Days between a topic's sessions: 1, 2, 4, 7, 7 ... (expanding spacing), never more than a week so
# a weak topic keeps coming back before the exam.
MAX_GAP_DAYS = 7


class ItemKind(StrEnum):
    REVIEW = "review"
    LEARN = "learn"
    PRACTICE = "practice"


@dataclass(frozen=True, kw_only=True)
class PlanTopic:
    topic_id: int
    mastery: float
    evidence: int
    prerequisites: tuple[int, ...] = ()
    params: bkt.BktParams = bkt.DEFAULT_PARAMS
    last_practised: date | None = None
    """The last day the student answered on it: the next session keeps its spacing from that day."""
    question_count: int | None = None
    """Gradable questions it has (None: enough for any session). A session serves at most this many;
    a topic without any (a chapter introduction) is not planned and counts for nothing in readiness."""

    @property
    def session_questions(self) -> int:
        if self.question_count is None:
            return QUESTIONS_PER_SESSION
        return min(QUESTIONS_PER_SESSION, self.question_count)


@dataclass(frozen=True, kw_only=True)
class PlanInput:
    today: date
    exam_date: date
    daily_minutes: int
    topics: Sequence[PlanTopic]
    """In book order: ties in weakness keep the book's order."""
    review_due_dates: Sequence[date] = ()
    """One date per review card falling due; overdue ones count for today."""
    minutes_done_today: int = 0


@dataclass(frozen=True, kw_only=True)
class PlannedItem:
    day: date
    kind: ItemKind
    topic_id: int | None
    questions: int
    minutes: int


@dataclass(frozen=True, kw_only=True)
class Plan:
    items: list[PlannedItem]
    """Ordered by day, reviews first within a day."""
    projected_mastery: dict[int, float]
    """Expected mastery per topic on exam day if the plan is followed."""
    predicted_readiness: float
    """Expected fraction of right answers on an exam with one question per topic that has questions,
    if the plan is followed."""
    unplaced_sessions: int
    """Sessions the topics need that do not fit before the exam."""
    unplaced_reviews: int = 0
    study_days: int = 0
    topic_order: list[int] = field(default_factory=list)


def prerequisites_from_book(topics: Sequence[tuple[int, int]]) -> dict[int, tuple[int, ...]]:
    """Prerequisites from the book's structure: ``topics`` are (topic id, chapter id) in book order.

    A section builds on the one before it in the same chapter (a chapter's introduction comes before
    its first section); a chapter's first topic needs nothing. Chapters are not chained: a textbook
    chapter is written to be readable on its own, and chaining them would force the whole book into
    one fixed order, leaving nothing for weakness to reorder.
    """
    prerequisites: dict[int, tuple[int, ...]] = {}
    previous: tuple[int, int] | None = None
    for topic_id, chapter_id in topics:
        if previous is not None and previous[1] == chapter_id:
            prerequisites[topic_id] = (previous[0],)
        else:
            prerequisites[topic_id] = ()
        previous = (topic_id, chapter_id)
    return prerequisites


def sessions_needed(topic: PlanTopic) -> int:
    if topic.session_questions == 0:
        return 0
    opportunities = bkt.opportunities_to_master(topic.mastery, topic.params)
    sessions = -(-opportunities // topic.session_questions)  # ceil
    if topic.evidence == 0:
        # Never practised: one learn session even if the prior says it is known.
        sessions = max(sessions, 1)
    return min(sessions, MAX_SESSIONS_PER_TOPIC)


def topic_order(topics: Sequence[PlanTopic]) -> list[int]:
    """Prerequisites first; among available topics the weakest first, then book order."""
    book_index = {t.topic_id: i for i, t in enumerate(topics)}
    by_id = {t.topic_id: t for t in topics}
    waiting_on: dict[int, int] = {}
    dependants: dict[int, list[int]] = {t.topic_id: [] for t in topics}
    for t in topics:
        known_prereqs = [p for p in t.prerequisites if p in by_id]
        waiting_on[t.topic_id] = len(known_prereqs)
        for p in known_prereqs:
            dependants[p].append(t.topic_id)
    heap = [(t.mastery, book_index[t.topic_id], t.topic_id) for t in topics if waiting_on[t.topic_id] == 0]
    heapq.heapify(heap)
    order: list[int] = []
    while heap:
        _, _, topic_id = heapq.heappop(heap)
        order.append(topic_id)
        for d in dependants[topic_id]:
            waiting_on[d] -= 1
            if waiting_on[d] == 0:
                heapq.heappush(heap, (by_id[d].mastery, book_index[d], d))
    if len(order) != len(topics):
        raise ValueError("the topic prerequisites have a cycle")
    return order


def build_plan(data: PlanInput) -> Plan:
    days = max(0, (data.exam_date - data.today).days)  # the exam day itself is for the exam
    capacity = [data.daily_minutes] * days
    planned = [0] * days  # minutes of topic sessions per day (to let one oversized session in)
    if days:
        capacity[0] = max(0, capacity[0] - data.minutes_done_today)
    items_by_day: list[list[PlannedItem]] = [[] for _ in range(days)]

    unplaced_reviews = _place_reviews(data, capacity, items_by_day)

    order = topic_order(data.topics)
    by_id = {t.topic_id: t for t in data.topics}
    needed = {t.topic_id: sessions_needed(t) for t in data.topics}
    placed_count = dict.fromkeys(needed, 0)
    last_day: dict[int, int] = {}
    first_day: dict[int, int] = {}
    unplaced = 0
    first_open = 0
    rounds = max(needed.values(), default=0)
    for round_index in range(rounds):
        for topic_id in order:
            if needed[topic_id] <= round_index:
                continue
            topic = by_id[topic_id]
            if round_index > 0 and placed_count[topic_id] < round_index:
                unplaced += 1  # an earlier session did not fit: later ones cannot either
                continue
            earliest = _earliest_day(topic, round_index, data, days, last_day, first_day, needed[topic_id])
            is_learn = round_index == 0 and topic.evidence == 0
            minutes = LEARN_MINUTES if is_learn else PRACTICE_MINUTES
            day = _first_day_with_room(max(earliest, first_open), minutes, capacity, planned, data.daily_minutes)
            if day is None:
                unplaced += 1
                continue
            capacity[day] -= minutes
            planned[day] += minutes
            while first_open < days and capacity[first_open] < PRACTICE_MINUTES and planned[first_open] > 0:
                first_open += 1
            items_by_day[day].append(
                PlannedItem(
                    day=data.today + timedelta(days=day),
                    kind=ItemKind.LEARN if is_learn else ItemKind.PRACTICE,
                    topic_id=topic_id,
                    questions=topic.session_questions,
                    minutes=minutes,
                )
            )
            placed_count[topic_id] += 1
            last_day[topic_id] = day
            first_day.setdefault(topic_id, day)

    projected = {
        t.topic_id: bkt.after_practice(t.mastery, placed_count[t.topic_id] * t.session_questions, t.params)
        for t in data.topics
    }
    examined = [t for t in data.topics if t.session_questions > 0]
    readiness = (
        sum(bkt.p_correct(projected[t.topic_id], t.params) for t in examined) / len(examined) if examined else 0.0
    )
    return Plan(
        items=[item for day_items in items_by_day for item in day_items],
        projected_mastery=projected,
        predicted_readiness=readiness,
        unplaced_sessions=unplaced,
        unplaced_reviews=unplaced_reviews,
        study_days=days,
        topic_order=order,
    )


def _place_reviews(data: PlanInput, capacity: list[int], items_by_day: list[list[PlannedItem]]) -> int:
    days = len(capacity)
    due_per_day = [0] * days
    for due in data.review_due_dates:
        offset = (due - data.today).days
        if offset < days:
            due_per_day[max(0, offset)] += 1
    carried = 0
    for day in range(days):
        waiting = due_per_day[day] + carried
        fits = min(waiting, capacity[day] // REVIEW_MINUTES)
        if fits:
            capacity[day] -= fits * REVIEW_MINUTES
            items_by_day[day].append(
                PlannedItem(
                    day=data.today + timedelta(days=day),
                    kind=ItemKind.REVIEW,
                    topic_id=None,
                    questions=fits,
                    minutes=fits * REVIEW_MINUTES,
                )
            )
        carried = waiting - fits
    return carried


def _earliest_day(
    topic: PlanTopic,
    round_index: int,
    data: PlanInput,
    days: int,
    last_day: Mapping[int, int],
    first_day: Mapping[int, int],
    sessions: int,
) -> int:
    if round_index == 0:
        # Not before its prerequisites are first studied (the same day is fine: they come first in it).
        earliest = max((first_day.get(p, 0) for p in topic.prerequisites), default=0)
        if topic.last_practised is not None:
            earliest = max(earliest, (topic.last_practised - data.today).days + 1)
        return max(0, earliest)
    previous = last_day[topic.topic_id]
    expanding = min(MAX_GAP_DAYS, 2 ** (round_index - 1))
    # Near the exam the gap shrinks so that the remaining sessions still fit before it.
    remaining_sessions = sessions - round_index
    room = max(1, (days - 1 - previous) // max(1, remaining_sessions))
    return previous + max(1, min(expanding, room))


def _first_day_with_room(start: int, minutes: int, capacity: list[int], planned: list[int], daily: int) -> int | None:
    for day in range(start, len(capacity)):
        if capacity[day] >= minutes:
            return day
        # A budget smaller than one session still gets one session a day rather than none.
        if daily < minutes and planned[day] == 0 and capacity[day] > 0:
            return day
    return None
