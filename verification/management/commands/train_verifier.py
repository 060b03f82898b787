"""Train the verifier's local entailment model and fit its calibrated combiner.

    python manage.py train_verifier            # the shipped model: ~25 min nice'd on 2 cores
    python manage.py train_verifier --max-steps 3 --begin-limit 32 --syllabus-modules 2 --out /tmp/x

Deterministic for a given seed and thread count. Data, hyper-parameters and timings: docs/verifier.md.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from verification.entailment import calibration
from verification.entailment.combiner import Combiner
from verification.entailment.cross_encoder import META_FILE, WEIGHTS_DIR
from verification.entailment.datasets import LabelledClaim, load_dir
from verification.entailment.metrics import mean_balanced_accuracy, per_source
from verification.entailment.scorer import build_scorer
from verification.entailment.syllabus_pairs import load_modules, synthetic_pairs
from verification.entailment.training import TrainConfig, make_examples, train_cross_encoder

# The labelled data lives beside the checkout (../shared), not in the repository.
SHARED_DIR = Path(__file__).resolve().parents[4] / "shared"
DEFAULT_TRAIN_DIR = SHARED_DIR / "train"
DEFAULT_DEV_DIR = SHARED_DIR / "eval"
# Whole sources held out of fine-tuning to watch generalisation: one BEGIN corpus, and a tenth of
# the syllabus modules (whole modules, so no sentence of a validation module is ever trained on).
VALIDATION_SOURCES = ("begin-cmudog-dev",)
VALIDATION_MODULE_FRACTION = 0.1


class Command(BaseCommand):
    help = "Fine-tune the MiniLM entailment cross-encoder and fit the verifier's combiner."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", type=int, default=13)
        parser.add_argument("--max-length", type=int, default=128)
        parser.add_argument("--epochs", type=float, default=1.0)
        parser.add_argument("--batch-size", type=int, default=16)
        parser.add_argument("--lr", type=float, default=5e-5)
        parser.add_argument("--max-steps", type=int, default=None)
        parser.add_argument("--train-dir", type=Path, default=DEFAULT_TRAIN_DIR, help="BEGIN pairs (jsonl)")
        parser.add_argument("--begin-limit", type=int, default=None, help="use at most N BEGIN pairs")
        parser.add_argument("--syllabus-dir", type=Path, default=settings.BASE_DIR / "data/syllabi/biology-2e/modules")
        parser.add_argument("--syllabus-modules", type=int, default=None, help="use at most N modules")
        parser.add_argument("--syllabus-per-module", type=int, default=12, help="synthetic pairs per module")
        parser.add_argument("--dev-dir", type=Path, default=DEFAULT_DEV_DIR, help="fit the combiner here")
        parser.add_argument("--no-dev", action="store_true", help="fit the combiner on the validation split")
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

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        seed = options["seed"]
        config = TrainConfig(
            seed=seed,
            max_length=options["max_length"],
            epochs=options["epochs"],
            batch_size=options["batch_size"],
            learning_rate=options["lr"],
            max_steps=options["max_steps"],
        )
        train_items, val_items, counts = self._training_data(options, seed)
        self.stdout.write(f"training pairs: {json.dumps(counts)}")
        out: Path = options["out"]
        version = f"s{seed}-L{config.max_length}"
        report: dict = {}
        if options["combiner_only"]:
            if (out / "training_report.json").exists():
                report = json.loads((out / "training_report.json").read_text())
            version = json.loads((out / META_FILE).read_text())["version"]
        else:
            examples = make_examples(train_items, max_length=config.max_length)
            result = train_cross_encoder(
                examples, config, out_dir=out, version=version, log=lambda m: self.stdout.write(m)
            )
            self.stdout.write(f"trained {result.steps} steps in {result.seconds:.0f}s; sha256 {result.weights_sha256}")
            report = {
                "config": config.__dict__,
                "data": counts,
                "train_seconds": round(result.seconds, 1),
                "steps": result.steps,
                "losses": [round(x, 5) for x in result.losses],
                "weights_sha256": result.weights_sha256,
            }

        # Features are computed with the same scorer configuration that runs in production.
        dev_claims = self._dev_claims(options)
        scorer = build_scorer(out, use_embeddings=True, combiner=_placeholder_combiner())
        validation = [
            LabelledClaim(id=f"val{i}", claim=c, passage=p, label=y, source=s)
            for i, (c, p, y, s) in enumerate(val_items)
        ]
        val_features = calibration.compute_features(scorer, validation)
        val_results = per_source(
            val_features.sources,
            val_features.labels.astype(int).tolist(),
            (val_features.features[:, 0] > 0).astype(int).tolist(),
        )
        report["validation_model_only"] = [r.__dict__ for r in val_results]
        fit_on = val_features
        if dev_claims:
            model_sha = calibration.weights_sha(out)
            ids = [c.id for c in dev_claims]
            cached = calibration.load_features(options["features_cache"], model_sha=model_sha, ids=ids)
            if cached is not None:
                fit_on = cached[0]
            else:
                dev_started = time.monotonic()
                fit_on = calibration.compute_features(
                    scorer,
                    dev_claims,
                    progress=lambda d, t: self.stderr.write(f"dev features {d}/{t}") if d % 1024 == 0 else None,
                )
                report["dev_feature_seconds"] = round(time.monotonic() - dev_started, 1)
                calibration.save_features(
                    options["features_cache"], fit_on, model_sha=model_sha, seconds=report["dev_feature_seconds"]
                )
            loso = calibration.leave_one_source_out(fit_on)
            report["loso_operating"] = [r.__dict__ for r in loso.at_operating]
            report["loso_mean_balanced_accuracy"] = mean_balanced_accuracy(loso.at_operating)
            report["loso_half"] = [r.__dict__ for r in loso.at_half]
            report["loso_mean_balanced_accuracy_half"] = mean_balanced_accuracy(loso.at_half)
            report["model_only"] = [r.__dict__ for r in loso.model_only]
        combiner = calibration.fit_combiner(fit_on, version=f"comb-{version}")
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

    def _training_data(self, options: dict, seed: int) -> tuple[list, list, dict]:
        rng = random.Random(seed)
        train: list[tuple[str, str, int, str]] = []
        val: list[tuple[str, str, int, str]] = []
        train_dir: Path = options["train_dir"]
        if not (train_dir / "claims.jsonl").exists():
            raise CommandError(f"no BEGIN training data at {train_dir} (claims.jsonl + passages.jsonl)")
        begin = load_dir(train_dir)
        if options["begin_limit"] is not None:
            begin = random.Random(seed).sample(begin, min(options["begin_limit"], len(begin)))
        for claim in begin:
            item = (claim.claim, claim.passage, int(claim.label or 0), claim.source)
            (val if claim.source in VALIDATION_SOURCES else train).append(item)
        modules = load_modules(options["syllabus_dir"])
        if options["syllabus_modules"] is not None:
            modules = modules[: options["syllabus_modules"]]
        shuffled = modules[:]
        rng.shuffle(shuffled)
        n_val = max(1, int(len(shuffled) * VALIDATION_MODULE_FRACTION)) if len(shuffled) > 1 else 0
        val_modules, train_modules = shuffled[:n_val], shuffled[n_val:]
        pair_rng = random.Random(seed + 1)
        for pair in synthetic_pairs(train_modules, per_module=options["syllabus_per_module"], rng=pair_rng):
            train.append((pair.claim, pair.passage, pair.label, "syllabus"))
        for pair in synthetic_pairs(val_modules, per_module=max(4, options["syllabus_per_module"] // 3), rng=pair_rng):
            val.append((pair.claim, pair.passage, pair.label, "syllabus-heldout-modules"))
        counts: dict[str, int] = {}
        for _, _, label, source in train:
            counts[f"train:{source}:{label}"] = counts.get(f"train:{source}:{label}", 0) + 1
        for _, _, label, source in val:
            counts[f"val:{source}:{label}"] = counts.get(f"val:{source}:{label}", 0) + 1
        return train, val, counts

    def _dev_claims(self, options: dict) -> list[LabelledClaim]:
        if options["no_dev"]:
            return []
        dev_dir: Path = options["dev_dir"]
        if not (dev_dir / "claims.jsonl").exists():
            self.stderr.write(f"no dev set at {dev_dir}: fitting the combiner on the validation split")
            return []
        return [c for c in load_dir(dev_dir) if c.label is not None]


def _placeholder_combiner() -> Combiner:
    """Features do not depend on the combiner; this one only lets the scorer be built."""
    from verification.entailment.features import FEATURE_NAMES

    n = len(FEATURE_NAMES)
    return Combiner(
        weights=(1.0,) + (0.0,) * (n - 1), bias=0.0, mean=(0.0,) * n, scale=(1.0,) * n, threshold=0.5, version="none"
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run via: python manage.py train_verifier")
