from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "progress"
    verbose_name = "Learner progress"

    def ready(self) -> None:
        # The events registry must know the video event types before any heartbeat is accepted.
        from progress import paths, video_events

        video_events.register()
        paths.register()
