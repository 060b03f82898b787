"""The one interface every part of Veritutor uses to talk to a chat model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from pydantic import BaseModel

from llm.types import ChatMessage, TokenStream

SchemaT = TypeVar("SchemaT", bound=BaseModel)


class ChatClient(Protocol):
    """A chat-completion model, in-process or behind an OpenAI-compatible server.

    Every method raises ``ValueError`` for bad arguments (before any model call),
    ``llm.errors.LLMUnavailableError`` when the model is down, too slow, failing or unreadable, and
    ``llm.errors.LLMRequestError`` when the model refuses the request (e.g. prompt too long).
    """

    model_name: str
    """The model's name, for logs and for recording which model wrote an answer."""

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.2,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
    ) -> TokenStream:
        """Start a completion and return its text deltas as they are generated.

        Nothing runs until the stream is first iterated. Close it (``async with`` or ``aclose()``)
        to stop generation early.
        """
        ...

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.2,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
    ) -> str:
        """Return the whole completion text."""
        ...

    async def complete_json(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: type[SchemaT],
        max_tokens: int,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> SchemaT:
        """Return the completion constrained to ``schema``'s JSON schema, parsed into it.

        Raises LLMUnavailableError(reason="bad_response") when the output does not validate (for
        instance when max_tokens cut the JSON short).
        """
        ...
