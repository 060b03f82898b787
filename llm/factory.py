"""Build the configured ChatClient from Django settings, once per process."""

from __future__ import annotations

import math
import threading
from typing import Any

from llm.client import ChatClient
from llm.errors import LLMConfigurationError

BACKENDS = ("embedded", "openai")
# Where the embedded model runs: "child" (a supervised llama_cpp.server process, so that a crash in
# native code cannot take the web server down; llm.model_process) or "inprocess" (no process
# boundary; for batch jobs and tools where a crash only ends the job itself).
EMBEDDED_PROCESS_MODES = ("child", "inprocess")
# A (re)starting child imports llama_cpp.server (~3 s on 2 busy cores) and loads the GGUF (~0.3 s):
# a request waits this long for it before the student is told the model is unreachable.
CHILD_READY_TIMEOUT_S = 60.0
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
    if backend == "embedded" and settings.LLM_EMBEDDED_PROCESS == "child":
        return _child_process_client(settings)
    if backend == "embedded":
        if settings.LLM_EMBEDDED_PROCESS not in EMBEDDED_PROCESS_MODES:
            raise LLMConfigurationError(
                f"LLM_EMBEDDED_PROCESS must be one of {EMBEDDED_PROCESS_MODES}, got {settings.LLM_EMBEDDED_PROCESS!r}"
            )
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

        min_tokens_per_s = settings.LLM_MIN_TOKENS_PER_S
        # Not only > 0: "nan" and "inf" parse as floats too, and would make the deadline NaN or 0 s.
        if not (math.isfinite(min_tokens_per_s) and min_tokens_per_s > 0):
            raise LLMConfigurationError(
                f"LLM_MIN_TOKENS_PER_S must be a positive number of tokens per second, got {min_tokens_per_s!r}"
            )

        return OpenAIChatClient(
            OpenAIBackendConfig(
                base_url=settings.LLM_BASE_URL,
                model=settings.LLM_MODEL,
                api_key=settings.LLM_API_KEY,
                connect_timeout_s=settings.LLM_CONNECT_TIMEOUT_S,
                read_timeout_s=settings.LLM_READ_TIMEOUT_S,
                max_retries=settings.LLM_MAX_RETRIES,
                structured_output=settings.LLM_STRUCTURED_OUTPUT,
                min_tokens_per_s=min_tokens_per_s,
            )
        )
    raise LLMConfigurationError(f"LLM_BACKEND must be one of {BACKENDS}, got {backend!r}")


def _child_process_client(settings: Any) -> ChatClient:
    from llm.child_backend import ChildProcessChatClient
    from llm.model_files import smollm2_gguf_path
    from llm.model_process import ModelProcessConfig, model_process

    process = model_process(
        ModelProcessConfig(
            model_path=smollm2_gguf_path(),
            model_name=settings.LLM_MODEL,
            context_tokens=settings.LLM_CONTEXT_TOKENS,
            threads=settings.LLM_THREADS,
            ready_timeout_s=CHILD_READY_TIMEOUT_S,
        )
    )
    return ChildProcessChatClient(
        process, read_timeout_s=settings.LLM_READ_TIMEOUT_S, connect_timeout_s=settings.LLM_CONNECT_TIMEOUT_S
    )


def uses_model_child(settings: Any) -> bool:
    """Whether the configured model runs in a supervised child process of the web server."""
    return bool(settings.LLM_BACKEND == "embedded" and settings.LLM_EMBEDDED_PROCESS == "child")


def get_chat_client() -> ChatClient:
    """The process-wide ChatClient for django.conf.settings, built on first call."""
    global _client
    with _client_lock:
        if _client is None:
            from django.conf import settings

            _client = chat_client_from_settings(settings)
        return _client


def prestart_model_child() -> None:
    """Start the model's child process now, when the settings put the model in one (config.asgi)."""
    from django.conf import settings

    if uses_model_child(settings):
        from llm.child_backend import ChildProcessChatClient

        client = get_chat_client()
        assert isinstance(client, ChildProcessChatClient)
        client.process.start()


def get_revision_client() -> ChatClient:
    """The client the verifier revises failed sentences with (see chat_client_from_settings)."""
    global _revision_client
    from django.conf import settings

    if settings.LLM_BACKEND != "embedded" or uses_model_child(settings):
        # A server batches (vLLM) or queues (the model child) concurrent requests itself: one
        # client serves answers and revisions.
        return _revision_client or get_chat_client()
    with _client_lock:
        if _revision_client is None:
            _revision_client = chat_client_from_settings(settings, purpose="revision")
        return _revision_client


def reset_chat_client() -> None:
    """Forget the cached clients so that the next get_*_client() rereads settings (tests)."""
    global _client, _revision_client
    from llm.model_process import reset_model_process

    with _client_lock:
        _client = None
        _revision_client = None
    reset_model_process()
