"""Who a visitor is: the tracker's cookie id, or — for cookieless sites — a hash that changes daily.

The cookieless id is a keyed hash of (today's salt, site, IP, User-Agent). The salt is random per
UTC day and deleted once its day is over, so the same browser gets the same id all day and an
unrelated id tomorrow, and nobody can later rebuild an id from an IP address.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date

from django.db import IntegrityError, transaction

from events.models import DailySalt

_salts: dict[date, str] = {}


def salt_for(*, day: date) -> str:
    """The salt of a UTC day, made on first use; salts of earlier days are deleted then.

    Safe with several workers: if two create the same day's salt at once, the unique day makes
    one insert fail and both use the row that won.
    """
    salt = _salts.get(day)
    if salt is not None:
        return salt
    row = DailySalt.objects.filter(day=day).first()
    if row is None:
        try:
            with transaction.atomic():
                row = DailySalt.objects.create(day=day, salt=secrets.token_hex(32))
        except IntegrityError:
            row = DailySalt.objects.get(day=day)
        DailySalt.objects.filter(day__lt=day).delete()
    _salts.clear()  # keep only the current day in memory too
    _salts[day] = row.salt
    return row.salt


def hashed_visitor_id(*, salt: str, site_id: int, ip: str, user_agent: str) -> str:
    """A 20-hex-digit id for one browser on one site for one salt's day."""
    key = f"{site_id}\x1f{ip}\x1f{user_agent}".encode()
    return hashlib.blake2b(key, key=salt.encode()[:64], digest_size=10).hexdigest()
