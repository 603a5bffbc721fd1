"""`manage.py geoip_info [IP …]`: which GeoIP database is in use, how old it is, and a lookup."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from events import geo

SAMPLES = ["49.36.0.1", "81.2.69.142"]


class Command(BaseCommand):
    help = "Print the GeoIP database in use, its build date and sample lookups."

    def add_arguments(self, parser) -> None:
        parser.add_argument("ips", nargs="*", help=f"addresses to look up (default: {' '.join(SAMPLES)})")

    def handle(self, *args, ips: list[str], **options) -> None:
        metadata = geo.reader().metadata()
        self.stdout.write(f"database:   {geo.database_path()}")
        self.stdout.write(f"type:       {metadata.database_type}")
        self.stdout.write(f"built:      {geo.build_date():%Y-%m-%d}")
        self.stdout.write(
            "attribution: This product includes GeoLite2 data created by MaxMind, available from "
            "https://www.maxmind.com (or the DB-IP attribution, if GEOIP_PATH names a DB-IP file)."
        )
        for ip in ips or SAMPLES:
            place = geo.locate(ip=ip)
            if place == geo.NOWHERE:
                self.stdout.write(f"{ip:<16} → no location (private, reserved or not in the database)")
                continue
            where = ", ".join(p for p in (place.city, place.region, place.country_name) if p)
            self.stdout.write(f"{ip:<16} → {where} [{place.country}] ({place.latitude}, {place.longitude})")
