"""Fine-tune MiniLM-L6 as an entailment cross-encoder, reproducibly, on 2 CPU cores.

Examples are (claim, evidence window) pairs built with the same sentence selection the scorer
uses at run time (lexical only here, to keep data building seconds; see docs/verifier.md), so the
model sees at training time the kind of window it will see when scoring.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from verification.entailment.cross_encoder import FROZEN_PREFIXES, META_FILE, MODEL_FILE, load_base, trainable_state
from verification.entailment.evidence import index_passage, select_sentences
from verification.entailment.scorer import TOKENS_PER_WORD


@dataclass(frozen=True, kw_only=True)
class Example:
    claim: str
    window: str
    label: int
    source: str


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    seed: int = 13
    max_length: int = 128
    """Token budget of claim + evidence window (shorter = faster at train and run time)."""
    epochs: float = 1.0
    batch_size: int = 16
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_fraction: float = 0.06
    max_steps: int | None = None
    """Stop after this many optimiser steps (tests and smoke runs)."""
    threads: int = 2
    """torch intra-op threads; fixed because float reduction order depends on it."""
    frozen_layers: int = 2
    """Bottom encoder layers kept frozen: backward stops above them, a third less compute a step,
    and general-purpose lower layers are the ones a few thousand pairs would least improve."""


@dataclass(kw_only=True)
class TrainResult:
    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)
    """Mean training loss per 50 steps."""
    weights_sha256: str = ""


def build_window(claim: str, passage: str, *, max_length: int) -> str:
    claim_tokens = TOKENS_PER_WORD * len(claim.split())
    budget = max(24, int((max_length - 4 - claim_tokens) / TOKENS_PER_WORD))
    index = index_passage(passage)
    chosen = select_sentences(claim, index, budget_words=budget, embedder=None)
    return " ".join(index.sentences[i] for i in chosen)


def make_examples(items: Sequence[tuple[str, str, int, str]], *, max_length: int) -> list[Example]:
    """(claim, passage, label, source) -> Example with the selected evidence window."""
    return [
        Example(claim=claim, window=build_window(claim, passage, max_length=max_length), label=label, source=source)
        for claim, passage, label, source in items
    ]


def _batches(examples: list[Example], *, batch_size: int, rng: random.Random) -> list[list[Example]]:
    """Shuffled batches of similar length: padding is most of the CPU cost of short pairs."""
    order = examples[:]
    rng.shuffle(order)
    pool = batch_size * 16
    batches: list[list[Example]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda e: len(e.claim) + len(e.window))
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def train_cross_encoder(
    examples: list[Example],
    config: TrainConfig,
    *,
    out_dir: Path,
    version: str,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Fine-tune, then write the trainable weights (fp16) and their metadata to `out_dir`."""
    if not examples:
        raise ValueError("no training examples")
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    rng = random.Random(config.seed)
    model, tokenizer = load_base(seed=config.seed)
    frozen = (
        *FROZEN_PREFIXES,
        "bert.embeddings.",
        *tuple(f"bert.encoder.layer.{i}." for i in range(config.frozen_layers)),
    )
    for name, parameter in model.named_parameters():
        parameter.requires_grad = not name.startswith(frozen)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(examples) / config.batch_size)
    total = math.ceil(steps_per_epoch * config.epochs)
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    warmup = max(1, int(total * config.warmup_fraction))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    torch.manual_seed(config.seed)
    result = TrainResult(steps=0, seconds=0.0)
    started = time.monotonic()
    window: list[float] = []
    while result.steps < total:
        for batch in _batches(examples, batch_size=config.batch_size, rng=rng):
            if result.steps >= total:
                break
            encoded = tokenizer(
                [e.claim for e in batch],
                [e.window for e in batch],
                truncation="longest_first",
                max_length=config.max_length,
                padding=True,
                return_tensors="pt",
            )
            labels = torch.tensor([float(e.label) for e in batch])
            loss = loss_fn(model(**encoded).logits[:, 0], labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            result.steps += 1
            window.append(loss.item())
            if len(window) == 50 or result.steps == total:
                result.losses.append(sum(window) / len(window))
                window = []
                elapsed = time.monotonic() - started
                log(f"step {result.steps}/{total} loss {result.losses[-1]:.4f} ({elapsed:.0f}s)")
    result.seconds = time.monotonic() - started
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in trainable_state(model).items()}
    save_file(state, str(out_dir / MODEL_FILE))
    result.weights_sha256 = hashlib.sha256((out_dir / MODEL_FILE).read_bytes()).hexdigest()
    meta = {"max_length": config.max_length, "version": version, "config": asdict(config)}
    (out_dir / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return result


def seeded_sample(items: list, k: int, seed: int) -> list:
    if k >= len(items):
        return items[:]
    return random.Random(seed).sample(items, k)


def as_array(values: Sequence[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)
