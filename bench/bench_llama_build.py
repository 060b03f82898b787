"""Decode speed of llama-cpp-python builds on this machine, side by side: the shipped build (the AVX2
baseline, AMX off), one with every instruction set this CPU has (AMX off), and pip's default native
build (-march=native).

    nice -n 5 .venv/bin/python bench/bench_llama_build.py [--rounds 3] [--out bench/results/llama_build.md]

Each build is a wheel from deploy/llama_cpp_build.py (built here if missing: ~7 minutes each on 2
cores), unpacked into a scratch folder and loaded by a child interpreter, so a build that crashes
(the native one on a CPU with AMX) is reported as such instead of ending the benchmark. Rounds
alternate the builds so that load drifts hit all of them; each child loads the same GGUF with the
same threads and decodes the same prompts greedily. The ratio to the shipped build is taken within
each round (the builds ran back to back) and its median reported, so a change of load between
rounds does not pass for a difference between builds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.llama_cpp_build import build_key, build_wheel, cmake_args, cpu_flags, enabled_features, wheel_root  # noqa: E402
from llm.model_files import smollm2_gguf_path  # noqa: E402

PROMPTS = ["What is osmosis?", "What does the cell membrane do?", "How does DNA replication begin?"]
MAX_TOKENS = 96

_CHILD = """
import json, sys, time  # noqa: E401
from llama_cpp import Llama, llama_print_system_info
llm = Llama(model_path=sys.argv[1], n_ctx=1024, n_threads=int(sys.argv[2]), verbose=False)
prompts = json.loads(sys.argv[3])
llm.create_chat_completion(messages=[{"role": "user", "content": "Hello"}], max_tokens=4)  # warm-up
rates = []
for prompt in prompts:
    llm.reset()
    first = None; n = 0
    messages = [{"role": "user", "content": prompt}]
    for _ in llm.create_chat_completion(messages=messages, max_tokens=int(sys.argv[4]), temperature=0.0, stream=True):
        n += 1
        if first is None:
            first = time.perf_counter()
    if n > 2:
        rates.append((n - 1) / (time.perf_counter() - first))
print(json.dumps({"rates": rates, "info": llama_print_system_info().decode()}))
"""


@dataclass(frozen=True, slots=True)
class Build:
    name: str
    args: list[str]


def builds() -> list[Build]:
    flags = cpu_flags()
    return [
        Build("shipped: AVX2 baseline, AMX off", cmake_args(enabled_features(flags))),
        Build("LLAMA_CPU_TIER=host: this CPU's sets, AMX off", cmake_args(enabled_features(flags, tier="host"))),
        # What `pip install llama-cpp-python` builds by default.
        Build("pip default (-march=native)", ["-DGGML_NATIVE=ON"]),
    ]


def unpacked(build: Build, scratch: Path) -> Path:
    wheel = build_wheel(build.args, wheel_root() / build_key(build.args))
    target = scratch / build_key(build.args)
    if not target.exists():
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target)
    return target


def run_child(path: Path, threads: int) -> tuple[list[float], str]:
    """(decode tokens/s per prompt, system info), or ([], why it failed)."""
    env = {**os.environ, "PYTHONPATH": str(path)}
    command = [sys.executable, "-c", _CHILD, str(smollm2_gguf_path()), str(threads), json.dumps(PROMPTS)]
    done = subprocess.run([*command, str(MAX_TOKENS)], capture_output=True, text=True, env=env, timeout=600)
    if done.returncode < 0:
        return [], f"crashed ({signal.Signals(-done.returncode).name})"
    if done.returncode != 0:
        return [], f"failed: {done.stderr.strip().splitlines()[-1:]}"
    record = json.loads(done.stdout.strip().splitlines()[-1])
    return record["rates"], record["info"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    # One thread: the builds differ in their SIMD kernels, and a single thread is not stalled by
    # llama.cpp's spin barriers when another process takes a core for a moment.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "llama_build.md")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="llama-builds-"))
    candidates = [(build, unpacked(build, scratch)) for build in builds()]
    rates: dict[str, list[float]] = {build.name: [] for build, _ in candidates}
    ratios: dict[str, list[float]] = {build.name: [] for build, _ in candidates}
    notes: dict[str, str] = {}
    shipped_name = candidates[0][0].name
    for round_ in range(args.rounds):
        order = candidates if round_ % 2 == 0 else candidates[::-1]
        this_round: dict[str, float] = {}
        for build, path in order:
            got, info = run_child(path, args.threads)
            rates[build.name] += got
            if got:
                this_round[build.name] = statistics.median(got)
            notes.setdefault(build.name, info if not got else ("AMX kernels in" if "AMX_INT8 = 1" in info else ""))
            print(f"round {round_}: {build.name}: {got or info}", flush=True)
        if shipped_name in this_round:
            for name, rate in this_round.items():
                ratios[name].append(rate / this_round[shipped_name])
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    lines = [
        "## llama-cpp-python builds: decode speed (`bench/bench_llama_build.py`)",
        "",
        f"- Machine: {cpu}, {os.cpu_count()} CPUs; {args.threads} llama.cpp threads",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {commit.stdout.strip()}",
        f"- Workload: SmolLM2-135M Q4_1, {len(PROMPTS)} prompts × {args.rounds} rounds, {MAX_TOKENS} tokens greedy, "
        "builds alternating; decode tokens/s after the first token",
        "",
        "| build | median decode tokens/s | vs shipped (median of per-round ratios) | notes |",
        "| --- | ---: | ---: | --- |",
    ]
    for build, _ in candidates:
        values = rates[build.name]
        if values:
            median = statistics.median(values)
            paired = ratios[build.name]
            ratio = f"{statistics.median(paired):.2f}× ({min(paired):.2f}-{max(paired):.2f})" if paired else "—"
            lines.append(f"| {build.name} | {median:.1f} | {ratio} | {notes.get(build.name, '')} |")
        else:
            lines.append(f"| {build.name} | — | — | {notes.get(build.name, '')} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
