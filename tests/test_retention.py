"""Retention rules, what is due, legal holds and the DSL-approved disposal (item 9)."""

import datetime
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance import retention
from compliance.models import DisposalRecord, LegalHold, RecordAccess, Visit, Visitor
from compliance.retention import (
    RetentionRefused,
    RetentionRule,
    add_years,
    allegation_due,
    allegation_latest_date,
    child_protection_due,
    child_protection_latest_birth,
    disposal_decide,
    disposal_request,
    due_count,
    due_for_review,
    legal_hold_lift,
    legal_hold_place,
)
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date


def _at(year, month, day, hour=10, minute=0):
    return timezone.make_aware(datetime.datetime(year, month, day, hour, minute))


def _visit(arrived, **kwargs) -> Visit:
    visit = factories.VisitFactory(
        arrived=arrived,
        visitor__first_name="Verity",
        visitor__last_name="Quince",
        purpose="Speech and language assessment for a Year 3 pupil",
        **kwargs,
    )
    # one more history row, as an edit would leave
    visit.left = arrived + datetime.timedelta(hours=1)
    visit.save()
    return visit


@pytest.fixture
def old_visit(db):
    """A visit on 3 February 2017: kept to the end of 2023, due on 1 January 2024."""
    return _visit(_at(2017, 2, 3))


def _generic(record) -> dict:
    return {
        "content_type": ContentType.objects.get_for_model(record),
        "object_id": str(record.pk),
    }


# The rules' dates.


class TestDates:
    def test_child_protection_is_date_of_birth_plus_25_years(self):
        assert child_protection_due(D(2010, 5, 17)) == D(2035, 5, 17)
        assert child_protection_due(D(2018, 12, 31)) == D(2043, 12, 31)

    def test_a_leap_day_birthday_is_kept_to_1_march(self):
        # 2033 has no 29 February: of 28 February and 1 March, the later (never a day early)
        assert child_protection_due(D(2008, 2, 29)) == D(2033, 3, 1)
        assert child_protection_due(D(2000, 2, 29)) == D(2025, 3, 1)
        # to a year that has one, the day itself
        assert add_years(D(2008, 2, 29), 4) == D(2012, 2, 29)

    def test_allegation_is_pension_age_or_ten_years_whichever_is_longer(self):
        allegation = D(2020, 6, 15)
        assert allegation_due(
            normal_pension_age_date=D(2045, 4, 1), allegation_date=allegation
        ) == D(2045, 4, 1)
        assert allegation_due(
            normal_pension_age_date=D(2024, 4, 1), allegation_date=allegation
        ) == D(2030, 6, 15)
        assert allegation_due(
            normal_pension_age_date=D(2030, 6, 15), allegation_date=allegation
        ) == D(2030, 6, 15)

    def test_an_allegation_on_a_leap_day(self):
        assert allegation_due(
            normal_pension_age_date=D(2026, 2, 28), allegation_date=D(2016, 2, 29)
        ) == D(2026, 3, 1)
        assert allegation_due(
            normal_pension_age_date=D(2026, 3, 2), allegation_date=D(2016, 2, 29)
        ) == D(2026, 3, 2)

    @pytest.mark.parametrize(
        ("due", "latest", "years"),
        [
            (child_protection_due, child_protection_latest_birth, 25),
            (lambda day: add_years(day, 10), allegation_latest_date, 10),
        ],
    )
    def test_the_query_boundary_agrees_with_the_due_date(self, due, latest, years):
        """`born on or before latest(today)` picks exactly the records with due <= today."""
        todays = [D(2025, 1, 1) + datetime.timedelta(days=n) for n in range(0, 6 * 366, 7)]
        todays += [
            D(y, m, d)
            for y in (2028, 2029)
            for m, d in ((2, 28), (2, 29), (3, 1))
            if not (y == 2029 and d == 29)
        ]
        start = D(2025 - years - 1, 1, 1)
        days = [start + datetime.timedelta(days=n) for n in range(8 * 366)]
        for today in todays:
            boundary = latest(today)
            for day in days:
                assert (due(day) <= today) == (day <= boundary), (day, today)

    def test_a_visit_is_kept_to_the_end_of_its_year_plus_six(self, old_visit):
        assert retention.visit_due(old_visit) == D(2024, 1, 1)
        late = _visit(_at(2017, 12, 31, 23, 30))
        assert retention.visit_due(late) == D(2024, 1, 1)

    def test_a_visit_is_described_without_naming_anyone(self, old_visit):
        assert retention.describe_visit(old_visit) == f"Visit #{old_visit.pk} on 03/02/2017"


# What is due.


class TestDue:
    def test_visits_fall_due_on_1_january_of_the_seventh_year(self, community, old_visit):
        assert due_for_review(today=D(2023, 12, 31)) == []
        due = due_for_review(today=D(2024, 1, 1))
        assert [(item.rule.key, item.record, item.due) for item in due] == [
            ("visitor_log", old_visit, D(2024, 1, 1))
        ]
        # the community's visit (today) is years from due
        assert community["visit"] not in [
            item.record for item in due_for_review(today=D(2030, 1, 1))
        ]

    def test_oldest_first(self, old_visit):
        older = _visit(_at(2015, 7, 1))
        assert [item.record for item in due_for_review(today=D(2025, 1, 1))] == [older, old_visit]

    def test_a_hold_or_a_live_disposal_takes_a_record_off_the_list(self, dsl, old_visit):
        other = _visit(_at(2016, 5, 5))
        legal_hold_place(record=old_visit, reason="Civil claim", by=dsl)
        disposal_request(record=other, rule_key="visitor_log", by=dsl)
        assert due_for_review(today=D(2025, 1, 1)) == []
        assert due_count(today=D(2025, 1, 1)) == 0

    def test_a_refused_disposal_puts_the_record_back_on_the_list(self, dsl, old_visit):
        disposal = disposal_request(record=old_visit, rule_key="visitor_log", by=dsl)
        disposal_decide(disposal=disposal, approve=False, note="Ask the LADO first", by=dsl)
        assert [item.record for item in due_for_review(today=D(2025, 1, 1))] == [old_visit]

    def test_one_query_per_rule(self, old_visit, django_assert_num_queries):
        for year in range(2010, 2017):
            _visit(_at(year, 3, 3))
        with django_assert_num_queries(len(retention.rules())):
            assert len(due_for_review(today=D(2025, 1, 1))) == 8


@pytest.fixture
def second_rule(monkeypatch):
    """A rule on learners (as if another app had registered one), for lists over two rules."""
    from compliance.models import Learner

    rule = RetentionRule(
        key="test_learners",
        label="Test learner records",
        model=Learner,
        due_on=lambda today: Learner.objects.filter(
            date_of_birth__lte=child_protection_latest_birth(today)
        ).order_by("date_of_birth", "pk"),
        due_date=lambda learner: child_protection_due(learner.date_of_birth),
        describe=lambda learner: f"Learner record #{learner.pk}",
    )
    monkeypatch.setitem(retention._RULES, rule.key, rule)
    return rule


class TestOverSeveralRules:
    def test_counts_and_pages_run_across_the_rules(self, second_rule, community):
        visits = [_visit(_at(2010, 1, n + 1)) for n in range(3)]
        learners = [
            factories.LearnerFactory(date_of_birth=D(1990, 1, n + 1), joined=D(1995, 9, 1))
            for n in range(4)
        ]
        today = D(2020, 1, 1)
        assert due_count(today=today) == 7
        listed = retention.DueList(today=today)
        assert len(listed) == 7
        assert [item.record for item in listed[2:5]] == [visits[2], learners[0], learners[1]]
        assert [item.record for item in listed[:]] == visits + learners
        assert [item.record for item in due_for_review(today=today)] == visits + learners

    def test_a_record_that_others_still_refer_to_is_refused_not_a_500(self, dsl, monkeypatch):
        visit = _visit(_at(2010, 1, 1))
        rule = RetentionRule(
            key="test_visitors",
            label="Test visitors",
            model=Visitor,
            due_on=lambda today: Visitor.objects.order_by("pk"),
            due_date=lambda visitor: D(2000, 1, 1),
            describe=lambda visitor: f"Visitor #{visitor.pk}",
        )
        monkeypatch.setitem(retention._RULES, rule.key, rule)
        disposal = disposal_request(record=visit.visitor, rule_key=rule.key, by=dsl)
        with pytest.raises(RetentionRefused, match="still referred to by other records"):
            disposal_decide(disposal=disposal, approve=True, note="", by=dsl)
        assert Visitor.objects.filter(pk=visit.visitor.pk).exists()


# Who may do what.

REFUSED_ROLES = ["staff", "office", "governor", "outsider"]


class TestRoles:
    @pytest.mark.parametrize("role", REFUSED_ROLES)
    def test_other_roles_may_not_ask_hold_decide_or_lift(self, users, role, old_visit):
        user = users[role]
        with pytest.raises(PermissionDenied):
            disposal_request(record=old_visit, rule_key="visitor_log", by=user)
        with pytest.raises(PermissionDenied):
            legal_hold_place(record=old_visit, reason="x", by=user)
        disposal = disposal_request(record=old_visit, rule_key="visitor_log", by=users["dsl"])
        with pytest.raises(PermissionDenied):
            disposal_decide(disposal=disposal, approve=True, note="", by=user)
        hold = legal_hold_place(record=old_visit, reason="Police request", by=users["dsl"])
        with pytest.raises(PermissionDenied):
            legal_hold_lift(hold=hold, reason="x", by=user)
        assert Visit.objects.filter(pk=old_visit.pk).exists()

    @pytest.mark.parametrize("role", ["deputy_dsl", "headteacher"])
    def test_a_deputy_asks_but_only_the_dsl_approves(self, users, role, old_visit):
        deputy = users[role]
        disposal = disposal_request(record=old_visit, rule_key="visitor_log", by=deputy)
        assert disposal.status == DisposalRecord.Status.REQUESTED
        assert disposal.requested_by == deputy
        for approve in (True, False):
            with pytest.raises(PermissionDenied, match="Only the DSL"):
                disposal_decide(disposal=disposal, approve=approve, note="fine", by=deputy)
        assert Visit.objects.filter(pk=old_visit.pk).exists()
        disposal_decide(disposal=disposal, approve=True, note="", by=users["dsl"])
        assert not Visit.objects.filter(pk=old_visit.pk).exists()

    def test_a_deputy_places_a_hold_but_only_the_dsl_lifts_it(self, dsl, deputy_dsl, old_visit):
        hold = legal_hold_place(record=old_visit, reason="Police request", by=deputy_dsl)
        with pytest.raises(PermissionDenied, match="Only the DSL"):
            legal_hold_lift(hold=hold, reason="Case closed", by=deputy_dsl)
        legal_hold_lift(hold=hold, reason="Case closed", by=dsl)
        hold.refresh_from_db()
        assert (hold.lifted_by, hold.lift_reason) == (dsl, "Case closed")


# Legal holds.


class TestLegalHold:
    def test_a_hold_stops_a_request(self, dsl, old_visit):
        legal_hold_place(record=old_visit, reason="Civil claim", by=dsl)
        with pytest.raises(RetentionRefused, match="under a legal hold"):
            disposal_request(record=old_visit, rule_key="visitor_log", by=dsl)
        assert not DisposalRecord.objects.exists()

    def test_a_hold_placed_after_the_request_stops_the_approval(self, dsl, deputy_dsl, old_visit):
        disposal = disposal_request(record=old_visit, rule_key="visitor_log", by=deputy_dsl)
        hold = legal_hold_place(record=old_visit, reason="Police request", by=deputy_dsl)
        with pytest.raises(RetentionRefused, match="under a legal hold"):
            disposal_decide(disposal=disposal, approve=True, note="", by=dsl)
        assert Visit.objects.filter(pk=old_visit.pk).exists()
        disposal.refresh_from_db()
        assert disposal.status == DisposalRecord.Status.REQUESTED
        # once lifted, the DSL may approve
        legal_hold_lift(hold=hold, reason="Police no longer need it", by=dsl)
        disposal_decide(disposal=disposal, approve=True, note="", by=dsl)
        assert not Visit.objects.filter(pk=old_visit.pk).exists()

    def test_one_open_hold_per_record_and_a_reason_each_time(self, dsl, old_visit):
        with pytest.raises(RetentionRefused, match="reason"):
            legal_hold_place(record=old_visit, reason="  ", by=dsl)
        hold = legal_hold_place(record=old_visit, reason="Civil claim", by=dsl)
        with pytest.raises(RetentionRefused, match="already under a legal hold"):
            legal_hold_place(record=old_visit, reason="Again", by=dsl)
        with pytest.raises(RetentionRefused, match="reason"):
            legal_hold_lift(hold=hold, reason="", by=dsl)
        legal_hold_lift(hold=hold, reason="Settled", by=dsl)
        with pytest.raises(RetentionRefused, match="already been lifted"):
            legal_hold_lift(hold=hold, reason="Settled", by=dsl)


# Disposal.


class TestDisposal:
    def test_approval_deletes_the_record_and_its_history_and_leaves_a_tombstone(
        self, dsl, deputy_dsl, old_visit
    ):
        pk = old_visit.pk
        visitor = old_visit.visitor
        RecordAccess.objects.create(user=dsl, **_generic(old_visit))
        assert Visit.history.filter(id=pk).count() == 2
        disposal = disposal_request(record=old_visit, rule_key="visitor_log", by=deputy_dsl)
        disposal_decide(disposal=disposal, approve=True, note="End of retention", by=dsl)

        assert not Visit.objects.filter(pk=pk).exists()
        # not even the snapshot that deleting a record writes to its history
        assert not Visit.history.filter(id=pk).exists()
        disposal.refresh_from_db()
        assert disposal.status == DisposalRecord.Status.DISPOSED
        assert disposal.reference == f"Visit #{pk} on 03/02/2017"
        assert (disposal.rule, disposal.due) == ("visitor_log", D(2024, 1, 1))
        assert (disposal.requested_by, disposal.decided_by) == (deputy_dsl, dsl)
        assert disposal.decided_at is not None
        # the record of the read stays: it names no one
        assert RecordAccess.objects.filter(object_id=str(pk)).count() == 1

        # nothing left of the disposal, or its history, names the visitor or the visit's detail
        texts = [
            str(value)
            for row in [
                *DisposalRecord.objects.values(),
                *DisposalRecord.history.values(),
            ]
            for value in row.values()
        ]
        for secret in (visitor.first_name, visitor.last_name, "Speech and language"):
            assert not any(secret in text for text in texts), secret

    def test_refusing_keeps_the_record_and_needs_a_reason(self, dsl, old_visit):
        disposal = disposal_request(record=old_visit, rule_key="visitor_log", by=dsl)
        with pytest.raises(RetentionRefused, match="reason for refusing"):
            disposal_decide(disposal=disposal, approve=False, note="", by=dsl)
        disposal_decide(disposal=disposal, approve=False, note="Part of a live inquiry", by=dsl)
        disposal.refresh_from_db()
        assert disposal.status == DisposalRecord.Status.REFUSED
        assert disposal.decision_note == "Part of a live inquiry"
        assert Visit.objects.filter(pk=old_visit.pk).exists()
        assert Visit.history.filter(id=old_visit.pk).count() == 2

    def test_a_decided_disposal_is_not_decided_again(self, dsl, old_visit):
        disposal = disposal_request(record=old_visit, rule_key="visitor_log", by=dsl)
        disposal_decide(disposal=disposal, approve=False, note="Keep", by=dsl)
        for approve in (True, False):
            with pytest.raises(RetentionRefused, match="already been decided"):
                disposal_decide(disposal=disposal, approve=approve, note="x", by=dsl)

    def test_a_record_not_yet_due_is_refused(self, dsl, community):
        visit = community["visit"]
        with pytest.raises(RetentionRefused, match="not due for review until"):
            disposal_request(record=visit, rule_key="visitor_log", by=dsl)
        # nor approved, however the request came about
        disposal = DisposalRecord.objects.create(
            **_generic(visit),
            reference="Visit",
            rule="visitor_log",
            due=D(2000, 1, 1),
            requested_by=dsl,
        )
        with pytest.raises(RetentionRefused, match="not due for review until"):
            disposal_decide(disposal=disposal, approve=True, note="", by=dsl)
        assert Visit.objects.filter(pk=visit.pk).exists()

    def test_the_rule_must_fit_the_record(self, dsl, old_visit):
        with pytest.raises(RetentionRefused, match="no retention rule"):
            disposal_request(record=old_visit, rule_key="nonsense", by=dsl)
        with pytest.raises(RetentionRefused, match="not about that kind of record"):
            disposal_request(record=old_visit.visitor, rule_key="visitor_log", by=dsl)

    def test_a_second_live_disposal_is_refused(self, dsl, deputy_dsl, old_visit):
        first = disposal_request(record=old_visit, rule_key="visitor_log", by=deputy_dsl)
        with pytest.raises(RetentionRefused, match="already been asked for"):
            disposal_request(record=old_visit, rule_key="visitor_log", by=dsl)
        # after a refusal, it may be asked for again
        disposal_decide(disposal=first, approve=False, note="Not yet", by=dsl)
        disposal_request(record=old_visit, rule_key="visitor_log", by=dsl)

    def test_the_database_allows_one_live_disposal_per_record(self, dsl, old_visit):
        fields = {
            **_generic(old_visit),
            "reference": "Visit",
            "rule": "visitor_log",
            "due": D(2024, 1, 1),
            "requested_by": dsl,
        }
        DisposalRecord.objects.create(**fields)
        with pytest.raises(IntegrityError), transaction.atomic():
            DisposalRecord.objects.create(**fields)
        # a refused one does not count
        DisposalRecord.objects.create(
            **fields, status="refused", decided_by=dsl, decided_at=timezone.now()
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the history trigger is PostgreSQL's")
def test_on_postgresql_history_is_purged_only_inside_the_approval(dsl, old_visit):
    with connection.cursor() as cursor:
        # as the lead's append-only trigger does (installed here too, whether or not it is)
        cursor.execute(
            """
            CREATE OR REPLACE FUNCTION test_retention_guard() RETURNS trigger AS $$
            BEGIN
                IF current_setting('vrps.allow_history_purge', true) = 'on' THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'history is append-only';
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_retention_guard BEFORE DELETE ON compliance_historicalvisit
                FOR EACH ROW EXECUTE FUNCTION test_retention_guard();
            """
        )
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Visit.history.filter(id=old_visit.pk).delete()
    disposal = disposal_request(record=old_visit, rule_key="visitor_log", by=dsl)
    disposal_decide(disposal=disposal, approve=True, note="", by=dsl)
    assert not Visit.history.filter(id=old_visit.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('vrps.allow_history_purge', true)")
        assert cursor.fetchone()[0] == "off"


# The command.


class TestCommand:
    def _run(self, *args) -> str:
        out = StringIO()
        call_command("retention_review", *args, stdout=out)
        return out.getvalue()

    def test_it_lists_what_is_due_and_writes_nothing(self, dsl, old_visit):
        held = _visit(_at(2016, 4, 4))
        legal_hold_place(record=held, reason="Civil claim", by=dsl)
        older = _visit(_at(2012, 9, 9))
        with CaptureQueriesContext(connection) as queries:
            output = self._run("--today", "2024-01-01")
        lines = output.splitlines()
        assert lines == [
            f"Visitor log\tVisit #{older.pk} on 09/09/2012\tdue 2019-01-01",
            f"Visitor log\tVisit #{old_visit.pk} on 03/02/2017\tdue 2024-01-01",
            "2 records are due for review on 2024-01-01 (Visitor log: 2); nothing was changed.",
        ]
        assert "Quince" not in output
        writes = [
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        ]
        assert writes == []

    def test_nothing_due(self, old_visit):
        assert (
            self._run("--today", "2023-12-31") == "No records are due for review on 2023-12-31.\n"
        )

    def test_today_by_default(self, old_visit):
        assert "1 record is due for review on" in self._run()

    def test_a_bad_date_is_a_clear_error(self):
        with pytest.raises(CommandError, match="not a date as YYYY-MM-DD"):
            self._run("--today", "31/12/2023")


# The page and its actions.

REVIEW = "compliance:retention_review"


def _post(client, name, data, **kwargs):
    return client.post(reverse(name, kwargs=kwargs or None), data, follow=True)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


class TestPage:
    def test_the_dsl_sees_what_is_due_holds_and_requests(self, client, dsl, deputy_dsl, old_visit):
        held = _visit(_at(2016, 4, 4))
        asked = _visit(_at(2015, 4, 4))
        legal_hold_place(record=held, reason="Civil claim", by=dsl)
        disposal_request(record=asked, rule_key="visitor_log", by=deputy_dsl)
        client.force_login(dsl)
        page = client.get(reverse(REVIEW)).content.decode()
        assert f"Visit #{old_visit.pk} on 03/02/2017" in page
        assert f"Visit #{held.pk} on 04/04/2016" in page and "Civil claim" in page
        assert f"Visit #{asked.pk} on 04/04/2015" in page
        assert "Approve and dispose" in page
        assert "Quince" not in page
        assert "All members of the community will respect confidentiality" in page
        assert "<script>" not in page.split("<main", 1)[1].split("</main>")[0]

    def test_a_deputy_sees_the_page_without_the_dsl_buttons(
        self, client, dsl, deputy_dsl, old_visit
    ):
        disposal_request(record=old_visit, rule_key="visitor_log", by=dsl)
        client.force_login(deputy_dsl)
        page = client.get(reverse(REVIEW)).content.decode()
        assert "Awaiting the DSL" in page
        assert "Approve and dispose" not in page
        assert "Only the DSL lifts a hold" not in page  # no holds yet

    def test_query_count_is_pinned(self, client, dsl, deputy_dsl):
        client.force_login(dsl)

        def grow(n):
            for _ in range(n):
                visit = _visit(_at(2012, 1, 5))
                held = _visit(_at(2012, 1, 6))
                asked = _visit(_at(2012, 1, 7))
                legal_hold_place(record=held, reason="Claim", by=dsl)
                disposal_request(record=asked, rule_key="visitor_log", by=deputy_dsl)
                assert visit

        def count():
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(reverse(REVIEW)).status_code == 200
            return len(ctx.captured_queries)

        grow(2)
        small = count()
        grow(30)
        large = count()
        # every page (session, user, roles, school, policy, session saved: 8); the due count
        # and the page of them (one each per rule); the disposals awaiting the DSL; the open
        # holds and the records they hold (one per kind)
        assert small == large == 8 + len(retention.rules()) + 1 + 1 + 2

    def test_the_register_lists_disposals(self, client, dsl, old_visit):
        disposal = disposal_request(record=old_visit, rule_key="visitor_log", by=dsl)
        disposal_decide(disposal=disposal, approve=True, note="Done", by=dsl)
        client.force_login(dsl)
        page = client.get(reverse("compliance:retention_disposals")).content.decode()
        assert f"Visit #{old_visit.pk} on 03/02/2017" in page
        assert "Visitor log" in page and "Disposed of" in page

    def test_the_dashboard_panel(self, client, users, old_visit):
        client.force_login(users["dsl"])
        page = client.get(reverse("dashboard")).content.decode()
        assert "Retention: 1 record due for review" in page
        for role in ["staff", "office", "governor"]:
            client.force_login(users[role])
            assert "Retention:" not in client.get(reverse("dashboard")).content.decode(), role


class TestActions:
    def test_the_deputy_asks_and_the_dsl_approves(self, client, dsl, deputy_dsl, old_visit):
        record = {"rule": "visitor_log", "pk": old_visit.pk, "page": 1}
        client.force_login(deputy_dsl)
        response = _post(client, "compliance:retention_disposal_request", record)
        assert response.redirect_chain[-1][0] == reverse(REVIEW)
        assert _messages(response) == [
            f"Asked the DSL to approve disposing of Visit #{old_visit.pk} on 03/02/2017."
        ]
        disposal = DisposalRecord.objects.get()
        response = _post(
            client,
            "compliance:retention_disposal_decide",
            {"decision": "approve"},
            pk=disposal.pk,
        )
        assert response.status_code == 200
        assert "Only the DSL approves" in _messages(response)[0]
        assert Visit.objects.filter(pk=old_visit.pk).exists()

        client.force_login(dsl)
        response = _post(
            client,
            "compliance:retention_disposal_decide",
            {"decision": "approve"},
            pk=disposal.pk,
        )
        assert _messages(response) == [f"Disposed of Visit #{old_visit.pk} on 03/02/2017."]
        assert not Visit.objects.filter(pk=old_visit.pk).exists()

    def test_refused_actions_come_back_with_the_reason(self, client, dsl, community, old_visit):
        client.force_login(dsl)
        cases = [
            (
                "compliance:retention_hold_place",
                {"rule": "visitor_log", "pk": old_visit.pk},
                "Nothing was changed: check the reason.",
            ),
            (
                "compliance:retention_disposal_request",
                {"rule": "visitor_log", "pk": community["visit"].pk},
                "not due for review until",
            ),
            (
                "compliance:retention_disposal_request",
                {"rule": "visitor_log", "pk": "999999"},
                "no longer exists",
            ),
            (
                "compliance:retention_disposal_request",
                {"rule": "visitor_log", "pk": "abc"},
                "no longer exists",
            ),
            (
                "compliance:retention_disposal_request",
                {"rule": "nope", "pk": old_visit.pk},
                "no retention rule",
            ),
            ("compliance:retention_disposal_request", {}, "Nothing was changed"),
        ]
        for name, data, reason in cases:
            response = _post(client, name, data)
            assert response.status_code == 200, (name, data)
            assert reason in " ".join(_messages(response)), (name, data)

    def test_hold_then_lift_through_the_page(self, client, dsl, old_visit):
        client.force_login(dsl)
        response = _post(
            client,
            "compliance:retention_hold_place",
            {"rule": "visitor_log", "pk": old_visit.pk, "reason": "Police request", "page": 1},
        )
        assert "Placed a legal hold" in _messages(response)[0]
        hold = LegalHold.objects.get()
        response = _post(
            client,
            "compliance:retention_disposal_request",
            {"rule": "visitor_log", "pk": old_visit.pk},
        )
        assert "under a legal hold" in _messages(response)[0]
        response = _post(client, "compliance:retention_hold_lift", {"reason": ""}, pk=hold.pk)
        assert "check the reason" in _messages(response)[0]
        response = _post(
            client, "compliance:retention_hold_lift", {"reason": "Released"}, pk=hold.pk
        )
        assert _messages(response) == ["Lifted the legal hold."]

    def test_refusing_through_the_page_needs_a_note(self, client, dsl, old_visit):
        disposal = disposal_request(record=old_visit, rule_key="visitor_log", by=dsl)
        client.force_login(dsl)
        url = "compliance:retention_disposal_decide"
        response = _post(client, url, {"decision": "refuse"}, pk=disposal.pk)
        assert "reason for refusing" in _messages(response)[0]
        response = _post(client, url, {"decision": "refuse", "note": "Keep"}, pk=disposal.pk)
        assert "it is kept" in _messages(response)[0]
        assert Visit.objects.filter(pk=old_visit.pk).exists()

    @pytest.mark.parametrize("role", REFUSED_ROLES)
    def test_other_roles_are_refused_every_action(self, client, users, role, old_visit):
        disposal = disposal_request(record=old_visit, rule_key="visitor_log", by=users["dsl"])
        hold = legal_hold_place(record=old_visit, reason="Claim", by=users["dsl"])
        client.force_login(users[role])
        record = {"rule": "visitor_log", "pk": old_visit.pk, "reason": "x"}
        for name, kwargs, data in [
            ("compliance:retention_disposal_request", {}, record),
            ("compliance:retention_hold_place", {}, record),
            ("compliance:retention_disposal_decide", {"pk": disposal.pk}, {"decision": "approve"}),
            ("compliance:retention_hold_lift", {"pk": hold.pk}, {"reason": "x"}),
        ]:
            response = client.post(reverse(name, kwargs=kwargs or None), data)
            assert response.status_code == 403, (role, name)
        assert Visit.objects.filter(pk=old_visit.pk).exists()
        assert LegalHold.objects.get().lifted_at is None
