import numpy as np
import pytest

from curriculum.indexing import embeddings
from curriculum.indexing.embeddings import EMBEDDING_DIMENSION, embed_documents, embed_query

pytestmark = pytest.mark.integration

TEXTS = [
    "Osmosis is the movement of water through a semipermeable membrane.",
    "Mitochondria produce ATP by oxidative phosphorylation.",
    "A very short one.",
    "During translation the ribosome reads messenger RNA codons and tRNA molecules deliver the matching amino "
    "acids to build a polypeptide chain, which then folds into a functional protein.",
]


@pytest.fixture(scope="module")
def reference() -> embeddings.SentenceTransformerEmbedder:
    return embeddings.SentenceTransformerEmbedder()


def test_int8_vectors_stay_close_to_the_float32_model(reference: embeddings.SentenceTransformerEmbedder):
    # given the default (int8 ONNX) embedder and the float32 reference
    # when both embed the same texts
    fast = embed_documents(TEXTS)
    exact = reference.embed(TEXTS)

    # then each vector is unit length and within 0.98 cosine of the reference
    assert fast.shape == (len(TEXTS), EMBEDDING_DIMENSION)
    assert fast.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert (fast * exact).sum(axis=1).min() > 0.98


def test_batching_by_length_keeps_input_order():
    # given texts of very different lengths
    # when they are embedded together and one at a time
    together = embed_documents(TEXTS)
    alone = np.stack([embed_query(text) for text in TEXTS])

    # then row i is the vector of text i either way (int8 activations are quantised per batch, so the
    # vectors agree closely, not bit for bit)
    agreement = together @ alone.T
    assert list(np.argmax(agreement, axis=1)) == [0, 1, 2, 3]
    assert np.diag(agreement).min() > 0.98


def test_related_texts_are_closer_than_unrelated_ones():
    query = embed_query("How does water cross a cell membrane?")
    vectors = embed_documents(TEXTS)
    assert int(np.argmax(vectors @ query)) == 0


def test_no_texts_give_an_empty_matrix():
    assert embed_documents([]).shape == (0, EMBEDDING_DIMENSION)


def test_unknown_backend_is_refused_clearly():
    with pytest.raises(ValueError, match="Unknown EMBEDDING_BACKEND 'word2vec'"):
        embeddings.load_embedder("word2vec")


def test_build_command_reports_the_cached_model():
    from io import StringIO

    from django.core.management import call_command

    # given the model built by the tests above
    out = StringIO()

    # when the set-up command runs
    call_command("build_embedding_model", stdout=out)

    # then it finds the cached file instead of rebuilding it
    assert out.getvalue() == f"Found {embeddings.onnx_model_path()}\n"
