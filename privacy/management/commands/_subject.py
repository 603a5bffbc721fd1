"""The subject options shared by export_subject and erase_subject."""

from __future__ import annotations

from django.core.management.base import CommandError, CommandParser

from events.erasure import Subject


def add_subject_arguments(parser: CommandParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="a user name")
    who.add_argument("--visitor", help="a visitor id (cookie or cookieless hash)")
    who.add_argument("--session", help="a session id as the client sent it")


def subject_of(options: dict) -> Subject:
    for kind in ("user", "visitor", "session"):
        if options.get(kind):
            try:
                return Subject(kind=kind, value=options[kind])
            except ValueError as error:
                raise CommandError(str(error)) from None
    raise CommandError("name a subject: --user, --visitor or --session")
