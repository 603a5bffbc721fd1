from django.urls import path

from events.api import views

urlpatterns = [
    path("events/", views.EventCollection.as_view(), name="events"),
    path("events/<uuid:pk>/", views.EventDetail.as_view(), name="event-detail"),
]
