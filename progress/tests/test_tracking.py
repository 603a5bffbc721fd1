"""The merge and completion rules of progress.tracking, the one write path for progress."""

from __future__ import annotations

import itertools

import pytest

from events.ingest import Sender
from events.models import Event
from progress import tracking, video_events
from progress.models import CompletedHow, Progress
from progress.queries import State, state_for
from progress.tests.factories import beat, learner, video

pytestmark = pytest.mark.django_db


def progress_of(user, v) -> Progress:
    return Progress.objects.get(learner=user, tutorial=v.tutorial, language=v.language)


def test_the_same_heartbeat_twice_counts_once():
    user, v = learner(), video(duration=40)
    heartbeat = beat((0, 20))
    tracking.record_heartbeat(learner=user, video=v, heartbeat=heartbeat)
    state = tracking.record_heartbeat(learner=user, video=v, heartbeat=heartbeat)
    assert progress_of(user, v).watched == [[0, 20]]
    assert (state.percent, state.completed) == (50, False)


def test_heartbeats_in_any_order_give_the_same_progress():
    heartbeats = [beat((0, 10), at_second=10), beat((8, 20), at_second=20), beat((30, 36), at_second=36)]
    outcomes = set()
    for number, order in enumerate(itertools.permutations(heartbeats)):
        user, v = learner(f"learner{number}"), video(tutorial=f"t{number}", duration=40)
        for heartbeat in order:
            tracking.record_heartbeat(learner=user, video=v, heartbeat=heartbeat)
        row = progress_of(user, v)
        outcomes.add((str(row.watched), row.watched_seconds, row.last_position, row.completed))
    assert outcomes == {("[[0, 20], [30, 36]]", 26, 36.0, False)}


def test_overlapping_segments_are_not_counted_twice():
    user, v = learner(), video(duration=100)
    tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((0, 30)))
    state = tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((20, 50), (40, 60)))
    assert progress_of(user, v).watched_seconds == 60
    assert state.percent == 60


def test_seeking_to_the_end_does_not_complete_the_tutorial():
    user, v = learner(), video(duration=40)
    tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((0, 3), position=3, at_second=3))
    state = tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((39, 40), position=40, at_second=4))
    assert state.completed is False
    assert state.percent == 10


def test_a_forty_second_video_completes_once_eighty_percent_of_its_seconds_were_watched():
    user, v = learner(), video(duration=40)
    assert not tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((0, 31))).completed
    state = tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((31, 32)))
    row = progress_of(user, v)
    assert state.completed and row.completed_how == CompletedHow.AUTO and row.completed_at is not None


def test_completion_is_sticky_when_later_heartbeats_arrive():
    user, v = learner(), video(duration=40)
    tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((0, 40)))
    completed_at = progress_of(user, v).completed_at
    state = tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((0, 2), at_second=100))
    assert state.completed and progress_of(user, v).completed_at == completed_at


def test_mark_incomplete_undoes_completion_and_the_tutorial_is_watched_afresh():
    user, v = learner(), video(duration=40)
    tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((0, 40)))
    tracking.set_completed(learner=user, tutorial=v.tutorial, language=v.language, completed=False)
    assert state_for(learner=user, video=v).completed is False
    state = tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((0, 10), at_second=200))
    assert (state.completed, state.percent) == (False, 25)


def test_mark_complete_completes_an_unwatched_tutorial_and_is_idempotent():
    user, v = learner(), video(duration=40)
    tracking.set_completed(learner=user, tutorial=v.tutorial, language=v.language, completed=True)
    first = progress_of(user, v).completed_at
    tracking.set_completed(learner=user, tutorial=v.tutorial, language=v.language, completed=True)
    row = progress_of(user, v)
    assert row.completed and row.completed_how == CompletedHow.MANUAL and row.completed_at == first


def test_a_course_threshold_overrides_the_site_setting(settings):
    settings.PROGRESS_COMPLETION_THRESHOLD = 80
    user, strict = learner(), video(course="Scilab", duration=100, threshold=90)
    assert not tracking.record_heartbeat(learner=user, video=strict, heartbeat=beat((0, 85))).completed
    assert tracking.record_heartbeat(learner=user, video=strict, heartbeat=beat((85, 90))).completed


def test_the_site_threshold_setting_applies_to_courses_without_their_own(settings):
    settings.PROGRESS_COMPLETION_THRESHOLD = 50
    user, v = learner(), video(duration=40)
    assert tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((0, 20))).completed


def test_a_late_older_heartbeat_does_not_move_the_resume_point_back():
    user, v = learner(), video(duration=100)
    tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((50, 60), at_second=60))
    state = tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((0, 10), at_second=10))
    assert state.resume_at == 60
    assert progress_of(user, v).watched == [[0, 10], [50, 60]]


def test_a_finished_video_resumes_from_the_start():
    user, v = learner(), video(duration=40)
    state = tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((0, 40), position=40))
    assert state.resume_at == 0


def test_without_cross_language_credit_each_language_stands_alone(settings):
    settings.PROGRESS_CREDIT_ACROSS_LANGUAGES = False
    user, english = learner(), video(language="English", duration=40)
    hindi = video(language="Hindi", duration=44)
    tracking.record_heartbeat(learner=user, video=english, heartbeat=beat((0, 40), position=30))
    assert state_for(learner=user, video=hindi) == State(completed=False, percent=0, resume_at=0.0)


def test_with_cross_language_credit_completion_and_resume_point_carry_over(settings):
    settings.PROGRESS_CREDIT_ACROSS_LANGUAGES = True
    user, english = learner(), video(language="English", duration=40)
    hindi = video(language="Hindi", duration=44)
    tracking.record_heartbeat(learner=user, video=english, heartbeat=beat((0, 33), position=33))
    state = state_for(learner=user, video=hindi)
    assert (state.completed, state.resume_at, state.percent) == (True, 33.0, 0)


def test_with_cross_language_credit_mark_incomplete_clears_every_language(settings):
    settings.PROGRESS_CREDIT_ACROSS_LANGUAGES = True
    user, english = learner(), video(language="English", duration=40)
    hindi = video(language="Hindi", duration=44)
    tracking.record_heartbeat(learner=user, video=english, heartbeat=beat((0, 40)))
    tracking.set_completed(learner=user, tutorial=hindi.tutorial, language="Hindi", completed=False)
    assert not state_for(learner=user, video=hindi).completed
    assert not state_for(learner=user, video=english).completed


def test_staff_marks_record_that_staff_made_them():
    user, v = learner(), video(duration=40)
    tracking.set_completed(
        learner=user, tutorial=v.tutorial, language=v.language, completed=True, how=CompletedHow.STAFF
    )
    assert progress_of(user, v).completed_how == CompletedHow.STAFF


def test_every_opening_of_the_watch_page_counts_a_visit():
    user, v = learner(), video()
    assert [tracking.record_visit(learner=user, video=v) for _ in range(3)] == [1, 2, 3]


def context() -> video_events.Context:
    return video_events.Context(
        sender=Sender(ip="49.36.0.1", user_agent="test", source="progress"),
        session_id="s1",
        url="http://testserver/watch/BASH/Introduction/English/",
        direct=True,
    )


def test_a_heartbeat_becomes_one_video_event_for_the_default_site_even_when_resent(site):
    user, v = learner(), video(duration=40)
    heartbeat = beat((0, 12.5), position=12.5)
    for _ in range(2):
        tracking.record_heartbeat(learner=user, video=v, heartbeat=heartbeat, context=context())
    event = Event.objects.get()
    assert (event.site, event.category, event.name, event.user, event.path) == (
        site,
        "video",
        "heartbeat",
        "asha",
        "/watch/BASH/Introduction/English/",
    )
    assert event.data["segments"] == [[0.0, 12.5]] and event.data["percent"] == 32
    assert event.data["tutorial"] == "Introduction" and event.data["completed"] is False


def test_without_a_default_site_the_heartbeat_still_counts_and_no_event_is_made():
    user, v = learner(), video(duration=40)
    state = tracking.record_heartbeat(learner=user, video=v, heartbeat=beat((0, 40)), context=context())
    assert state.completed and Event.objects.count() == 0
