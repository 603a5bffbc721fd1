"""A learner's own data: download everything held about them, or have it erased."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from events.erasure import Subject
from privacy import requests

SELF = "the subject"


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    subject = Subject(kind="user", value=request.user.get_username())
    response = HttpResponse(requests.export_archive(subject=subject, requested_by=SELF), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="my-learning-data.zip"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def erase_me(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        return render(request, "privacy/erase_me.html", {"asked": request.method == "POST"})
    subject = Subject(kind="user", value=request.user.get_username())
    record = requests.request_erasure(subject=subject, requested_by=SELF)
    return render(request, "privacy/erasure_requested.html", {"record": record}, status=202)
