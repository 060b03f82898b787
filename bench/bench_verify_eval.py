"""The shipped verifier end to end through `verify_eval` on the dev set: the operating point a
student actually gets (learned combiner + extractive layer + checks), time included.

    nice -n 5 .venv/bin/python bench/bench_verify_eval.py [--dev-dir ../shared/eval]

Writes bench/results/verify_eval.md. Unlike bench_verifier.py this is in-sample for the combiner
(fitted on these claims); the leave-one-source-out tables are in bench_verifier.py's section.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dev-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "verify_eval.md")
    args = parser.parse_args()
    predictions = Path(tempfile.mkdtemp()) / "predictions.jsonl"
    commit = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True).strip()
    started = time.perf_counter()
    completed = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "verify_eval",
            "--passages",
            str(args.dev_dir / "passages.jsonl"),
            "--claims",
            str(args.dev_dir / "claims.jsonl"),
            "--out",
            str(predictions),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    labels = {}
    for line in (args.dev_dir / "claims.jsonl").read_text().splitlines():
        record = json.loads(line)
        labels[record["id"]] = record["label"]
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    predicted_supported = [r for r in rows if r["label"] == 1]
    true_positive = sum(labels[r["id"]] == 1 for r in predicted_supported)
    positives = sum(1 for v in labels.values() if v == 1)
    precision = true_positive / len(predicted_supported) if predicted_supported else float("nan")
    table = [line for line in completed.stdout.splitlines() + completed.stderr.splitlines() if line.startswith("|")]
    lines = [
        "## Verifier operating point through `verify_eval` (dev set, shipped scorer)",
        "",
        f"- Machine: {platform.machine()}, {os.cpu_count()} CPUs; Python {platform.python_version()}",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {commit}",
        f"- {len(rows)} claims in {elapsed:.0f} s wall including model load ({len(rows) / elapsed:.1f} claims/s, "
        "module-length passages); limit 15 min.",
        "",
        *table,
        "",
        f"Pooled: {len(predicted_supported)} claims labelled supported, precision {precision:.3f} "
        f"(95 % Wilson lower bound {_wilson_lower(true_positive, len(predicted_supported)):.3f}), "
        f"recall {true_positive / positives:.3f}; target precision ≥ 0.97: "
        f"{'met' if precision >= 0.97 else 'not met'} on this sample.",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _wilson_lower(successes: int, trials: int, z: float = 1.96) -> float:
    """Lower end of the Wilson score interval: how low the precision could be, given a small sample."""
    if trials == 0:
        return float("nan")
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * ((p * (1 - p) + z * z / (4 * trials)) / trials) ** 0.5
    return (centre - spread) / (1 + z * z / trials)


if __name__ == "__main__":
    main()
