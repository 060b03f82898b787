"""The shipped verifier end to end through `verify_eval` on the dev set: the operating point a
student actually gets (learned combiner + extractive layer + checks), time included.

    nice -n 5 .venv/bin/python bench/bench_verify_eval.py [--dev-dir ../shared/eval]

Writes bench/results/verify_eval.md, and the measured point beside the shipped weights
(`operating_point.json`, keyed by the checker version) for the teachers' API. Unlike bench_verifier.py this is in-sample for the combiner
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
sys.path.insert(0, str(ROOT))

from verification.entailment.combiner import OPERATING_POINT_FILE, Combiner  # noqa: E402
from verification.entailment.cross_encoder import META_FILE, WEIGHTS_DIR  # noqa: E402
from verification.entailment.scorer import checker_version  # noqa: E402


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
    sources: set[str] = set()
    for line in (args.dev_dir / "claims.jsonl").read_text().splitlines():
        record = json.loads(line)
        labels[record["id"]] = record["label"]
        sources.add(record["source"])
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
        f"recall {true_positive / positives:.3f}; target precision ≥ 0.95 (issue 11): "
        f"{'met' if precision >= 0.95 else 'not met'} on this sample; recall ≥ 0.50: "
        f"{'met' if true_positive / positives >= 0.50 else 'not met'}.",
    ]
    # What the teacher's API shows for this very checker (verification.selectors.verifier_operating_point).
    combiner = Combiner.load(WEIGHTS_DIR)
    model_version = str(json.loads((WEIGHTS_DIR / META_FILE).read_text())["version"])
    measured = {
        "checker_version": checker_version(model_version=model_version, combiner=combiner, judge_model=None),
        "claims": len(rows),
        "labelled_supported": len(predicted_supported),
        "precision": None if not predicted_supported else round(precision, 4),
        "precision_lower_95": None
        if not predicted_supported
        else round(_wilson_lower(true_positive, len(predicted_supported)), 4),
        "recall": round(true_positive / positives, 4),
        "measured_on": f"the verifier's dev set, {len(rows)} claims of {len(sources)} sources (textbook review "
        "questions, Wikipedia, QA, summaries), pooled",
        "date": f"{datetime.now(UTC):%Y-%m-%d}",
        "commit": commit,
    }
    (WEIGHTS_DIR / OPERATING_POINT_FILE).write_text(json.dumps(measured, indent=2) + "\n")
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
