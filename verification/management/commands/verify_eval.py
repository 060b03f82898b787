"""Score a claims file against its passages with the verifier's entailment scorer.

    python manage.py verify_eval --passages P.jsonl --claims C.jsonl [--out OUT.jsonl]

Writes one line per claim to OUT: {"id": str, "label": 0|1, "score": float}, where label is the
prediction at the operating threshold (1 = supported) and score the calibrated P(supported).
When the claims carry labels, prints balanced accuracy per source and their unweighted mean.
Needs no database.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch
from django.core.management.base import BaseCommand, CommandError, CommandParser

from verification.entailment.datasets import DatasetError, load_claims
from verification.entailment.metrics import mean_balanced_accuracy, per_source
from verification.entailment.scorer import ClaimInput, get_scorer

# Claims scored per call: large enough to batch the cross-encoder well, small enough to report
# progress every few seconds on module-length passages.
CHUNK = 256


class Command(BaseCommand):
    help = "Score claims against passages; print balanced accuracy per source when labelled."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--passages", type=Path, required=True)
        parser.add_argument("--claims", type=Path, required=True)
        parser.add_argument("--out", type=Path, default=None, help="JSON-lines predictions (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        for key in ("passages", "claims"):
            if not options[key].is_file():
                raise CommandError(f"--{key}: no such file: {options[key]}")
        try:
            claims = load_claims(options["passages"], options["claims"])
        except DatasetError as exc:
            raise CommandError(str(exc)) from exc
        started = time.monotonic()
        scorer = get_scorer()
        # No model generates beside a batch run: every core goes to scoring (VERIFIER_THREADS is
        # for the tutor process).
        torch.set_num_threads(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
        predictions: list[tuple[str, int, float]] = []
        for start in range(0, len(claims), CHUNK):
            part = claims[start : start + CHUNK]
            scores = scorer.score_claims([ClaimInput(text=c.claim, evidence=(c.passage,)) for c in part])
            predictions.extend((c.id, int(s.supported), s.probability) for c, s in zip(part, scores, strict=True))
            self.stderr.write(f"scored {len(predictions)}/{len(claims)} ({time.monotonic() - started:.0f}s)")
        lines = [json.dumps({"id": i, "label": y, "score": round(p, 6)}) for i, y, p in predictions]
        if options["out"] is not None:
            options["out"].parent.mkdir(parents=True, exist_ok=True)
            options["out"].write_text("\n".join(lines) + ("\n" if lines else ""))
        else:
            sys.stdout.write("\n".join(lines) + ("\n" if lines else ""))
        elapsed = time.monotonic() - started
        self.stderr.write(f"{len(claims)} claims in {elapsed:.1f}s ({len(claims) / max(elapsed, 1e-9):.1f} claims/s)")
        labelled = [(c, y) for c, (_, y, _) in zip(claims, predictions, strict=True) if c.label is not None]
        if labelled:
            results = per_source(
                [c.source for c, _ in labelled], [int(c.label or 0) for c, _ in labelled], [y for _, y in labelled]
            )
            report = self.stdout if options["out"] is not None else self.stderr
            report.write("| source | claims | balanced accuracy | precision | recall |")
            report.write("| --- | ---: | ---: | ---: | ---: |")
            for r in results:
                report.write(f"| {r.source} | {r.n} | {r.balanced_accuracy:.3f} | {r.precision:.3f} | {r.recall:.3f} |")
            report.write(f"| **mean over sources** | {len(labelled)} | {mean_balanced_accuracy(results):.3f} | | |")
