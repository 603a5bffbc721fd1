from django.urls import path

from xapi import views

urlpatterns = [
    path("about", views.About.as_view(), name="xapi-about"),
    path("statements", views.Statements.as_view(), name="xapi-statements"),
    path("activities/state", views.State.as_view(), name="xapi-state"),
]
