"""Who may open which dashboard, what each page shows, its exports and its query count."""

from __future__ import annotations

import csv
import gzip
import io
import re

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


@pytest.mark.parametrize("url", URLS[1:])
def test_the_content_team_sees_the_courses_page_only(content_client, site, url):
    assert content_client.get(url).status_code == (200 if url.endswith("/courses/") else 403)


def test_the_content_team_is_taken_from_the_dashboards_address_to_courses(content_client, site):
    response = content_client.get("/dashboard/?period=30d")
    assert response.status_code == 302 and response["Location"] == "/dashboard/courses/?period=30d"


def test_the_content_team_has_a_dashboards_link_and_a_styled_403_with_the_nav(content_client, site):
    assert 'href="/dashboard/courses/">Dashboards</a>' in content_client.get("/my-learning/").content.decode()
    response = content_client.get("/dashboard/pages/")
    body = response.content.decode()
    assert response.status_code == 403
    assert "You may not open this page" in body and 'class="topbar"' in body


def test_an_unknown_page_is_a_styled_404_with_the_nav(client, site):
    response = client.get("/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "There is no page here" in body and 'class="topbar"' in body


@pytest.mark.parametrize(
    ("username", "groups", "staff", "landing"),
    [
        ("boss", [], True, "/dashboard/"),
        ("editor", ["Content team"], False, "/dashboard/courses/"),
        ("pupil", [], False, "/"),
    ],
)
def test_after_logging_in_each_kind_of_user_lands_on_their_own_start_page(
    client, site, django_user_model, username, groups, staff, landing
):
    user = django_user_model.objects.create_user(username, password="a-long-pass-123", is_staff=staff)
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    response = client.post("/accounts/login/", {"username": username, "password": "a-long-pass-123"})
    assert response.status_code == 302 and response["Location"] == landing


def test_the_content_team_cannot_read_the_stats_api(content_client, site):
    assert content_client.get("/api/stats/").status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_staff_see_every_page_with_the_filter_bar_and_plotly_from_our_static_files(staff_client, traffic, url):
    response = staff_client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    bundle = "plotly-geo.min" if url.endswith("/geography/") else "plotly-basic.min"
    assert 'class="filter-bar"' in body and f"/static/vendor/plotly/{bundle}." in body
    assert "cdn.plot.ly" not in body
    assert "Plotly.newPlot" in body


def test_the_plotly_script_is_served_by_our_site_compressed_and_cached_for_a_year(staff_client, site):
    body = staff_client.get("/dashboard/").content.decode()
    script = re.search(r'src="(/static/vendor/plotly/plotly-basic\.min\.[0-9a-f]{12}\.js)"', body)
    assert script, "the page names the content-hashed bundle"
    response = staff_client.get(script.group(1), headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"] and "max-age=315360000" in response["Cache-Control"]
    assert gzip.decompress(b"".join(response.streaming_content))[:200].lower().count(b"plotly") >= 1


def test_an_evil_path_is_shown_escaped_in_tables(staff_client, traffic):
    # <wbr> marks where a long path may wrap; it is not part of the text.
    body = staff_client.get("/dashboard/pages/?period=7d").content.decode().replace("<wbr>", "")
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
    assert rows[0] == ["Page", "Views", "Unique visitors", "Avg. time (s)"]
    assert all(float(row[3]) >= 0 for row in rows[1:])  # seconds as plain numbers
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
# aggregates, then the filter bar's choosers (one rollup query). A change here means a page started looping or lost a rollup.
QUERY_COUNTS = {
    "/dashboard/": 13,
    "/dashboard/pages/": 11,
    "/dashboard/sources/": 9,
    "/dashboard/audience/": 12,
    "/dashboard/geography/": 10,
    "/dashboard/realtime/": 8,
    "/dashboard/visitors/": 8,
    "/dashboard/courses/": 12,
    "/dashboard/quality/": 7,
}


@pytest.mark.parametrize("url", URLS)
def test_each_page_runs_a_fixed_number_of_queries(staff_client, traffic, url):
    with CaptureQueriesContext(connection) as captured:
        assert staff_client.get(url + "?period=7d").status_code == 200
    assert len(captured) == QUERY_COUNTS[url], [q["sql"][:120] for q in captured]


def test_the_visitors_page_shows_one_visitors_journey_in_order(staff_client, traffic):
    body = staff_client.get("/dashboard/visitors/?period=7d&visitor=v1").content.decode().replace("<wbr>", "")
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
    assert float(row["Average course progress (ratio)"]) == pytest.approx(average, abs=1e-4)
    assert int(row["Finished the course"]) == sum(1 for share in shown.values() if share == 1) == 1
    # The other figure answers another question: of the English tutorials begun, how many were completed.
    assert (row["Tutorials started"], row["Tutorials completed"]) == ("10", "7")
    assert row["Completion of started tutorials (ratio)"] == "0.7"
    expected_meera = 1 / 4 if credit_across_languages else 0.0
    assert shown == {"asha": 0.75, "ravi": 1.0, "meera": expected_meera, "dev": 0.0}


def test_filters_offer_the_values_in_the_range_and_show_active_ones_as_removable_chips(staff_client, traffic):
    body = staff_client.get("/dashboard/?period=7d&country=IN&device_type=mobile").content.decode()
    assert '<option value="IN" selected>India</option>' in body and '<option value="GB">' in body
    assert 'class="chip"' in body and "Country: <strong>India</strong>" in body
    remove = re.search(r'Country: <strong>India</strong> <a href="([^"]+)"', body).group(1)
    assert "country=" not in remove and "device_type=mobile" in remove
    assert "Nothing in this range has" not in body


def test_a_filter_that_matches_nothing_in_the_range_says_so(staff_client, traffic):
    body = staff_client.get("/dashboard/?period=7d&country=INDIA").content.decode()
    assert "Nothing in this range has country “INDIA”" in body
    assert 'class="chip empty"' in body


def test_the_content_team_picks_the_tutorial_of_the_retention_curve(content_client, site):
    import io as text_io

    from progress.models import Progress
    from the_eye import demo

    demo.build(events=0, learners=12, days=7, seed=3, stderr=text_io.StringIO())
    body = content_client.get("/dashboard/courses/?period=7d").content.decode()
    options = re.findall(r'<option value="(\d+\|[^"]+)"( selected)?>', body)
    assert len(options) >= 2 and options[0][1] == " selected"  # the most watched is shown first
    other = options[1][0]
    picked = content_client.get("/dashboard/courses/", {"period": "7d", "tutorial": other}).content.decode()
    tutorial_id, language = other.split("|")
    title = Progress.objects.filter(tutorial_id=tutorial_id, language=language).first().tutorial.title
    assert f'<option value="{other}" selected>' in picked
    assert f"Audience retention: {title} ({language})" in picked
    assert '<input type="hidden" name="period" value="7d">' in picked
