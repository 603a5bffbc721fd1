"""Small input/output serializers of the events API (documentation and the read side)."""

from __future__ import annotations

from rest_framework import serializers

from events.models import Event


class EventSerializer(serializers.ModelSerializer):
    site: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="site_id", read_only=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "site",
            "source",
            "session_id",
            "visit_id",
            "visitor_id",
            "user",
            "category",
            "name",
            "event_name",
            "role",
            "url",
            "host",
            "path",
            "referrer",
            "title",
            "timestamp",
            "received_at",
            "data",
            "ip",
            "user_agent",
            "browser",
            "browser_version",
            "os",
            "os_version",
            "device",
            "device_type",
            "country",
            "country_name",
            "region",
            "city",
            "latitude",
            "longitude",
        ]
        read_only_fields = fields


class EventInSerializer(serializers.Serializer):
    """The Eye's event format (for the API description; validation is `events.validation`)."""

    session_id = serializers.CharField(max_length=128)
    category = serializers.CharField(help_text="page_interaction, form_interaction, or a custom one")
    name = serializers.CharField(help_text="page_view, cta_click, submit, or a custom one")
    data = serializers.JSONField(  # type: ignore[assignment]  # the field is named data, as the format says
        help_text="page_view: {host, path}; cta_click: {host, path, element}; submit: {host, path, form}"
    )
    timestamp = serializers.CharField(help_text="ISO 8601, or %Y-%m-%d %H:%M:%S.%f; naive means UTC")
    id = serializers.UUIDField(required=False, help_text="client event id; a resend with the same id is stored once")
    site_id = serializers.CharField(required=False)
    user = serializers.CharField(required=False)
    url = serializers.URLField(required=False)
    referrer = serializers.CharField(required=False)
    title = serializers.CharField(required=False)


class AcceptedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.UUIDField())


class FieldErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(required=False, allow_null=True)
    field = serializers.CharField()
    rule = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    detail = serializers.CharField()
    errors = FieldErrorSerializer(many=True)  # type: ignore[assignment]  # the body key is errors
