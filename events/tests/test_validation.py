"""The rules of The Eye's event format, checked without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events.validation import EventValidationError, validate_batch


def page_view(**overrides):
    event = {
        "session_id": "e2085be5-9137-4e4e-80b5-f1ffddc25423",
        "category": "page_interaction",
        "name": "page_view",
        "data": {"host": "www.consumeraffairs.com", "path": "/"},
        "timestamp": "2021-01-01 09:15:27.243860",
    }
    event.update(overrides)
    return event


def errors_of(payload, *, allow_custom=False):
    with pytest.raises(EventValidationError) as caught:
        validate_batch(payload, allow_custom=allow_custom)
    return [e.as_dict() for e in caught.value.errors]


def test_it_accepts_the_seed_readme_examples_in_their_spaced_spelling():
    events = validate_batch(
        [
            page_view(category="page interaction", name="pageview"),
            page_view(
                category="page interaction",
                name="cta click",
                data={"host": "www.consumeraffairs.com", "path": "/", "element": "chat bubble"},
            ),
            page_view(
                category="form interaction",
                name="submit",
                data={"host": "www.consumeraffairs.com", "path": "/", "form": {"first_name": "John"}},
            ),
        ],
        allow_custom=False,
    )
    assert [(e["category"], e["name"]) for e in events] == [
        ("page_interaction", "page_view"),
        ("page_interaction", "cta_click"),
        ("form_interaction", "submit"),
    ]
    assert all(e["host"] == "www.consumeraffairs.com" and e["path"] == "/" for e in events)


def test_it_reads_naive_timestamps_as_utc_and_converts_offsets_to_utc():
    naive, offset, iso_z = validate_batch(
        [
            page_view(timestamp="2022-04-11 01:08:01.407119"),
            page_view(timestamp="2022-04-11T06:38:01+05:30"),
            page_view(timestamp="2022-04-11T01:08:01Z"),
        ],
        allow_custom=False,
    )
    assert naive["timestamp"] == "2022-04-11T01:08:01.407119+00:00"
    assert offset["timestamp"] == "2022-04-11T01:08:01+00:00"
    assert iso_z["timestamp"] == "2022-04-11T01:08:01+00:00"


def test_it_rejects_a_timestamp_more_than_five_minutes_ahead():
    soon = (datetime.now(UTC) + timedelta(minutes=4)).isoformat()
    later = (datetime.now(UTC) + timedelta(minutes=6)).isoformat()
    assert validate_batch(page_view(timestamp=soon), allow_custom=False)
    assert errors_of(page_view(timestamp=later)) == [
        {"index": 0, "field": "timestamp", "rule": "must not be more than 300 seconds in the future"}
    ]


@pytest.mark.parametrize("value", ["yesterday", "2021-13-01 00:00:00", "2021-01-01", 1700000000, ""])
def test_it_rejects_timestamps_that_are_not_date_times(value):
    [error] = errors_of(page_view(timestamp=value))
    assert error["field"] == "timestamp"


def test_empty_data_is_validated_not_skipped():
    assert errors_of(page_view(data={})) == [
        {"index": 0, "field": "data.host", "rule": "is required"},
        {"index": 0, "field": "data.path", "rule": "is required"},
    ]


@pytest.mark.parametrize(
    ("host", "clean"),
    [
        ("www.example.org", "www.example.org"),
        ("https://WWW.Example.org", "www.example.org"),
        ("localhost:8000", "localhost:8000"),
        ("127.0.0.1", "127.0.0.1"),
        ("http://x.org/", "x.org"),
    ],
)
def test_host_may_carry_a_scheme_and_port(host, clean):
    [event] = validate_batch(page_view(data={"host": host, "path": "/"}), allow_custom=False)
    assert event["host"] == clean


@pytest.mark.parametrize("host", ["not a host", "http://x.org/some/path", "-bad-.org", "", 42])
def test_it_rejects_values_that_are_not_host_names(host):
    [error] = errors_of(page_view(data={"host": host, "path": "/"}))
    assert error["field"] == "data.host"


def test_path_must_start_with_a_slash():
    assert errors_of(page_view(data={"host": "x.org", "path": "about"})) == [
        {"index": 0, "field": "data.path", "rule": "must start with /"}
    ]


def test_cta_click_needs_an_element_and_submit_needs_a_form_object():
    errors = errors_of(
        [
            page_view(name="cta_click"),
            page_view(category="form_interaction", name="submit", data={"host": "x.org", "path": "/", "form": "a=b"}),
        ]
    )
    assert {"index": 0, "field": "data.element", "rule": "is required"} in errors
    assert {"index": 1, "field": "data.form", "rule": "must be a JSON object"} in errors


def test_unknown_event_types_are_refused_unless_the_site_allows_custom_events():
    custom = page_view(category="video", name="play", data={"position": 12})
    assert errors_of(custom) == [{"index": 0, "field": "name", "rule": "unknown event type video/play"}]
    [event] = validate_batch(custom, allow_custom=True)
    assert event["data"] == {"position": 12}


def test_custom_event_data_has_a_size_limit(settings):
    settings.EVENTS_MAX_DATA_BYTES = 100
    [error] = errors_of(page_view(category="video", name="play", data={"blob": "x" * 200}), allow_custom=True)
    assert error == {"index": 0, "field": "data", "rule": "must be at most 100 bytes as JSON"}


def test_a_batch_reports_every_bad_event_with_its_index():
    errors = errors_of([page_view(), page_view(session_id=""), page_view(), "not an object", page_view(extra=1)])
    assert errors == [
        {"index": 1, "field": "session_id", "rule": "must not be empty"},
        {"index": 3, "field": "", "rule": "each event must be a JSON object"},
        {"index": 4, "field": "extra", "rule": "is not a known field"},
    ]


def test_missing_required_fields_are_each_named():
    fields = {e["field"] for e in errors_of({})}
    assert fields == {"session_id", "category", "name", "timestamp", "data"}


def test_client_ids_must_be_uuids_and_unique_in_the_request():
    assert errors_of(page_view(id="abc")) == [{"index": 0, "field": "id", "rule": "must be a UUID"}]
    same = "0b5ad8a4-5d0a-4f55-9a7e-3f1c0d5e2a10"
    assert errors_of([page_view(id=same), page_view(id=same)]) == [
        {"index": 1, "field": "id", "rule": "must be unique within the request"}
    ]


def test_events_without_an_id_get_a_new_one():
    first, second = validate_batch([page_view(), page_view()], allow_custom=False)
    assert first["id"] != second["id"]


def test_batch_size_is_limited(settings):
    settings.EVENTS_MAX_BATCH = 3
    assert errors_of([page_view()] * 4) == [{"index": None, "field": "", "rule": "a request may hold at most 3 events"}]
    assert errors_of([]) == [{"index": None, "field": "", "rule": "the body must hold at least one event"}]


# --- What both stores can keep (issue 12, finding 2) -------------------------------------------


def deep(levels: int):
    value: dict = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"title": "a\x00b"}, "title", "must not contain the NUL character (\\u0000)"),
        ({"session_id": "\x00"}, "session_id", "must not contain the NUL character (\\u0000)"),
        ({"user": "u\x00"}, "user", "must not contain the NUL character (\\u0000)"),
        ({"referrer": "\x00"}, "referrer", "must not contain the NUL character (\\u0000)"),
        ({"site_id": "s\x00"}, "site_id", "must not contain the NUL character (\\u0000)"),
        (
            {"data": {"host": "x.org", "path": "/", "extra": ["ok", "\x00"]}},
            "data.extra[1]",
            "must not contain the NUL character (\\u0000)",
        ),
        (
            {"data": {"host": "x.org", "path": "/", "k\x00": 1}},
            "data.k\\u0000",
            "key must not contain the NUL character (\\u0000)",
        ),
        ({"title": "\ud800"}, "title", "must be valid Unicode text (no lone surrogate such as \\ud800)"),
        (
            {"data": {"host": "x.org", "path": "/", "\udfff": 1}},
            "data.\\udfff",
            "key must be valid Unicode text (no lone surrogate such as \\ud800)",
        ),
        (
            {"data": {"host": "x.org", "path": "/", "n": float("nan")}},
            "data.n",
            "must be a finite number (not NaN or Infinity)",
        ),
        (
            {"data": {"host": "x.org", "path": "/", "n": float("inf")}},
            "data.n",
            "must be a finite number (not NaN or Infinity)",
        ),
        (
            {"data": {"host": "x.org", "path": "/", "n": -float("inf")}},
            "data.n",
            "must be a finite number (not NaN or Infinity)",
        ),
    ],
)
def test_values_postgresql_cannot_keep_are_refused_naming_the_field(overrides, field, rule):
    assert errors_of([page_view(), page_view(**overrides)]) == [{"index": 1, "field": field, "rule": rule}]


def test_nesting_up_to_the_limit_is_kept_and_one_level_more_is_refused():
    assert validate_batch([page_view(data={"host": "x.org", "path": "/", "d": deep(30)})], allow_custom=False)
    errors = errors_of([page_view(data={"host": "x.org", "path": "/", "d": deep(31)})])
    assert [(e["field"][:8], e["rule"]) for e in errors] == [
        ("data.d.a", "must nest objects and arrays at most 32 levels deep")
    ]


def test_nesting_thousands_of_levels_deep_is_refused_without_recursion():
    errors = errors_of([page_view(data={"host": "x.org", "path": "/", "d": deep(5000)})])
    assert len(errors) == 1 and errors[0]["rule"] == "must nest objects and arrays at most 32 levels deep"


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "0001-01-01T00:00:00", "1999-12-31T23:59:59Z"]
)
def test_timestamps_at_the_ends_of_the_calendar_are_refused_not_overflowed(moment):
    errors = errors_of([page_view(timestamp=moment)])
    assert [e["field"] for e in errors] == ["timestamp"]
