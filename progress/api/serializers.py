"""The rules a heartbeat or a completion mark must meet, and the shapes the progress API returns.

A DRF `ValidationError` from here becomes a 400 listing `{field, rule}` (the_eye.api_errors).
Unknown fields are refused like in the events API, so a misspelt field never passes silently.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from progress.models import Progress, Video

REASONS = ["interval", "play", "pause", "seek", "ended", "hide"]


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanField(serializers.Field):
    """A JSON `true` or `false` only: the seed treated the string "false" as true."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            raise serializers.ValidationError("must be true or false")
        return data

    def to_representation(self, value: bool) -> bool:
        return bool(value)


class _Strict(serializers.Serializer):
    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"body": ["must be a JSON object"]})
        errors = {name: ["is not a known field"] for name in sorted(set(data) - set(self.fields))}
        try:
            clean = super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail if isinstance(error.detail, dict) else {"non_field_errors": error.detail}
            raise serializers.ValidationError({**errors, **detail}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return clean

    def _video(self, attrs: dict[str, Any]) -> Video:
        video = (
            Video.objects.select_related("tutorial__course")
            .filter(tutorial_id=attrs["tutorial"], language=attrs["language"])
            .first()
        )
        if video is None:
            raise serializers.ValidationError({"language": ["must be a language this tutorial has a video in"]})
        return video


class HeartbeatIn(_Strict):
    id = serializers.UUIDField(help_text="A new UUID per heartbeat; a resend with the same id changes nothing.")
    tutorial = serializers.IntegerField(min_value=1, max_value=2**31 - 1)  # what every database keeps
    language = serializers.CharField(max_length=35)
    position = serializers.FloatField(min_value=0, help_text="Playhead in seconds.")
    segments = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(min_value=0), min_length=2, max_length=2),
        max_length=200,
        default=list,
        help_text="[start, end] stretches in seconds played since the last heartbeat.",
    )
    duration = serializers.FloatField(min_value=0, required=False, help_text="Video length as the player saw it.")
    at = serializers.DateTimeField(required=False, help_text="When the player sent it (default: now).")
    reason = serializers.ChoiceField(choices=REASONS, default="interval")
    # The page's own tracker ids (theEye.ids()), so the heartbeat's event joins the page's visit.
    session_id = serializers.CharField(
        max_length=128, required=False, help_text="The tracker's session id on the watch page (optional)."
    )
    visitor_id = serializers.CharField(
        max_length=128, required=False, help_text="The tracker's visitor id on the watch page (optional)."
    )

    def validate_segments(self, value: list[list[float]]) -> list[list[float]]:
        if any(end < start for start, end in value):
            raise serializers.ValidationError("each segment must end at or after its start")
        limit = settings.PROGRESS_MAX_SECONDS_PER_HEARTBEAT
        if sum(end - start for start, end in value) > limit:
            raise serializers.ValidationError(f"must add up to at most {limit} seconds per heartbeat")
        return value

    def validate_at(self, value):
        if value > timezone.now() + timedelta(seconds=settings.EVENTS_MAX_FUTURE_SECONDS):
            raise serializers.ValidationError(
                f"must not be more than {settings.EVENTS_MAX_FUTURE_SECONDS} seconds in the future"
            )
        if value.year < 2000:
            raise serializers.ValidationError("must not be before the year 2000")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        video = self._video(attrs)
        # One second of slack: players report the end of a video a fraction past its length.
        limit = video.duration_seconds + 1
        if attrs["position"] > limit:
            raise serializers.ValidationError(
                {"position": [f"must be at most the video's length ({video.duration_seconds} s)"]}
            )
        if any(end > limit for _, end in attrs["segments"]):
            raise serializers.ValidationError(
                {"segments": [f"must end within the video's length ({video.duration_seconds} s)"]}
            )
        attrs["video"] = video
        attrs.setdefault("at", timezone.now())
        return attrs


class MarkIn(_Strict):
    tutorial = serializers.IntegerField(min_value=1, max_value=2**31 - 1)  # what every database keeps
    language = serializers.CharField(max_length=35)
    completed = StrictBooleanField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["video"] = self._video(attrs)
        return attrs


class StateOut(serializers.Serializer):
    completed = serializers.BooleanField()
    percent = serializers.IntegerField()
    resume_at = serializers.FloatField()


class ProgressOut(serializers.ModelSerializer):
    course: serializers.SlugRelatedField = serializers.SlugRelatedField(
        source="tutorial.course", slug_field="slug", read_only=True
    )
    tutorial_title = serializers.CharField(source="tutorial.title", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    resume_at = serializers.FloatField(read_only=True)

    class Meta:
        model = Progress
        fields = [
            "id",
            "course",
            "tutorial",
            "tutorial_title",
            "language",
            "completed",
            "completed_at",
            "completed_how",
            "percent",
            "watched",
            "watched_seconds",
            "duration_seconds",
            "resume_at",
            "visits",
            "started_at",
            "updated_at",
        ]
        read_only_fields = fields
