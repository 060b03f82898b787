"""Chat completion against any OpenAI-compatible server: vLLM in production, llama_cpp.server locally.

Timeouts and retries are explicit because the openai client's defaults (600 s read timeout, two
retries) would leave a student staring at a spinner for up to half an hour. The read timeout bounds
each silence only: a server that trickles a token every few seconds never trips it, so every
request also has a whole-request deadline (OpenAIBackendConfig.deadline_s).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
from openai import AsyncOpenAI

from llm.client import SchemaT
from llm.errors import LLMConfigurationError, LLMRequestError, LLMUnavailableError
from llm.structured_output import (
    STRUCTURED_OUTPUT_MODES,
    StructuredOutputMode,
    parse_structured,
    response_format_for,
)
from llm.types import (
    ChatMessage,
    GenerationOptions,
    StreamEvent,
    StreamStats,
    TokenLogprob,
    TokenStream,
    finish_reason_from,
    validate_messages,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Statuses worth one more try: overload (429) and the transient 5xx a restarting or saturated
# vLLM/llama.cpp server or its proxy returns. Other 5xx are retried too (server bugs are often
# transient), but 4xx are our own fault and never retried.
_REQUEST_REJECTED_STATUSES = frozenset({400, 413, 422})
_RETRY_BACKOFF_BASE_S = 0.25
"""First pause between retries, doubled each time: long enough for a proxy to route to another
replica, short next to the read timeout a student already waits through."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAIBackendConfig:
    """Where the server is and how patient to be with it."""

    base_url: str
    """The server's OpenAI API root, e.g. "http://vllm:8000/v1"."""
    model: str
    """The model name the server serves (vLLM: the `vllm serve` argument or --served-model-name)."""
    api_key: str = "not-needed"
    """Bearer token; vLLM checks it only when started with --api-key."""
    connect_timeout_s: float = 3.0
    """Seconds to open a TCP connection; a server that does not accept by then is unreachable."""
    read_timeout_s: float = 30.0
    """Seconds to wait for the first byte and then between streamed chunks."""
    max_retries: int = 1
    """Extra attempts after a refused connection or a 429/5xx; timeouts are never retried (the
    student would wait the whole timeout again)."""
    structured_output: StructuredOutputMode = "json_schema"
    """"json_schema" for vLLM, "json_object" for llama_cpp.server."""
    min_tokens_per_s: float = 2.0
    """The slowest generation still worth waiting for; it sets the whole-request deadline
    (deadline_s). 2 tokens/s is under half a student's reading speed (~5 tokens/s) and 15-50x below
    what the embedded SmolLM2 decodes on 2 busy cores (30-100 tokens/s, BENCHMARKS.md) or vLLM per
    stream under load: only a stuck or trickling server is that slow."""

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise LLMConfigurationError(
                f"LLM_BASE_URL must be an http(s) URL such as http://127.0.0.1:8000/v1, got {self.base_url!r}"
            )
        if not self.model:
            raise LLMConfigurationError("LLM_MODEL must name the model the server serves")
        if self.connect_timeout_s <= 0 or self.read_timeout_s <= 0:
            raise LLMConfigurationError("LLM_CONNECT_TIMEOUT_S and LLM_READ_TIMEOUT_S must be positive")
        if self.max_retries < 0:
            raise LLMConfigurationError(f"LLM_MAX_RETRIES must be >= 0, got {self.max_retries}")
        if self.min_tokens_per_s <= 0:
            raise LLMConfigurationError(f"min_tokens_per_s must be positive, got {self.min_tokens_per_s}")
        if self.structured_output not in STRUCTURED_OUTPUT_MODES:
            raise LLMConfigurationError(
                f"LLM_STRUCTURED_OUTPUT must be one of {STRUCTURED_OUTPUT_MODES}, got {self.structured_output!r}"
            )

    def deadline_s(self, max_tokens: int) -> float:
        """Seconds one request for up to ``max_tokens`` tokens may take in all: connecting (retries
        included), then a read timeout for the first byte (queueing, the prompt), then every token
        at ``min_tokens_per_s``. 143 s for a 220-token answer at the defaults: well under the 600 s
        after which an answer still streaming counts as interrupted (TUTOR_ANSWER_INTERRUPTED_AFTER_S)."""
        return self.connect_timeout_s + self.read_timeout_s + max_tokens / self.min_tokens_per_s


@dataclass(frozen=True, slots=True)
class _Deadline:
    """When one request must be over, on the event loop's clock."""

    at: float
    seconds: float
    max_tokens: int

    @classmethod
    def start(cls, config: OpenAIBackendConfig, max_tokens: int) -> _Deadline:
        seconds = config.deadline_s(max_tokens)
        return cls(at=asyncio.get_running_loop().time() + seconds, seconds=seconds, max_tokens=max_tokens)

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` until the deadline; past it, LLMUnavailableError("timeout").

        Only the waits on the server are bounded this way, never the caller's work between two
        streamed tokens: a timeout spanning an async generator's yield would cancel the consumer.
        """
        timeout = asyncio.timeout_at(self.at)
        try:
            async with timeout:
                return await awaitable
        except TimeoutError as exc:
            if not timeout.expired():
                raise
            raise LLMUnavailableError(
                "timeout",
                f"the request took longer than its whole-request deadline of {self.seconds:g} s "
                f"({self.max_tokens} tokens; a server answering, but too slowly)",
            ) from exc


class _RetryableError(Exception):
    """Internal: an attempt failed in a way another attempt may fix."""

    def __init__(self, error: LLMUnavailableError) -> None:
        super().__init__(str(error))
        self.error = error


class OpenAIChatClient:
    """ChatClient over the OpenAI chat-completions HTTP API."""

    def __init__(self, config: OpenAIBackendConfig) -> None:
        self.config = config
        self.model_name = config.model
        # An httpx connection pool belongs to the event loop that opened it; Celery tasks and tests
        # run separate loops in one process, so each loop gets its own AsyncOpenAI.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncOpenAI] = weakref.WeakKeyDictionary()
        self._clients_lock = threading.Lock()

    def _client(self) -> AsyncOpenAI:
        loop = asyncio.get_running_loop()
        with self._clients_lock:
            client = self._clients.get(loop)
            if client is None:
                client = AsyncOpenAI(
                    base_url=self.config.base_url,
                    api_key=self.config.api_key,
                    timeout=openai.Timeout(
                        connect=self.config.connect_timeout_s,
                        read=self.config.read_timeout_s,
                        write=self.config.read_timeout_s,
                        pool=self.config.connect_timeout_s,
                    ),
                    # Retries are ours (_with_retries): the client's would also retry timeouts.
                    max_retries=0,
                    # The SDK's own pool closes itself on garbage collection by scheduling aclose()
                    # on whatever loop is running then: for a pool whose loop has ended (a Celery
                    # task's, a test's) that is another loop, and aclose fails there with "Event
                    # loop is closed", logged as an unretrieved task error in the live server. This
                    # pool (same defaults, no finaliser) is dropped with its loop instead.
                    http_client=openai.DefaultAsyncHttpxClient(),
                )
                self._clients[loop] = client
            return client

    async def aclose(self) -> None:
        """Close this event loop's connection pool (optional; pools die with their loop)."""
        loop = asyncio.get_running_loop()
        with self._clients_lock:
            client = self._clients.pop(loop, None)
        if client is not None:
            await client.close()

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.2,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
    ) -> TokenStream:
        checked = validate_messages(messages)
        options = GenerationOptions(max_tokens=max_tokens, temperature=temperature, stop=tuple(stop or ()), seed=seed)
        return TokenStream(self._stream_events(checked, options))

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.2,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
    ) -> str:
        checked = validate_messages(messages)
        options = GenerationOptions(max_tokens=max_tokens, temperature=temperature, stop=tuple(stop or ()), seed=seed)
        return await self._complete_text(checked, options, response_format=None)

    async def complete_json(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: type[SchemaT],
        max_tokens: int,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> SchemaT:
        checked = validate_messages(messages)
        options = GenerationOptions(max_tokens=max_tokens, temperature=temperature, seed=seed)
        response_format = response_format_for(schema, self.config.structured_output)
        text = await self._complete_text(checked, options, response_format=response_format)
        return parse_structured(text, schema)

    async def first_token_logprobs(self, messages: Sequence[ChatMessage], *, top: int = 5) -> list[TokenLogprob]:
        """The `top` most likely first tokens of the answer with their log-probabilities.

        For one-token classifiers such as a MiniCheck grounding judge ("Yes"/"No"): one greedy
        token is generated and its alternatives are read from the server's `top_logprobs`. Raises
        LLMUnavailableError(reason="bad_response") when the server returns no log-probabilities.
        """
        checked = validate_messages(messages)
        kwargs = self._request_kwargs(checked, GenerationOptions(max_tokens=1, temperature=0.0))
        kwargs.update(logprobs=True, top_logprobs=top)

        async def call(client: AsyncOpenAI) -> Any:
            return await client.chat.completions.create(**kwargs, stream=False)

        deadline = _Deadline.start(self.config, max_tokens=1)
        completion = await deadline.wait(self._with_retries(call))
        choices = getattr(completion, "choices", None)
        logprobs = getattr(choices[0], "logprobs", None) if choices else None
        content = getattr(logprobs, "content", None) if logprobs is not None else None
        if not content:
            raise LLMUnavailableError("bad_response", f"no logprobs in the completion: {completion!r:.200}")
        return [TokenLogprob(token=c.token, logprob=float(c.logprob)) for c in content[0].top_logprobs or []]

    # --- internals ---------------------------------------------------------------------------

    def _request_kwargs(self, messages: list[ChatMessage], options: GenerationOptions) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.config.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
        }
        if options.stop:
            kwargs["stop"] = list(options.stop)
        if options.seed is not None:
            kwargs["seed"] = options.seed
        return kwargs

    async def _complete_text(
        self,
        messages: list[ChatMessage],
        options: GenerationOptions,
        *,
        response_format: dict[str, Any] | None,
    ) -> str:
        kwargs = self._request_kwargs(messages, options)
        if response_format is not None:
            kwargs["response_format"] = response_format

        async def call(client: AsyncOpenAI) -> Any:
            return await client.chat.completions.create(**kwargs, stream=False)

        deadline = _Deadline.start(self.config, options.max_tokens)
        completion = await deadline.wait(self._with_retries(call))
        choices = getattr(completion, "choices", None)
        if not choices or choices[0].message is None or choices[0].message.content is None:
            raise LLMUnavailableError("bad_response", f"completion has no message content: {completion!r:.200}")
        content: str = choices[0].message.content
        return content

    async def _stream_events(
        self, messages: list[ChatMessage], options: GenerationOptions
    ) -> AsyncGenerator[StreamEvent, None]:
        kwargs = self._request_kwargs(messages, options)

        async def call(client: AsyncOpenAI) -> Any:
            return await client.chat.completions.create(**kwargs, stream=True, stream_options={"include_usage": True})

        deadline = _Deadline.start(self.config, options.max_tokens)
        stream = await deadline.wait(self._with_retries(call))
        delta_count = 0
        raw_finish: str | None = None
        completion_tokens: int | None = None
        prompt_tokens: int | None = None
        try:
            iterator = stream.__aiter__()
            while True:
                try:
                    chunk = await deadline.wait(iterator.__anext__())
                except StopAsyncIteration:
                    break
                except openai.APIError as exc:
                    # Part of the answer may already be on the student's screen: no retry.
                    raise _translate(exc, mid_stream=True) from exc
                except json.JSONDecodeError as exc:
                    # An event that is not JSON (a proxy's error page, a broken server): unreadable.
                    raise LLMUnavailableError("bad_response", f"a streamed event is not JSON: {exc}") from exc
                usage = getattr(chunk, "usage", None)
                if usage is not None:
                    completion_tokens = usage.completion_tokens
                    prompt_tokens = usage.prompt_tokens
                for choice in chunk.choices:
                    if choice.index != 0:
                        continue
                    content = choice.delta.content if choice.delta is not None else None
                    if content:
                        delta_count += 1
                        yield content
                    if choice.finish_reason:
                        raw_finish = choice.finish_reason
        finally:
            await stream.close()
        if raw_finish is None:
            raise LLMUnavailableError("bad_response", "the stream ended without a finish reason (truncated answer)")
        yield StreamStats(
            finish_reason=finish_reason_from(raw_finish),
            delta_count=delta_count,
            completion_tokens=completion_tokens,
            prompt_tokens=prompt_tokens,
        )

    async def _with_retries(self, call: Callable[[AsyncOpenAI], Awaitable[T]]) -> T:
        client = self._client()
        attempt = 0
        while True:
            try:
                try:
                    return await call(client)
                except openai.APIError as exc:
                    raise _translate(exc, mid_stream=False) from exc
                except json.JSONDecodeError as exc:
                    raise LLMUnavailableError("bad_response", f"the response is not JSON: {exc}") from exc
            except _RetryableError as retryable:
                if attempt >= self.config.max_retries:
                    raise retryable.error from retryable.__cause__
                pause = _RETRY_BACKOFF_BASE_S * (2**attempt)
                logger.warning(
                    "LLM request failed (%s), retry %d/%d in %.2fs",
                    retryable.error,
                    attempt + 1,
                    self.config.max_retries,
                    pause,
                )
                await asyncio.sleep(pause)
                attempt += 1


def _translate(exc: openai.APIError, *, mid_stream: bool) -> Exception:
    """Map an openai exception to ours; _RetryableError wraps those another attempt may fix."""
    if isinstance(exc, openai.APITimeoutError):
        where = "between streamed chunks" if mid_stream else "for the response"
        return LLMUnavailableError("timeout", f"no data {where} within the read timeout")
    if isinstance(exc, openai.APIConnectionError):
        if mid_stream:
            return LLMUnavailableError("server_error", f"the server dropped the stream: {exc.__cause__!r}")
        return _RetryableError(
            LLMUnavailableError("unreachable", f"cannot connect to {exc.request.url}: {exc.__cause__!r}")
        )
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status in _REQUEST_REJECTED_STATUSES:
            return LLMRequestError(f"the LLM server rejected the request (HTTP {status}): {exc.message}")
        error = LLMUnavailableError("server_error", f"HTTP {status}: {exc.message}")
        if status == 429 or status >= 500:
            return _RetryableError(error)
        return error
    if isinstance(exc, openai.APIResponseValidationError):
        return LLMUnavailableError("bad_response", f"unreadable response: {exc.message}")
    return LLMUnavailableError("server_error", f"{type(exc).__name__}: {exc.message}")
