"""Small text helpers of practice: sentences, content words, how much of a key an answer uses, blanking.

Pure functions, no models: free-text grading, hints and generated questions share them.
"""

import re
from collections.abc import Iterable

BLANK = "_____"

# A sentence ends at . ! or ? followed by space and an upper-case letter, a digit or a quote; common
# abbreviations (e.g., i.e., Fig.) do not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(])")
_ABBREVIATION_END = re.compile(r"\b(?:e\.g|i\.e|etc|Fig|fig|vs|approx|ca|Dr|Mr|Mrs|Ms|St|No)\.$")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|\d+(?:\.\d+)?")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can cannot could did do does doing down during each either few for
    from further had has have having he her here hers him his how however i if in into is isn't it its
    itself just may might more most much must my neither no nor not of off on once only or other our
    out over own same she should so some such than that the their them then there these they this those
    through thus to too under until up upon very was we were what when where which while who whom whose
    why will with within without would yet you your one two called known usually often many several
    because""".split()
)


def sentences(text: str) -> list[str]:
    """The text's sentences, paragraph breaks respected, abbreviations not split."""
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n|\n", text):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        pending = ""
        for piece in _SENTENCE_END.split(paragraph):
            pending = f"{pending} {piece}".strip() if pending else piece
            if _ABBREVIATION_END.search(pending):
                continue
            out.append(pending)
            pending = ""
        if pending:
            out.append(pending)
    return out


def stem(word: str) -> str:
    """A crude suffix stripper: "membranes" and "membrane", "diffuses" and "diffusion" meet."""
    word = word.lower().strip("'-")
    for suffix in ("ational", "ation", "ition", "ing", "ies", "ied", "ion", "es", "ed", "ly", "s", "e"):
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    """Stems of the words that carry meaning: no stop words, no one- or two-letter words."""
    words = (w.lower() for w in _WORD.findall(text))
    return {stem(w) for w in words if w not in STOPWORDS and (len(w) > 2 or w.isdigit())}


def key_coverage(*, answer: str, key: str, stem_text: str = "") -> float:
    """Share of the key's own content words (those the question's stem does not already give away)
    that the answer uses; 1.0 when the key adds none to the stem."""
    key_words = content_words(key) - content_words(stem_text)
    if not key_words:
        key_words = content_words(key)
    if not key_words:
        return 1.0
    return len(key_words & content_words(answer)) / len(key_words)


def overlap(a: Iterable[str], b: Iterable[str]) -> int:
    return len(set(a) & set(b))


def blank_words(sentence: str, words: set[str]) -> str:
    """The sentence with every word whose stem is in ``words`` replaced by a blank (a run of such
    words, or of such words and stop words between them, becomes one blank)."""
    spans: list[list[int]] = []
    for match in _WORD.finditer(sentence):
        token = match.group(0)
        if token.lower() in STOPWORDS or stem(token) not in words:
            continue
        if spans and sentence[spans[-1][1] : match.start()].strip() == "":
            spans[-1][1] = match.end()
        else:
            spans.append([match.start(), match.end()])
    out, last = [], 0
    for start, end in spans:
        out.append(sentence[last:start])
        out.append(BLANK)
        last = end
    out.append(sentence[last:])
    return "".join(out)


def term_pattern(term: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive match of a term (its plural too)."""
    return re.compile(r"(?<![A-Za-z-])" + re.escape(term) + r"(?:s|es)?(?![A-Za-z-])", re.IGNORECASE)
