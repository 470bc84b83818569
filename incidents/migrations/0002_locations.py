"""Places on and off site; the restricted areas of section 3 marked."""

from django.db import migrations

LOCATIONS = {
    "Classroom": True,
    "Playground": True,
    "Lunch hall": True,
    "Corridor": True,
    "Toilets": True,
    "Changing rooms": True,
    "School trip or visit": True,
    "After-school club": True,
    "Staff room": False,
    "School office": False,
    "Car park or school gate": False,
    "Online, off site": False,
    "Other": False,
}


def seed(apps, schema_editor):
    Location = apps.get_model("incidents", "Location")
    for name, restricted in LOCATIONS.items():
        Location.objects.get_or_create(name=name, defaults={"restricted": restricted})


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
