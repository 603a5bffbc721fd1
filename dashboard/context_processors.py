"""Template context for every page: where the signed-in user's dashboards are, if anywhere."""

from __future__ import annotations

from django.http import HttpRequest

from dashboard.views import home_url_for


def dashboards(request: HttpRequest) -> dict:
    """`dashboard_home`: the first dashboard this user may open, or "" (checked only when shown)."""

    def home() -> str:
        # Pages answered before authentication ran (a 400 from the_eye.guards) have no user.
        user = getattr(request, "user", None)
        return (home_url_for(user) or "") if user is not None else ""

    return {"dashboard_home": home}
