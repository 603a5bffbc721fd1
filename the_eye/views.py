"""Site-wide pages: the home page, the log-in page and the health check."""

from __future__ import annotations

import django_rq
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from redis.exceptions import RedisError
from rq import Worker

from dashboard.views import home_url_for
from events.jobs import QUEUE
from events.models import Site


class LoginView(auth_views.LoginView):
    """Django's log-in page; without a `next`, staff and the content team land on their dashboards."""

    def get_default_redirect_url(self) -> str:
        return home_url_for(self.request.user) or super().get_default_redirect_url()


def home(request: HttpRequest) -> HttpResponse:
    context = {}
    site = Site.objects.default() if request.user.is_staff else None
    if site is not None:
        context = {"default_site": site, "tracker_tag": site.tracker_tag(collector=request.build_absolute_uri("/"))}
    return render(request, "home.html", context)


def _database_state() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except Exception as error:  # any driver error means "down"; report it, don't raise
        return {"ok": False, "vendor": connection.vendor, "error": str(error)}


def _queue_state() -> dict:
    try:
        queue = django_rq.get_queue(QUEUE)
        queue.connection.ping()
        return {
            "ok": True,
            "queue": QUEUE,
            "depth": queue.count,
            "failed_jobs": queue.failed_job_registry.count,
            "workers": Worker.count(queue=queue),
        }
    except RedisError as error:
        return {"ok": False, "queue": QUEUE, "error": str(error)}


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database and the queue answer, 503 when either is down."""
    database, queue = _database_state(), _queue_state()
    healthy = database["ok"] and queue["ok"]
    return JsonResponse(
        {"status": "ok" if healthy else "down", "database": database, "queue": queue},
        status=200 if healthy else 503,
    )
