"""The verifier's text helpers, kept importable by their old name: they live in ``curriculum.text``
(the one text module for sentence boundaries, abbreviations, stopwords, stemming and BM25).

New code imports ``curriculum.text`` directly; this name stays for the training scripts and saved
notebooks that import it.
"""

from curriculum.text import ABBREVIATIONS, MAX_SENTENCE_WORDS, STOPWORDS, content_terms, split_sentences, stem, words

__all__ = ["ABBREVIATIONS", "MAX_SENTENCE_WORDS", "STOPWORDS", "content_terms", "split_sentences", "stem", "words"]
