"""`GET /api/stats/` answers staff with the same numbers as the pages, and 400s name the field."""

from __future__ import annotations

import base64

import pytest
from rest_framework.authtoken.models import Token

from dashboard import queries
from dashboard.tests.factories import known_traffic
from dashboard.tests.test_queries import scope_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def traffic(site):
    return known_traffic(site)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_totals_without_a_dimension_equal_the_overview(client, staff_user, traffic):
    client.force_login(staff_user)
    body = client.get("/api/stats/?period=7d&metrics=visitors,visits,pageviews,bounce_rate").json()
    totals = queries.totals(scope=scope_for("7d"))
    assert body["results"] == [
        {
            "visitors": 6,
            "visits": totals.visits,
            "pageviews": totals.pageviews,
            "bounce_rate": round(totals.bounce_rate, 4),
        }
    ]


def test_pages_by_dimension_with_a_country_filter_match_the_filtered_page_numbers(client, staff_user, traffic, site):
    client.force_login(staff_user)
    url = f"/api/stats/?site={site.site_id}&period=7d&metrics=visitors,pageviews&dimension=page&country=in"
    body = client.get(url).json()
    expected = queries.counts_by(scope=scope_for("7d", country="IN"), dimension="page", limit=100, with_visitors=True)
    assert body["filters"] == {"country": "IN"}
    assert body["results"] == [{"page": r.value, "visitors": r.visitors, "pageviews": r.count} for r in expected]


def test_a_day_dimension_over_a_custom_range_has_one_row_per_day(client, staff_user, traffic):
    client.force_login(staff_user)
    scope = scope_for("7d")
    body = client.get(f"/api/stats/?from={scope.start}&to={scope.end}&dimension=day&metrics=visitors").json()
    assert [r["day"] for r in body["results"]] == [p.bucket.isoformat() for p in queries.trend(scope=scope)]


def test_staff_may_use_http_basic_and_a_token(client, staff_user, traffic):
    assert client.get("/api/stats/", HTTP_AUTHORIZATION=basic("staff", "staff-pass-123")).status_code == 200
    token = Token.objects.create(user=staff_user)
    assert client.get("/api/stats/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200


def test_anonymous_and_non_staff_callers_are_refused(client, django_user_model, site):
    assert client.get("/api/stats/").status_code in (401, 403)
    django_user_model.objects.create_user("learner", password="learner-pass-123")
    assert client.get("/api/stats/", HTTP_AUTHORIZATION=basic("learner", "learner-pass-123")).status_code == 403


@pytest.mark.parametrize(
    "query,field",
    [
        ("dimension=planet", "dimension"),
        ("dimension=country&metrics=visitors", "metrics"),
        ("period=2w", "period"),
        ("from=2024-02-30", "from"),
        ("from=2024-03-01&to=2024-02-01", "to"),
        ("limit=0", "limit"),
        ("site=nope", "site"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_the_field_and_the_rule(client, staff_user, site, query, field):
    client.force_login(staff_user)
    response = client.get(f"/api/stats/?{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field and response.json()["errors"][0]["rule"]


# --- Input that used to answer 500 (issue 12, findings 3 and 4) ---------------------------------

FILTER_NUL = [f"{name}=a%00b" for name in ("path", "country", "site", "course", "browser", "language", "device_type")]


@pytest.mark.parametrize(
    "query,field",
    [
        ("from=9999-12-30", "from"),
        ("from=9999-12-30&to=9999-12-31", "from"),
        ("from=2024-01-01&to=9999-12-31", "to"),
        ("from=0001-01-01", "from"),
        ("limit=%C2%B2", "limit"),  # "²" is a digit to str.isdigit() but not to int()
        ("dimension=%00", "dimension"),
        *[(query, query.split("=")[0]) for query in FILTER_NUL],
    ],
)
def test_far_dates_and_nul_in_any_filter_are_a_400_naming_the_field(client, staff_user, traffic, query, field):
    client.force_login(staff_user)
    response = client.get(f"/api/stats/?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == field


def test_a_nul_in_a_basic_auth_user_name_is_refused_as_wrong_credentials_on_every_read_api(client, staff_user, site):
    for url in ("/api/stats/", "/api/events/", "/api/logs/", "/api/events/00000000-0000-4000-8000-000000000001/"):
        response = client.get(url, HTTP_AUTHORIZATION=basic("staff\x00", "staff-pass-123"))
        assert response.status_code in (401, 403), url
        assert response["Content-Type"] == "application/json"


def test_an_unknown_method_is_a_405_before_credentials_are_asked_for(client):
    for method in ("TRACE", "PUT", "DELETE", "PATCH"):
        response = client.generic(method, "/api/stats/")
        assert response.status_code == 405, method
        assert response["Allow"] == "GET, HEAD, OPTIONS"
        assert response.json()["errors"] == [{"field": "method", "rule": "must be one of GET, HEAD, OPTIONS"}]
