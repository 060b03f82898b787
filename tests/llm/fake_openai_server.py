"""A scriptable OpenAI-compatible HTTP server on loopback, for unit tests of the openai backend.

Raw asyncio rather than a web framework, so that a test can misbehave at the byte level: stall
before the headers, stall between SSE chunks, drop the connection mid-stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    body: dict[str, Any]


@dataclass(slots=True)
class Reply:
    """Writes the response for one request."""

    writer: asyncio.StreamWriter

    async def json(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        reason = {200: "OK", 400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}
        head = (
            f"HTTP/1.1 {status} {reason.get(status, 'Status')}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        await self.writer.drain()

    async def sse_start(self) -> None:
        # No Content-Length and no chunked encoding: the body ends when the connection closes,
        # which lets a test end a stream early without a transport error.
        head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
        self.writer.write(head.encode())
        await self.writer.drain()

    async def sse_event(self, payload: dict[str, Any] | str) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        self.writer.write(f"data: {data}\n\n".encode())
        await self.writer.drain()


Handler = Callable[[RecordedRequest, Reply], Awaitable[None]]


@dataclass
class FakeOpenAIServer:
    """Serves each request with ``handler`` and records it in ``requests``."""

    handler: Handler
    requests: list[RecordedRequest] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            request_line = (await reader.readline()).decode()
            if not request_line:
                return
            method, path, _ = request_line.split(" ", 2)
            length = 0
            while (line := (await reader.readline()).decode()) not in ("\r\n", "\n", ""):
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            raw = await reader.readexactly(length) if length else b""
            request = RecordedRequest(method=method, path=path, body=json.loads(raw) if raw else {})
            self.requests.append(request)
            await self.handler(request, Reply(writer))
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def completion_payload(content: str, finish_reason: str = "stop") -> dict[str, Any]:
    """A non-streaming chat.completion body."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1,
        "model": "fake-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
    }


def chunk_payload(content: str | None = None, finish_reason: str | None = None) -> dict[str, Any]:
    """One chat.completion.chunk of a stream."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "fake-model",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish_reason}],
    }


def usage_chunk_payload(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    """The final usage-only chunk sent when stream_options.include_usage is set."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "fake-model",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
