"""When each person was added to an incident, kept on the row (the incident page read it from
the history table with a subquery on every view). Rows already there take the date of their
first history row (none: empty); history rows are append-only (compliance.audit_db) and are
left empty. Undone, the column goes from history rows written since as well: the date is
still their first history row's `history_date`."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def added_from_history(apps, schema_editor):
    Involvement = apps.get_model("incidents", "Involvement")
    HistoricalInvolvement = apps.get_model("incidents", "HistoricalInvolvement")
    created = (
        HistoricalInvolvement.objects.filter(id=OuterRef("pk"), history_type="+")
        .order_by("history_date", "history_id")
        .values("history_date")[:1]
    )
    Involvement.objects.update(added_at=Subquery(created))


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0004_low_level_concerns_and_4cs_categories"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalinvolvement",
            name="added_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="involvement",
            name="added_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False, null=True
            ),
        ),
        migrations.RunPython(added_from_history, migrations.RunPython.noop),
        # the history rows' default only now, so that adding the column gave the rows already
        # there no date (a change of default alone changes nothing in the database)
        migrations.AlterField(
            model_name="historicalinvolvement",
            name="added_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False, null=True
            ),
        ),
    ]
