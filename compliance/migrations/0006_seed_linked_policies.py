"""The policies section 2 links with."""

from django.db import migrations

POLICIES = [
    "Anti-bullying policy",
    "Acceptable Use Policies (AUP)",
    "Behaviour for learning and conduct policy",
    "Child protection policy",
    "Code of conduct policy",
    "Curriculum policies (teaching and learning, PSHE, relationships and health education)",
    "Data protection policy",
    "Social media policy",
    "Allegations against staff policy",
    "Remote learning policy",
    "Image use policy",
    "Complaints procedure",
    "Whistleblowing procedure",
]


def seed(apps, schema_editor):
    LinkedPolicy = apps.get_model("compliance", "LinkedPolicy")
    for name in POLICIES:
        LinkedPolicy.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0005_linked_policies_action_plan")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
