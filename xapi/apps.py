from django.apps import AppConfig


class XapiConfig(AppConfig):
    name = "xapi"
    verbose_name = "xAPI learning record store"

    def ready(self) -> None:
        # Registers the event type statements become, before any statement is stored.
        from xapi import statements  # noqa: F401
