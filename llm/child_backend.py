"""ChatClient for the embedded model running in a supervised child process (llm.model_process).

The protocol is the OpenAI one, so the client is llm.openai_backend's, pointed at the child; this
class only makes each request wait for the child to be (re)started first. A child that dies
mid-answer closes the stream's connection: the openai client raises LLMUnavailableError at once,
and the tutor shows the student an error they can retry.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

from llm.client import SchemaT
from llm.model_process import ModelProcess
from llm.openai_backend import OpenAIBackendConfig, OpenAIChatClient
from llm.types import ChatMessage, StreamEvent, TokenStream

# The child is on loopback: a refused connection means it is restarting, which wait_ready covers;
# the openai client need not retry on its own as well.
_CHILD_RETRIES = 0


class ChildProcessChatClient:
    """The embedded GGUF behind llama_cpp.server in a child process of this one."""

    def __init__(self, process: ModelProcess, *, read_timeout_s: float, connect_timeout_s: float) -> None:
        self.process = process
        self.model_name = process.config.model_name
        self._client = OpenAIChatClient(
            OpenAIBackendConfig(
                base_url=process.base_url,
                model=process.config.model_name,
                connect_timeout_s=connect_timeout_s,
                read_timeout_s=read_timeout_s,
                max_retries=_CHILD_RETRIES,
                # llama_cpp.server takes {"type": "json_object", "schema": ...}, not json_schema.
                structured_output="json_object",
            )
        )

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.2,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
    ) -> TokenStream:
        inner = self._client.stream(messages, max_tokens=max_tokens, temperature=temperature, stop=stop, seed=seed)
        return TokenStream(self._relay(inner))

    async def _relay(self, inner: TokenStream) -> AsyncGenerator[StreamEvent, None]:
        try:
            await self.process.ready()
            async for delta in inner:
                yield delta
            if inner.stats is not None:
                yield inner.stats
        finally:
            await inner.aclose()

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.2,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
    ) -> str:
        await self.process.ready()
        return await self._client.complete(
            messages, max_tokens=max_tokens, temperature=temperature, stop=stop, seed=seed
        )

    async def complete_json(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: type[SchemaT],
        max_tokens: int,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> SchemaT:
        await self.process.ready()
        return await self._client.complete_json(
            messages, schema=schema, max_tokens=max_tokens, temperature=temperature, seed=seed
        )
