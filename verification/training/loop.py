"""Fine-tune MiniLM-L6 as an entailment cross-encoder: resumable, on CPU or a GPU.

A CPU run of useful length does not fit one session, so training is a sequence of resumable
runs: every few minutes (and on SIGTERM/SIGINT) the trainable weights, the optimiser and
scheduler state, the RNG state and the position in the data are written atomically to a
checkpoint; `resume=True` continues from it on the same examples (their hash is checked) and the
same schedule, so N short runs make the same model as one long one, up to float noise.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType

import torch
from safetensors.torch import load_file, save_file

from verification.entailment.cross_encoder import FROZEN_PREFIXES, META_FILE, MODEL_FILE, load_base, trainable_state
from verification.training.data import Example, examples_sha

CHECKPOINT_FILE = "checkpoint.pt"


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
    """Length of the schedule in optimiser steps (default: `epochs` over the data)."""
    threads: int = 2
    """torch intra-op threads on CPU; fixed because float reduction order depends on it."""
    frozen_layers: int = 2
    """Bottom encoder layers kept frozen: backward stops above them, a third less compute a step."""
    device: str = "auto"
    """"auto" = cuda when available, else cpu; or an explicit torch device string."""
    init_weights: str | None = None
    """A weights folder (the shipped form) to start from instead of the base MiniLM with a fresh head:
    a CPU session's run continues what an earlier schedule learnt (a new schedule on new data)."""


@dataclass(frozen=True, kw_only=True)
class RunLimits:
    """When this run stops (the schedule may go on in a later `resume` run)."""

    max_minutes: float | None = None
    checkpoint_minutes: float = 5.0
    stop_after_steps: int | None = None
    """Stop this run after this many more steps (tests: interrupt and resume)."""
    fit_schedule: bool = False
    """Shorten the schedule so it ends (learning rate annealed to 0) inside `max_minutes`, from the
    rate of the first `FIT_AFTER_STEPS` steps: a lent GPU has a fixed time, and a schedule cut at
    its peak learning rate exports a model mid-jump."""


# The steps timed before a schedule is fitted to the time left: from FIT_FROM_STEP (past CUDA,
# allocator and side-by-side runs' start-up, which made the first rate 2.6x too slow) to FIT_AFTER_STEPS.
FIT_FROM_STEP = 100
FIT_AFTER_STEPS = 300
# Share of the time left the fitted schedule may use: the export and a slower tail need the rest.
FIT_TIME_SHARE = 0.95


@dataclass(kw_only=True)
class TrainResult:
    steps: int
    total_steps: int
    seconds: float
    """Training time over all runs of this schedule."""
    pairs_seen: int
    finished: bool
    """The schedule ran to its end (else: resume to continue)."""
    device: str
    losses: list[float] = field(default_factory=list)
    """Mean training loss per 50 steps, over all runs."""
    weights_sha256: str = ""


def pick_device(requested: str) -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


def epoch_batches(examples: list[Example], *, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffled batches (example indices) of similar length: padding is most of the CPU cost.

    A pure function of (seed, epoch), so a resumed run rebuilds the same order and skips to its
    position without storing it.
    """
    rng = random.Random(f"{seed}:{epoch}")
    order = list(range(len(examples)))
    rng.shuffle(order)
    pool = batch_size * 16
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: len(examples[i].claim) + len(examples[i].window))
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


class _StopFlag:
    """Set by SIGTERM/SIGINT so the loop checkpoints and returns instead of dying mid-step."""

    def __init__(self) -> None:
        self.stop = False
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread (e.g. a test runner thread): no signal handling
                return

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.stop = True

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


def train_cross_encoder(
    examples: list[Example],
    config: TrainConfig,
    *,
    out_dir: Path,
    version: str,
    checkpoint_dir: Path,
    resume: bool = False,
    limits: RunLimits | None = None,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Train (or continue training), checkpoint, then write the trainable weights (fp16) to `out_dir`."""
    if not examples:
        raise ValueError("no training examples")
    limits = limits or RunLimits()
    device = pick_device(config.device)
    if device.type == "cpu":
        torch.set_num_threads(config.threads)
        torch.use_deterministic_algorithms(True)
    model, tokenizer = load_base(seed=config.seed)
    if config.init_weights is not None:
        start = load_file(str(Path(config.init_weights) / MODEL_FILE))
        model.load_state_dict({k: v.float() for k, v in start.items()}, strict=False)
    frozen = (
        *FROZEN_PREFIXES,
        "bert.embeddings.",
        *tuple(f"bert.encoder.layer.{i}." for i in range(config.frozen_layers)),
    )
    for name, parameter in model.named_parameters():
        parameter.requires_grad = not name.startswith(frozen)
    model.to(device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(examples) / config.batch_size)
    total = config.max_steps if config.max_steps is not None else math.ceil(steps_per_epoch * config.epochs)
    warmup = max(1, int(total * config.warmup_fraction))
    # A list so a fitted schedule (RunLimits.fit_schedule) can shorten the decay after it starts.
    decay_end = [total]
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min((step + 1) / warmup, max(0.0, (decay_end[0] - step) / max(1, decay_end[0] - warmup))),
    )
    data_sha = examples_sha(examples)
    result = TrainResult(steps=0, total_steps=total, seconds=0.0, pairs_seen=0, finished=False, device=str(device))
    # Losses of the steps since the last logged mean: checkpointed too, so a resumed run logs the
    # same curve as an uninterrupted one.
    window: list[float] = []
    torch.manual_seed(config.seed)
    checkpoint_path = checkpoint_dir / CHECKPOINT_FILE
    if resume and checkpoint_path.exists():
        state = torch.load(checkpoint_path, map_location=device, weights_only=False)
        if state["examples_sha"] != data_sha:
            raise RuntimeError(
                f"{checkpoint_path} was trained on other examples (data or options changed); "
                "rebuild with the options of the first run or start without --resume"
            )
        if state["config"] != _schedule_key(config):
            raise RuntimeError(f"{checkpoint_path} has another schedule: {state['config']} vs {_schedule_key(config)}")
        model.load_state_dict(state["model"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        result.steps, result.seconds, result.pairs_seen = state["step"], state["seconds"], state["pairs_seen"]
        result.losses = list(state["losses"])
        window = list(state.get("loss_window", []))
        log(f"resumed {checkpoint_path} at step {result.steps}/{total} ({result.pairs_seen} pairs seen)")
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    flag = _StopFlag()
    flag.install()
    run_started = time.monotonic()
    last_checkpoint = run_started
    seconds_before = result.seconds
    steps_this_run = 0
    fit_from = run_started
    try:
        while result.steps < total and not flag.stop:
            epoch, position = divmod(result.steps, steps_per_epoch)
            batches = epoch_batches(examples, batch_size=config.batch_size, seed=config.seed, epoch=epoch)
            for batch_indices in batches[position:]:
                batch = [examples[i] for i in batch_indices]
                encoded = tokenizer(
                    [e.claim for e in batch],
                    [e.window for e in batch],
                    truncation="longest_first",
                    max_length=config.max_length,
                    padding=True,
                    return_tensors="pt",
                ).to(device)
                labels = torch.tensor([float(e.label) for e in batch], device=device)
                with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
                    logits = model(**encoded).logits[:, 0]
                loss = loss_fn(logits.float(), labels)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(parameters, 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                result.steps += 1
                steps_this_run += 1
                result.pairs_seen += len(batch)
                window.append(loss.item())
                now = time.monotonic()
                result.seconds = seconds_before + (now - run_started)
                if len(window) == 50 or result.steps == total:
                    result.losses.append(sum(window) / len(window))
                    window = []
                    log(f"step {result.steps}/{total} loss {result.losses[-1]:.4f} ({result.seconds:.0f}s)")
                if steps_this_run == FIT_FROM_STEP:
                    fit_from = now
                if limits.fit_schedule and limits.max_minutes is not None and steps_this_run == FIT_AFTER_STEPS:
                    rate = (FIT_AFTER_STEPS - FIT_FROM_STEP) / (now - fit_from)
                    fitted = fitted_total(
                        total=total,
                        done=result.steps,
                        warmup=warmup,
                        steps_per_second=rate,
                        seconds_left=limits.max_minutes * 60 * FIT_TIME_SHARE - (now - run_started),
                    )
                    if fitted < total:
                        log(f"schedule fitted to the time: {total} -> {fitted} steps at {rate:.1f} steps/s")
                        total = result.total_steps = decay_end[0] = fitted
                out_of_time = limits.max_minutes is not None and now - run_started >= limits.max_minutes * 60
                enough = limits.stop_after_steps is not None and steps_this_run >= limits.stop_after_steps
                if out_of_time or enough or flag.stop:
                    flag.stop = True
                    break
                if now - last_checkpoint >= limits.checkpoint_minutes * 60:
                    _save_checkpoint(checkpoint_path, model, optimizer, scheduler, result, window, config, data_sha)
                    last_checkpoint = now
                if result.steps >= total:
                    break
        _save_checkpoint(checkpoint_path, model, optimizer, scheduler, result, window, config, data_sha)
    finally:
        flag.restore()
    result.finished = result.steps >= total
    log(f"{'finished' if result.finished else 'stopped'} at step {result.steps}/{total}; checkpoint {checkpoint_path}")
    model.eval()
    result.weights_sha256 = export_weights(model, out_dir=out_dir, config=config, version=version)
    return result


def fitted_total(*, total: int, done: int, warmup: int, steps_per_second: float, seconds_left: float) -> int:
    """The schedule's length when it must end within `seconds_left` at the measured rate: never
    longer than planned, never inside the warm-up (the decay needs at least one step)."""
    affordable = done + int(steps_per_second * max(0.0, seconds_left))
    return max(min(total, affordable), warmup + 1, done)


def _schedule_key(config: TrainConfig) -> dict[str, object]:
    """What must not change between runs of one schedule (threads and device may)."""
    key = asdict(config)
    key.pop("threads")
    key.pop("device")
    if key.get("init_weights") is None:
        key.pop("init_weights")  # checkpoints written before the option existed stay resumable
    return key


def _save_checkpoint(
    path: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    result: TrainResult,
    loss_window: list[float],
    config: TrainConfig,
    data_sha: str,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "model": {k: v.detach().cpu() for k, v in trainable_state(model).items()},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "step": result.steps,
        "seconds": result.seconds,
        "pairs_seen": result.pairs_seen,
        "losses": result.losses,
        "loss_window": loss_window,
        "examples_sha": data_sha,
        "config": _schedule_key(config),
    }
    # Written beside and renamed: a run killed mid-write leaves the previous checkpoint intact.
    partial = path.with_suffix(".partial")
    torch.save(state, partial)
    os.replace(partial, path)


def export_weights(model: torch.nn.Module, *, out_dir: Path, config: TrainConfig, version: str) -> str:
    """Write the shipped form: trainable weights in fp16 plus metadata; returns the file's sha256."""
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().to(torch.float16).contiguous() for k, v in trainable_state(model).items()}
    save_file(state, str(out_dir / MODEL_FILE))
    meta = {"max_length": config.max_length, "version": version, "config": asdict(config)}
    (out_dir / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return hashlib.sha256((out_dir / MODEL_FILE).read_bytes()).hexdigest()
