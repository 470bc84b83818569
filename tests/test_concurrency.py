"""No lost updates: a save based on a stale copy is refused and both versions are shown."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from compliance.concurrency import StaleEdit, save_if_current
from compliance.models import Learner
from tests import factories


def _learner_post(learner, **changes):
    data = {
        "first_name": learner.first_name,
        "last_name": learner.last_name,
        "date_of_birth": learner.date_of_birth.isoformat(),
        "year_group": learner.year_group,
        "form_class": learner.form_class_id,
        "mis_id": learner.mis_id,
        "joined": learner.joined.isoformat(),
        "left": "",
        "version": learner.version,
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_a_stale_save_is_refused_with_both_versions(client, office, dsl, community):
    learner = community["learner"]
    url = reverse("compliance:learner_edit", args=[learner.pk])
    stale = _learner_post(learner, last_name="Typed-By-Office")

    client.force_login(dsl)
    first = client.post(url, _learner_post(learner, last_name="Saved-By-DSL"))
    assert first.status_code == 302

    client.force_login(office)
    response = client.post(url, stale)
    assert response.status_code == 409
    page = response.content.decode()
    assert "not saved" in page.lower()
    assert "Typed-By-Office" in page
    assert "Saved-By-DSL" in page
    assert "Alice Hawksley" in page  # who saved the version that won
    learner.refresh_from_db()
    assert learner.last_name == "Saved-By-DSL"
    assert learner.version == 2


@pytest.mark.django_db
def test_the_version_is_not_news_in_history(client, dsl, community):
    learner = community["learner"]
    client.force_login(dsl)
    client.post(
        reverse("compliance:learner_edit", args=[learner.pk]),
        _learner_post(learner, last_name="Renamed"),
    )
    page = client.get(reverse("compliance:history", args=["learner", learner.pk])).content.decode()
    assert "Renamed" in page
    assert "<td>Version</td>" not in page


@pytest.mark.django_db(transaction=True)
def test_a_thousand_concurrent_double_saves_lose_none():
    """Two people save the same record at the same moment, a thousand times over."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; CI runs this suite on PostgreSQL too")
    rounds = 1000
    learner = factories.LearnerFactory(first_name="Start")
    history_before = learner.history.count()
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[list[str]] = [[] for _ in range(rounds)]
    winners: list[str] = [""] * rounds
    errors: list[BaseException] = []

    def worker(tag: str) -> None:
        try:
            for i in range(rounds):
                copy = Learner.objects.get(pk=learner.pk)
                copy.first_name = f"{tag}{i}"
                barrier.wait()  # both have read the same version
                try:
                    save_if_current(instance=copy, expected_version=copy.version, write=copy.save)
                    outcomes[i].append("saved")
                    winners[i] = copy.first_name
                except StaleEdit:
                    outcomes[i].append("stale")
                barrier.wait()  # both are done before the next round reads
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(tag,)) for tag in "AB"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors
    assert all(sorted(pair) == ["saved", "stale"] for pair in outcomes)
    learner.refresh_from_db()
    assert learner.version == 1 + rounds
    assert learner.first_name == winners[-1]
    assert learner.history.count() == history_before + rounds
