"""Input refused before any view runs: NUL in query strings, headers and cookies; deep JSON."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_nul_in_an_admin_search_is_a_styled_400_page(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    response = client.get("/admin/events/event/?q=a%00b")
    assert response.status_code == 400
    page = response.content.decode()
    assert "<html" in page.lower() and "must not contain the NUL character" in page


def test_a_nul_in_a_session_cookie_is_a_400_not_a_database_error(client):
    response = client.get("/dashboard/", HTTP_COOKIE="sessionid=abc\x00def")
    assert response.status_code == 400
    assert "Cookie" in response.content.decode()


def test_a_nul_in_a_query_string_of_an_unknown_api_path_is_a_json_400(client):
    response = client.get("/api/nowhere/?a=%00")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "a", "rule": "must not contain the NUL character (\\u0000)"}]


def test_a_learner_posting_json_nested_ten_thousand_deep_gets_a_400(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("learner", password="learner-pass-123"))
    body = "[" * 10_000 + "]" * 10_000
    response = client.post("/api/progress/heartbeat/", body, content_type="application/json")
    assert response.status_code == 400
    assert "32 levels" in response.json()["detail"]


def test_a_form_body_on_the_progress_api_is_a_415_as_its_schema_says(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("learner", password="learner-pass-123"))
    response = client.post("/api/progress/mark/", {"video": "1", "completed": "true"})
    assert response.status_code == 415
