from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from events.sites import create_site
from events.validation import Rule, url


class Command(BaseCommand):
    help = "Create a site and print its public site id and its secret server key (shown once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--origin", action="append", default=[], help="an origin browsers send from; repeatable")
        parser.add_argument("--default", action="store_true", help="count events that name no site for this one")
        parser.add_argument(
            "--cookies",
            action="store_true",
            help="identify visitors by the tracker's cookie (default: cookieless, a daily-rotated hash)",
        )
        parser.add_argument(
            "--require-consent",
            action="store_true",
            help="the tracker records nothing until the page calls theEye.consent(true)",
        )

    def handle(
        self,
        *args,
        name: str,
        origin: list[str],
        default: bool,
        cookies: bool,
        require_consent: bool,
        **options,
    ) -> None:
        origins = []
        for value in origin:
            try:
                origins.append(url(value).rstrip("/"))
            except Rule as rule:
                raise CommandError(f"--origin {value!r} {rule}") from None
        site = create_site(
            name=name,
            allowed_origins=origins,
            default=default,
            cookieless=not cookies,
            require_consent=require_consent,
        )
        key = site.rotate_server_key()
        self.stdout.write(f"site {site.name}\nsite id:    {site.site_id}\nserver key: {key}\n")
        visitors = "the tracker's cookie" if cookies else "a daily-rotated hash (cookieless)"
        self.stdout.write(f"visitors:   {visitors}{', after consent' if require_consent else ''}\n")
        self.stdout.write("Keep the server key secret; it is stored only as a hash and shown only now.\n")
