"""Learner pages, login pages and admin, as a visitor, a learner and staff see them."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from progress import tracking
from progress.models import Course, Progress
from progress.tests.factories import beat, learner, video

pytestmark = pytest.mark.django_db


@pytest.fixture
def bash():
    """BASH in English: Introduction (40 s), Variables (60 s), Loops (30 s); Introduction also in Hindi."""
    videos = [
        video(tutorial="Introduction", duration=40, order=1),
        video(tutorial="Variables", duration=60, order=2),
        video(tutorial="Loops", duration=30, order=3),
    ]
    video(tutorial="Introduction", language="Hindi", duration=44)
    return videos


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_tutorial_search_shows_completion_the_course_bar_and_where_to_continue(bash):
    user = learner()
    intro, variables, _ = bash
    tracking.record_heartbeat(learner=user, video=intro, heartbeat=beat((0, 40), at_second=10))
    tracking.record_heartbeat(
        learner=user, video=variables, heartbeat=beat((0, 75.2 - 50), position=25.2, at_second=20)
    )
    page = logged_in(user).get("/tutorial-search/", {"course": "BASH", "language": "English"})
    body = text(page)
    assert "Course progress: 33 %" in body and "(1 of 3 tutorials completed)" in body
    assert re.search(r"Introduction 00:40 Basic Yes 100 %", body)
    assert re.search(r"Variables 01:00 Basic No 41 %", body)
    assert "Continue where you left off: Variables at 00:25" in body
    assert 'href="/watch/BASH/Variables/English/?t=25"' in page.content.decode()


def test_anonymous_visitors_see_tutorials_and_an_invitation_to_log_in(bash):
    body = text(Client().get("/tutorial-search/", {"course": "BASH", "language": "English"}))
    assert "Log in to see which tutorials you completed" in body
    assert "Introduction" in body and "Completed" not in body and "Course progress" not in body


def test_the_search_offers_only_the_courses_languages(bash):
    page = Client().get("/tutorial-search/", {"course": "BASH", "language": "Klingon"}).content.decode()
    assert "<option selected>English</option>" in page and "<option>Hindi</option>" in page
    assert ">Klingon<" not in page


def test_opening_the_watch_page_counts_a_visit_for_a_learner_only(bash):
    user = learner()
    client = logged_in(user)
    client.get("/watch/BASH/Introduction/English/")
    client.get("/watch/BASH/Introduction/English/")
    Client().get("/watch/BASH/Introduction/English/")
    assert list(Progress.objects.values_list("learner__username", "visits")) == [("asha", 2)]


def test_the_watch_page_resumes_at_the_last_position_unless_t_says_otherwise(bash):
    user = learner()
    intro = bash[0]
    tracking.record_heartbeat(learner=user, video=intro, heartbeat=beat((0, 17.5)))
    client = logged_in(user)
    assert '"start": 17.5' in client.get("/watch/BASH/Introduction/English/").content.decode()
    assert '"start": 5.0' in client.get("/watch/BASH/Introduction/English/?t=5").content.decode()
    assert '"start": 17.5' in client.get("/watch/BASH/Introduction/English/?t=nonsense").content.decode()


def test_the_watch_page_shows_completion_buttons_and_a_playlist_with_badges(bash):
    user = learner()
    tracking.record_heartbeat(learner=user, video=bash[0], heartbeat=beat((0, 40)))
    tracking.record_heartbeat(learner=user, video=bash[1], heartbeat=beat((0, 6)))
    page = logged_in(user).get("/watch/BASH/Variables/English/")
    body = text(page)
    assert "Not completed" in body and "10 % watched" in body
    assert re.search(r"Introduction ✓ Completed Variables 10 % Loops New", body)
    assert '<button type="button" id="mark-complete" class="btn">' in page.content.decode()
    assert "Also in" not in body  # Variables has no Hindi video


def test_anonymous_visitors_watch_with_an_invitation_and_no_progress_calls(bash):
    page = Client().get("/watch/BASH/Introduction/English/")
    assert page.status_code == 200
    body = text(page)
    assert "Log in to save your progress" in body and "Mark complete" not in body
    assert '"learner": false' in page.content.decode()
    assert "Also in: Hindi" in body


def test_an_unknown_video_is_a_404_page():
    assert Client().get("/watch/BASH/Nope/English/").status_code == 404


def test_my_learning_lists_every_course_started_with_a_deep_link_to_continue(bash):
    user = learner()
    calc = video(course="Calc", tutorial="Charts", duration=120)
    tracking.record_heartbeat(learner=user, video=bash[0], heartbeat=beat((0, 40), at_second=5))
    tracking.record_heartbeat(learner=user, video=bash[1], heartbeat=beat((0, 30), position=83.9 - 30, at_second=6))
    tracking.record_heartbeat(learner=user, video=calc, heartbeat=beat((0, 10), position=75, at_second=1))
    page = logged_in(user).get("/my-learning/")
    body = text(page)
    assert body.index("BASH · English") < body.index("Calc · English")  # most recent first
    assert "Course progress: 33 % (1 of 3 tutorials completed)" in body
    assert "Continue watching Variables at 00:53" in body
    assert "Continue watching Charts at 01:15" in body
    assert 'href="/watch/Calc/Charts/English/?t=75"' in page.content.decode()


def test_my_learning_asks_anonymous_visitors_to_log_in():
    response = Client().get("/my-learning/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/my-learning/"


def test_a_learner_logs_in_and_out_with_the_sites_pages(bash):
    learner()
    client = Client()
    form = client.get("/accounts/login/?next=/my-learning/")
    assert "Log in" in text(form) and "The Eye" in text(form)
    response = client.post(
        "/accounts/login/", {"username": "asha", "password": "learner-pass-123", "next": "/my-learning/"}
    )
    assert response.status_code == 302 and response["Location"] == "/my-learning/"
    assert "You have not started a tutorial yet" in text(client.get("/my-learning/"))
    client.post("/accounts/logout/")
    assert client.get("/my-learning/").status_code == 302


def test_a_wrong_password_shows_an_error_on_the_login_page():
    learner()
    body = text(Client().post("/accounts/login/", {"username": "asha", "password": "wrong"}))
    assert "Please enter a correct username and password" in body


def test_staff_see_courses_with_tutorials_inline_and_videos_on_the_tutorial(bash, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client = logged_in(staff_user)
    course = Course.objects.get(slug="BASH")
    course_page = client.get(f"/admin/progress/course/{course.pk}/change/").content.decode()
    assert course_page.count('name="tutorials-') > 0 and "Variables" in course_page
    tutorial_page = client.get(f"/admin/progress/tutorial/{bash[0].tutorial_id}/change/").content.decode()
    assert 'value="Hindi"' in tutorial_page and 'value="English"' in tutorial_page


def test_staff_filter_progress_and_mark_it_incomplete_through_the_write_path(bash, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    user = learner()
    tracking.record_heartbeat(learner=user, video=bash[0], heartbeat=beat((0, 40)))
    tracking.record_heartbeat(learner=user, video=bash[1], heartbeat=beat((0, 5)))
    client = logged_in(staff_user)
    listing = client.get("/admin/progress/progress/", {"completed__exact": "1", "language": "English"})
    assert "1 progress" in text(listing) and "Introduction" in text(listing)
    done = Progress.objects.get(completed=True)
    client.post("/admin/progress/progress/", {"action": "mark_incomplete", "_selected_action": [done.pk]})
    done.refresh_from_db()
    assert (done.completed, done.watched_seconds) == (False, 0)
    client.post("/admin/progress/progress/", {"action": "mark_complete", "_selected_action": [done.pk]})
    done.refresh_from_db()
    assert (done.completed, done.completed_how) == (True, "staff")


def test_the_learner_pages_use_a_fixed_number_of_queries_whatever_the_number_of_tutorials(
    bash, django_assert_num_queries
):
    user = learner()
    for v in bash:
        tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((0, 20)))
    client = logged_in(user)
    # session, user, courses, languages, tutorials, videos, the learner's progress, the default
    # site for the page's tracker tag, and the nav's group check (a Content team member gets a
    # Dashboards link)
    with django_assert_num_queries(9):
        client.get("/tutorial-search/", {"course": "BASH", "language": "English"})
    # session, user, video; visit: savepoint, get-or-create, lock, count, read back, release; state:
    # progress; playlist: tutorials, videos, progress; languages; the default site for the page's
    # tracker tag; the nav's group check
    with django_assert_num_queries(16):
        client.get("/watch/BASH/Loops/English/")
