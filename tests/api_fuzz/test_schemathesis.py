"""schemathesis against /api/schema/ (issue 15): every operation, as a student and as a teacher.

Requests generated from the schema go through the whole Django stack in-process (WSGI) on the test
database; each must get no server error and a response that the schema documents (status code,
content type, body). Bounded in time: a few examples per operation.
"""

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.factories import (
    EnrollmentFactory,
    TeachingClassroomFactory,
    UserFactory,
)
from tests.fakes import LexicalScorer, ScriptedChatClient

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 4


@pytest.fixture(params=["student", "teacher"])
def auth_headers(request, db, use_chat_client, use_scorer) -> dict[str, str]:
    """A student in a teacher's class (or that teacher), with a token; the model and scorer are fakes."""
    use_chat_client(ScriptedChatClient(answer="Osmosis is the diffusion of water."))
    use_scorer(LexicalScorer())
    classroom = TeachingClassroomFactory()
    student = UserFactory()
    EnrollmentFactory(student=student, curriculum=classroom.curriculum, classroom=classroom)
    user = student if request.param == "student" else classroom.teacher
    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_responses_as_documented(case, auth_headers):
    # given a signed-in user and a request generated from the schema
    # (throttle counters cleared: a documented 429 is not what this looks for)
    cache.clear()
    # when it is sent, then the server answers without error and as the schema documents
    case.call_and_validate(headers=auth_headers, checks=CHECKS)
