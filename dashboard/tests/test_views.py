"""Who may open which dashboard, what each page shows, its exports and its query count."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.pages import PAGES
from dashboard.tests.factories import XSS_PATH, known_traffic

pytestmark = pytest.mark.django_db

URLS = ["/dashboard/"] + [f"/dashboard/{name}/" for name in PAGES if name != "overview"]


@pytest.fixture
def traffic(site):
    return known_traffic(site)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def content_client(client, django_user_model):
    user = django_user_model.objects.create_user("editor", password="editor-pass-123")
    user.groups.add(Group.objects.get_or_create(name="Content team")[0])
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", URLS)
def test_anonymous_visitors_are_sent_to_the_login_page(client, site, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", URLS)
def test_a_signed_in_learner_is_refused(client, site, django_user_model, url):
    client.force_login(django_user_model.objects.create_user("learner", password="learner-pass-123"))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_the_content_team_sees_the_courses_page_only(content_client, site, url):
    assert content_client.get(url).status_code == (200 if url.endswith("/courses/") else 403)


def test_the_content_team_cannot_read_the_stats_api(content_client, site):
    assert content_client.get("/api/stats/").status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_staff_see_every_page_with_the_filter_bar_and_plotly_from_our_static_files(staff_client, traffic, url):
    response = staff_client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="filter-bar"' in body and "/static/vendor/plotly.min.js" in body
    assert "cdn.plot.ly" not in body
    assert "Plotly.newPlot" in body


def test_the_plotly_script_is_served_by_our_site(staff_client, site):
    response = staff_client.get("/static/vendor/plotly.min.js")
    assert response.status_code == 200
    assert b"plotly" in b"".join(response.streaming_content)[:2000].lower()


def test_an_evil_path_is_shown_escaped_in_tables(staff_client, traffic):
    body = staff_client.get("/dashboard/pages/?period=7d").content.decode()
    assert "<script>window.__xss" not in body and '<img src=x onerror="window.__xss' not in body
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in body


def test_the_overview_compares_with_the_previous_period(staff_client, traffic):
    body = staff_client.get("/dashboard/?period=yesterday").content.decode()
    assert "vs previous 1 day" in body


def test_a_bad_period_is_a_400_naming_the_parameter(staff_client, site):
    response = staff_client.get("/dashboard/?period=fortnight")
    assert response.status_code == 400 and "period" in response.content.decode()


@pytest.mark.parametrize("fmt,delimiter", [("csv", ","), ("tsv", "\t")])
def test_exports_neutralise_formulas_and_keep_numbers(staff_client, traffic, fmt, delimiter):
    response = staff_client.get(f"/dashboard/pages/?period=7d&export={fmt}&table=pages")
    assert response.status_code == 200 and response["Content-Disposition"].endswith(f'.{fmt}"')
    rows = list(csv.reader(io.StringIO(response.content.decode()), delimiter=delimiter))
    assert rows[0] == ["Page", "Views", "Unique visitors", "Avg. time"]
    cells = [row[0] for row in rows[1:]]
    assert '\'/=HYPERLINK("x")' not in cells  # starts with "/", harmless, kept as is
    assert '/=HYPERLINK("x")' in cells
    links = staff_client.get(f"/dashboard/sources/?period=7d&export={fmt}&table=exit-links").content.decode()
    assert list(csv.reader(io.StringIO(links), delimiter=delimiter))[1] == ["https://python.org/=cmd", "1"]


def test_every_export_cell_starting_with_a_formula_character_is_neutralised():
    from dashboard.exports import table_text
    from dashboard.pages import Table

    text = table_text(
        table=Table(
            key="t", title="t", columns=["a", "b", "c", "d", "e"], rows=[["=1+1", "+cmd", "-2+3", "@SUM(A1)", -5]]
        ),
        fmt="csv",
    )
    assert text.splitlines()[1] == "'=1+1,'+cmd,'-2+3,'@SUM(A1),-5"


def test_an_unknown_export_table_is_a_400(staff_client, site):
    assert staff_client.get("/dashboard/?export=csv&table=nope").status_code == 400


# Queries per page with the known fixture: session + user lookups, the site, then the page's
# aggregates. A change here means a page started looping or lost a rollup.
QUERY_COUNTS = {
    "/dashboard/": 12,
    "/dashboard/pages/": 10,
    "/dashboard/sources/": 8,
    "/dashboard/audience/": 11,
    "/dashboard/geography/": 9,
    "/dashboard/realtime/": 7,
    "/dashboard/visitors/": 7,
    "/dashboard/courses/": 11,
    "/dashboard/quality/": 6,
}


@pytest.mark.parametrize("url", URLS)
def test_each_page_runs_a_fixed_number_of_queries(staff_client, traffic, url):
    with CaptureQueriesContext(connection) as captured:
        assert staff_client.get(url + "?period=7d").status_code == 200
    assert len(captured) == QUERY_COUNTS[url], [q["sql"][:120] for q in captured]


def test_the_visitors_page_shows_one_visitors_journey_in_order(staff_client, traffic):
    body = staff_client.get("/dashboard/visitors/?period=7d&visitor=v1").content.decode()
    journey = body[body.index("Journey of visitor v1") :]
    assert journey.index("/tutorial-search/") < journey.index("/watch/Python/Loops/Hindi/")


def test_the_realtime_page_answers_json_for_its_refresh(staff_client, traffic):
    data = staff_client.get("/dashboard/realtime/?format=json").json()
    assert data["cards"][0]["label"] == "Visitors in the last 30 minutes"
    assert any(row[0] == "/news/" for row in data["table"]["rows"])
    assert XSS_PATH not in str(data["figure"])


def test_the_courses_page_shows_completion_and_a_retention_curve_from_the_demo_learners(staff_client, site):
    from progress.models import Progress
    from the_eye import demo

    demo.build(events=0, learners=12, days=5, seed=3, stderr=io.StringIO())
    rows = list(Progress.objects.all())
    body = staff_client.get("/dashboard/courses/?period=7d").content.decode()
    assert "Completion per course and language" in body and 'id="retention"' in body
    export = staff_client.get("/dashboard/courses/?period=7d&export=csv&table=completion").content.decode()
    table = list(csv.reader(io.StringIO(export)))
    assert sum(int(r[3]) for r in table[1:]) == len(rows)  # every started tutorial is counted once
    assert sum(int(r[4]) for r in table[1:]) == sum(1 for r in rows if r.completed)


# --- Input that used to answer 500 (issue 12, finding 4) ----------------------------------------

BAD_QUERIES = [
    "from=9999-12-30",
    "from=2024-01-01&to=9999-12-31",
    "from=0001-01-01",
    "path=%2F%00",
    "country=I%00",
    "course=a%00",
    "browser=%00",
    "language=%00",
    "site=%00",
    "visitor=%00",
    "tutorial=%C2%B2%7Cen",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
@pytest.mark.parametrize("url", ["/dashboard/", "/dashboard/visitors/"])
def test_far_dates_and_nul_in_any_filter_are_a_styled_400_page(staff_client, site, url, query):
    response = staff_client.get(f"{url}?{query}")
    if query.startswith("tutorial="):  # not a tutorial id: the page shows the first tutorial instead
        assert response.status_code == 200
        return
    assert response.status_code == 400
    page = response.content.decode()
    assert "<html" in page.lower() and query.split("=")[0] in page


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_the_content_teams_courses_page_answers_400_not_500(content_client, site, query):
    response = content_client.get(f"/dashboard/courses/?{query}")
    assert response.status_code == (200 if query.startswith("tutorial=") else 400)


@pytest.mark.parametrize("credit_across_languages", [False, True])
def test_the_courses_page_and_my_learning_give_the_same_course_progress_for_the_same_learners(
    staff_client, site, django_user_model, settings, credit_across_languages
):
    import re
    import uuid
    from datetime import UTC, datetime

    from django.test import Client

    from progress import tracking
    from progress.tests.factories import video

    settings.PROGRESS_CREDIT_ACROSS_LANGUAGES = credit_across_languages
    bash = [video(tutorial=name, duration=20, order=n) for n, name in enumerate(["Intro", "Vars", "Loops", "Files"])]
    hindi_intro = video(tutorial="Intro", language="Hindi", duration=20)

    def watch(learner, v, seconds):
        beat = tracking.Heartbeat(id=uuid.uuid4(), position=seconds, at=datetime.now(UTC), segments=[[0, seconds]])
        tracking.record_heartbeat(learner=learner, video=v, heartbeat=beat)

    # asha completes three of four and starts the fourth; ravi completes all four; meera completes
    # Intro in Hindi only and starts Vars in English (credit across languages decides whether Intro
    # counts for her English course); dev only starts Intro.
    plan = {
        "asha": [(bash[0], 20), (bash[1], 20), (bash[2], 20), (bash[3], 5)],
        "ravi": [(v, 20) for v in bash],
        "meera": [(hindi_intro, 20), (bash[1], 4)],
        "dev": [(bash[0], 3)],
    }
    shown = {}
    for name, watched in plan.items():
        learner = django_user_model.objects.create_user(name, password="learner-pass-123")
        for v, seconds in watched:
            watch(learner, v, seconds)
        client = Client()
        client.force_login(learner)
        body = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get("/my-learning/").content.decode()))
        english = body[body.index("BASH · English") :]
        done, of = re.search(r"\((\d+) of (\d+) tutorials completed\)", english).groups()
        percent = int(re.search(r"Course progress: (\d+) %", english).group(1))
        assert percent == int(done) * 100 // int(of)
        shown[name] = int(done) / int(of)

    export = staff_client.get(
        "/dashboard/courses/?period=7d&export=csv&table=completion&language=English"
    ).content.decode()
    header, row = list(csv.reader(io.StringIO(export)))
    row = dict(zip(header, row, strict=True))
    assert (row["Course"], row["Language"], row["Learners"]) == ("BASH", "English", "4")
    average = sum(shown.values()) / len(shown)
    assert row["Average course progress"] == f"{100 * average:.1f}%"
    assert int(row["Finished the course"]) == sum(1 for share in shown.values() if share == 1) == 1
    # The other figure answers another question: of the English tutorials begun, how many were completed.
    assert (row["Tutorials started"], row["Tutorials completed"]) == ("10", "7")
    assert row["Completion of started tutorials"] == "70.0%"
    expected_meera = 1 / 4 if credit_across_languages else 0.0
    assert shown == {"asha": 0.75, "ravi": 1.0, "meera": expected_meera, "dev": 0.0}
