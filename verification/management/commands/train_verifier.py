"""Train the verifier's local entailment model and fit its calibrated combiner.

    python manage.py train_verifier --max-minutes 80          # a CPU session's worth, checkpointed
    python manage.py train_verifier --resume --max-minutes 80 # continue the same schedule
    python manage.py train_verifier --combiner-only           # refit the combiner on new weights
    python manage.py train_verifier --max-steps 3 --nli-per-file 8 ... --out /tmp/x   # smoke run

Training data, schedule, timings and results: docs/verifier.md. The checkpoint (model, optimiser,
data position) lives under var/verifier/checkpoint/ (git-ignored).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from verification.entailment import calibration
from verification.entailment.combiner import Combiner
from verification.entailment.cross_encoder import META_FILE, WEIGHTS_DIR
from verification.entailment.datasets import LabelledClaim
from verification.entailment.metrics import per_source
from verification.entailment.scorer import build_scorer
from verification.training import data, evaluation
from verification.training.loop import RunLimits, TrainConfig, train_cross_encoder

# The labelled data lives beside the checkout (../shared), not in the repository.
SHARED_DIR = Path(__file__).resolve().parents[4] / "shared"
DEFAULT_TRAIN_DIR = SHARED_DIR / "train"
DEFAULT_DEV_DIR = SHARED_DIR / "eval"


class Command(BaseCommand):
    help = "Fine-tune the MiniLM entailment cross-encoder (resumable) and fit the verifier's combiner."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=13)
        parser.add_argument("--max-length", type=int, default=128)
        parser.add_argument("--epochs", type=float, default=1.0)
        parser.add_argument("--batch-size", type=int, default=16)
        parser.add_argument("--lr", type=float, default=5e-5)
        parser.add_argument("--frozen-layers", type=int, default=2)
        parser.add_argument("--max-steps", type=int, default=None, help="schedule length (default: --epochs)")
        parser.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda, cuda:1 ...")
        parser.add_argument("--threads", type=int, default=2, help="torch threads on CPU")
        parser.add_argument(
            "--init-weights", type=Path, default=None, help="start from these trained weights (a weights folder)"
        )
        # Resumable runs.
        parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
        parser.add_argument("--checkpoint-dir", type=Path, default=settings.BASE_DIR / "var/verifier/checkpoint")
        parser.add_argument("--checkpoint-minutes", type=float, default=5.0)
        parser.add_argument("--max-minutes", type=float, default=None, help="stop this run (checkpointed) after N min")
        parser.add_argument("--stop-after-steps", type=int, default=None, help="stop this run after N more steps")
        # Data.
        parser.add_argument("--train-dir", type=Path, default=DEFAULT_TRAIN_DIR, help="BEGIN pairs (jsonl)")
        parser.add_argument("--nli-dir", type=Path, default=DEFAULT_TRAIN_DIR / "nli")
        parser.add_argument("--books-dir", type=Path, default=DEFAULT_TRAIN_DIR / "books")
        parser.add_argument("--nli-per-file", type=int, default=3000, help="pairs drawn from each NLI file")
        parser.add_argument("--breaking-nli", type=int, default=600)
        parser.add_argument("--begin-limit", type=int, default=2000, help="use at most N BEGIN pairs")
        parser.add_argument("--book-claims", type=int, default=None, help="use at most N book exam claims")
        parser.add_argument("--book-claim-copies", type=int, default=1, help="each book claim N times (new windows)")
        parser.add_argument("--holdout-book", action="append", default=None, help="never trained on (repeatable)")
        parser.add_argument("--syllabus-dir", type=Path, default=settings.BASE_DIR / "data/syllabi/biology-2e/modules")
        parser.add_argument("--syllabus-per-module", type=int, default=4, help="synthetic pairs per book module")
        parser.add_argument(
            "--glossary-per-module", type=int, default=4, help="definition pairs per training-book module"
        )
        parser.add_argument("--max-modules-per-book", type=int, default=None)
        # Combiner.
        parser.add_argument("--dev-dir", type=Path, default=DEFAULT_DEV_DIR, help="fit the combiner here")
        parser.add_argument("--no-dev", action="store_true", help="fit the combiner on the validation split")
        parser.add_argument("--no-combiner", action="store_true", help="train only; fit the combiner later")
        parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
        parser.add_argument(
            "--combiner-only", action="store_true", help="keep the cross-encoder in --out; refit the combiner only"
        )
        parser.add_argument(
            "--features-cache",
            type=Path,
            default=settings.BASE_DIR / "var/verifier/dev_features.npz",
            help="dev features are cached here (keyed by the weights' hash) for the bench and refits",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        seed = options["seed"]
        config = TrainConfig(
            seed=seed,
            max_length=options["max_length"],
            epochs=options["epochs"],
            batch_size=options["batch_size"],
            learning_rate=options["lr"],
            max_steps=options["max_steps"],
            frozen_layers=options["frozen_layers"],
            threads=options["threads"],
            device=options["device"],
            init_weights=str(options["init_weights"]) if options["init_weights"] else None,
        )
        mix = data.MixConfig(
            nli_per_file=options["nli_per_file"],
            breaking_nli=options["breaking_nli"],
            begin=options["begin_limit"],
            book_claims=options["book_claims"],
            synthetic_per_module=options["syllabus_per_module"],
            glossary_per_module=options["glossary_per_module"],
            holdout_books=tuple(options["holdout_book"] or data.MixConfig().holdout_books),
        )
        out: Path = options["out"]
        version = f"v3-s{seed}-L{config.max_length}"
        report: dict = {}
        train_pairs, val_pairs = self._training_pairs(options, mix, seed)
        if options["combiner_only"]:
            if (out / "training_report.json").exists():
                report = json.loads((out / "training_report.json").read_text())
            version = json.loads((out / META_FILE).read_text())["version"]
        else:
            built = time.monotonic()
            examples = data.make_examples(train_pairs, max_length=config.max_length, seed=seed)
            self.stdout.write(f"{len(examples)} examples in {time.monotonic() - built:.0f}s: {data.counts(examples)}")
            result = train_cross_encoder(
                examples,
                config,
                out_dir=out,
                version=version,
                checkpoint_dir=options["checkpoint_dir"],
                resume=options["resume"],
                limits=RunLimits(
                    max_minutes=options["max_minutes"],
                    checkpoint_minutes=options["checkpoint_minutes"],
                    stop_after_steps=options["stop_after_steps"],
                ),
                log=lambda m: self.stdout.write(m),
            )
            self.stdout.write(f"trained {result.steps} steps in {result.seconds:.0f}s; sha256 {result.weights_sha256}")
            report = {
                "config": asdict(config),
                "mix": asdict(mix),
                "data": data.counts(examples),
                "train_seconds": round(result.seconds, 1),
                "steps": result.steps,
                "total_steps": result.total_steps,
                "pairs_seen": result.pairs_seen,
                "finished": result.finished,
                "device": result.device,
                "losses": [round(x, 5) for x in result.losses],
                "weights_sha256": result.weights_sha256,
            }
            (out / "training_report.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
        if options["no_combiner"]:
            self.stdout.write(f"wrote {out} (combiner not refitted: run --combiner-only)")
            return

        # Features are computed with the same scorer configuration that runs in production.
        scorer = build_scorer(out, use_embeddings=True, combiner=_placeholder_combiner())
        use_dev = not options["no_dev"] and (options["dev_dir"] / "claims.jsonl").exists()
        validation = [
            LabelledClaim(id=f"val{i}", claim=p.claim, passage=p.passage, label=p.label, source=p.source)
            for i, p in enumerate(val_pairs)
            # With the dev set the held-out book is scored with it (cached, and fitted on); see below.
            if not (use_dev and p.source.startswith(evaluation.HELDOUT_PREFIX))
        ]
        val_features = calibration.compute_features(scorer, validation)
        val_results = per_source(
            val_features.sources,
            val_features.labels.astype(int).tolist(),
            (val_features.features[:, 0] > 0).astype(int).tolist(),
        )
        report["validation_model_only"] = [r.__dict__ for r in val_results]
        fit_on = val_features
        loso: calibration.LosoReport | None = None
        if use_dev:
            fitting = evaluation.fitting_data(
                scorer,
                weights_dir=out,
                dev_dir=options["dev_dir"],
                books_dir=options["books_dir"],
                holdout_books=mix.holdout_books,
                cache_dir=options["features_cache"].parent,
            )
            fit_on = fitting.combined
            loso = calibration.leave_one_source_out(fit_on)
            report["loso_operating"] = [r.__dict__ for r in loso.at_operating]
            report["loso_mean_balanced_accuracy"] = evaluation.dev_mean(loso.at_operating)
            report["loso_half"] = [r.__dict__ for r in loso.at_half]
            report["loso_mean_balanced_accuracy_half"] = evaluation.dev_mean(loso.at_half)
            report["model_only"] = [r.__dict__ for r in loso.model_only]
        elif not options["no_dev"]:
            self.stderr.write(f"no dev set at {options['dev_dir']}: fitting the combiner on the validation split")
        combiner = calibration.fit_combiner(fit_on, version=f"comb-{version}")
        if loso is not None:
            fitted_threshold = combiner.threshold
            combiner, loso_precision = calibration.guard_threshold(combiner, loso, fit_on)
            report["threshold_guard"] = {
                "fitted_threshold": fitted_threshold,
                "loso_pooled_precision": loso_precision,
                "shipped_threshold": combiner.threshold,
            }
        combiner.save(out)
        report["combiner"] = combiner.__dict__
        report["total_seconds"] = round(time.monotonic() - started, 1)
        (out / "training_report.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
        held_out = [(r.source, round(r.balanced_accuracy, 3)) for r in val_results]
        self.stdout.write(f"validation (model only, held-out sources): {held_out}")
        if "loso_mean_balanced_accuracy" in report:
            self.stdout.write(
                f"LOSO mean balanced accuracy at operating threshold: {report['loso_mean_balanced_accuracy']:.3f}"
            )
        self.stdout.write(f"combiner threshold {combiner.threshold:.3f}; wrote {out}")

    def _training_pairs(
        self, options: dict[str, Any], mix: data.MixConfig, seed: int
    ) -> tuple[list[data.Pair], list[data.Pair]]:
        """(training pairs, validation pairs): a fixed function of the options and the seed."""
        dirs = data.DataDirs(
            begin=options["train_dir"],
            nli=options["nli_dir"],
            books=options["books_dir"],
            syllabus=options["syllabus_dir"],
        )
        try:
            train, val = data.training_pairs(
                dirs,
                mix,
                seed=seed,
                book_claim_copies=options["book_claim_copies"],
                max_modules_per_book=options["max_modules_per_book"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"training pairs: {json.dumps(data.counts(train))}")
        self.stdout.write(f"validation pairs: {json.dumps(data.counts(val))}")
        return train, val


def _placeholder_combiner() -> Combiner:
    """Features do not depend on the combiner; this one only lets the scorer be built."""
    from verification.entailment.features import FEATURE_NAMES

    n = len(FEATURE_NAMES)
    return Combiner(
        weights=(1.0,) + (0.0,) * (n - 1), bias=0.0, mean=(0.0,) * n, scale=(1.0,) * n, threshold=0.5, version="none"
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run via: python manage.py train_verifier")
