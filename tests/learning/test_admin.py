"""Staff can open the learner model's admin lists (their columns exist on the models)."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/admin/learning/topicbktparams/",
        "/admin/learning/masterystate/",
        "/admin/learning/studyplan/",
        "/admin/learning/practiceanswer/",
        "/admin/learning/reviewcard/",
    ],
)
def test_admin_lists_render(client, path):
    client.force_login(get_user_model().objects.create_superuser("admin", "admin@example.org", "pw-not-used-1"))
    assert client.get(path).status_code == 200
