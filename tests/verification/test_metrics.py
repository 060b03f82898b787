"""verification.entailment.metrics: the numbers every verifier table is made of."""

import math

from verification.entailment.metrics import roc_auc


def test_auc_counts_the_pairs_ranked_right():
    # given two negatives and two positives, one positive below one negative
    labels = [0, 0, 1, 1]
    scores = [0.1, 0.4, 0.35, 0.8]
    # when the AUC is taken, then 3 of the 4 (positive, negative) pairs are in order
    assert roc_auc(labels, scores) == 0.75


def test_auc_counts_ties_half_and_needs_both_labels():
    # given a positive and a negative with the same score, then the pair counts half
    assert roc_auc([0, 1, 1], [0.5, 0.5, 0.9]) == 0.75
    # and a set with one label has no AUC
    assert math.isnan(roc_auc([1, 1], [0.2, 0.3]))
