import numpy as np

from verification.entailment.evidence import budget_words, index_passage, select_sentences, select_windows
from verification.entailment.text import content_terms, split_sentences


def test_split_sentences_keeps_abbreviations_and_decimals():
    # given text with abbreviations, a decimal and a newline
    text = "Dr. Smith met Mr. Jones, e.g. at noon. It was 3.5 m long. The U.S. Army won!\nNew line here"
    # then
    assert split_sentences(text) == [
        "Dr. Smith met Mr. Jones, e.g. at noon.",
        "It was 3.5 m long.",
        "The U.S. Army won!",
        "New line here",
    ]


def test_long_run_on_sentences_are_chunked():
    text = " ".join(f"w{i}" for i in range(130))
    pieces = split_sentences(text)
    assert [len(p.split()) for p in pieces] == [45, 45, 40]


def test_content_terms_stem_and_drop_stopwords():
    assert content_terms("The cells are dividing and the proteins folded") == ["cell", "divid", "protein", "fold"]


def test_select_sentences_finds_the_relevant_sentence_in_a_long_passage():
    # given a long passage with one sentence about the claim
    filler = [f"Paragraph {i} talks about weather patterns and ocean currents near coasts." for i in range(40)]
    filler.insert(25, "Ribosomes translate messenger RNA into proteins in the cytoplasm.")
    index = index_passage(" ".join(filler))
    # when selecting with a budget of about two sentences
    chosen = select_sentences("Proteins are made by ribosomes from messenger RNA.", index, budget_words=20)
    # then the relevant sentence is the one chosen
    assert chosen == [25]


def test_short_passage_is_used_whole():
    index = index_passage("One sentence here. Another one there.")
    assert select_sentences("anything", index, budget_words=50) == [0, 1]


def test_embedding_reranks_lexical_candidates():
    # given two sentences with equal lexical score and an embedder preferring the second
    index = index_passage(
        " ".join(["Cats sleep a lot.", "Cats purr softly.", *["Dogs bark loudly at night." for _ in range(10)]])
    )

    class FakeEmbedder:
        def embed(self, sentences):
            return np.array([[1.0, 0.0] if "purr" in s or s == "cats" else [0.0, 1.0] for s in sentences])

    # when / then: the embedder breaks the tie in favour of the sentence it finds similar
    assert select_sentences("cats", index, budget_words=4, embedder=FakeEmbedder()) == [1]


def _long_passage() -> tuple[list[str], str]:
    sentences = [f"Paragraph {i} talks about weather patterns and ocean currents near coasts." for i in range(40)]
    sentences[10] = "Ribosomes are small organelles."
    sentences[11] = "They translate messenger RNA into proteins in the cytoplasm."
    sentences[30] = "Ribosomes of bacteria differ in size from those of eukaryotes."
    return sentences, " ".join(sentences)


def test_short_passage_is_one_whole_window():
    index = index_passage("One sentence here. Another one there.")
    assert select_windows("anything", index, budget_words=50) == [[0, 1]]


def test_windows_put_each_top_sentence_in_its_paragraph_context():
    # given a long passage where the answering sentence leans on the one before it ("They ...")
    _, text = _long_passage()
    index = index_passage(text)
    # when selecting three windows of ~two sentences for a question about ribosomes
    windows = select_windows("What do ribosomes do with messenger RNA?", index, budget_words=16, windows=3)
    # then the first window packs the two best sentences (the answer and the one it leans on); the
    # next ones are the other top sentences with the neighbours that fit (a repeat is skipped)
    assert windows == [[10, 11], [9, 10], [30]]


def test_windows_are_distinct_and_capped():
    _, text = _long_passage()
    index = index_passage(text)
    windows = select_windows("ribosomes", index, budget_words=30, windows=2)
    assert len(windows) == 2
    assert windows[0] != windows[1]


def test_budget_words_leaves_room_for_the_statement():
    # 128 tokens, 4 special tokens, a 10-word statement at 1.35 tokens a word -> 81.9, i.e. 81 whole words of evidence
    assert budget_words("one two three four five six seven eight nine ten", 128) == 81
    assert budget_words(" ".join(["w"] * 200), 128) == 24
