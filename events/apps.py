from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events"

    def ready(self) -> None:
        # Connects the CORS receiver before the first request: a preflight reaches the CORS
        # middleware before any URLconf (and so any view module) has been imported.
        from events import cors  # noqa: F401
