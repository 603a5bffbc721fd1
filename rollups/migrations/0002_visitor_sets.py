"""Visitor sets as roaring bitmaps of dense visitor numbers, converted from the per-row tables.

The old tables held one row per (day, visitor) and per (day, page hash, visitor). Their members
move into `DailyVisitorSet` under numbers handed out here; page hashes are matched back to their
page, course or tutorial language through the `DailyMetric` values that name them. Rollups of
days whose raw events were purged survive only here, so they are converted, not rebuilt.
"""

import hashlib
from collections import defaultdict

import django.db.models.deletion
from django.db import migrations, models
from pyroaring import BitMap


def _hash64(text):
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def convert(apps, schema_editor):
    DailyVisitor = apps.get_model("rollups", "DailyVisitor")
    DailyPageVisitor = apps.get_model("rollups", "DailyPageVisitor")
    DailyMetric = apps.get_model("rollups", "DailyMetric")
    DailyVisitorSet = apps.get_model("rollups", "DailyVisitorSet")
    VisitorNumber = apps.get_model("rollups", "VisitorNumber")
    sites = set(DailyVisitor.objects.values_list("site_id", flat=True).distinct())
    sites |= set(DailyPageVisitor.objects.values_list("site_id", flat=True).distinct())
    for site in sorted(sites):
        numbers = {}

        def number(visitor, site=site, numbers=numbers):
            if visitor not in numbers:
                numbers[visitor] = VisitorNumber.objects.create(site_id=site, visitor=visitor).id
            return numbers[visitor]

        sets = defaultdict(BitMap)
        for day, visitor in (
            DailyVisitor.objects.filter(site_id=site).order_by("day", "visitor").values_list("day", "visitor")
        ):
            sets[(day, "total", "")].add(number(visitor))
        names = {}
        for dimension, value in (
            DailyMetric.objects.filter(site_id=site, dimension__in=["page", "course", "tutorial_language"])
            .values_list("dimension", "value")
            .distinct()
        ):
            names[_hash64(value if dimension == "page" else f"{dimension}:{value}")] = (dimension, value)
        for day, page, visitor in (
            DailyPageVisitor.objects.filter(site_id=site)
            .order_by("day", "visitor")
            .values_list("day", "page", "visitor")
        ):
            if page in names:
                sets[(day, *names[page])].add(number(visitor))
        rows = []
        for (day, dimension, value), bitmap in sorted(sets.items()):
            bitmap.run_optimize()
            rows.append(
                DailyVisitorSet(
                    site_id=site,
                    day=day,
                    dimension=dimension,
                    value=value,
                    visitors=len(bitmap),
                    members=bitmap.serialize(),
                )
            )
        DailyVisitorSet.objects.bulk_create(rows, batch_size=200)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_session_visitor_index"),
        ("rollups", "0001_daily_rollups"),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyVisitorSet",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("dimension", models.CharField(max_length=32)),
                ("day", models.DateField()),
                ("value", models.CharField(blank=True, max_length=2048)),
                ("visitors", models.BigIntegerField(default=0)),
                (
                    "members",
                    models.BinaryField(
                        help_text="portable serialisation of a 32-bit roaring bitmap of visitor numbers"
                    ),
                ),
                (
                    "site",
                    models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="events.site"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("site", "dimension", "day", "value"), name="dailyvisitorset_key")
                ],
            },
        ),
        migrations.CreateModel(
            name="VisitorNumber",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("visitor", models.BigIntegerField()),
                (
                    "site",
                    models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="events.site"
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("site", "visitor"), name="visitornumber_key")],
            },
        ),
        migrations.RunPython(convert, migrations.RunPython.noop),
        migrations.DeleteModel(name="DailyPageVisitor"),
        migrations.DeleteModel(name="DailyVisitor"),
    ]
