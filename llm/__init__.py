"""LLM clients: one ChatClient interface over an in-process GGUF model or an OpenAI-compatible server.

Usage::

    from llm import ChatMessage, get_chat_client

    client = get_chat_client()
    async with client.stream([ChatMessage("user", "What is osmosis?")], max_tokens=256) as tokens:
        async for delta in tokens:
            ...

No Django models live here; the factory only reads django.conf.settings.
"""

from llm.client import ChatClient
from llm.errors import LLMConfigurationError, LLMError, LLMRequestError, LLMUnavailableError
from llm.factory import get_chat_client
from llm.types import ChatMessage, StreamStats, TokenStream

__all__ = [
    "ChatClient",
    "ChatMessage",
    "LLMConfigurationError",
    "LLMError",
    "LLMRequestError",
    "LLMUnavailableError",
    "StreamStats",
    "TokenStream",
    "get_chat_client",
]
