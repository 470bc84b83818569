"""Seed the kinds of device section 1 of the policy names, with what each can do."""

from django.db import migrations

# name: (communicate, record images, record sound)
CATEGORIES = {
    "Mobile phone": (True, True, True),
    "Tablet": (True, True, True),
    "E-reader": (True, False, False),
    "Games console": (True, True, True),
    "Smart watch": (True, True, True),
    "Fitness tracker": (True, False, False),
    "Other wearable": (True, True, True),
}


def seed(apps, schema_editor):
    DeviceCategory = apps.get_model("devices", "DeviceCategory")
    for name, (communicate, images, sound) in CATEGORIES.items():
        DeviceCategory.objects.get_or_create(
            name=name,
            defaults={
                "can_communicate": communicate,
                "can_record_images": images,
                "can_record_sound": sound,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("devices", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
