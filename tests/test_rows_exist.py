"""compliance.selectors.rows_exist: the one query the incident page and the chronology ask
first, to read nothing of the kinds of record there are none of (issue 8); has_rows, the
same EXISTS as an annotation."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.models import Learner
from compliance.selectors import has_rows, rows_exist
from devices.models import Agreement, HandIn, HandInException
from tests import factories


def test_each_check_says_whether_a_row_matches_in_one_query(db, teacher):
    learner, other = factories.LearnerFactory(), factories.LearnerFactory()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    HandIn.objects.create(learner=learner, day=yesterday, received_by=teacher)
    HandIn.objects.create(
        learner=other,
        day=yesterday,
        received_by=teacher,
        collected_at=timezone.now(),
        collected_by="learner",
        released_by=teacher,
    )
    checks = [
        (HandIn, {"learner": learner.pk}),
        (HandIn, {"learner": other.pk, "collected_at__isnull": True}),
        (HandIn, {"learner": other.pk, "collected_at__isnull": False}),
        (HandIn, {"learner": learner.pk, "day__lt": yesterday}),
        (HandIn, {"learner": learner.pk, "day__lt": timezone.localdate()}),
        (HandInException, {"learner": learner.pk}),
    ]
    with CaptureQueriesContext(connection) as ctx:
        found = rows_exist(checks)
    assert found == [True, False, True, False, True, False]
    assert len(ctx.captured_queries) == 1


def test_values_are_parameters_not_sql(db):
    learner = factories.LearnerFactory(first_name="Amira")
    # a value that would be SQL if it were pasted in is only a value that matches nothing
    assert rows_exist([(Learner, {"first_name": "x' OR '1'='1"})]) == [False]
    assert rows_exist([(Learner, {"first_name": "Amira", "left__isnull": True})]) == [True]
    assert rows_exist([(HandIn, {"learner": learner.pk})]) == [False]


def test_no_checks_ask_nothing(db):
    with CaptureQueriesContext(connection) as ctx:
        assert rows_exist([]) == []
    assert not ctx.captured_queries


# has_rows: the same EXISTS, as an annotation on the row it points to ----------------------


def test_has_rows_says_for_each_row_whether_it_has_matching_rows(db, teacher):
    today = timezone.localdate()
    kept_back, seen, neither = (factories.LearnerFactory() for _ in range(3))
    HandInException.objects.create(
        learner=kept_back,
        day=today,
        kind="not_handed_in",
        recorded_by=teacher,
        approach="hand_in_teacher",
    )
    HandInException.objects.create(
        learner=seen,
        day=today - datetime.timedelta(days=1),
        kind="seen_or_used",
        recorded_by=teacher,
        approach="hand_in_teacher",
    )
    learners = Learner.objects.filter(pk__in=[kept_back.pk, seen.pk, neither.pk])
    raw = dict(
        learners.annotate(found=has_rows(HandInException, "learner", day=today)).values_list(
            "pk", "found"
        )
    )
    orm = dict(
        learners.annotate(
            found=Exists(HandInException.objects.filter(learner=OuterRef("pk"), day=today))
        ).values_list("pk", "found")
    )
    assert raw == orm == {kept_back.pk: True, seen.pk: False, neither.pk: False}
    earlier = has_rows(HandInException, "learner", day__lt=today)
    assert dict(learners.annotate(found=earlier).values_list("pk", "found"))[seen.pk] is True


def test_has_rows_takes_values_as_parameters(db, teacher):
    learner = factories.LearnerFactory()
    HandInException.objects.create(
        learner=learner,
        day=timezone.localdate(),
        kind="seen_or_used",
        recorded_by=teacher,
        approach="hand_in_teacher",
    )
    sneaky = has_rows(HandInException, "learner", kind="x' OR '1'='1")
    assert "OR" not in sneaky.sql
    found = Learner.objects.filter(pk=learner.pk).annotate(found=sneaky)
    assert found.values_list("found", flat=True).get() is False


def test_has_rows_refuses_rows_of_the_table_it_is_asked_from():
    # an agreement that replaces another points to its own table: the EXISTS's columns
    # would name the outer row's
    link = next(f for f in Agreement._meta.concrete_fields if f.related_model is Agreement)
    with pytest.raises(ValueError, match="own table"):
        has_rows(Agreement, link.name)
