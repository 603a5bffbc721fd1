"""The API against its own OpenAPI schema, with generated requests (PyPI schemathesis).

For every operation of `/api/schema/`, schemathesis sends requests the schema calls valid and
requests it calls invalid, anonymously and as staff. No answer may be a server error, use a
status the schema does not list for the operation, or have a body or content type the schema
does not describe. Bounded by a fixed number of examples per operation (generating them is most
of the cost), so a run costs well under a minute.

Staff run the read operations only: the collecting and progress endpoints ignore a token (they
take no credentials, or a session only), so the anonymous run already covers them.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 10  # per operation, per generation mode, per caller
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api(site, queue, settings):
    # Generated Basic-auth headers make Django hash each password; a cheap hasher keeps the
    # run short (no password here is real).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The real WSGI handler closes the database connection after each request, which would end
    # the test's transaction on PostgreSQL; Django's own test client switches this off the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.parametrize("caller", ["anonymous", "staff"])
def test_every_operation_answers_as_its_schema_says_and_never_with_a_server_error(api, staff_user, caller):
    headers = {}
    if caller == "staff":
        headers = {"Authorization": f"Token {Token.objects.create(user=staff_user).key}"}
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 10
    if caller == "staff":
        operations = [o for o in operations if o.method.upper() == "GET" and "progress" not in o.path]
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis_settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,  # the same requests on every run: a failure is reproducible
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def check(case) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                # Some operations have no invalid input to make (every parameter optional and
                # free text, e.g. /xapi/about): nothing to send in the negative mode.
                assert mode == schemathesis.GenerationMode.NEGATIVE, operation.path
