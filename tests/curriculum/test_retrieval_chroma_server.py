"""The same indexing and retrieval against a real Chroma server (`chroma run`, or CHROMA_HOST if set)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from curriculum.indexing import vector_store
from curriculum.indexing.chroma_server import ChromaServer, running_chroma_server
from curriculum.indexing.index import indexed_chunk_ids
from curriculum.retrieval import search_chunks
from tests.curriculum.indexing_fixtures import BIOLOGY_TOPICS, CHEMISTRY_TOPICS, build_curriculum

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    if os.environ.get("CHROMA_HOST"):
        yield ChromaServer(host=os.environ["CHROMA_HOST"], port=int(os.environ.get("CHROMA_PORT", "8001")), path=Path())
        return
    with running_chroma_server(tmp_path_factory.mktemp("chroma-server")) as server:
        yield server


@pytest.fixture
def on_server(chroma_server: ChromaServer) -> Iterator[ChromaServer]:
    with override_settings(CHROMA_HOST=chroma_server.host, CHROMA_PORT=chroma_server.port):
        yield chroma_server


def test_index_and_search_on_a_chroma_server(db, on_server: ChromaServer, dropped_indexes: list[int]):
    # given two curricula indexed on the server, both holding the same osmosis sentence
    biology = build_curriculum(BIOLOGY_TOPICS, slug="biology")
    chemistry = build_curriculum(CHEMISTRY_TOPICS, slug="chemistry")
    dropped_indexes.extend([biology.curriculum.id, chemistry.curriculum.id])

    # when biology is searched
    results = search_chunks(curriculum_id=biology.curriculum.id, query="How does water cross a membrane?", k=10)

    # then the answer comes from the server's collection, first, and only biology's chunks come back
    assert vector_store.get_client().heartbeat() > 0
    assert indexed_chunk_ids(curriculum_id=biology.curriculum.id) == {c.id for c in biology.chunks}
    assert results[0].chunk_id == biology.chunk_with("Osmosis").id
    assert {r.chunk_id for r in results} == {c.id for c in biology.chunks}
