"""What the middleware hides before an event leaves the host (the_eye_client.redaction)."""

from __future__ import annotations

from django.http import QueryDict
from the_eye_client.redaction import (
    DEFAULT_SENSITIVE_KEYS,
    REDACTED,
    is_sensitive,
    redact,
    redact_query_dict,
    redact_url,
)


def test_the_keys_that_leaked_in_the_seed_and_their_cousins_are_sensitive_in_any_case():
    for key in (
        "password1",
        "PASSWORD2",
        "old_password",
        "csrfmiddlewaretoken",
        "X-CSRFToken",
        "card_number",
        "CardNumber",
        "cvv",
        "Authorization",
        "api_key",
        "client_secret",
        "refresh_token",
        "ssn",
        "otp_code",
    ):
        assert is_sensitive(key), key
    for key in ("username", "email", "course", "language", "foss", "tutorial", "next"):
        assert not is_sensitive(key), key


def test_secrets_are_hidden_at_any_depth_and_inside_lists():
    form = {
        "name": "Ravi",
        "profile": {"Password": "x", "history": [{"token": "t", "page": "/a"}, {"page": "/b"}]},
        "steps": [[{"cvv": "1"}]],
    }
    assert redact(form) == {
        "name": "Ravi",
        "profile": {"Password": REDACTED, "history": [{"token": REDACTED, "page": "/a"}, {"page": "/b"}]},
        "steps": [[{"cvv": REDACTED}]],
    }
    assert form["profile"]["Password"] == "x"  # the input is left alone


def test_a_host_can_add_its_own_patterns():
    patterns = (*DEFAULT_SENSITIVE_KEYS, "aadhar*", "mobile")
    assert redact({"aadhar_no": "1234", "Mobile": "98", "city": "Pune"}, patterns=patterns) == {
        "aadhar_no": REDACTED,
        "Mobile": REDACTED,
        "city": "Pune",
    }


def test_form_fields_with_bracketed_names_and_repeated_values():
    fields = QueryDict("user[billing][card]=4111&tags=a&tags=b&q=bash")
    assert redact_query_dict(fields.lists(), patterns=DEFAULT_SENSITIVE_KEYS) == {
        "user[billing][card]": REDACTED,
        "tags": ["a", "b"],
        "q": "bash",
    }


def test_secrets_in_a_referrers_query_are_hidden_and_other_urls_are_unchanged():
    assert redact_url("https://x.org/login?next=/a&token=abc", patterns=DEFAULT_SENSITIVE_KEYS) == (
        "https://x.org/login?next=%2Fa&token=[redacted]"
    )
    assert redact_url("https://www.google.com/search?q=bash", patterns=DEFAULT_SENSITIVE_KEYS) == (
        "https://www.google.com/search?q=bash"
    )


def test_values_that_are_not_json_become_short_strings():
    assert redact({"when": object.__name__, "big": "x" * 5000, "n": 3, "ok": True}, max_length=10) == {
        "when": "object",
        "big": "x" * 10,
        "n": 3,
        "ok": True,
    }
