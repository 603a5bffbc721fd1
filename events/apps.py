from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events"

    def ready(self) -> None:
        # Connects the CORS receiver before the first request: a preflight reaches the CORS
        # middleware before any URLconf (and so any view module) has been imported.
        # Registers the Logs Store and Plausible event types, so `ingest.accept` knows them from any caller.
        from the_eye_client.sender import use_local_transport

        from events import (
            cors,  # noqa: F401
            logs_store,  # noqa: F401
            plausible,  # noqa: F401
        )
        from events.local_sending import local_transport

        # The host middleware (package the_eye_client) delivers collector "local" through this.
        use_local_transport(local_transport)
