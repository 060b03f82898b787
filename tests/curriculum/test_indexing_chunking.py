from curriculum.indexing import chunking
from curriculum.indexing.chunking import TextSpan, split_into_chunks, split_into_sentences


def _sentence(index: int, words: int) -> str:
    return " ".join([f"S{index}"] + [f"w{index}x{n}" for n in range(words - 2)] + [f"end{index}."])


def test_sentences_are_exact_spans_and_respect_abbreviations():
    # given text with abbreviations, an initial, a decimal and a question
    text = "  Diffusion is passive (e.g. perfume in a room). Dr. A. Smith measured 3.5 mM! Is it?\nYes.  "

    # when it is split into sentences
    sentences = split_into_sentences(text)

    # then each sentence is an exact, trimmed slice of the text
    assert [s.text for s in sentences] == [
        "Diffusion is passive (e.g. perfume in a room).",
        "Dr. A. Smith measured 3.5 mM!",
        "Is it?",
        "Yes.",
    ]
    assert all(text[s.char_start : s.char_end] == s.text for s in sentences)
    assert sentences[0].char_start == 2


def test_short_paragraph_fits_in_one_chunk_with_exact_offsets():
    # given a heading followed by a paragraph
    text = "Diffusion\n\nDiffusion is a passive process. Substances move down their concentration gradient by it."

    # when it is chunked
    chunks = split_into_chunks(text)

    # then the heading opens the paragraph's chunk, and the span covers the whole text
    assert chunks == [TextSpan(text=text, char_start=0, char_end=len(text))]


def test_long_paragraph_splits_on_sentences_with_one_sentence_overlap():
    # given a paragraph of six 60-word sentences (the budget is 150 words: two sentences a chunk)
    sentences = [_sentence(i, 60) for i in range(6)]
    text = " ".join(sentences)

    # when it is chunked
    chunks = split_into_chunks(text)

    # then chunks hold two sentences each, consecutive chunks share one, and the spans are exact
    assert [c.text for c in chunks] == [
        f"{sentences[0]} {sentences[1]}",
        f"{sentences[1]} {sentences[2]}",
        f"{sentences[2]} {sentences[3]}",
        f"{sentences[3]} {sentences[4]}",
        f"{sentences[4]} {sentences[5]}",
    ]
    assert (chunks[0].char_start, chunks[1].char_start) == (0, len(sentences[0]) + 1)
    assert all(text[c.char_start : c.char_end] == c.text for c in chunks)
    assert all(len(c.text.split()) <= chunking.MAX_CHUNK_WORDS for c in chunks)


def test_short_paragraphs_share_a_chunk():
    # given two paragraphs that together fit the word budget
    first = "Osmosis moves water across a membrane. It follows the water's concentration gradient closely."
    second = "Tonicity describes how a solution changes a cell's volume. Cells swell in hypotonic solutions."
    text = f"{first}\n\n{second}"

    # when it is chunked
    chunks = split_into_chunks(text)

    # then they form one chunk spanning the paragraph break
    assert chunks == [TextSpan(text=text, char_start=0, char_end=len(text))]


def test_a_heading_opens_the_next_chunk_instead_of_ending_one():
    # given a 100-word paragraph, a heading, and a paragraph of two 50-word sentences
    before = " ".join([_sentence(0, 50), _sentence(1, 50)])
    after = " ".join([_sentence(2, 50), _sentence(3, 50)])
    text = f"{before}\n\nOsmosis\n\n{after}"

    # when it is chunked
    chunks = split_into_chunks(text)

    # then the first chunk stops before the heading, and the second starts at it, without overlap
    assert [c.text for c in chunks] == [before, f"Osmosis\n\n{after}"]
    assert chunks[1].char_start == len(before) + 2


def test_short_tail_sentence_joins_the_previous_chunk():
    # given 80 + 65 words, then a 6-word sentence that would make a chunk of its own
    sentences = [_sentence(0, 80), _sentence(1, 65), "It is very short indeed, really."]
    text = " ".join(sentences)

    # when it is chunked
    chunks = split_into_chunks(text)

    # then the tail is kept in the last chunk instead of standing alone
    assert [c.text for c in chunks] == [text]


def test_oversized_sentence_is_a_chunk_of_its_own():
    # given a 200-word sentence between two short ones
    long_sentence = _sentence(1, 200)
    text = f"{_sentence(0, 20)} {long_sentence} {_sentence(2, 20)}"

    # when it is chunked
    chunks = split_into_chunks(text)

    # then the long sentence is never cut, and every chunk is exact
    assert long_sentence in [c.text for c in chunks]
    assert all(text[c.char_start : c.char_end] == c.text for c in chunks)


def test_a_long_list_of_short_items_is_chunked_whole_items():
    # given forty 5-word list items (200 words: more than one chunk holds)
    items = [f"Item {i} is about cells." for i in range(40)]
    text = "\n\n".join(items)

    # when it is chunked
    chunks = split_into_chunks(text)

    # then the items fill chunks to the budget, each item whole (short items do not overlap)
    assert [c.text for c in chunks] == ["\n\n".join(items[:30]), "\n\n".join(items[30:])]
    assert all(text[c.char_start : c.char_end] == c.text for c in chunks)


def test_empty_and_blank_text_give_no_chunks():
    assert split_into_chunks("") == []
    assert split_into_chunks(" \n\n \t") == []
