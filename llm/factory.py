"""Build the configured ChatClient from Django settings, once per process."""

from __future__ import annotations

import threading
from typing import Any

from llm.client import ChatClient
from llm.errors import LLMConfigurationError

BACKENDS = ("embedded", "openai")
# A revision prompt is one sentence plus a few evidence sentences: ~600 tokens. A small context
# keeps the second embedded copy's KV cache to a few MB.
REVISION_CONTEXT_TOKENS = 2048

_client: ChatClient | None = None
_revision_client: ChatClient | None = None
_client_lock = threading.Lock()


def chat_client_from_settings(settings: Any, *, purpose: str = "answer") -> ChatClient:
    """A new client for the LLM_* values of ``settings`` (django.conf.settings or a look-alike).

    ``purpose="revision"`` on the embedded backend: a priority client of the answer's model, whose
    requests pause a streaming answer (see llm.embedded_backend), or with LLM_REVISION_THREADS > 0 a
    second copy of the model (small context, that many threads) running beside it. A server backend
    batches concurrent requests itself, so it is one client.

    Raises LLMConfigurationError naming the setting to fix.
    """
    # Backends are imported on demand: `import llm` stays cheap, and a deployment on vLLM never
    # loads llama.cpp (nor the embedded one the openai client).
    backend = settings.LLM_BACKEND
    if backend == "embedded":
        from llm.embedded_backend import EmbeddedBackendConfig, EmbeddedChatClient
        from llm.model_files import smollm2_gguf_path

        # Revisions either get their own copy (LLM_REVISION_THREADS > 0) or share the answer's model
        # with priority: they pause a streaming answer between two tokens instead of queueing
        # behind it.
        own_copy = purpose == "revision" and settings.LLM_REVISION_THREADS > 0
        return EmbeddedChatClient(
            EmbeddedBackendConfig(
                model_path=smollm2_gguf_path(),
                model_name=settings.LLM_MODEL,
                context_tokens=REVISION_CONTEXT_TOKENS if own_copy else settings.LLM_CONTEXT_TOKENS,
                threads=settings.LLM_REVISION_THREADS if own_copy else settings.LLM_THREADS,
                read_timeout_s=settings.LLM_READ_TIMEOUT_S,
                instance="revision" if own_copy else "answer",
            ),
            priority=purpose == "revision" and not own_copy,
        )
    if backend == "openai":
        if not settings.LLM_BASE_URL:
            raise LLMConfigurationError(
                "LLM_BACKEND=openai needs LLM_BASE_URL, e.g. http://127.0.0.1:8000/v1 (see docs/llm.md)"
            )
        from llm.openai_backend import OpenAIBackendConfig, OpenAIChatClient

        return OpenAIChatClient(
            OpenAIBackendConfig(
                base_url=settings.LLM_BASE_URL,
                model=settings.LLM_MODEL,
                api_key=settings.LLM_API_KEY,
                connect_timeout_s=settings.LLM_CONNECT_TIMEOUT_S,
                read_timeout_s=settings.LLM_READ_TIMEOUT_S,
                max_retries=settings.LLM_MAX_RETRIES,
                structured_output=settings.LLM_STRUCTURED_OUTPUT,
            )
        )
    raise LLMConfigurationError(f"LLM_BACKEND must be one of {BACKENDS}, got {backend!r}")


def get_chat_client() -> ChatClient:
    """The process-wide ChatClient for django.conf.settings, built on first call."""
    global _client
    with _client_lock:
        if _client is None:
            from django.conf import settings

            _client = chat_client_from_settings(settings)
        return _client


def get_revision_client() -> ChatClient:
    """The client the verifier revises failed sentences with (see chat_client_from_settings)."""
    global _revision_client
    from django.conf import settings

    if settings.LLM_BACKEND != "embedded":
        # A server batches concurrent requests itself: one client serves answers and revisions.
        return _revision_client or get_chat_client()
    with _client_lock:
        if _revision_client is None:
            _revision_client = chat_client_from_settings(settings, purpose="revision")
        return _revision_client


def reset_chat_client() -> None:
    """Forget the cached clients so that the next get_*_client() rereads settings (tests)."""
    global _client, _revision_client
    with _client_lock:
        _client = None
        _revision_client = None
