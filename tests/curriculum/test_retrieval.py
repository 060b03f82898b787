import numpy as np
import pytest

from curriculum import retrieval
from curriculum.indexing.index import delete_chunks, index_chunks
from curriculum.indexing.lexical import Bm25Index, LexicalHit
from curriculum.models import Chunk
from curriculum.retrieval import RetrievedChunk, search_chunks, search_chunks_batch
from tests.curriculum.indexing_fixtures import IndexedCurriculum, as_indexed

pytestmark = pytest.mark.integration


def test_search_returns_the_answering_chunk_first_with_its_citation(biology: IndexedCurriculum):
    # given an indexed curriculum
    expected = biology.chunk_with("Osmosis is the movement of water")

    # when a student asks about osmosis in their own words
    results = search_chunks(curriculum_id=biology.curriculum.id, query="How does water cross a membrane?", k=3)

    # then the osmosis chunk comes first, with everything a citation needs
    assert results[0] == RetrievedChunk(
        chunk_id=expected.id,
        text=expected.text,
        score=results[0].score,
        similarity=results[0].similarity,
        topic_id=expected.document.topic_id,
        topic="Passive Transport",
        unit="Structure and Function of Plasma Membranes",
        topic_path="Structure and Function of Plasma Membranes › Passive Transport",
        label="Passive Transport",
        module="m66374",
        document_id=expected.document_id,
        position=1,
    )
    assert len(results) == 3
    assert 0 < results[0].score <= 1.0
    assert results[0].similarity > 0.5
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


def test_search_never_returns_another_curriculums_chunks(biology: IndexedCurriculum, chemistry: IndexedCurriculum):
    # given two curricula that both hold the very same osmosis sentence
    chemistry_ids = {chunk.id for chunk in chemistry.chunks}
    biology_ids = {chunk.id for chunk in biology.chunks}

    # when each is searched for it, asking for more results than either holds
    query = "Osmosis is the movement of water through a semipermeable membrane"
    from_biology = search_chunks(curriculum_id=biology.curriculum.id, query=query, k=20)
    from_chemistry = search_chunks(curriculum_id=chemistry.curriculum.id, query=query, k=20)

    # then each returns all and only its own chunks
    assert {r.chunk_id for r in from_biology} == biology_ids
    assert {r.chunk_id for r in from_chemistry} == chemistry_ids


def test_topic_filter_restricts_results_to_those_topics(biology: IndexedCurriculum):
    # given the photosynthesis topic
    photosynthesis = biology.chunk_with("Chlorophyll").document.topic_id

    # when a question about osmosis is restricted to it
    results = search_chunks(
        curriculum_id=biology.curriculum.id, query="What is osmosis?", k=5, topic_ids=[photosynthesis]
    )

    # then only photosynthesis chunks come back
    assert len(results) == 2
    assert {r.topic_id for r in results} == {photosynthesis}


def test_an_empty_topic_filter_matches_nothing(biology: IndexedCurriculum):
    assert search_chunks(curriculum_id=biology.curriculum.id, query="What is osmosis?", k=5, topic_ids=[]) == []


def test_hybrid_ranking_finds_an_exact_term_that_dense_search_misses(biology: IndexedCurriculum):
    # given a chunk whose only link to the question is a rare exact identifier, while the question's
    # meaning (in words no chunk uses) points at the chlorophyll chunk
    document = biology.chunk_with("Chlorophyll").document
    target = Chunk.objects.create(
        document=document,
        curriculum=biology.curriculum,
        position=10,
        text="Protocol KX-7731 lists the safety rules for the teaching laboratory.",
    )
    index_chunks(chunks=[as_indexed(target)])
    query = "What green pigment captures sunlight in protocol KX-7731?"
    dense_only = retrieval._dense_rankings(
        biology.curriculum.id, retrieval.embed_queries([query]), candidates=10, topic_ids=None
    )[0]

    # when the hybrid search runs
    results = search_chunks(curriculum_id=biology.curriculum.id, query=query, k=3)

    # then dense similarity alone ranks the chlorophyll chunk first, the fused ranking the target
    assert dense_only[0][0] == biology.chunk_with("Chlorophyll").id
    assert results[0].chunk_id == target.id


def test_results_cover_the_likeliest_sections_first_unless_asked_not_to(biology: IndexedCurriculum):
    # given a question that matches all three passive-transport chunks best
    query = "diffusion osmosis hypotonic concentration water membrane"
    passive = biology.chunk_with("Osmosis").document_id

    # when it is searched with the default cap, and without a cap
    capped = search_chunks(curriculum_id=biology.curriculum.id, query=query, k=3)
    uncapped = search_chunks(curriculum_id=biology.curriculum.id, query=query, k=3, max_per_document=None)

    # then the capped results are the best passage of each of the three sections, passive transport
    # first, and the uncapped ones are all three passive-transport passages
    assert capped[0].document_id == passive
    assert len({r.document_id for r in capped}) == 3
    assert [r.document_id for r in uncapped] == [passive, passive, passive]


def test_the_cap_is_lifted_when_too_few_sections_match(biology: IndexedCurriculum):
    # given a curriculum of three sections and seven passages
    # when all seven are asked for with at most two a section
    results = search_chunks(curriculum_id=biology.curriculum.id, query="membrane water", k=7, max_per_document=2)

    # then all seven come back: the first passages of the three sections, then second passages, then
    # the third passive-transport passage that the cap would have kept out
    assert sorted(r.chunk_id for r in results) == sorted(chunk.id for chunk in biology.chunks)
    assert len({r.document_id for r in results[:3]}) == 3
    assert len({r.document_id for r in results[3:5]}) == 2


def test_deleted_chunks_disappear_from_both_retrievers(biology: IndexedCurriculum):
    # given the osmosis chunk deleted from the database and the index
    osmosis = biology.chunk_with("Osmosis is the movement of water")
    delete_chunks(curriculum_id=biology.curriculum.id, chunk_ids=[osmosis.id])
    osmosis.delete()

    # when osmosis is searched for
    results = search_chunks(curriculum_id=biology.curriculum.id, query="osmosis semipermeable membrane", k=10)

    # then it is gone, and everything else is still found
    assert osmosis.id not in {r.chunk_id for r in results}
    assert len(results) == len(biology.chunks) - 1


def test_batch_search_matches_single_searches_in_order(biology: IndexedCurriculum):
    # given three questions
    queries = ["What does chlorophyll absorb?", "Where does transcription happen?", "What is diffusion?"]

    # when they are searched as a batch and one by one
    batch = search_chunks_batch(curriculum_id=biology.curriculum.id, queries=queries, k=2)
    single = [search_chunks(curriculum_id=biology.curriculum.id, query=q, k=2) for q in queries]

    # then the results agree, in query order
    assert [[r.chunk_id for r in rs] for rs in batch] == [[r.chunk_id for r in rs] for rs in single]
    assert [rs[0].topic for rs in batch] == ["The Light-Dependent Reactions", "Protein Synthesis", "Passive Transport"]


def test_curriculum_without_chunks_gives_no_results(db):
    # given a curriculum id with nothing indexed
    # when it is searched
    # then there are no results, and no error
    assert search_chunks(curriculum_id=987_654, query="anything", k=5) == []


@pytest.mark.parametrize(("query", "k", "message"), [("   ", 5, "empty"), ("osmosis", 0, "at least 1")])
def test_bad_queries_are_refused_clearly(biology: IndexedCurriculum, query: str, k: int, message: str):
    with pytest.raises(ValueError, match=message):
        search_chunks(curriculum_id=biology.curriculum.id, query=query, k=k)


def test_section_features_read_what_each_retriever_saw_of_each_section():
    # given dense candidates in sections 10 and 20, BM25 passage hits in 20 and 30, and the
    # whole-section BM25 ranking 20 before 30
    dense = [(1, 0.9), (2, 0.8), (3, 0.5)]
    lexical = [(2, 10.0), (4, 5.0)]
    section_hits = [LexicalHit(chunk_id=20, score=8.0), LexicalHit(chunk_id=30, score=2.0)]
    document_of = {1: 10, 2: 20, 3: 20, 4: 30}

    # when the features of the candidate sections are computed
    found = retrieval.section_features(dense=dense, lexical=lexical, section_hits=section_hits, document_of=document_of)

    # then each section's row holds its scores relative to the query's best, and its ranks (absent: 100th)
    assert found.documents == [10, 20, 30]
    np.testing.assert_allclose(
        found.features,
        [
            [0.0, (0.9 + 0.5 + 0.5) / 3 - 0.9, 0.0, 0.0, 0.0, 60 / 61, 60 / 160, 60 / 160],
            [-0.1, (0.8 + 0.5 + 0.5) / 3 - 0.9, 1.0, 1 / 3, 1.0, 60 / 62, 60 / 61, 60 / 61],
            [-0.4, -0.4, 0.5, 0.5 / 3, 0.25, 60 / 160, 60 / 62, 60 / 62],
        ],
        rtol=1e-12,
    )


def test_a_section_found_only_as_a_whole_is_represented_by_its_best_bm25_passage():
    # given passage candidates in section 10 only, and section 30 ranked first by whole-section BM25
    lexical = Bm25Index(
        chunk_ids=[1, 2, 5, 6],
        topic_ids=[1, 1, 3, 3],
        document_ids=[10, 10, 30, 30],
        texts=["cells divide", "cells grow", "the krebs cycle yields NADH", "glycolysis splits glucose"],
    )
    section_hits = [LexicalHit(chunk_id=30, score=4.0), LexicalHit(chunk_id=10, score=1.0)]

    # when the results are ranked
    ranked = retrieval._ranked_passages(
        query="krebs cycle",
        dense=[(1, 0.4), (2, 0.3)],
        lexical_ranking=[],
        section_hits=section_hits,
        lexical=lexical,
        k=3,
        max_per_document=2,
    )

    # then section 30 is there with the passage that matches the question, and section 10's two
    # passages follow, best first
    assert sorted(chunk_id for chunk_id, _ in ranked) == [1, 2, 5]
    assert [chunk_id for chunk_id, _ in ranked if lexical.document_of[chunk_id] == 10] == [1, 2]
    assert sum(score for chunk_id, score in ranked if chunk_id != 2) == pytest.approx(1.0)
