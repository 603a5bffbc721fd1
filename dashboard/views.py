"""Dashboard pages: parse the scope, build one page, render it (or export one of its tables).

Access: staff see every page; members of the "Content team" group see the Courses page only (and
`/dashboard/` takes them there); anyone else signed in gets 403, and anonymous visitors are sent to
the login page.
"""

from __future__ import annotations

from dataclasses import asdict

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from dashboard import choices, exports, pages
from dashboard.scope import GRAINS, PERIOD_LABELS, ScopeError, parse_scope
from events.models import Site
from rollups import definitions

CONTENT_TEAM = "Content team"


def _pages_for_user(user) -> tuple[str, ...]:
    """The dashboard pages this user may open (empty: none)."""
    if not user.is_authenticated or not user.is_active:
        return ()
    if user.is_staff:
        return tuple(pages.PAGES)
    if user.groups.filter(name=CONTENT_TEAM).exists():
        return pages.CONTENT_TEAM_PAGES
    return ()


def home_url_for(user) -> str | None:
    """The first dashboard page this user may open (staff: the overview), or None."""
    allowed = _pages_for_user(user)
    if not allowed:
        return None
    return "/dashboard/" if allowed[0] == "overview" else f"/dashboard/{allowed[0]}/"


@never_cache
def page(request: HttpRequest, name: str) -> HttpResponse:
    if name not in pages.PAGES:
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    allowed = _pages_for_user(request.user)
    if name not in allowed:
        raise PermissionDenied("Your account may not open this dashboard.")
    try:
        scope = parse_scope(params=request.GET)
    except ScopeError as error:
        return render(request, "dashboard/error.html", {"error": error}, status=400)
    fmt = request.GET.get("export", "")
    options = pages.Options(
        rows=exports.MAX_ROWS if fmt else None,
        visitor=request.GET.get("visitor", ""),
        tutorial=request.GET.get("tutorial", ""),
    )
    built = pages.BUILDERS[name](scope, options)
    if fmt:
        table = built.table(request.GET.get("table", ""))
        if fmt not in exports.FORMATS or table is None:
            return render(
                request, "dashboard/error.html", {"error": ScopeError("export", "unknown format or table")}, status=400
            )
        return exports.table_response(table=table, fmt=fmt, page=name, scope=scope)
    if name == "realtime" and request.GET.get("format") == "json":
        return JsonResponse(
            {
                "cards": [asdict(c) for c in built.cards],
                "note": built.note,
                "table": asdict(built.tables[0]),
                "figure": built.figures[0],
            }
        )
    return render(
        request,
        "dashboard/page.html",
        {
            "page": built,
            "name": name,
            "title": pages.PAGES[name],
            "nav": [(key, pages.PAGES[key]) for key in allowed],
            "scope": scope,
            "sites": Site.objects.order_by("name"),
            "periods": [
                (key, label, scope.query(period=key, **{"from": None, "to": None}))
                for key, label in PERIOD_LABELS.items()
            ],
            "grains": GRAINS,
            "filter_names": [(f, f.replace("_", " ").title()) for f in definitions.filter_names()],
            "choosers": choices.filter_choosers(scope=scope),
            "tables": [
                (t, _export_query(request, t.key, "csv"), _export_query(request, t.key, "tsv")) for t in built.tables
            ],
        },
    )


def _export_query(request: HttpRequest, table: str, fmt: str) -> str:
    params = request.GET.copy()
    params["export"], params["table"] = fmt, table
    return "?" + params.urlencode()


def index(request: HttpRequest) -> HttpResponse:
    """`/dashboard/` is the overview; users who may not see it go to the first page they may see."""
    home = home_url_for(request.user) if request.user.is_authenticated else None
    if home and home != "/dashboard/":
        query = request.GET.urlencode()
        return redirect(home + (f"?{query}" if query else ""))
    return page(request, "overview")
