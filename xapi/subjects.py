"""A learner's xAPI statements and state documents, found and erased for a subject request.

An actor is this learner when its account name is their user name (any home page), or its mbox
(or the mbox's SHA-1) is their e-mail address: the mapping the README documents.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from xapi.models import StateDocument, Statement


def _agents(*, username: str, email: str) -> Q:
    wanted = Q(agent__startswith="account:", agent__endswith=f"|{username}")
    if email:
        mbox = f"mailto:{email}"
        wanted |= Q(agent=f"mbox:{mbox}") | Q(agent=f"mbox_sha1sum:{hashlib.sha1(mbox.encode()).hexdigest()}")
    return wanted


def learner_of(actor: Any) -> Any | None:
    """The user an Agent actor is, by the mapping above; None when it is no one (or not only one).

    An account maps by its name; an mbox by the address (case-insensitive, and only when exactly
    one user has it). An mbox_sha1sum or openid maps to no one: the LRS never reverses a hash.
    """
    if not isinstance(actor, dict) or actor.get("objectType", "Agent") != "Agent":
        return None
    users = get_user_model().objects.filter(is_active=True)
    account = actor.get("account")
    if isinstance(account, dict) and isinstance(account.get("name"), str):
        return users.filter(username=account["name"]).first()
    mbox = actor.get("mbox")
    if isinstance(mbox, str) and mbox.startswith("mailto:") and len(mbox) > len("mailto:"):
        found = list(users.filter(email__iexact=mbox.removeprefix("mailto:"))[:2])
        return found[0] if len(found) == 1 else None
    return None


def statements_of(*, username: str, email: str = "") -> list[dict[str, Any]]:
    """The learner's statements as stored (voided ones included), oldest first."""
    rows = Statement.objects.filter(_agents(username=username, email=email)).order_by("stored", "id")
    return [row.statement for row in rows]


def erase(*, username: str, email: str = "") -> int:
    """Delete the learner's statements and state documents; returns how many rows. Idempotent."""
    with transaction.atomic():
        statements = Statement.objects.filter(_agents(username=username, email=email)).delete()[0]
        documents = StateDocument.objects.filter(_agents(username=username, email=email)).delete()[0]
    return statements + documents
