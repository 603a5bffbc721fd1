from django.urls import path

from events.api import logs_store, plausible, views

urlpatterns = [
    path("events/", views.EventCollection.as_view(), name="events"),
    path("events/<uuid:pk>/", views.EventDetail.as_view(), name="event-detail"),
    path("logs/", logs_store.LogCollection.as_view(), name="logs"),
    path("event", plausible.PlausibleEvent.as_view(), name="plausible-event"),  # Plausible's own path
]
