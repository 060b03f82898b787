import pytest
from django.test import override_settings

from curriculum.indexing import vector_store
from curriculum.indexing.embeddings import embed_documents
from curriculum.indexing.index import delete_chunks, drop_curriculum_index, index_chunks, indexed_chunk_ids
from tests.curriculum.indexing_fixtures import IndexedCurriculum, as_indexed

pytestmark = pytest.mark.integration


def test_indexed_records_carry_vector_text_and_metadata(biology: IndexedCurriculum):
    # given an indexed curriculum
    chunk = biology.chunk_with("Osmosis")
    collection = vector_store.get_collection(biology.curriculum.id, create=False)

    # when its osmosis record is read back
    record = collection.get(ids=[str(chunk.id)], include=["embeddings", "documents", "metadatas"])

    # then it holds the chunk's text, its ids for filtering, and the chunk's own vector
    assert record["documents"] == [chunk.text]
    assert record["metadatas"] == [
        {
            "chunk_id": chunk.id,
            "curriculum_id": biology.curriculum.id,
            "unit_id": chunk.document.topic.unit_id,
            "topic_id": chunk.document.topic_id,
            "document_id": chunk.document_id,
            "module": "m66374",
            "position": 1,
        }
    ]
    # (int8 activations are quantised per batch, so the same text embedded alone differs slightly)
    assert float(record["embeddings"][0] @ embed_documents([chunk.text])[0]) > 0.98
    assert collection.name == f"{vector_store.collection_name(biology.curriculum.id)}"
    assert collection.configuration["hnsw"]["space"] == "cosine"


def test_index_ids_match_the_database_and_reindexing_is_idempotent(biology: IndexedCurriculum):
    # given an indexed curriculum
    expected = {chunk.id for chunk in biology.chunks}
    progress: list[tuple[int, int]] = []

    # when its chunks are indexed a second time
    index_chunks(chunks=[as_indexed(chunk) for chunk in biology.chunks], on_progress=lambda *p: progress.append(p))

    # then the index holds each chunk once, and progress reached the total
    assert indexed_chunk_ids(curriculum_id=biology.curriculum.id) == expected
    assert progress[-1] == (len(expected), len(expected))


def test_delete_and_drop_remove_vectors(biology: IndexedCurriculum, chemistry: IndexedCurriculum):
    # given two indexed curricula
    removed = biology.chunks[0].id

    # when one chunk of the first is deleted (plus an id that was never indexed) and the second dropped
    delete_chunks(curriculum_id=biology.curriculum.id, chunk_ids=[removed, 999_999])
    drop_curriculum_index(curriculum_id=chemistry.curriculum.id)

    # then only that chunk left the first, and the second has no collection at all
    assert indexed_chunk_ids(curriculum_id=biology.curriculum.id) == {c.id for c in biology.chunks} - {removed}
    assert indexed_chunk_ids(curriculum_id=chemistry.curriculum.id) == set()
    assert vector_store.get_collection(chemistry.curriculum.id, create=False) is None


def test_operations_on_a_curriculum_without_index_do_nothing(db):
    # given a curriculum id that was never indexed
    # when it is read, deleted from and dropped
    # then nothing fails and nothing is created
    assert indexed_chunk_ids(curriculum_id=424_242) == set()
    delete_chunks(curriculum_id=424_242, chunk_ids=[1, 2])
    drop_curriculum_index(curriculum_id=424_242)
    assert vector_store.get_collection(424_242, create=False) is None


def test_collection_names_are_namespaced_by_prefix():
    with override_settings(CHROMA_COLLECTION_PREFIX="school-a"):
        assert vector_store.collection_name(7) == "school-a-curriculum-7"
