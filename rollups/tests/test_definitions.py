"""The registry of definitions: roles, filters that agree in Python and SQL, and the README."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from events.models import Event
from rollups import definitions
from rollups.definitions import Role, role_of
from rollups.management.commands.definitions import readme_with_definitions


@pytest.mark.parametrize(
    ("category", "name", "data", "role"),
    [
        ("page_interaction", "page_view", {}, Role.PAGE_VIEW),
        ("page_interaction", "engagement", {"engaged_seconds": 3}, Role.ENGAGEMENT),
        ("page_interaction", "exit_link", {}, Role.INTERACTION),
        ("server", "request", {"method": "GET", "status": 200}, Role.PAGE_VIEW),
        ("server", "request", {"method": "GET", "status": 404}, Role.PAGE_VIEW),
        ("server", "request", {"method": "GET", "status": 302}, Role.PASSIVE),
        ("server", "request", {"method": "HEAD", "status": 200}, Role.PASSIVE),
        ("server", "request", {"method": "POST", "status": 201}, Role.INTERACTION),
        ("custom", "Signup-Pro", {}, Role.INTERACTION),
        ("video", "heartbeat", {}, Role.INTERACTION),
    ],
)
def test_each_kind_of_event_has_one_role(category, name, data, role):
    assert role_of(category=category, name=name, data=data) == role


def test_the_readme_definitions_are_the_registry():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    assert readme == readme_with_definitions(readme), "run: python manage.py definitions --write"


PATHS = [
    "/watch/BASH/Intro/English/",
    "/watch/BASH/Intro/English",
    "/watch/BASH/Intro/English/extra/",
    "/watch/BASH/Intro/",
    "/watch/BASHful/Intro/English/",
    "/watch//BASH/Intro/English/",
    "/watch/Python/Loops/Hindi/",
    "/courses/BASH/",
    "/",
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "value"), [("course", "BASH"), ("language", "English"), ("path", "/")])
def test_every_page_filter_selects_the_same_paths_in_python_and_in_sql(site, name, value):
    from datetime import UTC, datetime

    for number, path in enumerate(PATHS):
        Event.objects.create(
            site=site,
            session_id=f"s{number}",
            category="page_interaction",
            name="page_view",
            path=path,
            timestamp=datetime.now(UTC),
            received_at=datetime.now(UTC),
            role=Role.PAGE_VIEW,
        )
    page_filter = definitions.PAGE_FILTERS[name]
    in_sql = set(Event.objects.filter(**page_filter.lookup(value)).values_list("path", flat=True))
    in_python = {path for path in PATHS if page_filter.matches(path, value)}
    assert in_sql == in_python and in_python


def test_every_offered_dimension_reads_a_tutorial_page_the_way_the_filters_do():
    row = {"role": Role.PAGE_VIEW, "path": "/watch/BASH/Intro/English/"}
    values = {name: d.of_event(row) for name, d in definitions.EVENT_DIMENSIONS.items() if d.of_event}
    assert values["page"] == row["path"] and values["exit_link"] is None
    assert values["course"] == "BASH" and values["tutorial_language"] == "English"
    assert values["course_language"] == "BASH|English" and values["tutorial"] == "BASH|Intro"
    assert definitions.PAGE_FILTERS["course"].matches(row["path"], values["course"])
    assert definitions.PAGE_FILTERS["language"].matches(row["path"], values["tutorial_language"])
