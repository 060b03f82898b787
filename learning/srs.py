"""Spaced repetition with FSRS (the ``fsrs`` package): when a student should see a question again.

Every practice question a student answers becomes a card; a right answer rates it Good, a wrong one
Again (multiple choice tells us pass or fail, not how hard recall felt: FSRS's documented two-button
use).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from fsrs import Card, Rating, Scheduler, State

# No learning steps: the minute-scale steps (1 and 10 minutes) drill a flashcard within one sitting;
# here the student already saw the key and explanation in the session, and a review "due in 10
# minutes" would crowd the day's plan. Cards go straight to day-scale intervals. No fuzzing: due
# dates must be reproducible for the plan and the tests; fuzz only spreads load for huge decks.
SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


@dataclass(frozen=True, kw_only=True)
class CardState:
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None


def new_card(*, now: datetime) -> CardState:
    return CardState(
        state=int(State.Learning), step=0, stability=None, difficulty=None, due=now.astimezone(UTC), last_review=None
    )


def review(card: CardState, *, correct: bool, now: datetime) -> CardState:
    # card_id is only fsrs's bookkeeping; a fixed one skips its 1 ms sleep for a unique timestamp id.
    fsrs_card = Card(
        card_id=1,
        state=State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due.astimezone(UTC),
        last_review=card.last_review.astimezone(UTC) if card.last_review else None,
    )
    reviewed, _ = SCHEDULER.review_card(fsrs_card, Rating.Good if correct else Rating.Again, now.astimezone(UTC))
    return CardState(
        state=int(reviewed.state),
        step=reviewed.step,
        stability=reviewed.stability,
        difficulty=reviewed.difficulty,
        due=reviewed.due,
        last_review=reviewed.last_review,
    )


def retrievability(card: CardState, *, now: datetime) -> float:
    """Predicted probability the student still answers the card right now."""
    fsrs_card = Card(
        card_id=1,
        state=State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due.astimezone(UTC),
        last_review=card.last_review.astimezone(UTC) if card.last_review else None,
    )
    return float(SCHEDULER.get_card_retrievability(fsrs_card, now.astimezone(UTC)))
