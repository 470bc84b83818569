"""Exemptions made before review dates were asked for are reviewed at their end, which is
what the request page said then ("ask again at its review"). Their reason kind stays blank:
nobody chose one, and the pages say "not recorded" rather than guess."""

from django.db import migrations, models


def review_at_the_end(apps, schema_editor):
    Exemption = apps.get_model("devices", "Exemption")
    Exemption.objects.filter(review_on__isnull=True).update(review_on=models.F("ends"))


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0004_register_exceptions_and_exemption_reasons"),
    ]

    operations = [
        migrations.RunPython(review_at_the_end, migrations.RunPython.noop),
    ]
