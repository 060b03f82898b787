"""Find the few sentences of a (possibly module-length) passage that a claim should be checked on.

Lexical BM25 over the passage's sentences ranks every sentence for microseconds; the top
candidates are then re-ranked with static MiniLM word-vector embeddings and turned into a few
evidence windows (the best sentences packed, then each top sentence with its neighbours), each
fitting the cross-encoder's input; the scorer takes the maximum over windows.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from curriculum.text import STOPWORDS, bm25_idf, bm25_weight, content_terms, split_sentences

# Passages are re-indexed per claim unless cached; a module is ~250 sentences and claims about the
# same module come in bursts, so a few hundred passages cover a whole answer-verification run.
_INDEX_CACHE_SIZE = 512
# WordPiece splits English prose into ~1.35 tokens a word (measured on the dev passages); used to
# size the evidence window so that claim + window fit the cross-encoder's max_length.
TOKENS_PER_WORD = 1.35


def budget_words(statement: str, max_length: int) -> int:
    """Words of evidence that fit beside the statement in `max_length` tokens ([CLS], 2x [SEP])."""
    return max(24, int((max_length - 4 - TOKENS_PER_WORD * len(statement.split())) / TOKENS_PER_WORD))


@dataclass(frozen=True)
class PassageIndex:
    sentences: tuple[str, ...]
    terms: tuple[tuple[str, ...], ...]
    lengths: tuple[int, ...]
    word_count: int
    doc_freq: dict[str, int]
    avg_terms: float

    @property
    def vocabulary(self) -> frozenset[str]:
        return frozenset(self.doc_freq)


class SentenceEmbedder(Protocol):
    def embed(self, sentences: list[str]) -> np.ndarray: ...


class StaticMiniLMEmbedder:
    """Mean of MiniLM's input token embeddings (no transformer pass), normalised.

    The default re-ranker: it adds word-level semantic similarity (related words have nearby
    token vectors) to BM25 at microseconds a sentence. The contextual MiniLM encoder was tried and
    removed: ~50 ms a sentence on 2 shared cores, ~0.5 s a claim for 8 candidates, far over the
    throughput budget (see docs/verifier.md).
    """

    def __init__(self) -> None:
        from safetensors import safe_open
        from transformers import AutoTokenizer

        from verification.entailment.cross_encoder import base_model_dir

        model_dir = base_model_dir()
        self._tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        with safe_open(str(model_dir / "model.safetensors"), framework="np") as handle:
            key = next(k for k in handle.keys() if k.endswith("word_embeddings.weight"))
            self._table = handle.get_tensor(key).astype(np.float32)
        stop_ids = self._tokenizer.convert_tokens_to_ids(sorted(STOPWORDS & set(self._tokenizer.vocab)))
        self._stop_ids = set(stop_ids if isinstance(stop_ids, list) else [stop_ids])
        self._stop_ids |= set(self._tokenizer.all_special_ids)
        self._lock = threading.Lock()

    def embed(self, sentences: list[str]) -> np.ndarray:
        with self._lock:  # fast tokenizers are not safe to share across threads
            encoded = self._tokenizer(sentences, add_special_tokens=False)["input_ids"]
        vectors = np.zeros((len(sentences), self._table.shape[1]), dtype=np.float32)
        for row, ids in enumerate(encoded):
            kept = [i for i in ids if i not in self._stop_ids] or ids
            if kept:
                vectors[row] = self._table[kept].mean(axis=0)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-9)


_cache: OrderedDict[str, PassageIndex] = OrderedDict()
_cache_lock = threading.Lock()


def index_passage(text: str) -> PassageIndex:
    """Split and tokenise a passage once; LRU-cached by content hash, thread-safe."""
    key = hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    sentences = tuple(split_sentences(text))
    terms = tuple(tuple(content_terms(s)) for s in sentences)
    lengths = tuple(len(s.split()) for s in sentences)
    doc_freq: Counter[str] = Counter()
    for sentence_terms in terms:
        doc_freq.update(set(sentence_terms))
    index = PassageIndex(
        sentences=sentences,
        terms=terms,
        lengths=lengths,
        word_count=sum(lengths),
        doc_freq=dict(doc_freq),
        avg_terms=max(1.0, sum(len(t) for t in terms) / max(1, len(terms))),
    )
    with _cache_lock:
        _cache[key] = index
        while len(_cache) > _INDEX_CACHE_SIZE:
            _cache.popitem(last=False)
    return index


def bm25_scores(claim_terms: list[str], index: PassageIndex) -> np.ndarray:
    n = len(index.sentences)
    if n == 0:
        return np.zeros(0)
    doc_freq, avg_len = index.doc_freq, index.avg_terms
    query = set(claim_terms)
    scores = np.zeros(n)
    for i, terms in enumerate(index.terms):
        counts = Counter(t for t in terms if t in query)
        for term, tf in counts.items():
            idf = bm25_idf(n, float(doc_freq[term]))
            scores[i] += bm25_weight(float(tf), idf=idf, length=float(len(terms)), average_length=avg_len)
    return scores


def rank_sentences(
    focus: str, index: PassageIndex, *, embedder: SentenceEmbedder | None = None, candidates: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """(sentence indices, scores), best first: BM25 on the focus, the top few re-ranked by embeddings."""
    lexical = bm25_scores(content_terms(focus), index)
    order = np.argsort(-lexical, kind="stable")[: max(candidates, 1)]
    scores = lexical[order] / (lexical[order].max() or 1.0)
    if embedder is not None and len(order) > 1:
        vectors = embedder.embed([focus] + [index.sentences[i] for i in order])
        # Cosine similarity complements BM25 on paraphrases; both are on a 0..1-ish scale.
        scores = scores + vectors[1:] @ vectors[0]
    best_first = np.argsort(-scores, kind="stable")
    return order[best_first], scores[best_first]


def select_windows(
    focus: str,
    index: PassageIndex,
    *,
    budget_words: int,
    embedder: SentenceEmbedder | None = None,
    windows: int = 3,
) -> list[list[int]]:
    """Up to `windows` evidence windows (sentence indices in document order), best first.

    The first packs the best-ranked sentences (as `select_sentences`); each further one is a
    top-ranked sentence in its own paragraph context (its neighbours), because the sentence that
    settles a claim often leans on the one before it ("It ..."), and the best lexical match is not
    always the supporting one. The scorer takes the maximum over windows, so an extra window can
    only find support a single window missed, at one cross-encoder pair each.
    """
    n = len(index.sentences)
    if index.word_count <= budget_words:
        return [list(range(n))]
    ranked, scores = rank_sentences(focus, index, embedder=embedder)
    found = [_pack(ranked, scores, index, budget_words)]
    for anchor, score in zip(ranked, scores, strict=True):
        if len(found) >= windows or (score <= 0 and found):
            break
        window = _context(int(anchor), index, budget_words)
        if window not in found:
            found.append(window)
    return found


def _pack(ranked: np.ndarray, scores: np.ndarray, index: PassageIndex, budget_words: int) -> list[int]:
    chosen: list[int] = []
    used = 0
    for i, score in zip(ranked, scores, strict=True):
        if score <= 0 and chosen:
            break  # nothing in common with the claim: padding the window would only add noise
        i = int(i)
        if chosen and used + index.lengths[i] > budget_words:
            continue
        chosen.append(i)
        used += index.lengths[i]
        if used >= budget_words:
            break
    return sorted(chosen)


def _context(anchor: int, index: PassageIndex, budget_words: int) -> list[int]:
    """The anchor sentence, then the previous and next ones alternately while they fit."""
    chosen = [anchor]
    used = index.lengths[anchor]
    before, after = anchor - 1, anchor + 1
    while before >= 0 or after < len(index.sentences):
        grew = False
        for i in (before, after):
            if 0 <= i < len(index.sentences) and used + index.lengths[i] <= budget_words:
                chosen.append(i)
                used += index.lengths[i]
                grew = True
        before, after = before - 1, after + 1
        if not grew:
            break
    return sorted(chosen)


def select_sentences(
    claim: str,
    index: PassageIndex,
    *,
    budget_words: int,
    embedder: SentenceEmbedder | None = None,
    candidates: int = 8,
) -> list[int]:
    """Indices (document order) of the sentences that best support or refute the claim."""
    if index.word_count <= budget_words:
        return list(range(len(index.sentences)))
    ranked, scores = rank_sentences(claim, index, embedder=embedder, candidates=candidates)
    return _pack(ranked, scores, index, budget_words)
