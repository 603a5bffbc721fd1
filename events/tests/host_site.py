"""A small host site for the middleware's tests: the kind of views Spoken Tutorial serves.

Its URLconf also includes The Eye's own URLs, because in the tests one process is both the host
(Django's test client) and the collector (`live_server`), and they share `ROOT_URLCONF`.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path, re_path, register_converter
from django.views import View


def watch(request: HttpRequest, foss: str, tutorial: str, language: str) -> HttpResponse:
    return HttpResponse(f"watching {foss} / {tutorial} in {language}")


def archive(request: HttpRequest, year: str, month: str) -> HttpResponse:
    return HttpResponse(f"archive {year}-{month}")


def signup(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return HttpResponse(f"welcome {request.POST.get('username', '')}", status=201)
    return HttpResponse("sign up")


def profile_api(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body or b"{}")
    return JsonResponse({"saved": sorted(body)}, status=200)


def upload(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"got {len(request.FILES)} files")


class CourseList(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("BASH, Python, Scilab")


def reset_password(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    return HttpResponse("choose a new password")


class Unprintable:
    """What a buggy path converter might hand a view: an object that cannot be shown."""

    def __str__(self) -> str:
        raise RuntimeError("this object cannot be shown")

    __repr__ = __str__


class UnprintableConverter:
    regex = "[a-z]+"

    def to_python(self, value: str) -> Unprintable:
        return Unprintable()

    def to_url(self, value: object) -> str:
        return "x"


register_converter(UnprintableConverter, "unprintable")


def odd(request: HttpRequest, thing: Unprintable) -> HttpResponse:
    return HttpResponse("odd but fine")


urlpatterns = [
    path("watch/<str:foss>/<str:tutorial>/<str:language>/", watch, name="watch"),
    re_path(r"^archive/(\d{4})/(\d{2})/$", archive, name="archive"),
    path("accounts/signup/", signup, name="signup"),
    path("accounts/reset/<uidb64>/<token>/", reset_password, name="password_reset_confirm"),
    path("profile/api/", profile_api, name="profile-api"),
    path("upload/", upload, name="upload"),
    path("courses/", CourseList.as_view(), name="courses"),
    path("odd/<unprintable:thing>/", odd, name="odd"),
    path("", include("the_eye.urls")),
]
