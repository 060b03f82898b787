"""The Chroma vector store: one cosine-space collection per curriculum.

A Chroma server is used when ``settings.CHROMA_HOST`` is set, otherwise a persistent store under
``settings.CHROMA_PATH`` inside this process. Each curriculum's chunks live in a collection of their
own, so no query filter can leak one curriculum's text into another's answers.

We always hand Chroma our vectors, and also give every collection our own embedding function:
Chroma's default one would try to download a model at first use, which fails offline.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

_client: ClientAPI | None = None
_client_key: tuple[str, int, str] | None = None
_client_lock = threading.Lock()

# HNSW graph parameters: Chroma's default neighbourhood (16 links a node), a slightly deeper build
# (128), and a search beam of 64, just above the 50 candidates retrieval asks for (the beam must be at
# least that wide); query latency at 100k chunks is in bench/results/retrieval.md.
HNSW_CONFIGURATION = {"space": "cosine", "ef_construction": 128, "ef_search": 64, "max_neighbors": 16}


class VectorStoreUnavailableError(RuntimeError):
    """The Chroma server cannot be reached: down, restarting, or not answering. Transient: the same
    client reconnects by itself once the server is back (tests/chaos/test_chroma_restarted.py)."""


@contextlib.contextmanager
def reachable() -> Iterator[None]:
    """Raise VectorStoreUnavailableError for a Chroma server's transport failure in the block."""
    import httpx

    try:
        yield
    except httpx.TransportError as error:
        where = f"{settings.CHROMA_HOST}:{settings.CHROMA_PORT}"
        raise VectorStoreUnavailableError(f"the Chroma server at {where} cannot be reached: {error!r}") from error


def collection_name(curriculum_id: int) -> str:
    """The name of a curriculum's collection, namespaced by deployment."""
    return f"{settings.CHROMA_COLLECTION_PREFIX}-curriculum-{curriculum_id}"


def get_client() -> ClientAPI:
    """The process-wide Chroma client for the current settings (re-made if they change, as in tests)."""
    global _client, _client_key
    key = (settings.CHROMA_HOST, settings.CHROMA_PORT, str(settings.CHROMA_PATH))
    if _client is None or _client_key != key:
        with _client_lock:
            if _client is None or _client_key != key:
                _client, _client_key = _make_client(), key
    assert _client is not None
    return _client


def _make_client() -> ClientAPI:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.CHROMA_HOST:
        return chromadb.HttpClient(host=settings.CHROMA_HOST, port=settings.CHROMA_PORT, settings=chroma_settings)
    settings.CHROMA_PATH.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.CHROMA_PATH), settings=chroma_settings)


def get_collection(curriculum_id: int, *, create: bool = True) -> Collection | None:
    """The curriculum's collection; with ``create=False``, None where it does not exist."""
    client = get_client()
    name = collection_name(curriculum_id)
    if create:
        return client.get_or_create_collection(
            name=name,
            embedding_function=MiniLMEmbeddingFunction(),  # type: ignore[arg-type]
            configuration={"hnsw": HNSW_CONFIGURATION},  # type: ignore[arg-type, typeddict-item]
        )
    try:
        return client.get_collection(name=name, embedding_function=MiniLMEmbeddingFunction())  # type: ignore[arg-type]
    except Exception as error:  # Chroma raises NotFoundError locally and ValueError/HTTP errors remotely.
        if _is_not_found(error):
            return None
        raise


def delete_collection(curriculum_id: int) -> None:
    """Delete the curriculum's collection if there is one."""
    try:
        get_client().delete_collection(name=collection_name(curriculum_id))
    except Exception as error:
        if not _is_not_found(error):
            raise


def _is_not_found(error: Exception) -> bool:
    return type(error).__name__ == "NotFoundError" or "does not exist" in str(error).lower()


def max_batch_size() -> int:
    """How many records one add/upsert call may carry."""
    return int(get_client().get_max_batch_size())


class MiniLMEmbeddingFunction:
    """Chroma's hook for embedding texts, bound to our offline MiniLM.

    We pass vectors ourselves, so this only runs if someone queries a collection by text; its real
    job is to keep Chroma from falling back to its downloading default.
    """

    def __init__(self) -> None:
        pass

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:
        from curriculum.indexing.embeddings import embed_documents

        return list(embed_documents(list(input)))

    def embed_query(self, input: Sequence[str]) -> list[np.ndarray]:
        return self(input)

    @staticmethod
    def name() -> str:
        return "veritutor-minilm"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        return MiniLMEmbeddingFunction()

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        return None

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        return None
