"""What the model's process boundary costs on the live answer path: child process vs in-process.

    nice -n 5 .venv/bin/python bench/bench_model_process.py [--questions 8] [--out bench/results/model_process.md]

The default deployment runs the embedded model in a supervised llama_cpp.server child
(LLM_EMBEDDED_PROCESS=child, llm/model_process.py) so that a native crash cannot take the web server
down; "inprocess" loads it into the server. Each question is answered, verified, through
``tutor_answer_create`` once per mode, alternating which mode goes first; both models keep their
own prompt prefix (llama-cpp-python reuses the common prefix of consecutive prompts either way), so
neither gets a cache the other lacks. Same GGUF, threads and seed. Reported (medians): time to the
first shown sentence, end to end, and their ratios child ÷ in-process. Also: how long the child
takes to come back after a SIGKILL (watchdog restart until it answers).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bench_answer as live  # noqa: E402  (sets up Django on a scratch database)

import llm.factory  # noqa: E402
from llm.child_backend import ChildProcessChatClient  # noqa: E402
from llm.client import ChatClient  # noqa: E402
from llm.factory import chat_client_from_settings  # noqa: E402
from tutor.services import tutor_answer_create  # noqa: E402

MODES = ("inprocess", "child")


class _Settings:
    """django.conf.settings with LLM_EMBEDDED_PROCESS replaced (the factory reads attributes)."""

    def __init__(self, mode: str) -> None:
        self._mode = mode

    def __getattr__(self, name: str) -> object:
        if name == "LLM_EMBEDDED_PROCESS":
            return self._mode
        return getattr(live.settings, name)


def _use(client: ChatClient) -> None:
    llm.factory._client = client
    llm.factory._revision_client = client


async def _ask(student, slug: str, question: str, client: ChatClient):
    _use(client)
    return await tutor_answer_create(student=student, curriculum_slug=slug, question=question, verify=True)


def _restart_seconds(client: ChildProcessChatClient) -> float:
    """SIGKILL the child; seconds until a new one has answered a one-token request."""
    assert client.process.pid is not None
    os.kill(client.process.pid, signal.SIGKILL)
    killed = time.perf_counter()
    while client.process.pid is not None:  # the watchdog has not seen the death yet
        time.sleep(0.01)
    from llm.types import ChatMessage

    asyncio.run(client.complete([ChatMessage("user", "Hi")], max_tokens=1))
    return time.perf_counter() - killed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "model_process.md")
    args = parser.parse_args()

    student, curriculum = live.enrolled_student()
    clients: dict[str, ChatClient] = {mode: chat_client_from_settings(_Settings(mode)) for mode in MODES}
    child = clients["child"]
    assert isinstance(child, ChildProcessChatClient)
    started = time.perf_counter()
    child.process.wait_ready()
    child_start_s = time.perf_counter() - started
    for client in clients.values():  # warm-up: model load, embedder, verifier; not counted
        asyncio.run(_ask(student, curriculum.slug, "What is a cell?", client))

    first: dict[str, list[float]] = {mode: [] for mode in MODES}
    total: dict[str, list[float]] = {mode: [] for mode in MODES}
    for n, question in enumerate(live.QUESTIONS[: args.questions]):
        order = MODES if n % 2 == 0 else MODES[::-1]
        for mode in order:
            message = asyncio.run(_ask(student, curriculum.slug, question, clients[mode]))
            if message.status != "completed":
                sys.exit(f"{mode}: {question!r} ended {message.status}: {message.error_message}")
            if "first_released_sentence" in message.timings:
                first[mode].append(message.timings["first_released_sentence"])
            total[mode].append(message.timings["total"])
            print(f"{mode:9s} {message.timings.get('total', 0):6.2f}s  {question}", flush=True)
    restarts = [_restart_seconds(child) for _ in range(3)]
    child.process.stop()

    def med(values: list[float]) -> float:
        return statistics.median(values) * 1000

    lines = [
        "## The model's process boundary: child process vs in-process (`bench/bench_model_process.py`)",
        "",
        f"- Machine: {live._cpu()}, {os.cpu_count()} CPUs; Python {sys.version.split()[0]}",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {live._commit()}",
        f"- Workload: {args.questions} Biology 2e questions, each answered and verified once per mode "
        "(order alternating), SmolLM2-135M Q4_1, same threads and seed; one warm-up per mode not counted. "
        "Command: `nice -n 5 .venv/bin/python bench/bench_model_process.py`",
        "",
        "| measure (median) | in-process | child process | ratio (child ÷ in-process) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, values in (("time to first sentence shown", first), ("end to end", total)):
        a, b = med(values["inprocess"]), med(values["child"])
        lines.append(f"| {label} | {a:.0f} ms | {b:.0f} ms | {b / a:.2f}× |")
    lines += [
        "",
        f"Child start-up (spawn until it answers, first time): {child_start_s:.1f} s, hidden by starting it "
        "with the server (`LLM_PRESTART`). After a SIGKILL the watchdog had a new child answering in "
        f"{', '.join(f'{s:.1f}' for s in restarts)} s (3 kills).",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
