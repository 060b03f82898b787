from verification.checks import run_checks
from verification.checks.entities import entity_mismatches
from verification.checks.negation import antonym_mismatches, negation_mismatch
from verification.checks.numbers import date_mismatches, number_mismatches


def test_number_mismatch_reports_the_changed_number():
    # given a claim whose count differs from the evidence
    evidence = "Human somatic cells contain 46 chromosomes arranged in 23 pairs."
    # when / then: the wrong number is reported, the matching one is not
    assert number_mismatches("Human somatic cells contain 48 chromosomes.", evidence) == ["48"]
    assert number_mismatches("Human somatic cells contain 46 chromosomes.", evidence) == []


def test_numbers_match_across_formats():
    # given the same quantities written differently in claim and evidence
    evidence = "The company sold 5,000,000 units and twelve stores."
    # then: scaled digits and number words are compared by value
    assert number_mismatches("It sold 5 million units and 12 stores.", evidence) == []
    assert number_mismatches("It sold 6 million units.", evidence) == ["6 million"]


def test_date_mismatch_reports_the_month():
    # given evidence dated April and a claim dated March
    evidence = "The protest took place on 23 April 2023 in London."
    # then: the month is flagged, the (matching) year and day are not numbers mismatches
    assert date_mismatches("The protest took place in March 2023.", evidence) == ["March"]
    assert number_mismatches("The protest took place in March 2023.", evidence) == []


def test_negation_mismatch():
    # given an evidence sentence and a negated paraphrase
    sentence = "Mitochondria produce most of the cell's ATP."
    # then: only a claim with the opposite polarity mismatches
    assert negation_mismatch("Mitochondria do not produce most of the cell's ATP.", sentence) is True
    assert negation_mismatch("Mitochondria produce most of the cell's ATP.", sentence) is False
    assert negation_mismatch("Mitochondria never make ATP.", "Mitochondria don't make ATP.") is False


def test_negation_is_read_per_clause():
    # given evidence that affirms one clause and denies another
    sentence = "Chloroplasts are found in plant cells and in algae, but not in animal cells."
    # then: an affirmative claim about the affirmed clause agrees, even in other words
    assert negation_mismatch("Plant cells and algae contain chloroplasts.", sentence) is False
    # and one that affirms what only the denied clause mentions mismatches
    assert negation_mismatch("Animal cells and algae contain chloroplasts.", sentence) is True
    # and a negated claim agrees with the negated clause, but not with one about other things
    assert negation_mismatch("Chloroplasts are not found in animal cells.", sentence) is False
    assert negation_mismatch("Chloroplasts are not found in algae.", sentence) is True
    assert negation_mismatch("Chloroplasts are not found in algae.", "Chloroplasts are found in algae.") is True


def test_antonym_mismatch():
    # given evidence saying "decreases"
    sentence = "A higher temperature decreases the solubility of oxygen."
    # then: a claim saying "increases" is flagged with the offending word
    assert antonym_mismatches("A higher temperature increases the solubility of oxygen.", sentence) == ["increases"]
    assert antonym_mismatches("A higher temperature decreases the solubility of oxygen.", sentence) == []


def test_entity_mismatch():
    # given evidence naming Alfred Wallace
    evidence = "Alfred Russel Wallace proposed the theory independently in 1858."
    # then: a claim naming someone absent is flagged; a partial name of someone present is not
    assert entity_mismatches("The theory was proposed by Charles Darwin.", evidence) == ["Charles Darwin"]
    assert entity_mismatches("The theory was proposed by Wallace.", evidence) == []


def test_run_checks_combines_every_check():
    # given a claim wrong in number, name, date and polarity
    evidence = "In March 2020 the firm sold 5,000,000 units to Google."
    report = run_checks(
        "The firm did not sell 3 million units to Apple on Tuesday.",
        evidence=evidence,
        evidence_sentences=[evidence],
    )
    # then: each mismatch is reported, and the report fails with one reason each
    assert report.number_mismatches == ("3 million",)
    assert report.entity_mismatches == ("Apple",)
    assert report.date_mismatches == ("Tuesday",)
    assert report.negation_mismatch is True
    assert report.passed is False
    assert len(report.reasons()) == 4


def test_run_checks_passes_a_faithful_claim():
    evidence = "In March 2020 the firm sold 5,000,000 units to Google Inc."
    report = run_checks(
        "Google bought 5 million units in March 2020.", evidence=evidence, evidence_sentences=[evidence]
    )
    assert report.passed is True
    assert report.reasons() == []
