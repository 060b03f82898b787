"""An OpenAI-compatible LLM server as its own process, healthy or faulty, for the chaos tests.

``python -m tests.chaos.llm_server --port P --mode MODE`` serves /v1/chat/completions on loopback
(tests/llm/fake_openai_server.py underneath) until it is killed:

* ``healthy``: streams ``--answer`` word by word (``--word-delay`` seconds apart), then stops;
* ``stall``: reads the request and never answers (a server past its deadline);
* ``stall-mid``: streams the answer's first sentence, then nothing more;
* ``trickle``: streams the answer's first sentence, then a word every ``--word-delay`` seconds for
  ever, never ending the second sentence (inside the read timeout, past any whole-answer deadline);
* ``garbage``: answers 200 with an event stream whose events are not JSON.

It prints ``ready`` on stdout once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from tests.llm.fake_openai_server import FakeOpenAIServer, RecordedRequest, Reply, chunk_payload

MODES = ("healthy", "stall", "stall-mid", "trickle", "garbage")
DEFAULT_ANSWER = "Speed is the magnitude of velocity [1]."


async def serve(*, port: int, mode: str, answer: str, word_delay_s: float) -> None:
    async def handler(request: RecordedRequest, reply: Reply) -> None:
        if mode == "stall":
            await asyncio.Event().wait()
        await reply.sse_start()
        if mode == "garbage":
            for _ in range(3):
                await reply.sse_event("<html>502 Bad Gateway</html> \x00\xff not json")
            await reply.sse_event("[DONE]")
            return
        words = answer.split(" ")
        first_sentence_end = next((i for i, w in enumerate(words) if w.endswith(".")), len(words) - 1)
        for i, word in enumerate(words):
            await reply.sse_event(chunk_payload(word if i == 0 else " " + word))
            if mode in ("stall-mid", "trickle") and i == first_sentence_end:
                # A sentence is complete once the next one begins (tutor/graph/sentence_stream.py).
                await reply.sse_event(chunk_payload(" The"))
                if mode == "stall-mid":
                    await asyncio.Event().wait()
                with contextlib.suppress(ConnectionError):  # the client hangs up at its deadline
                    while True:
                        await asyncio.sleep(word_delay_s)
                        await reply.sse_event(chunk_payload(" slow"))
                return
            await asyncio.sleep(word_delay_s)
        await reply.sse_event(chunk_payload(None, finish_reason="stop"))
        await reply.sse_event("[DONE]")

    server = FakeOpenAIServer(handler)
    server._server = await asyncio.start_server(server._serve, "127.0.0.1", port)
    server.port = port
    print("ready", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=MODES, default="healthy")
    parser.add_argument("--answer", default=DEFAULT_ANSWER)
    parser.add_argument("--word-delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    asyncio.run(serve(port=args.port, mode=args.mode, answer=args.answer, word_delay_s=args.word_delay))


if __name__ == "__main__":
    sys.exit(main())
