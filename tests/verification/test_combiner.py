import numpy as np
import pytest

from verification.entailment.combiner import Combiner, balanced_weights, fit_logistic, precision_threshold


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
