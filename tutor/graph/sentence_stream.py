"""Cutting a stream of token deltas into complete sentences as soon as each one ends.

A sentence is complete once the next one has begun (a capital letter or digit after the end
punctuation), so "3.5" or "e.g. a cell" never split. Citation markers written after the full stop
("... cells. [2] Next") belong to the sentence before them.
"""

import re

from curriculum.text import is_abbreviation, words

_MARKERS = r"(?:\s*\[\d+(?:\s*,\s*\d+)*\])*"
_BOUNDARY = re.compile(r"([.!?][\"'”’)]*" + _MARKERS + r")\s+(?=[\"'“(]?[A-Z0-9])|\n\s*\n|\n(?=\s*[-*\d])")
_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
# A sentence's end punctuation, closing quotes and trailing markers: what precedes it is the word
# that may be an abbreviation.
_TERMINAL = re.compile(r"[.!?][\"'”’)]*" + _MARKERS + r"\s*$")
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
            head = _TERMINAL.sub("", candidate)
            if match.group(1) and head.strip() and match.group(1)[0] == "." and is_abbreviation(head.split()[-1]):
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


# Small models loop ("This process is essential for..." three times). A sentence whose words are
# mostly those of an earlier one adds nothing for the student and costs a verification.
REPEAT_OVERLAP = 0.8


def repeats_earlier(sentence: str, earlier: list[str]) -> bool:
    own = set(words(sentence))
    if not own:
        return True
    return any(len(own & set(words(previous))) / len(own) >= REPEAT_OVERLAP for previous in earlier)
