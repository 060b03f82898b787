"""Cutting a stream of token deltas into complete sentences as soon as each one ends.

A sentence is complete once the next one has begun (a capital letter or digit after the end
punctuation), so "3.5" or "e.g. a cell" never split. Citation markers written after the full stop
("... cells. [2] Next") belong to the sentence before them.
"""

import re

from verification.entailment.text import _ABBREVIATIONS

_MARKERS = r"(?:\s*\[\d+(?:\s*,\s*\d+)*\])*"
_BOUNDARY = re.compile(r"([.!?][\"'”’)]*" + _MARKERS + r")\s+(?=[\"'“(]?[A-Z0-9])|\n\s*\n|\n(?=\s*[-*\d])")
_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SPACES = re.compile(r"\s+")


class SentenceAssembler:
    """Feed deltas, get complete sentences; ``flush`` returns the tail at the end of the stream."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, delta: str) -> list[str]:
        self._buffer += delta
        out: list[str] = []
        start = 0
        for match in _BOUNDARY.finditer(self._buffer):
            candidate = self._buffer[start : match.end(1) if match.group(1) else match.start()]
            last_word = candidate.rstrip().rsplit(None, 1)[-1].rstrip(".!?\"'”’)]").lower() if candidate.strip() else ""
            if match.group(1) and (last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha())):
                continue
            if candidate.strip():
                out.append(candidate.strip())
            start = match.end()
        self._buffer = self._buffer[start:]
        return out

    def flush(self) -> list[str]:
        tail, self._buffer = self._buffer.strip(), ""
        return [tail] if tail else []


def split_markers(sentence: str) -> tuple[str, tuple[int, ...]]:
    """The sentence without its [n] markers, and the passage numbers they cite."""
    numbers: list[int] = []
    for group in _MARKER.findall(sentence):
        numbers.extend(int(n) for n in group.split(","))
    text = _SPACES.sub(" ", _MARKER.sub("", sentence)).strip()
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    return text, tuple(dict.fromkeys(numbers))


_WORD = re.compile(r"[a-z0-9]+")
# Small models loop ("This process is essential for..." three times). A sentence whose words are
# mostly those of an earlier one adds nothing for the student and costs a verification.
REPEAT_OVERLAP = 0.8


def repeats_earlier(sentence: str, earlier: list[str]) -> bool:
    words = set(_WORD.findall(sentence.lower()))
    if not words:
        return True
    for previous in earlier:
        seen = set(_WORD.findall(previous.lower()))
        if len(words & seen) / len(words) >= REPEAT_OVERLAP:
            return True
    return False
