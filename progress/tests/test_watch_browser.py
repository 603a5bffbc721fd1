"""The watch page in headless Chromium: resume, seek-to-end earns nothing, completion shows live."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from events.models import Event
from progress.models import Progress
from progress.tests.factories import learner, video

PLAYER = "return document.getElementById('player')"


def wait(browser, condition, seconds: float = 30):
    return WebDriverWait(browser, seconds, poll_frequency=0.2).until(lambda _: condition())


def row():
    return Progress.objects.filter(learner__username="asha").first()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_learner_resumes_after_a_reload_and_completes_by_watching_not_by_seeking(
    browser, live_server, settings, artifacts
):
    settings.PROGRESS_HEARTBEAT_SECONDS = 1
    intro = video(tutorial="Introduction", duration=12)
    intro.source = "/static/progress/videos/bash.webm"
    intro.save()
    video(tutorial="Variables", duration=12, order=2)
    learner("asha")

    browser.get(live_server.url + "/accounts/login/?next=/watch/BASH/Introduction/English/")
    browser.find_element(By.NAME, "username").send_keys("asha")
    browser.find_element(By.NAME, "password").send_keys("learner-pass-123")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # The login page's own URL ends with ?next=/watch/…: wait for the path itself to change.
    wait(browser, lambda: urlsplit(browser.current_url).path == "/watch/BASH/Introduction/English/")
    label = browser.find_element(By.ID, "completion")
    assert label.text == "Not completed"

    # Play about four seconds, then pause: the pause heartbeat saves the position.
    browser.execute_script("var v = document.getElementById('player'); v.muted = true; v.play()")
    wait(browser, lambda: browser.execute_script(PLAYER + ".currentTime") >= 4)
    browser.execute_script("document.getElementById('player').pause()")
    wait(browser, lambda: row() is not None and row().last_position >= 4)
    saved = row().last_position

    # Reload: the player starts where the learner stopped.
    browser.refresh()
    wait(browser, lambda: browser.execute_script(PLAYER + ".readyState") >= 1)
    wait(browser, lambda: abs(browser.execute_script(PLAYER + ".currentTime") - saved) < 1.5)

    # Seek to the end and let it finish: the last second is all that counts.
    browser.execute_script(
        "window.sameDocument = true; var v = document.getElementById('player');"
        "v.muted = true; v.currentTime = v.duration - 1; v.play()"
    )
    wait(browser, lambda: browser.execute_script(PLAYER + ".ended"))
    wait(browser, lambda: row().last_position >= 11.5)
    assert row().completed is False
    assert browser.find_element(By.ID, "completion").text == "Not completed"

    # Watch from the start at double speed: the label turns "Completed" without a reload.
    browser.execute_script("var v = document.getElementById('player'); v.playbackRate = 2; v.currentTime = 0; v.play()")
    wait(browser, lambda: browser.find_element(By.ID, "completion").text == "Completed")
    assert browser.execute_script("return window.sameDocument") is True
    assert browser.find_element(By.ID, "playlist-badge").text == "✓ Completed"
    assert browser.find_element(By.ID, "course-percent").text == "Course progress: 50 %"
    assert not browser.find_element(By.ID, "mark-complete").is_displayed()
    assert row().completed and row().watched_seconds >= 10
    browser.execute_script("document.getElementById('player').pause()")
    browser.save_screenshot(str(artifacts / "progress-watch-page.png"))

    # The learner's own buttons undo and redo completion, also without a reload.
    browser.find_element(By.ID, "mark-incomplete").click()
    wait(browser, lambda: browser.find_element(By.ID, "completion").text == "Not completed")
    assert row().completed is False
    browser.find_element(By.ID, "mark-complete").click()
    wait(browser, lambda: browser.find_element(By.ID, "completion").text == "Completed")
    assert row().completed_how == "manual"

    browser.get(live_server.url + "/my-learning/")
    assert "Continue watching Variables at 00:00" in browser.find_element(By.TAG_NAME, "main").text
    browser.save_screenshot(str(artifacts / "progress-my-learning.png"))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]]
    assert errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_heartbeats_become_video_events_of_the_visit_the_pages_own_tracker_recorded(
    browser, live_server, settings, site, run_worker
):
    settings.PROGRESS_HEARTBEAT_SECONDS = 1
    intro = video(tutorial="Introduction", duration=12)
    intro.source = "/static/progress/videos/bash.webm"
    intro.save()
    learner("asha")

    browser.get(live_server.url + "/accounts/login/?next=/watch/BASH/Introduction/English/")
    browser.find_element(By.NAME, "username").send_keys("asha")
    browser.find_element(By.NAME, "password").send_keys("learner-pass-123")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # The login page's own URL ends with ?next=/watch/…: wait for the path itself to change.
    wait(browser, lambda: urlsplit(browser.current_url).path == "/watch/BASH/Introduction/English/")
    wait(browser, lambda: browser.execute_script("return !!(window.theEye && theEye.ids)"))
    ids = browser.execute_script("return theEye.ids()")
    assert ids["session_id"] and ids["visitor_id"]

    browser.execute_script("var v = document.getElementById('player'); v.muted = true; v.play()")
    wait(browser, lambda: browser.execute_script(PLAYER + ".currentTime") >= 3)
    browser.execute_script("document.getElementById('player').pause()")
    wait(browser, lambda: row() is not None and row().last_position >= 3)

    path = "/watch/BASH/Introduction/English/"

    def stored() -> bool:
        run_worker()
        return (
            Event.objects.filter(name="page_view", path=path).exists()
            and Event.objects.filter(category="video", name="heartbeat").exists()
        )

    wait(browser, stored)
    view = Event.objects.get(name="page_view", path=path)
    beats = list(Event.objects.filter(category="video"))
    assert (view.session_id, view.visitor_id) == (ids["session_id"], ids["visitor_id"])
    assert {(e.session_id, e.visitor_id) for e in beats} == {(view.session_id, view.visitor_id)}
    # The visit has its page view, so its device and browser come from the page's own tracker.
    assert view.site == site and view.browser and view.device_type
    assert all(e.browser == view.browser and e.user == "asha" for e in beats)
