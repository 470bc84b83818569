"""compliance.selectors.rows_exist: the one query the incident page and the chronology ask
first, to read nothing of the kinds of record there are none of (issue 8)."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.models import Learner
from compliance.selectors import rows_exist
from devices.models import HandIn, HandInException
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
