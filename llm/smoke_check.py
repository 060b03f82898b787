"""Does the installed llama.cpp run the packaged model on this CPU? Run by `make setup`.

    python -m llm.smoke_check

The model generates a few tokens in a child process, so that a crash (SIGSEGV in a native kernel,
SIGILL for an instruction this CPU lacks) is reported here, naming the CPU and the remedy, instead
of killing the server in front of a student later. It also fails when the library was compiled
with llama.cpp's AMX kernels, which crash on CPUs that have AMX even where a short prompt happens to
pass. Exit status 0 when the model answered; 1 with the explanation on stderr otherwise.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from llm.model_files import smollm2_gguf_path

# Enough to go through prompt evaluation and a few decode steps (the crashing paths), quick enough
# (~1 s) to run on every `make setup`.
SMOKE_TOKENS = 4
# Loading llama.cpp and a 135M model takes ~1 s; far above that means a hang, which is a failure too.
SMOKE_TIMEOUT_S = 120.0
# CPU flags worth naming when the model crashes: the instruction sets llama.cpp dispatches on.
_REPORTED_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")
# The build flag in llama.cpp's system info that says the AMX kernels are compiled in.
AMX_MARKER = "AMX_INT8 = 1"

_CHILD_CODE = """
import json, sys
import llama_cpp
from llama_cpp import Llama
info = llama_cpp.llama_print_system_info().decode()
print(json.dumps({"system_info": info}), flush=True)
llm = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=1, verbose=False)
out = llm.create_chat_completion(
    messages=[{"role": "user", "content": "What is a cell?"}], max_tokens=int(sys.argv[2]), temperature=0.0
)
print(json.dumps({"text": out["choices"][0]["message"]["content"]}), flush=True)
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class SmokeResult:
    """What the child reported before it ended."""

    returncode: int
    """The child's exit status; negative: the signal that killed it."""
    system_info: str
    """llama.cpp's build and CPU summary ("" when the library did not even load)."""
    text: str | None
    """The generated text, or None when generation did not finish."""
    stderr: str
    """The child's stderr (tracebacks)."""


def run_smoke(*, model_path: Path | None = None, python: str = sys.executable) -> SmokeResult:
    """Generate SMOKE_TOKENS tokens with the packaged model in a child process."""
    model_path = model_path or smollm2_gguf_path()
    try:
        done = subprocess.run(
            [python, "-c", _CHILD_CODE, str(model_path), str(SMOKE_TOKENS)],
            capture_output=True,
            text=True,
            timeout=SMOKE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        return SmokeResult(returncode=-int(signal.SIGKILL), system_info="", text=None, stderr=f"timed out: {exc}")
    system_info, text = "", None
    for line in done.stdout.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        system_info = record.get("system_info", system_info)
        text = record.get("text", text)
    return SmokeResult(returncode=done.returncode, system_info=system_info, text=text, stderr=done.stderr)


def cpu_summary(cpuinfo: str | None = None) -> str:
    """The CPU's model name and which of the dispatch-relevant instruction sets it has."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        except OSError:
            return "unknown CPU (no /proc/cpuinfo)"
    name, flags = "unknown CPU", set[str]()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and name == "unknown CPU":
            name = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    present = [flag for flag in _REPORTED_FLAGS if flag in flags]
    return f"{name} ({', '.join(present) or 'no AVX2'})"


def diagnose(result: SmokeResult, *, cpu: str) -> str | None:
    """None when the model ran with a safe build; else what went wrong, on which CPU, and the fix."""
    remedy = (
        "Remedy: rebuild llama-cpp-python as the AVX2 baseline without AMX (the default of "
        "deploy/llama_cpp_build.py; unset LLAMA_CPU_TIER): `rm -rf .venv/.llama-cpp-build "
        "~/.cache/veritutor/wheels && make setup`. Or run the model elsewhere: LLM_BACKEND=openai with "
        "LLM_BASE_URL of a vLLM or llama_cpp.server (docs/llm.md)."
    )
    if AMX_MARKER in result.system_info:
        return (
            f"llama.cpp was compiled with its AMX kernels ({AMX_MARKER}), which segfault in decode on CPUs "
            f"with AMX. CPU: {cpu}. {remedy}"
        )
    if result.returncode < 0:
        name = signal.Signals(-result.returncode).name
        return (
            f"the embedded model crashed with {name} while generating {SMOKE_TOKENS} tokens. CPU: {cpu}. "
            f"llama.cpp: {result.system_info.strip() or '(did not load)'}. {remedy}"
        )
    if result.returncode != 0 or not result.text:
        tail = "\n".join(result.stderr.strip().splitlines()[-8:])
        return f"the embedded model failed (exit code {result.returncode}) on {cpu}:\n{tail}\n{remedy}"
    return None


def main() -> int:
    result = run_smoke()
    problem = diagnose(result, cpu=cpu_summary())
    if problem is not None:
        print(f"make setup: smoke check FAILED: {problem}", file=sys.stderr)
        return 1
    print(f"smoke check: the packaged model generated {result.text!r} ({cpu_summary()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
