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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from verification.entailment.combiner import OPERATING_POINT_FILE, Combiner  # noqa: E402
from verification.entailment.cross_encoder import META_FILE, WEIGHTS_DIR  # noqa: E402
from verification.entailment.scorer import checker_version  # noqa: E402


@dataclass(frozen=True, kw_only=True)
class Measured:
    """One labelled set through `verify_eval`: its per-source table and the pooled operating point."""

    claims: int
    sources: int
    seconds: float
    table: list[str]
    labelled_supported: int
    true_positive: int
    positives: int

    @property
    def precision(self) -> float:
        return self.true_positive / self.labelled_supported if self.labelled_supported else float("nan")

    @property
    def recall(self) -> float:
        return self.true_positive / self.positives

    def pooled_line(self) -> str:
        return (
            f"Pooled: {self.labelled_supported} claims labelled supported, precision {self.precision:.3f} "
            f"(95 % Wilson lower bound {_wilson_lower(self.true_positive, self.labelled_supported):.3f}), "
            f"recall {self.recall:.3f}; target precision ≥ 0.95 (issue 11): "
            f"{'met' if self.precision >= 0.95 else 'not met'} on this sample; recall ≥ 0.50: "
            f"{'met' if self.recall >= 0.50 else 'not met'}."
        )


def measure(data_dir: Path) -> Measured:
    """`verify_eval` on claims.jsonl + passages.jsonl of `data_dir`, as a separate process (model load included)."""
    predictions = Path(tempfile.mkdtemp()) / "predictions.jsonl"
    started = time.perf_counter()
    completed = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "verify_eval",
            "--passages",
            str(data_dir / "passages.jsonl"),
            "--claims",
            str(data_dir / "claims.jsonl"),
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
    for line in (data_dir / "claims.jsonl").read_text().splitlines():
        record = json.loads(line)
        labels[record["id"]] = record["label"]
        sources.add(record["source"])
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    predicted_supported = [r for r in rows if r["label"] == 1]
    return Measured(
        claims=len(rows),
        sources=len(sources),
        seconds=elapsed,
        table=[line for line in completed.stdout.splitlines() + completed.stderr.splitlines() if line.startswith("|")],
        labelled_supported=len(predicted_supported),
        true_positive=sum(labels[r["id"]] == 1 for r in predicted_supported),
        positives=sum(1 for v in labels.values() if v == 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dev-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument(
        "--books-dir",
        type=Path,
        default=ROOT.parent / "shared" / "train" / "books",
        help="also measure the training books' exam claims (none of the layers is fitted on them but the "
        "cross-encoder, which trained on all but us-history); a missing folder is skipped",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "verify_eval.md")
    args = parser.parse_args()
    commit = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True).strip()
    dev = measure(args.dev_dir)
    lines = [
        "## Verifier operating point through `verify_eval` (dev set, shipped scorer)",
        "",
        f"- Machine: {platform.machine()}, {os.cpu_count()} CPUs; Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.1f} at the end",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {commit}",
        f"- {dev.claims} claims in {dev.seconds:.0f} s wall including model load "
        f"({dev.claims / dev.seconds:.1f} claims/s, module-length passages); limit 15 min.",
        "",
        *dev.table,
        "",
        dev.pooled_line(),
    ]
    if (args.books_dir / "claims.jsonl").exists():
        books = measure(args.books_dir)
        lines += [
            "",
            f"The training books' exam claims ({books.claims} claims, {books.sources} books, {books.seconds:.0f} s): "
            "the cross-encoder trained on all but us-history's, so only us-history's row is held out for the "
            "model; the extractive rule and the checks were fitted on none of them.",
            "",
            *books.table,
            "",
            books.pooled_line(),
        ]
    # What the teacher's API shows for this very checker (verification.selectors.verifier_operating_point).
    combiner = Combiner.load(WEIGHTS_DIR)
    model_version = str(json.loads((WEIGHTS_DIR / META_FILE).read_text())["version"])
    measured = {
        "checker_version": checker_version(model_version=model_version, combiner=combiner, judge_model=None),
        "claims": dev.claims,
        "labelled_supported": dev.labelled_supported,
        "precision": None if not dev.labelled_supported else round(dev.precision, 4),
        "precision_lower_95": None
        if not dev.labelled_supported
        else round(_wilson_lower(dev.true_positive, dev.labelled_supported), 4),
        "recall": round(dev.recall, 4),
        "measured_on": f"the verifier's dev set, {dev.claims} claims of {dev.sources} sources (textbook review "
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
