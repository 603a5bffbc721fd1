"""`{% the_eye_tracker %}`: the default site's tracker tag, for The Eye's own pages.

We use our own product: the learner pages carry the same tag a host site would, served from our
static files, so their page views, visits, places and devices are counted like anyone's.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from events.models import Site

register = template.Library()


@register.simple_tag
def the_eye_tracker() -> SafeString:
    """The tag for the default site (nothing when there is none); loads tracker.js from this server."""
    site = Site.objects.default()
    if site is None:
        return mark_safe("")
    # The tag holds only the generated public site id and fixed attributes: nothing to escape.
    return mark_safe(site.tracker_tag(collector=""))  # noqa: S308
