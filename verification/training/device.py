"""Train the cross-encoder on a lent GPU machine in one call: pack here, train there.

The device tool sends the repository plus at most 64 MiB in all, and the machine has PyTorch,
transformers and safetensors but not Django, the model packages or ../shared. So the work is split:
`pack` (here, CPU) writes the exact training examples the CPU loop would build, every book's exam
claims with their evidence windows, and the base model without what the shipped weights replace
(or, with --full-base, all of it); `train` (there) runs the project's own loop
(`loop.train_cross_encoder`, bf16 autocast on CUDA) from the shipped weights or the base, optionally
without one book whose claims it then scores, and writes the shipped form (fp16 trainable weights +
metadata + a report). device_job.sh and device_lobo.sh are the two calls made so far; the commands
are in docs/verifier.md, "On a GPU". No Django import on either side.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
EXAMPLES_FILE = "examples.jsonl.xz"
BOOK_CLAIMS_FILE = "book_claims.jsonl.xz"
BASE_DIR = "minilm"
# Files of the MiniLM package a tokenizer and a config are built from (the weights are packed apart).
_BASE_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def pack(
    *,
    out: Path,
    nli_per_file: int | None,
    breaking_nli: int,
    begin: int | None,
    synthetic_per_module: int,
    glossary_per_module: int,
    book_claim_copies: int,
    holdout_books: tuple[str, ...],
    full_base: bool,
    seed: int,
) -> dict[str, object]:
    """Write the examples and the packed base model to `out`; returns what was packed."""
    from verification.training import data

    out.mkdir(parents=True, exist_ok=True)
    mix = data.MixConfig(
        nli_per_file=nli_per_file,
        breaking_nli=breaking_nli,
        begin=begin,
        synthetic_per_module=synthetic_per_module,
        glossary_per_module=glossary_per_module,
        holdout_books=holdout_books,
    )
    dirs = data.DataDirs(
        begin=SHARED / "train",
        nli=SHARED / "train" / "nli",
        books=SHARED / "train" / "books",
        syllabus=ROOT / "data" / "syllabi" / "biology-2e" / "modules",
    )
    train, _ = data.training_pairs(dirs, mix, seed=seed, book_claim_copies=book_claim_copies)
    examples = data.make_examples(train, max_length=128, seed=seed)
    data.write_examples(out / EXAMPLES_FILE, examples)
    write_book_claims(out / BOOK_CLAIMS_FILE, dirs.books)
    pack_base(out / BASE_DIR, full=full_base)
    packed = {
        "examples": len(examples),
        "mix": asdict(mix),
        "book_claim_copies": book_claim_copies,
        "seed": seed,
        "counts": data.counts(examples),
    }
    (out / "pack.json").write_text(json.dumps(packed, indent=2) + "\n")
    return packed


def write_book_claims(path: Path, books: Path) -> None:
    """Every book's exam claims with their evidence windows, as the scorer selects them: a device
    run trained without a book scores that book's claims there (leave-one-book-out)."""
    from verification.entailment.datasets import load_dir
    from verification.training import data

    with lzma.open(path, "wt", encoding="utf-8", preset=9) as handle:
        for claim in load_dir(books):
            statement, windows = data.claim_windows(claim.claim, claim.passage, max_length=128)
            handle.write(json.dumps([claim.source, statement, windows, int(claim.label or 0)]) + "\n")


def pack_base(base: Path, *, full: bool = False) -> None:
    """The installed MiniLM's config and tokenizer, and its word embeddings alone in fp16 (`full`:
    every base weight but the head, for runs that start from the base)."""
    import torch
    from safetensors.torch import save_file

    from verification.entailment.cross_encoder import (
        PACKED_BASE_FILE,
        PACKED_EMBEDDINGS_FILE,
        WORD_EMBEDDINGS_KEY,
        base_model_dir,
        load_base,
    )

    base.mkdir(parents=True, exist_ok=True)
    for name in _BASE_FILES:
        shutil.copy(base_model_dir() / name, base / name)
    model, _ = load_base()
    if full:
        state = {k: v.to(torch.float16).contiguous() for k, v in model.state_dict().items() if k.startswith("bert.")}
        save_file(state, str(base / PACKED_BASE_FILE))
        return
    embeddings = model.state_dict()[WORD_EMBEDDINGS_KEY].to(torch.float16).contiguous()
    save_file({WORD_EMBEDDINGS_KEY: embeddings}, str(base / PACKED_EMBEDDINGS_FILE))


def train(
    *,
    pack_dir: Path,
    out: Path,
    epochs: float,
    batch_size: int,
    learning_rate: float,
    frozen_layers: int,
    max_minutes: float,
    fit_schedule: bool,
    from_base: bool,
    without_book: str | None,
    device: str,
) -> dict[str, object]:
    from verification.entailment.cross_encoder import MINILM_DIR_ENV, WEIGHTS_DIR
    from verification.training import data
    from verification.training.loop import RunLimits, TrainConfig, train_cross_encoder

    os.environ[MINILM_DIR_ENV] = str(pack_dir / BASE_DIR)
    examples = data.read_examples(pack_dir / EXAMPLES_FILE)
    if without_book is not None:
        examples = data.examples_without_book(examples, without_book)
    config = TrainConfig(
        seed=13,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        frozen_layers=frozen_layers,
        device=device,
        init_weights=None if from_base else str(WEIGHTS_DIR),
    )
    started = time.monotonic()
    result = train_cross_encoder(
        examples,
        config,
        out_dir=out / "weights",
        version=f"v4-device{'-base' if from_base else ''}-e{epochs:g}-b{batch_size}-lr{learning_rate:g}-f{frozen_layers}"
        + (f"-without-{without_book}" if without_book else ""),
        # One folder per output: runs side by side on one GPU must not share a checkpoint.
        checkpoint_dir=Path("/tmp") / f"veritutor-device-checkpoint-{out.name}",
        limits=RunLimits(max_minutes=max_minutes, checkpoint_minutes=1e9, fit_schedule=fit_schedule),
        log=lambda line: print(line, flush=True),
    )
    report = {
        "config": asdict(config),
        "examples": len(examples),
        "steps": result.steps,
        "total_steps": result.total_steps,
        "pairs_seen": result.pairs_seen,
        "finished": result.finished,
        "device": result.device,
        "seconds": round(time.monotonic() - started, 1),
        "losses": [round(x, 5) for x in result.losses],
        "weights_sha256": result.weights_sha256,
        "without_book": without_book,
    }
    if without_book is not None and (pack_dir / BOOK_CLAIMS_FILE).exists():
        report["held_out_book"] = score_book(pack_dir / BOOK_CLAIMS_FILE, out / "weights", book=without_book)
    (out / "weights" / "training_report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def score_book(path: Path, weights: Path, *, book: str) -> dict[str, object]:
    """The trained cross-encoder alone on one book's claims: the maximum logit over each claim's
    windows (as the scorer takes it), with the labels, and its AUC and balanced accuracy at 0."""
    import numpy as np

    from verification.entailment.cross_encoder import CrossEncoder
    from verification.entailment.metrics import roc_auc

    with lzma.open(path, "rt", encoding="utf-8") as handle:
        rows = [r for r in (json.loads(line) for line in handle if line.strip()) if r[0] == book]
    import torch

    encoder = CrossEncoder(weights, quantize=False).to("cuda" if torch.cuda.is_available() else "cpu")
    pairs = [(statement, window) for _, statement, windows, _ in rows for window in windows]
    logits = encoder.logits(pairs, batch_size=256)
    scores, at = [], 0
    for _, _, windows, _ in rows:
        scores.append(float(logits[at : at + len(windows)].max()) if windows else -20.0)
        at += len(windows)
    labels = np.array([r[3] for r in rows])
    predicted = np.array(scores) > 0
    tpr = float(predicted[labels == 1].mean()) if (labels == 1).any() else 0.0
    tnr = float((~predicted[labels == 0]).mean()) if (labels == 0).any() else 0.0
    return {
        "book": book,
        "claims": len(rows),
        "auc": roc_auc(labels.tolist(), scores),
        "balanced_accuracy_at_0": (tpr + tnr) / 2,
        "scores": [round(s, 3) for s in scores],
        "labels": labels.tolist(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pack", help="here: write the examples and the packed base model")
    p.add_argument("--out", type=Path, default=ROOT / "var" / "device")
    p.add_argument("--nli-per-file", type=int, default=None, help="default: every NLI pair")
    p.add_argument("--breaking-nli", type=int, default=1500)
    p.add_argument("--begin-limit", type=int, default=None)
    p.add_argument("--synthetic-per-module", type=int, default=6)
    p.add_argument("--glossary-per-module", type=int, default=4)
    p.add_argument("--book-claim-copies", type=int, default=1, help="each book claim this often (fresh windows)")
    p.add_argument("--holdout-book", action="append", default=None, help="default: us-history; 'none': none")
    p.add_argument("--full-base", action="store_true", help="pack every base weight (for --from-base runs)")
    p.add_argument("--seed", type=int, default=13)
    t = commands.add_parser("train", help="there: train from the shipped weights on the packed examples")
    t.add_argument("--pack", type=Path, required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--epochs", type=float, default=4.0)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=4e-5)
    t.add_argument("--frozen-layers", type=int, default=2, help="bottom encoder layers kept frozen")
    t.add_argument("--max-minutes", type=float, default=7.0, help="stop (and export) after this long")
    t.add_argument("--fit-schedule", action="store_true", help="shorten the schedule to end inside --max-minutes")
    t.add_argument("--from-base", action="store_true", help="start from the packed base (pack --full-base)")
    t.add_argument("--without-book", default=None, help="train without this book, then score its claims")
    t.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    if args.command == "pack":
        packed = pack(
            out=args.out,
            nli_per_file=args.nli_per_file,
            breaking_nli=args.breaking_nli,
            begin=args.begin_limit,
            synthetic_per_module=args.synthetic_per_module,
            glossary_per_module=args.glossary_per_module,
            book_claim_copies=args.book_claim_copies,
            holdout_books=tuple(b for b in (args.holdout_book or ["us-history"]) if b != "none"),
            full_base=args.full_base,
            seed=args.seed,
        )
        print(f"packed {packed['examples']} examples into {args.out}")
    else:
        report = train(
            pack_dir=args.pack,
            out=args.out,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            frozen_layers=args.frozen_layers,
            max_minutes=args.max_minutes,
            fit_schedule=args.fit_schedule,
            from_base=args.from_base,
            without_book=args.without_book,
            device=args.device,
        )
        print(json.dumps({k: v for k, v in report.items() if k not in ("losses", "held_out_book")}))
        held = report.get("held_out_book")
        if isinstance(held, dict):
            print(
                f"held-out {held['book']}: AUC {held['auc']:.3f}, balanced accuracy {held['balanced_accuracy_at_0']:.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
