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
