"""Query filters of `GET /api/events/` (django-filter)."""

from __future__ import annotations

from datetime import date, datetime

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from events.models import Event
from events.validation import Rule, day_bounds, normalise_key, query_moment
from rollups.definitions import Role


class MomentField(forms.CharField):
    """A date (`2024-02-01`) or an ISO 8601 date-time; naive means UTC."""

    def clean(self, value: str | None) -> datetime | date | None:
        value = super().clean(value)
        if not value:
            return None
        try:
            return query_moment(value)
        except Rule as rule:
            raise forms.ValidationError(str(rule), code="invalid") from None


class MomentFilter(django_filters.Filter):
    """A bound on `timestamp`. A date-only end bound includes that whole day."""

    field_class = MomentField

    def __init__(self, *, bound: str, **kwargs):
        super().__init__(field_name="timestamp", **kwargs)
        self.bound = bound

    def filter(self, qs: QuerySet, value: datetime | date | None) -> QuerySet:
        if value is None:
            return qs
        if isinstance(value, datetime):
            return qs.filter(timestamp__gte=value) if self.bound == "start" else qs.filter(timestamp__lte=value)
        midnight, next_midnight = day_bounds(value)
        if self.bound == "start":
            return qs.filter(timestamp__gte=midnight)
        return qs.filter(timestamp__lt=next_midnight)


class EventTypeKeyFilter(django_filters.CharFilter):
    """A category or name, spelt any way validation accepts ("page interaction", "pageview")."""

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if not value:
            return qs
        # Built-in names are stored in their registered spelling, custom ones exactly as sent.
        return qs.filter(Q(**{self.field_name: value}) | Q(**{self.field_name: normalise_key(value)}))


class EventFilter(django_filters.FilterSet):
    session_id = django_filters.CharFilter(help_text="the session id the client sent (every visit of it)")
    visit_id = django_filters.CharFilter(help_text="one visit, as the worker placed events in visits")
    visitor_id = django_filters.CharFilter()
    role = django_filters.ChoiceFilter(choices=Role.choices, help_text="how the event counts")
    category = EventTypeKeyFilter(help_text="e.g. page_interaction (spaced spelling accepted)")
    name = EventTypeKeyFilter(help_text="e.g. page_view (pageview and page view accepted)")
    user = django_filters.CharFilter()
    path = django_filters.CharFilter()
    site = django_filters.CharFilter(field_name="site__site_id", label="public site id")
    start_time = MomentFilter(bound="start", label="from (date or date-time, inclusive)")
    end_time = MomentFilter(bound="end", label="to (date-time inclusive; a date includes that day)")

    class Meta:
        model = Event
        fields = [
            "session_id",
            "visit_id",
            "visitor_id",
            "role",
            "category",
            "name",
            "user",
            "path",
            "site",
            "start_time",
            "end_time",
        ]
