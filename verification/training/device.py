"""Train the cross-encoder on a lent GPU machine in one call: pack here, train there.

The device tool sends the repository plus at most 64 MiB in all, and the machine has PyTorch,
transformers and safetensors but not Django, the model packages or ../shared. So the work is split:

    # here (CPU, ~1 min): the exact training examples the CPU loop would build, and the base model
    # without what the shipped weights replace
    .venv/bin/python -m verification.training.device pack --out var/device
    # there (one `run` call, carry ["var/device"]):
    python3 -m verification.training.device train --pack var/device --out $OUT --epochs 4

`train` starts from the shipped weights (`verification/entailment/weights/`, in the repository),
runs the project's own loop (`loop.train_cross_encoder`, bf16 autocast on CUDA) and writes the
shipped form (fp16 trainable weights + metadata + a report) to `--out`; copy that folder into
`verification/entailment/weights/` here and refit the combiner with
`manage.py train_verifier --combiner-only`. No Django import on either side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
EXAMPLES_FILE = "examples.jsonl.xz"
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
    )
    dirs = data.DataDirs(
        begin=SHARED / "train",
        nli=SHARED / "train" / "nli",
        books=SHARED / "train" / "books",
        syllabus=ROOT / "data" / "syllabi" / "biology-2e" / "modules",
    )
    train, _ = data.training_pairs(dirs, mix, seed=seed)
    examples = data.make_examples(train, max_length=128, seed=seed)
    data.write_examples(out / EXAMPLES_FILE, examples)
    pack_base(out / BASE_DIR)
    packed = {"examples": len(examples), "mix": asdict(mix), "seed": seed, "counts": data.counts(examples)}
    (out / "pack.json").write_text(json.dumps(packed, indent=2) + "\n")
    return packed


def pack_base(base: Path) -> None:
    """The installed MiniLM's config and tokenizer, and its word embeddings alone in fp16."""
    import torch
    from safetensors.torch import save_file

    from verification.entailment.cross_encoder import (
        PACKED_EMBEDDINGS_FILE,
        WORD_EMBEDDINGS_KEY,
        base_model_dir,
        load_base,
    )

    base.mkdir(parents=True, exist_ok=True)
    for name in _BASE_FILES:
        shutil.copy(base_model_dir() / name, base / name)
    model, _ = load_base()
    embeddings = model.state_dict()[WORD_EMBEDDINGS_KEY].to(torch.float16).contiguous()
    save_file({WORD_EMBEDDINGS_KEY: embeddings}, str(base / PACKED_EMBEDDINGS_FILE))


def train(
    *, pack_dir: Path, out: Path, epochs: float, batch_size: int, learning_rate: float, max_minutes: float, device: str
) -> dict[str, object]:
    from verification.entailment.cross_encoder import MINILM_DIR_ENV, WEIGHTS_DIR
    from verification.training import data
    from verification.training.loop import RunLimits, TrainConfig, train_cross_encoder

    os.environ[MINILM_DIR_ENV] = str(pack_dir / BASE_DIR)
    examples = data.read_examples(pack_dir / EXAMPLES_FILE)
    config = TrainConfig(
        seed=13,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        device=device,
        init_weights=str(WEIGHTS_DIR),
    )
    started = time.monotonic()
    result = train_cross_encoder(
        examples,
        config,
        out_dir=out / "weights",
        version=f"v3-device-e{epochs:g}-b{batch_size}",
        checkpoint_dir=Path("/tmp/veritutor-device-checkpoint"),
        limits=RunLimits(max_minutes=max_minutes, checkpoint_minutes=1e9),
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
    }
    (out / "weights" / "training_report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


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
    p.add_argument("--seed", type=int, default=13)
    t = commands.add_parser("train", help="there: train from the shipped weights on the packed examples")
    t.add_argument("--pack", type=Path, required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--epochs", type=float, default=4.0)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=4e-5)
    t.add_argument("--max-minutes", type=float, default=7.0, help="stop (and export) after this long")
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
            max_minutes=args.max_minutes,
            device=args.device,
        )
        print(json.dumps({k: v for k, v in report.items() if k != "losses"}))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
