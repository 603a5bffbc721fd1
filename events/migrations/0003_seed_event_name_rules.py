"""The seed's one URL pattern with named parts: a tutorial's watch page."""

from django.db import migrations

WATCH = r"^/watch/(?P<foss>[^/]+)/(?P<tutorial>[^/]+)/(?P<language>[^/]+)/?$"


def add_watch_rule(apps, schema_editor):
    EventNameRule = apps.get_model("events", "EventNameRule")
    EventNameRule.objects.get_or_create(
        site=None, pattern=WATCH, defaults={"position": 10, "event_name": "event.video.watch"}
    )


def remove_watch_rule(apps, schema_editor):
    apps.get_model("events", "EventNameRule").objects.filter(site=None, pattern=WATCH).delete()


class Migration(migrations.Migration):
    dependencies = [("events", "0002_enrichment_visitors_sessions_names")]

    operations = [migrations.RunPython(add_watch_rule, remove_watch_rule)]
