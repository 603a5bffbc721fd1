"""Site-wide pages: the home page, the log-in page and the health check."""

from __future__ import annotations

import django_rq
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from redis.exceptions import RedisError

from dashboard.views import home_url_for
from events.jobs import QUEUE
from events.models import Site
from the_eye import queues


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
            # Only workers heard from lately: a killed worker stays registered for a while.
            "workers": queues.live_workers(queue=queue),
        }
    except RedisError as error:
        return {"ok": False, "queue": QUEUE, "error": str(error)}


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database and the queue answer, 503 when either is down.

    Anyone (a load balancer, a container check) learns only `up` or `down`; staff also see the
    database, the queue's depth, failed jobs and live workers.
    """
    database, queue = _database_state(), _queue_state()
    healthy = database["ok"] and queue["ok"]
    body: dict = {"status": "up" if healthy else "down"}
    if _is_staff(request):
        body |= {"database": database, "queue": queue}
    return JsonResponse(body, status=200 if healthy else 503)


def _is_staff(request: HttpRequest) -> bool:
    try:
        return bool(request.user.is_staff)
    except Exception:  # noqa: BLE001 - the session store (the database) may be the part that is down
        return False
