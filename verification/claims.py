"""Splitting an answer sentence into separately checkable claims (rule-based).

Only splits where both sides stand alone: at semicolons, and before a contrast or a second clause
that has its own subject ("..., but ...", "..., whereas ..."). A sentence is never split into
fragments too short to check.
"""

import re

_SPLIT = re.compile(r";\s+|,\s+(?:but|whereas|while|although|yet)\s+|\s+—\s+", re.IGNORECASE)
# A piece shorter than this cannot be checked on its own ("but not always"); it stays attached.
MIN_CLAIM_WORDS = 4


def split_claims(sentence: str) -> list[str]:
    pieces = [p.strip(" ,;") for p in _SPLIT.split(sentence) if p and p.strip(" ,;")]
    claims: list[str] = []
    for piece in pieces:
        if claims and len(piece.split()) < MIN_CLAIM_WORDS:
            claims[-1] = f"{claims[-1]}, {piece}"
        else:
            claims.append(piece)
    if len(claims) > 1 and len(claims[0].split()) < MIN_CLAIM_WORDS:
        claims[1] = f"{claims[0]}, {claims[1]}"
        claims.pop(0)
    return [c if c.endswith((".", "!", "?")) else c + "." for c in claims] or [sentence]
