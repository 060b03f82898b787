"""Chat completion in-process with llama-cpp-python: the default, needing no server.

llama.cpp's Llama object is neither re-entrant nor thread-safe, and generation blocks for the whole
answer. So each model lives on one dedicated worker thread (a single-thread executor, plus a lock
for anyone who reaches the object another way); the event loop only waits on an asyncio.Queue that
the worker feeds through loop.call_soon_threadsafe, one text delta per token.

Priority requests (the verifier's revisions, ``EmbeddedChatClient(priority=True)``) do not wait for
a streaming answer to finish: they run on a second worker thread, and the streaming generation
pauses between two tokens to let them have the model. The answer's KV cache is set aside for the
detour and restored afterwards (a ~40 MB copy, ~20 ms), so the answer resumes where it stopped
without evaluating its prompt again. One model, one set of cores: the pause changes *when* work
runs, not how much there is.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import threading
from collections.abc import AsyncGenerator, Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from llm.client import SchemaT
from llm.errors import LLMConfigurationError, LLMRequestError, LLMUnavailableError
from llm.structured_output import parse_structured, response_format_for
from llm.types import (
    ChatMessage,
    FinishReason,
    GenerationOptions,
    StreamEvent,
    StreamStats,
    TokenStream,
    finish_reason_from,
    validate_messages,
)

if TYPE_CHECKING:
    from llama_cpp import Llama

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbeddedBackendConfig:
    """Which GGUF to run and with what resources."""

    model_path: Path
    """The GGUF file (see llm.model_files.smollm2_gguf_path)."""
    model_name: str
    """Name reported as ChatClient.model_name."""
    context_tokens: int = 8192
    """llama.cpp context window (prompt + answer); SmolLM2 was trained at 8192."""
    threads: int = 0
    """CPU threads for generation and prompt evaluation; 0 means every core this process may use."""
    instance: str = "default"
    """Which copy of the weights: clients with different instances get separate models and worker
    threads, so that (say) verifier revisions need not queue behind a streaming answer."""
    read_timeout_s: float = 30.0
    """Longest wait for the next token, including time queued behind other generations: the same
    promise the openai backend makes, so a busy process fails clearly instead of hanging."""

    def __post_init__(self) -> None:
        if self.context_tokens < 256:
            raise LLMConfigurationError(f"LLM_CONTEXT_TOKENS must be >= 256, got {self.context_tokens}")
        if self.threads < 0:
            raise LLMConfigurationError(f"LLM_THREADS must be >= 0, got {self.threads}")
        if self.read_timeout_s <= 0:
            raise LLMConfigurationError("LLM_READ_TIMEOUT_S must be positive")

    @property
    def effective_threads(self) -> int:
        if self.threads:
            return self.threads
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class _ModelSlot:
    """One loaded GGUF per process: its worker threads, its lock and the lazily built Llama."""

    def __init__(self, config: EmbeddedBackendConfig, loader: ModelLoader | None = None) -> None:
        self.config = config
        self._loader = loader or _load_llama
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm-embedded")
        # Priority requests get their own thread: on the main one they would queue behind the
        # very generation they are meant to interrupt.
        self.priority_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm-embedded-priority")
        self.lock = threading.Lock()
        self._llama: Llama | None = None
        self._priority_waiting = 0
        self._priority_done = threading.Condition()

    def priority_enter(self) -> None:
        with self._priority_done:
            self._priority_waiting += 1

    def priority_exit(self) -> None:
        with self._priority_done:
            self._priority_waiting -= 1
            self._priority_done.notify_all()

    @property
    def priority_pending(self) -> bool:
        return self._priority_waiting > 0

    def wait_for_priority_requests(self) -> None:
        """Block until no priority request is queued or running (a paused generation's turn)."""
        with self._priority_done:
            self._priority_done.wait_for(lambda: self._priority_waiting == 0)

    def llama(self) -> Llama:
        """The model, loaded on first use; call with self.lock held, from the worker thread."""
        if self._llama is None:
            self._llama = self._loader(self.config)
        return self._llama


ModelLoader = Callable[[EmbeddedBackendConfig], "Llama"]


def _load_llama(config: EmbeddedBackendConfig) -> Llama:
    from llama_cpp import Llama  # deferred: loading the shared library takes ~0.5 s

    threads = config.effective_threads
    logger.info("loading %s (n_ctx=%d, threads=%d)", config.model_path, config.context_tokens, threads)
    return Llama(
        model_path=str(config.model_path),
        n_ctx=config.context_tokens,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )


_slots: dict[tuple[Path, int, int, str], _ModelSlot] = {}
_slots_lock = threading.Lock()


def _slot_for(config: EmbeddedBackendConfig) -> _ModelSlot:
    # Keyed by what shapes the loaded model, so that every client built from the same settings
    # shares one copy of the weights and one worker thread per process.
    key = (config.model_path, config.context_tokens, config.effective_threads, config.instance)
    with _slots_lock:
        slot = _slots.get(key)
        if slot is None:
            slot = _slots[key] = _ModelSlot(config)
        return slot


def reset_prompt_caches() -> None:
    """Drop every loaded model's KV cache, so the next request evaluates its whole prompt.

    llama.cpp reuses the cached prefix of the previous prompt. Benchmarks that ask the same
    question twice (verified, then unverified) call this between runs so that neither run gets the
    other's prompt evaluation for free.
    """
    with _slots_lock:
        slots = list(_slots.values())
    for slot in slots:
        with slot.lock:
            if slot._llama is not None:
                slot._llama.reset()


@dataclass(frozen=True, slots=True)
class _Failure:
    error: BaseException


class _End:
    pass


_END = _End()
_WorkerItem = StreamEvent | _Failure | _End


class EmbeddedChatClient:
    """ChatClient running a GGUF model in this process."""

    def __init__(
        self, config: EmbeddedBackendConfig, *, loader: ModelLoader | None = None, priority: bool = False
    ) -> None:
        """loader replaces llama_cpp.Llama (unit tests of the threading); it gets a private worker
        instead of the process-wide one. ``priority=True``: this client's requests pause another
        client's streaming generation of the same model instead of waiting for it to end."""
        if not config.model_path.is_file():
            raise LLMConfigurationError(f"model file {config.model_path} does not exist")
        self.config = config
        self.model_name = config.model_name
        self.priority = priority
        self._slot = _slot_for(config) if loader is None else _ModelSlot(config, loader)

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
        return TokenStream(self._stream_events(checked, options, response_format=None))

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.2,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
    ) -> str:
        async with self.stream(
            messages, max_tokens=max_tokens, temperature=temperature, stop=stop, seed=seed
        ) as tokens:
            return await tokens.text()

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
        # llama-cpp-python compiles {"type": "json_object", "schema": ...} into a grammar.
        response_format = response_format_for(schema, "json_object")
        async with TokenStream(self._stream_events(checked, options, response_format=response_format)) as tokens:
            text = await tokens.text()
        return parse_structured(text, schema)

    async def _stream_events(
        self,
        messages: list[ChatMessage],
        options: GenerationOptions,
        *,
        response_format: dict[str, Any] | None,
    ) -> AsyncGenerator[StreamEvent, None]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[_WorkerItem] = asyncio.Queue()
        cancel = threading.Event()

        def emit(item: _WorkerItem) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody will read the rest
                cancel.set()

        if self.priority:
            self._slot.priority_enter()
            try:
                self._slot.priority_executor.submit(
                    _generate_priority, self._slot, messages, options, response_format, emit, cancel
                )
            except BaseException:
                self._slot.priority_exit()
                raise
        else:
            self._slot.executor.submit(_generate, self._slot, messages, options, response_format, emit, cancel)
        try:
            while True:
                try:
                    async with asyncio.timeout(self.config.read_timeout_s):
                        item = await queue.get()
                except TimeoutError:
                    raise LLMUnavailableError(
                        "timeout",
                        f"the embedded model produced no token within {self.config.read_timeout_s:g} s "
                        "(busy with other requests, or the prompt is very long)",
                    ) from None
                if isinstance(item, _End):
                    return
                if isinstance(item, _Failure):
                    raise _translate(item.error) from item.error
                yield item
        finally:
            # Reached on normal end, error, aclose() and task cancellation alike; the worker checks
            # this flag before each token, so an abandoned answer stops within one token.
            cancel.set()


def _generate_priority(
    slot: _ModelSlot,
    messages: list[ChatMessage],
    options: GenerationOptions,
    response_format: dict[str, Any] | None,
    emit: Callable[[_WorkerItem], None],
    cancel: threading.Event,
) -> None:
    """Runs on the slot's priority thread; a streaming generation yields the model to it."""
    try:
        _generate(slot, messages, options, response_format, emit, cancel, pausable=False)
    finally:
        slot.priority_exit()


def _generate(
    slot: _ModelSlot,
    messages: list[ChatMessage],
    options: GenerationOptions,
    response_format: dict[str, Any] | None,
    emit: Callable[[_WorkerItem], None],
    cancel: threading.Event,
    *,
    pausable: bool = True,
) -> None:
    """Generate and emit deltas, then stats, then _END.

    A free-text generation pauses between two tokens while a priority request is waiting (a
    grammar-constrained one cannot: its grammar state could not be carried over a pause).
    """
    try:
        if cancel.is_set():  # abandoned while queued behind another generation
            return
        pausable = pausable and response_format is None
        emitted: list[str] = []
        finish: FinishReason | None = None
        saved: _SavedContext | None = None
        while True:
            if pausable:
                slot.wait_for_priority_requests()
            with slot.lock:
                llama = slot.llama()
                if saved is None:
                    chunks = _start_chat(llama, messages, options, response_format)
                else:
                    saved.restore(llama)
                    chunks = _resume_chat(llama, messages, options, "".join(emitted))
                saved = None
                try:
                    for chunk in chunks:
                        if cancel.is_set():
                            finish = "cancelled"
                            break
                        choice = chunk["choices"][0]
                        content = choice["delta"].get("content") if "delta" in choice else choice.get("text")
                        if content:
                            emitted.append(content)
                            emit(content)
                        if choice.get("finish_reason"):
                            finish = finish_reason_from(choice["finish_reason"])
                        elif pausable and slot.priority_pending:
                            saved = _SavedContext.take(llama)
                            break
                finally:
                    chunks.close()
            if saved is None:
                break
        emit(StreamStats(finish_reason=finish or "other", delta_count=len(emitted)))
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the waiting coroutine
        emit(_Failure(exc))
    finally:
        emit(_END)


def _start_chat(
    llama: Llama, messages: list[ChatMessage], options: GenerationOptions, response_format: dict[str, Any] | None
) -> Generator[dict[str, Any], None, None]:
    return cast(
        Generator[dict[str, Any], None, None],
        llama.create_chat_completion(
            messages=[{"role": m.role, "content": m.content} for m in messages],  # type: ignore[misc]
            stream=True,
            max_tokens=options.max_tokens,
            temperature=options.temperature,
            stop=list(options.stop),
            seed=options.seed,
            response_format=response_format,  # type: ignore[arg-type]
        ),
    )


# create_chat_completion's sampling defaults, so that a resumed answer samples as it began.
_CHAT_SAMPLING = {"top_p": 0.95, "top_k": 40, "min_p": 0.05, "repeat_penalty": 1.0}


def _resume_chat(
    llama: Llama, messages: list[ChatMessage], options: GenerationOptions, emitted: str
) -> Generator[dict[str, Any], None, None]:
    """Continue an answer after a pause: the chat prompt plus what was emitted, as a completion.

    The restored KV cache already holds these tokens, so llama.cpp's prefix match evaluates at
    most the last few again.
    """
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    eos, bos = llama.token_eos(), llama.token_bos()
    formatter = Jinja2ChatFormatter(
        template=llama.metadata["tokenizer.chat_template"],
        eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
        bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
        stop_token_ids=[eos],
    )
    formatted = formatter(messages=[{"role": m.role, "content": m.content} for m in messages])  # type: ignore[misc]
    prompt = llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True)
    answered = llama.tokenize(emitted.encode("utf-8"), add_bos=False, special=False)
    template_stop = formatted.stop if isinstance(formatted.stop, list) else [formatted.stop] if formatted.stop else []
    return cast(
        Generator[dict[str, Any], None, None],
        llama.create_completion(
            prompt=prompt + answered,
            stream=True,
            max_tokens=max(1, options.max_tokens - len(answered)),
            temperature=options.temperature,
            stop=list(options.stop) + template_stop,
            seed=options.seed,
            **_CHAT_SAMPLING,  # type: ignore[arg-type]
        ),
    )


@dataclass(frozen=True, slots=True)
class _SavedContext:
    """A paused generation's KV cache (sequence 0) and the token bookkeeping that goes with it."""

    state: ctypes.Array[ctypes.c_uint8]
    size: int
    input_ids: Any
    n_tokens: int

    @classmethod
    def take(cls, llama: Llama) -> _SavedContext:
        import llama_cpp

        ctx = llama._ctx.ctx
        capacity = llama_cpp.llama_state_seq_get_size(ctx, 0)
        state = (ctypes.c_uint8 * capacity)()
        size = llama_cpp.llama_state_seq_get_data(ctx, state, capacity, 0)
        return cls(state=state, size=size, input_ids=llama.input_ids[: llama.n_tokens].copy(), n_tokens=llama.n_tokens)

    def restore(self, llama: Llama) -> None:
        import llama_cpp

        ctx = llama._ctx.ctx
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(ctx), -1, -1, -1)
        if llama_cpp.llama_state_seq_set_data(ctx, self.state, self.size, 0) != self.size:
            llama.reset()  # the cache is lost, not wrong: the resumed prompt is then evaluated whole
            return
        llama.input_ids[: self.n_tokens] = self.input_ids
        llama.n_tokens = self.n_tokens
        # The logits in hand belong to the detour: make llama.cpp decode the last token again.
        llama._requires_eval = True


def _translate(error: BaseException) -> Exception:
    message = str(error)
    # llama-cpp-python: "Requested tokens (N) exceed context window of M"
    if isinstance(error, ValueError) and "exceed context window" in message:
        return LLMRequestError(f"the prompt does not fit the model's context window: {message}")
    return LLMUnavailableError("server_error", f"embedded model failed: {type(error).__name__}: {message}")
