from verification.checks.extractive import extractive_support

EVIDENCE = [
    "Heat always flows spontaneously from a hotter object to a colder one.",
    "Water boils at 100 degrees Celsius at sea level.",
    "The Kelvin scale starts at absolute zero.",
]


def test_a_restated_sentence_is_extractive():
    assert extractive_support("Water boils at 100 degrees Celsius.", EVIDENCE) is True


def test_the_same_words_in_another_order_are_not():
    assert extractive_support("Heat flows from a colder object to a hotter one.", EVIDENCE) is False


def test_a_claim_spanning_two_adjacent_sentences_is_not_extractive():
    # across two sentences an enumeration can line up a wrong pairing in order
    assert extractive_support("Water boils at sea level; the Kelvin scale starts at absolute zero.", EVIDENCE) is False


def test_short_or_foreign_claims_are_not():
    assert extractive_support("It is water.", EVIDENCE) is False
    assert extractive_support("Photosynthesis takes place in chloroplasts.", EVIDENCE) is False


ENUMERATION = [
    "While Hippocrates is considered the father of Western medicine, the Greek philosopher and historian "
    "Thucydides "
    "is considered the father of scientific history.",
    "Humoral immunity relies on antibodies produced by B cells, cellular immunity on T cells.",
]


def test_a_wrong_pairing_borrowed_from_an_enumeration_is_not_extractive():
    # given sentences that list several facts, holding a wrong pairing's words in order but far apart
    # when a claim pairs a subject with another item's predicate
    # then it is not extractive (the words between them are a whole other item)
    assert extractive_support("Thucydides is considered the father of Western medicine.", ENUMERATION) is False
    assert extractive_support("Considered the father of Western medicine is Thucydides.", ENUMERATION) is False


def test_a_restatement_with_a_word_or_two_added_is_extractive():
    # given the same enumeration
    # when a claim restates one item, skipping at most two of the sentence's words between its own
    # then it is extractive
    assert extractive_support("Hippocrates is the father of Western medicine.", ENUMERATION) is True
    assert extractive_support("Humoral immunity relies on antibodies made by B cells.", ENUMERATION) is False
    assert extractive_support("Humoral immunity relies on antibodies produced by B cells.", ENUMERATION) is True


def test_a_single_capital_letter_is_a_word_of_its_own():
    # given "antibodies produced by B cells" in the evidence
    # when a claim names T cells instead
    # then it is not extractive, though every other word is in order
    assert extractive_support("Antibodies are produced by T cells.", ENUMERATION) is False
    assert extractive_support("Antibodies are produced by B cells.", ENUMERATION) is True
