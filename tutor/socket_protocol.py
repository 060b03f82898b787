"""The /ws/tutor/ wire format: parsing client frames and building server frames.

Kept apart from the consumer so that the protocol (documented in docs/websocket-protocol.md) is
plain typed code: the consumer only moves frames between the socket and the tutor service.
"""

import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any

from .events import AnswerEvent, Failed

# A 2,000-character question JSON-escapes to at most ~12 KB (\uXXXX per character); anything
# bigger is not a question and is refused before it is parsed.
MAX_FRAME_CHARS = 16 * 1024
MAX_CLIENT_MSG_ID_CHARS = 64  # Message.client_msg_id's column width
# Ids are 64-bit columns: a bigger integer would fail in the database instead of as a bad frame.
MAX_ID = 2**63 - 1
# Text no database column can hold: PostgreSQL refuses NUL, and an unpaired surrogate (legal in
# JSON's \uD800 escapes) cannot be encoded as UTF-8. DRF's CharField refuses both for REST.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, kw_only=True)
class AskFrame:
    curriculum: str
    question: str
    client_msg_id: str
    conversation_id: int | None = None
    full_answer: bool = False
    """The whole answer even when hint-first is on (the "show the full answer" follow-up)."""


@dataclass(frozen=True, kw_only=True)
class CancelFrame:
    pass


ClientFrame = AskFrame | CancelFrame


class ProtocolError(Exception):
    """A frame the server cannot act on; answered with an ``error`` frame, the socket stays open."""

    def __init__(self, *, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


def parse_client_frame(text: str | None, binary: bytes | None = None) -> ClientFrame:
    if text is None:
        raise ProtocolError(code="bad_frame", message="Send JSON text frames, not binary ones.")
    if len(text) > MAX_FRAME_CHARS:
        raise ProtocolError(code="frame_too_large", message=f"Frames are limited to {MAX_FRAME_CHARS} characters.")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested past the parser's depth
        raise ProtocolError(code="bad_json", message="That frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ProtocolError(code="bad_frame", message='A frame must be a JSON object with a "type".')
    kind = data.get("type")
    if kind == "ask":
        return _parse_ask(data)
    if kind == "cancel":
        return CancelFrame()
    raise ProtocolError(code="unknown_type", message=f'Unknown frame type {kind!r}; expected "ask" or "cancel".')


def _parse_ask(data: dict[str, Any]) -> AskFrame:
    problems = []
    curriculum, question, client_msg_id = data.get("curriculum"), data.get("question"), data.get("client_msg_id")
    conversation_id = data.get("conversation_id")
    full_answer = data.get("full_answer", False)
    if not isinstance(curriculum, str) or not curriculum:
        problems.append("curriculum must be a curriculum slug")
    if not isinstance(question, str):
        problems.append("question must be a string")
    if not isinstance(client_msg_id, str) or not client_msg_id or len(client_msg_id) > MAX_CLIENT_MSG_ID_CHARS:
        problems.append(f"client_msg_id must be a non-empty string of at most {MAX_CLIENT_MSG_ID_CHARS} characters")
    if any(isinstance(value, str) and _UNSTORABLE.search(value) for value in (curriculum, question, client_msg_id)):
        problems.append("text must not contain NUL characters or unpaired surrogates")
    if conversation_id is not None and (
        isinstance(conversation_id, bool) or not isinstance(conversation_id, int) or abs(conversation_id) > MAX_ID
    ):
        problems.append("conversation_id must be an integer or null")
    if not isinstance(full_answer, bool):
        problems.append("full_answer must be true or false")
    if problems:
        raise ProtocolError(code="invalid_ask", message="; ".join(problems).capitalize() + ".")
    return AskFrame(
        curriculum=str(curriculum),
        question=str(question),
        client_msg_id=str(client_msg_id),
        conversation_id=conversation_id,
        full_answer=full_answer,
    )


def event_frame(event: AnswerEvent) -> dict[str, Any]:
    """The JSON frame of a tutor event: its fields as they are (see tutor/events.py)."""
    return dataclasses.asdict(event)


def error_frame(*, code: str, message: str, message_id: int | None = None, retryable: bool = False) -> dict[str, Any]:
    return event_frame(Failed(code=code, message=message, message_id=message_id, retryable=retryable))
