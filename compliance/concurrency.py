"""No lost updates: a save based on a stale copy of a record is refused.

Records people edit carry a `version`. A form carries the version it was read at; the
save locks the row, compares, and writes only if nobody saved in between, bumping the
version. Two people saving the same record at once: exactly one wins, the other sees
both versions and decides.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import Model


class StaleEdit(Exception):
    """Someone saved the record after this copy was read."""

    def __init__(self, current: Model):
        super().__init__(f"{current._meta.verbose_name} was changed by someone else.")
        self.current = current


def save_if_current(*, instance: Model, expected_version: int, write: Callable[[], Model]) -> Model:
    """Run `write` (which saves `instance`) only if the stored version is still the expected one."""
    model = type(instance)
    with transaction.atomic():
        current = model.objects.select_for_update().get(pk=instance.pk)
        if current.version != expected_version:
            raise StaleEdit(current)
        instance.version = expected_version + 1
        return write()
