"""Shared fixtures of the LRS tests: a site and the headers of an authorised xAPI request."""

from __future__ import annotations

import base64

import pytest

from events.models import Site


@pytest.fixture
def lrs(db):
    site = Site.objects.create(name="LRS site", allow_custom_events=False)
    key = site.rotate_server_key()
    token = base64.b64encode(f"{site.site_id}:{key}".encode()).decode()
    return site, {"HTTP_AUTHORIZATION": f"Basic {token}", "HTTP_X_EXPERIENCE_API_VERSION": "1.0.3"}
