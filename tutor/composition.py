"""What an answer may show besides true sentences: the rules that make released sentences read as
an answer.

A sentence can be supported by the syllabus and cited and still be no use to the student where it
lands: "The previous section of this chapter focused on..." points at a page the student does not
have open, "learning: change in behavior..." is a glossary line, not a sentence, and a sentence
shown twice says nothing new. Such a sentence is kept with its verdict (the audit trail is whole)
but not released. The first two rules are the ones revision candidates are held to
(``verification.revision.stands_alone``), so a revision and a drafted sentence meet the same bar.
"""

from collections.abc import Sequence
from typing import Literal

from verification.revision import is_fragment, leans_on_lost_context

from .graph.sentence_stream import repeats_earlier

Omission = Literal["fragment", "lost_context", "repeat"]


def composition_omission(text: str, *, shown: Sequence[str]) -> Omission | None:
    """Why a supported sentence must not be released after ``shown`` (the sentences already
    released, in order), or None when it may be."""
    if is_fragment(text):
        return "fragment"
    if leans_on_lost_context(text):
        return "lost_context"
    if repeats_earlier(text, list(shown)):
        return "repeat"
    return None
