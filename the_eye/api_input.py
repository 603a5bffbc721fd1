"""DRF's authentication and parsing, hardened against input that would otherwise answer 500.

Separate from `the_eye.guards` because DRF imports these classes while `rest_framework.views`
is still loading.
"""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions, parsers

from events.validation import DEPTH_RULE


class BasicAuthentication(authentication.BasicAuthentication):
    """DRF's Basic auth; a user name or password holding NUL is wrong, not a database error."""

    def authenticate_credentials(self, userid: str, password: str, request: Any = None) -> Any:
        if "\x00" in userid or "\x00" in password:
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        return super().authenticate_credentials(userid, password, request)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; thousands of nested brackets are a 400, not a RecursionError."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(f"JSON parse error - the body {DEPTH_RULE}") from None
