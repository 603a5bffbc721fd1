from django.urls import path

from progress.api import views

urlpatterns = [
    path("progress/", views.MyProgressList.as_view(), name="progress-list"),
    path("progress/<int:pk>/", views.MyProgressDetail.as_view(), name="progress-detail"),
    path("progress/heartbeat/", views.HeartbeatView.as_view(), name="progress-heartbeat"),
    path("progress/mark/", views.MarkView.as_view(), name="progress-mark"),
]
