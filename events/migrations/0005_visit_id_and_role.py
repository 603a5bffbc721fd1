"""Keep the client's session id on every event as sent; the derived visit gets its own column.

Before: an event of a visit split from a reused client id carried `<id>~<unix start>` in
`session_id`. After: `visit_id` holds that, `session_id` the client's id again. Sessions rename
their columns to match (`session_id` → `visit_id`, `client_session_id` → `session_id`).
Also stores each event's role (page view, engagement, interaction, passive) from the one
definition in `rollups.definitions`.
"""

from django.db import migrations, models

from rollups.definitions import Role, role_of


def forwards(apps, schema_editor):
    Event = apps.get_model("events", "Event")
    Session = apps.get_model("events", "Session")
    Event.objects.update(visit_id=models.F("session_id"))
    for site_id, visit_id, client_id in (
        Session.objects.exclude(session_id=models.F("client_session_id"))
        .values_list("site_id", "session_id", "client_session_id")
        .iterator()
    ):
        Event.objects.filter(site_id=site_id, visit_id=visit_id).update(session_id=client_id)
    Event.objects.filter(category="page_interaction", name="page_view").update(role=Role.PAGE_VIEW)
    Event.objects.filter(category="page_interaction", name="engagement").update(role=Role.ENGAGEMENT)
    servers = Event.objects.filter(category="server", name="request")
    for pk, category, name, data in servers.values_list("pk", "category", "name", "data").iterator():
        role = role_of(category=category, name=name, data=data if isinstance(data, dict) else {})
        Event.objects.filter(pk=pk).update(role=role)
    Event.objects.filter(role="").update(role=Role.INTERACTION)


def backwards(apps, schema_editor):
    Event = apps.get_model("events", "Event")
    Event.objects.update(session_id=models.F("visit_id"))


class Migration(migrations.Migration):
    dependencies = [("events", "0004_session_visitor_index")]

    operations = [
        migrations.AddField(
            model_name="event",
            name="visit_id",
            field=models.CharField(blank=True, max_length=128),
        ),
        migrations.AddField(
            model_name="event",
            name="role",
            field=models.CharField(
                blank=True,
                choices=[
                    ("page_view", "page view"),
                    ("engagement", "engagement report"),
                    ("interaction", "interaction"),
                    ("passive", "passive"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveConstraint(model_name="session", name="session_unique_per_site"),
        migrations.RemoveIndex(model_name="session", name="session_client_id"),
        migrations.RenameField(model_name="session", old_name="session_id", new_name="visit_id"),
        migrations.RenameField(model_name="session", old_name="client_session_id", new_name="session_id"),
        migrations.AddConstraint(
            model_name="session",
            constraint=models.UniqueConstraint(fields=("site", "visit_id"), name="session_unique_per_site"),
        ),
        migrations.AddIndex(
            model_name="session",
            index=models.Index(fields=["site", "session_id"], name="session_client_id"),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["site", "visit_id"], name="event_site_visit"),
        ),
    ]
