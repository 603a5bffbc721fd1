"""Top-level URLs. Each app owns its own `urls.py`; API routes live under /api/."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

import the_eye.schema  # noqa: F401 (registers the schema's extensions)
from dashboard import api as stats_api
from the_eye import views

handler404 = "the_eye.api_errors.json_404"
handler500 = "the_eye.api_errors.json_500"

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("admin/", admin.site.urls),
    path("django-rq/", include("django_rq.urls")),
    path("api/", include("events.api.urls")),
    path("api/", include("progress.api.urls")),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("api/stats/", stats_api.StatsView.as_view(), name="stats"),
    path("xapi/", include("xapi.urls")),
    path("", include("progress.urls")),
    path("", include("privacy.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
