"""`make bench`: run every benchmark in turn (never in parallel: they share 2 cores) and assemble
BENCHMARKS.md from their sections in bench/results/.

    .venv/bin/python bench/run_all.py [--only answer verifier ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# Order = order of the sections in BENCHMARKS.md; each script writes bench/results/<name>.md.
BENCHES = {
    "retrieval": ["bench/bench_retrieval.py", "--latency"],
    "retrieval_per_book": ["bench/bench_retrieval.py"],
    "llama_build": ["bench/bench_llama_build.py"],
    "llm": ["bench/bench_llm.py"],
    "model_process": ["bench/bench_model_process.py"],
    "verifier": ["bench/bench_verifier.py"],
    "verify_eval": ["bench/bench_verify_eval.py"],
    "answer": ["bench/bench_answer.py"],
    "answer_child": ["bench/bench_answer.py", "--out", "bench/results/answer_child.md"],
    "answer_quality": ["bench/bench_answer_quality.py"],
    "answer_plan": [
        "bench/bench_answer_quality.py",
        "--plan-only",
        "--per-book",
        "0",
        *[
            arg
            for book in (
                "biology-2e",
                "american-government-3e",
                "anatomy-physiology-2e",
                "microbiology",
                "sociology-3e",
                "us-history",
            )
            for arg in ("--book", book)
        ],
    ],
    "revision_choice": ["bench/bench_revision_choice.py"],
    "sockets": ["bench/bench_sockets.py"],
    "learning": ["bench/bench_learning.py"],
    "load": ["bench/bench_load.py"],
    # Only when LLM_BASE_URL and LLM_MODEL name a served model (`make gpu-bench`); else it says so and exits 0,
    # and its last section (bench/results/gpu.md) is kept.
    "gpu": ["bench/bench_gpu.py", "--if-configured"],
}


# Extra environment of a benchmark's process.
BENCH_ENV = {"answer_child": {"LLM_EMBEDDED_PROCESS": "child"}}
# Sections no script writes, kept as they are in bench/results/: what make bench cannot repeat here
# (training on a lent GPU, one-off training runs scored side by side, experiments) and notes that
# read a result against an earlier one. Each follows the section named as its key.
RECORDS = {
    "retrieval_per_book": ("retrieval_reranker", "retrieval_biencoder"),
    "model_process": ("verifier_gpu", "verifier_v4_attempt", "verifier_v3"),
    "verify_eval": ("verify_eval_before",),
    "answer_child": ("answer_backends",),
    "answer_quality": ("answer_quality_notes",),
}


def section_order() -> list[str]:
    order: list[str] = []
    for name in BENCHES:
        order.append(name)
        order.extend(RECORDS.get(name, ()))
    return order


def assemble() -> None:
    sections = [(RESULTS / f"{name}.md") for name in section_order()]
    body = "\n\n".join(p.read_text().strip() for p in sections if p.exists())
    header = (
        "# Benchmarks\n\n"
        "Measured with `make bench` on the project's reference machine (2 CPU cores, 24 GiB, no GPU). "
        "Each section states its machine, date and commit; numbers are medians and ratios measured "
        "side by side in one run.\n"
        f"Assembled {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.\n\n"
    )
    (ROOT / "BENCHMARKS.md").write_text(header + body + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", choices=list(BENCHES), default=list(BENCHES))
    parser.add_argument("--assemble-only", action="store_true")
    args = parser.parse_args()
    failed = []
    if not args.assemble_only:
        for name in args.only:
            print(f"=== bench {name}", flush=True)
            env = {**os.environ, **BENCH_ENV.get(name, {})}
            if subprocess.run([sys.executable, *BENCHES[name]], cwd=ROOT, env=env).returncode != 0:
                failed.append(name)
    assemble()
    if failed:
        sys.exit(f"benchmarks failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
