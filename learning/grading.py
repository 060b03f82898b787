"""Exact grading of multiple-choice questions as served: options shown once each, the key mapped.

Pure functions: the practice service stores what they return, and the tests run them over every
imported question of a book.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

_SPACE = re.compile(r"\s+")


def normalized(text: str) -> str:
    """What makes two option or stem texts "the same" to a student: case and spacing aside."""
    return _SPACE.sub(" ", text).strip().casefold()


@dataclass(frozen=True, kw_only=True)
class ServedOptions:
    options: list[str]
    """Option texts in the book's order, each text once."""
    key_option: int
    """Index into ``options`` of the keyed answer."""


def served_options(choices: Sequence[str], answer_index: int) -> ServedOptions:
    """The options a student sees. The book's order is kept (options like "both a and c" refer to
    it, so shuffling would break them). An option text repeated in the source is shown once, and
    the key points at that one: otherwise a student picking the other copy of the right text would
    be graded wrong."""
    if not 0 <= answer_index < len(choices):
        raise ValueError(f"answer index {answer_index} is outside the {len(choices)} choices")
    options: list[str] = []
    shown_at: dict[str, int] = {}
    position_of_choice: list[int] = []
    for text in choices:
        key = normalized(text)
        if key not in shown_at:
            shown_at[key] = len(options)
            options.append(_SPACE.sub(" ", text).strip())
        position_of_choice.append(shown_at[key])
    return ServedOptions(options=options, key_option=position_of_choice[answer_index])


def question_identity(stem: str, choices: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """Two questions with this equal are the same question to a student (a book can print one twice)."""
    return normalized(stem), tuple(sorted({normalized(c) for c in choices}))
