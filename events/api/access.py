"""Who may use a collecting endpoint: anyone may send (POST), only staff may read (GET)."""

from __future__ import annotations

from rest_framework import permissions

from the_eye.throttles import CollectingByAddress


class OpenToSendersMixin:
    """For DRF views whose POST collects events and whose GET reads them back.

    Sending needs no login — and so no CSRF check — because trackers post from other origins and
    servers post with a site key; reading keeps the project's default (staff only).
    `request` is None while the API schema is generated, hence the getattr.
    """

    def get_authenticators(self):
        if getattr(self.request, "method", None) == "POST":
            return []
        return super().get_authenticators()

    def get_throttles(self):
        # Collecting is limited per client address here, and per site once the door knows it.
        if getattr(self.request, "method", None) == "POST":
            return [CollectingByAddress()]
        return super().get_throttles()

    def get_permissions(self):
        if getattr(self.request, "method", None) in ("POST", "OPTIONS"):
            return [permissions.AllowAny()]
        return super().get_permissions()
