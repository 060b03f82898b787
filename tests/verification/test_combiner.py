import numpy as np
import pytest

from verification.entailment.calibration import FeatureSet, fit_combiner, guard_threshold, leave_one_source_out
from verification.entailment.combiner import Combiner, balanced_weights, fit_logistic, precision_threshold
from verification.entailment.scorer import EXTRACTIVE_PROBABILITY


def test_balanced_weights_equalise_sources_and_classes():
    # given 3 claims of one source and 1 of another
    labels = np.array([1, 0, 0, 1])
    weights = balanced_weights(labels, ["a", "a", "a", "b"])
    # then each (source, class) cell has the same total weight
    assert np.allclose(weights, [4 / 3, 2 / 3, 2 / 3, 4 / 3])


def test_fit_logistic_separates_a_separable_feature():
    # given labels that follow the first feature
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] > 0).astype(float)
    w, b, mean, scale = fit_logistic(x, y, np.ones(200), l2=1.0)
    combiner = Combiner(weights=tuple(w), bias=b, mean=tuple(mean), scale=tuple(scale), threshold=0.5, version="t")
    # then the informative feature gets a large positive weight and predictions follow it
    assert w[0] > 3 * abs(w[1])
    assert ((combiner.probability(x) >= 0.5) == (y == 1)).mean() > 0.95


def test_precision_threshold_is_the_lowest_reaching_the_target():
    # given scores where everything above 0.6 is supported
    probabilities = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    labels = np.array([1, 1, 1, 0, 1, 0])
    # then the lowest threshold with precision 1.0 is 0.7
    assert precision_threshold(probabilities, labels, ["s"] * 6, target_precision=1.0, unreached=0.99) == 0.7


def test_precision_threshold_out_of_reach_is_above_every_fitted_probability():
    # given scores whose top claim is false: no threshold reaches the target
    probabilities = np.array([0.7, 0.6, 0.5, 0.4])
    labels = np.array([0, 1, 1, 0])
    # when the threshold is chosen, then it is the unreached value: the combiner badges nothing
    threshold = precision_threshold(probabilities, labels, ["s"] * 4, target_precision=0.97, unreached=0.96)
    assert threshold == 0.96
    assert not (probabilities >= threshold).any()
    # and an unreached value the fit did reach is refused
    with pytest.raises(ValueError, match="not above every fitted probability"):
        precision_threshold(probabilities, labels, ["s"] * 4, target_precision=0.97, unreached=0.7)


def _one_feature_set(values, labels, sources):
    return FeatureSet(
        features=np.array([[v] + [0.0] * 9 for v in values]),
        labels=np.array(labels, dtype=float),
        sources=sources,
        ids=[str(i) for i in range(len(values))],
    )


def test_guard_keeps_a_threshold_that_holds_leave_one_source_out():
    # given two sources where the first feature separates the classes the same way in both
    values = [3.0, 2.0, -2.0, -3.0] * 2
    data = _one_feature_set(values, [1, 1, 0, 0] * 2, ["a"] * 4 + ["b"] * 4)
    combiner = fit_combiner(data, version="t")
    # when the fitted threshold is judged leave-one-source-out
    guarded, precision = guard_threshold(combiner, leave_one_source_out(data), data)
    # then every source labelled at the other's threshold is right: the threshold is kept
    assert precision == 1.0
    assert guarded.threshold == combiner.threshold


def test_guard_falls_back_when_the_threshold_does_not_transfer():
    # given two sources where the feature's direction flips between them
    values = [3.0, 2.0, -2.0, -3.0] * 2
    data = _one_feature_set(values, [1, 1, 0, 0, 0, 0, 1, 1], ["a"] * 4 + ["b"] * 4)
    combiner = fit_combiner(data, version="t")
    # when judged leave-one-source-out
    guarded, precision = guard_threshold(combiner, leave_one_source_out(data), data)
    # then the precision does not reach the target and the combiner may not badge on its own
    assert not precision >= 0.95
    assert guarded.threshold == EXTRACTIVE_PROBABILITY
    assert guarded.weights == combiner.weights
