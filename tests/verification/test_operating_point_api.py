"""The verifier's operating point as teachers read it (GET /api/v1/verifier/operating-point/)."""

import json

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from verification.entailment import combiner as combiner_module
from verification.entailment import cross_encoder as cross_encoder_module
from verification.entailment import scorer as scorer_module
from verification.entailment.combiner import Combiner

pytestmark = pytest.mark.django_db

MEASURED = {
    "claims": 5281,
    "labelled_supported": 24,
    "precision": 1.0,
    "precision_lower_95": 0.862,
    "recall": 0.011,
    "measured_on": "the verifier's dev set",
    "date": "2026-11-30",
    "commit": "abc1234",
}


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    """A copy of the shipped weights' metadata (no model needed) the selector reads instead."""
    from verification.entailment.cross_encoder import META_FILE, WEIGHTS_DIR

    for name in (META_FILE, combiner_module.COMBINER_FILE):
        (tmp_path / name).write_text((WEIGHTS_DIR / name).read_text())
    monkeypatch.setattr(cross_encoder_module, "WEIGHTS_DIR", tmp_path)
    return tmp_path


def _shipped_version(weights_dir):
    model_version = json.loads((weights_dir / cross_encoder_module.META_FILE).read_text())["version"]
    return scorer_module.checker_version(
        model_version=model_version, combiner=Combiner.load(weights_dir), judge_model=None
    )


def test_a_teacher_reads_the_threshold_and_its_measured_precision(api_client, weights_dir):
    # given a measurement of the very checker that is shipped
    version = _shipped_version(weights_dir)
    (weights_dir / combiner_module.OPERATING_POINT_FILE).write_text(
        json.dumps({"checker_version": version, **MEASURED})
    )
    api_client.force_authenticate(UserFactory())
    # when the operating point is read
    response = api_client.get(reverse("verifier-operating-point"))
    # then it names the checker, its threshold and the measurement
    assert response.status_code == 200
    assert response.json() == {
        "checker_version": version,
        "threshold": Combiner.load(weights_dir).threshold,
        "measured": MEASURED,
    }


def test_a_measurement_of_another_checker_is_not_shown(api_client, weights_dir):
    # given numbers measured for other weights
    (weights_dir / combiner_module.OPERATING_POINT_FILE).write_text(
        json.dumps({"checker_version": "minilm-ce-v1+comb-v1-t0.700+checks1", **MEASURED})
    )
    api_client.force_authenticate(UserFactory())
    # when the operating point is read
    body = api_client.get(reverse("verifier-operating-point")).json()
    # then the threshold in use is there, the stale numbers are not
    assert body["checker_version"] == _shipped_version(weights_dir)
    assert body["measured"] is None


def test_the_operating_point_needs_a_signed_in_user(api_client):
    assert api_client.get(reverse("verifier-operating-point")).status_code == 401
