"""Numbers, quantities and dates stated in a claim must also be stated in the evidence."""

from __future__ import annotations

import re
from functools import lru_cache

_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "thousand": 1000,
    "dozen": 12,
    "half": 0.5,
    "double": 2,
    "twice": 2,
    "triple": 3,
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
# "one" and ordinals are also ordinary words ("one of the", "second messenger"): a claim saying
# "one" is not a numeric statement often enough that flagging it would cost precision.
_AMBIGUOUS_WORDS = frozenset({"one", "first", "second", "half", "double"})
_SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_DIGITS = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|\.\d+)(?:\s*(million|billion|trillion|thousand|hundred))?",
    re.IGNORECASE,
)
_WORD_NUMBER = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
# "may" and "march" are verbs far more often than months; only count them next to a day/year.
_MONTH = re.compile(
    r"\b(" + "|".join(m for m in MONTHS if m not in ("may", "march")) + r"|(?:may|march)(?=\s+\d))\b",
    re.IGNORECASE,
)
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")\b", re.IGNORECASE)


def extract_numbers(text: str, *, include_words: bool = True) -> list[tuple[str, float]]:
    """Numeric mentions as (surface form, value); digits, scaled digits and number words."""
    found: list[tuple[str, float]] = []
    for match in _DIGITS.finditer(text):
        value = float(match.group(1).replace(",", ""))
        if match.group(2):
            value *= _SCALES[match.group(2).lower()]
        found.append((match.group(0), value))
    if include_words:
        for match in _WORD_NUMBER.finditer(text):
            word = match.group(1).lower()
            if word in _AMBIGUOUS_WORDS:
                continue
            found.append((match.group(0), float(_NUMBER_WORDS[word])))
    return found


# Evidence passages are module-length and shared by many claims: parse each once.
@lru_cache(maxsize=256)
def _values(text: str) -> frozenset[float]:
    values: set[float] = set()
    for _, value in extract_numbers(text):
        values.add(round(value, 6))
    # "25 percent" may be written 0.25 and "1.5 million" may be written 1,500,000 or 1.5; the
    # mentions are already scaled, so adding the bare digits keeps "1.5 million" == "1.5 m".
    for match in _DIGITS.finditer(text):
        values.add(round(float(match.group(1).replace(",", "")), 6))
    return frozenset(values)


def number_mismatches(claim: str, evidence: str) -> list[str]:
    """Numeric mentions of the claim whose value appears nowhere in the evidence."""
    evidence_values = _values(evidence)
    missing = []
    for surface, value in extract_numbers(claim):
        bare = _DIGITS.match(surface)
        candidates = {round(value, 6)}
        if bare:
            candidates.add(round(float(bare.group(1).replace(",", "")), 6))
        if not candidates & evidence_values:
            missing.append(surface.strip())
    return missing


@lru_cache(maxsize=256)
def _lower(text: str) -> str:
    return text.lower()


def date_mismatches(claim: str, evidence: str) -> list[str]:
    """Month and weekday names of the claim that the evidence never mentions."""
    evidence_lower = _lower(evidence)
    missing = []
    for pattern in (_MONTH, _WEEKDAY):
        for match in pattern.finditer(claim):
            name = match.group(1).lower()
            if not re.search(r"\b" + name[:3], evidence_lower):
                missing.append(match.group(1))
    return missing
