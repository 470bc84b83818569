"""The school device register (policy section 4) and the device categories (section 1).

Transition tables: every source status for issue, return and report lost; every role
without the right refused. The database refuses what the services refuse, when a form
or a service is bypassed. The register list runs a fixed number of queries.
"""

import importlib

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance.transitions import Refused
from devices import services
from devices.models import DeviceLoan, SchoolDevice
from tests import factories

pytestmark = pytest.mark.django_db

Status = SchoolDevice.Status


@pytest.fixture
def holder(office):
    """An active member of staff who has acknowledged the acceptable use policy."""
    staff = factories.StaffMemberFactory(first_name="Hana", last_name="Holder")
    factories.AupAcknowledgementFactory(staff=staff, recorded_by=office)
    return staff


def device_in(status: str, *, holder=None, by=None) -> SchoolDevice:
    """A device put straight into a status, as the services would have left it."""
    if status == Status.ISSUED:
        device = factories.SchoolDeviceFactory(status=Status.ISSUED, holder=holder)
        DeviceLoan.objects.create(device=device, staff=holder, issued_by=by)
        return device
    return factories.SchoolDeviceFactory(status=status)


# The categories section 1 names -------------------------------------------------------


def test_the_data_migration_seeds_the_kinds_section_1_names():
    seed = importlib.import_module("devices.migrations.0002_device_categories")
    assert set(seed.CATEGORIES) == {
        "Mobile phone",
        "Tablet",
        "E-reader",
        "Games console",
        "Smart watch",
        "Fitness tracker",
        "Other wearable",
    }
    # every kind can at least communicate: that is what brings it into scope
    assert all(communicate for communicate, _, _ in seed.CATEGORIES.values())


def test_categories_page_shows_what_each_can_do(client, teacher):
    factories.DeviceCategoryFactory(
        name="Fitness tracker", can_communicate=True, can_record_images=False
    )
    client.force_login(teacher)
    page = client.get(reverse("devices:category_list")).content.decode()
    assert "Fitness tracker" in page
    assert "smart watches and fitness trackers" in page  # section 1 quoted


# Issue: the preconditions of section 4 --------------------------------------------------


def test_issue_records_a_loan_and_the_holder(office, holder):
    device = factories.SchoolDeviceFactory()
    loan = services.device_issue(device=device, staff=holder, by=office)
    device.refresh_from_db()
    assert device.status == Status.ISSUED
    assert device.holder == holder
    assert device.version == 2
    assert (loan.staff, loan.issued_by, loan.returned_at) == (holder, office, None)


def test_issue_is_refused_without_a_passcode(office, holder):
    device = factories.SchoolDeviceFactory(passcode_set=False)
    with pytest.raises(Refused, match="no passcode, password or PIN set"):
        services.device_issue(device=device, staff=holder, by=office)
    device.refresh_from_db()
    assert (device.status, device.holder) == (Status.IN_STORE, None)
    assert not DeviceLoan.objects.exists()


def test_issue_is_refused_without_the_aup_acknowledgement(office):
    device = factories.SchoolDeviceFactory()
    staff = factories.StaffMemberFactory()
    # acknowledging the policy itself is not acknowledging the acceptable use policy
    factories.AupAcknowledgementFactory(staff=staff, kind="policy", recorded_by=office)
    with pytest.raises(Refused, match="has not acknowledged the acceptable use policy"):
        services.device_issue(device=device, staff=staff, by=office)
    device.refresh_from_db()
    assert device.status == Status.IN_STORE


def test_issue_is_refused_to_someone_who_has_left(office):
    staff = factories.StaffMemberFactory(active=False)
    factories.AupAcknowledgementFactory(staff=staff, recorded_by=office)
    with pytest.raises(Refused, match="not an active member of staff"):
        services.device_issue(device=factories.SchoolDeviceFactory(), staff=staff, by=office)


# Transition tables ---------------------------------------------------------------------


def _issue(device, by, holder):
    services.device_issue(device=device, staff=holder, by=by)


def _return(device, by, holder):
    services.device_return(device=device, by=by)


def _lost(device, by, holder):
    services.device_report_lost(device=device, details="Left on the bus on Tuesday.", by=by)


STEPS = (_issue, _return, _lost)
AFTER = {_issue: Status.ISSUED, _return: Status.IN_STORE, _lost: Status.LOST_OR_STOLEN}
# Which step each status allows; every other pairing is refused.
#                         issue  return  lost
ALLOWED = {
    Status.IN_STORE:       (True,  False, True),
    Status.ISSUED:         (False, True,  True),
    Status.LOST_OR_STOLEN: (False, False, False),
    Status.RETIRED:        (False, False, False),
}  # fmt: skip
TABLE = [
    (step, source, allowed)
    for source, row in ALLOWED.items()
    for step, allowed in zip(STEPS, row, strict=True)
]


def test_the_table_covers_every_status():
    assert set(ALLOWED) == set(Status)


@pytest.mark.parametrize(
    ("step", "source", "allowed"),
    TABLE,
    ids=[f"{step.__name__[1:]}-from-{source.value}" for step, source, _ in TABLE],
)
def test_transition_table(office, holder, step, source, allowed):
    other = factories.StaffMemberFactory()
    device = device_in(source, holder=other, by=office)
    if allowed:
        step(device, office, holder)
        device.refresh_from_db()
        assert device.status == AFTER[step]
    else:
        with pytest.raises(Refused):
            step(device, office, holder)
        device.refresh_from_db()
        assert device.status == source


def test_return_closes_the_loan_and_clears_the_holder(office, holder):
    device = factories.SchoolDeviceFactory()
    services.device_issue(device=device, staff=holder, by=office)
    loan = services.device_return(device=device, by=office)
    device.refresh_from_db()
    assert (device.status, device.holder) == (Status.IN_STORE, None)
    assert loan.returned_to == office and loan.returned_at is not None


def test_lost_while_issued_ends_the_loan_and_keeps_the_report(office, holder):
    device = factories.SchoolDeviceFactory()
    services.device_issue(device=device, staff=holder, by=office)
    services.device_report_lost(device=device, details="Stolen from a car.", by=office)
    device.refresh_from_db()
    assert (device.status, device.holder) == (Status.LOST_OR_STOLEN, None)
    assert "Reported lost or stolen: Stolen from a car." in device.notes
    assert not DeviceLoan.objects.filter(returned_at__isnull=True).exists()


def test_lost_needs_details(office):
    device = factories.SchoolDeviceFactory()
    with pytest.raises(Refused, match="Say what happened"):
        services.device_report_lost(device=device, details="   ", by=office)


WITHOUT_THE_RIGHT = ["staff", "deputy_dsl", "governor", "outsider"]


@pytest.mark.parametrize("role", WITHOUT_THE_RIGHT)
def test_roles_without_the_right_are_refused_every_step(users, holder, role):
    user = users[role]
    in_store = factories.SchoolDeviceFactory()
    issued = device_in(Status.ISSUED, holder=holder, by=users["office"])
    with pytest.raises(Refused, match="Only the office, the DSL or the headteacher"):
        services.device_issue(device=in_store, staff=holder, by=user)
    with pytest.raises(Refused, match="Only the office, the DSL or the headteacher"):
        services.device_return(device=issued, by=user)
    with pytest.raises(Refused, match="Only the office, the DSL or the headteacher"):
        services.device_report_lost(device=in_store, details="Gone.", by=user)


@pytest.mark.parametrize("role", ["office", "dsl", "headteacher"])
def test_the_register_keepers_may_issue(users, holder, role):
    services.device_issue(device=factories.SchoolDeviceFactory(), staff=holder, by=users[role])


# The database holds the rules when services and forms are bypassed ---------------------


def _refused_by_database(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_database_refuses_an_issued_device_without_a_holder():
    _refused_by_database(lambda: factories.SchoolDeviceFactory(status=Status.ISSUED))


def test_database_refuses_a_holder_on_a_device_not_issued():
    staff = factories.StaffMemberFactory()
    _refused_by_database(lambda: factories.SchoolDeviceFactory(holder=staff))


def test_database_refuses_an_issued_device_without_a_passcode():
    staff = factories.StaffMemberFactory()
    _refused_by_database(
        lambda: factories.SchoolDeviceFactory(
            status=Status.ISSUED, holder=staff, passcode_set=False
        )
    )
    # nor may an issued device lose its passcode later
    device = factories.SchoolDeviceFactory(status=Status.ISSUED, holder=staff)
    _refused_by_database(
        lambda: SchoolDevice.objects.filter(pk=device.pk).update(passcode_set=False)
    )


def test_database_refuses_two_open_loans_for_one_device(office, holder):
    device = factories.SchoolDeviceFactory()
    services.device_issue(device=device, staff=holder, by=office)
    other = factories.StaffMemberFactory()
    _refused_by_database(
        lambda: DeviceLoan.objects.create(device=device, staff=other, issued_by=office)
    )


def test_database_refuses_a_duplicate_asset_tag():
    factories.SchoolDeviceFactory(asset_tag="VRPS-0042")
    _refused_by_database(lambda: factories.SchoolDeviceFactory(asset_tag="VRPS-0042"))


# Pages ---------------------------------------------------------------------------------


def test_issue_page_refused_without_aup_says_why_and_how_to_fix(client, office, teacher):
    device = factories.SchoolDeviceFactory()
    staff = teacher.staff_member
    client.force_login(office)
    response = client.post(reverse("devices:device_issue", args=[device.pk]), {"staff": staff.pk})
    assert response.status_code == 200
    page = response.content.decode()
    assert "has not acknowledged the acceptable use policy" in page
    assert "Before any device can be issued to Tom Teacher" in page
    assert "acknowledge the acceptable use policy from their own dashboard" in page
    device.refresh_from_db()
    assert device.status == Status.IN_STORE


def test_issue_page_for_staff_with_no_login_says_who_gives_one(client, office):
    device = factories.SchoolDeviceFactory()
    staff = factories.StaffMemberFactory()
    client.force_login(office)
    page = client.post(
        reverse("devices:device_issue", args=[device.pk]), {"staff": staff.pk}
    ).content.decode()
    assert "they have no login yet" in page
    assert reverse("compliance:staff_detail", args=[staff.pk]) in page


def test_issue_page_refused_without_passcode(client, office, holder):
    device = factories.SchoolDeviceFactory(passcode_set=False)
    client.force_login(office)
    page = client.post(
        reverse("devices:device_issue", args=[device.pk]), {"staff": holder.pk}
    ).content.decode()
    assert "no passcode, password or PIN set" in page
    assert "Before any device can be issued" not in page  # the holder has acknowledged


def test_the_issue_choices_show_who_has_acknowledged(client, office, holder):
    factories.StaffMemberFactory(first_name="Nora", last_name="Noack")
    device = factories.SchoolDeviceFactory()
    client.force_login(office)
    page = client.get(device.get_absolute_url()).content.decode()
    assert "Hana Holder: AUP acknowledged" in page
    assert "Nora Noack: has not acknowledged the AUP" in page


def test_issue_return_and_lost_through_the_pages(client, office, holder):
    device = factories.SchoolDeviceFactory()
    client.force_login(office)
    response = client.post(reverse("devices:device_issue", args=[device.pk]), {"staff": holder.pk})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.holder == holder
    page = client.get(device.get_absolute_url()).content.decode()
    assert "Hana Holder (acceptable use policy acknowledged" in page

    assert client.post(reverse("devices:device_return", args=[device.pk])).status_code == 302
    device.refresh_from_db()
    assert device.status == Status.IN_STORE

    url = reverse("devices:device_report_lost", args=[device.pk])
    response = client.post(url, {"details": ""})
    assert response.status_code == 200
    assert "Say what happened" in response.content.decode()
    device.refresh_from_db()
    assert device.status == Status.IN_STORE
    assert client.post(url, {"details": "Left on the school trip coach."}).status_code == 302
    device.refresh_from_db()
    assert device.status == Status.LOST_OR_STOLEN


def test_a_refused_step_on_the_page_shows_the_reason(client, office):
    device = factories.SchoolDeviceFactory()
    client.force_login(office)
    response = client.post(reverse("devices:device_return", args=[device.pk]))
    assert response.status_code == 200
    assert f"{device.asset_tag} is not issued." in response.content.decode()


def test_a_step_overtaken_by_another_keeps_what_was_typed(client, office, dsl):
    device = factories.SchoolDeviceFactory()
    services.device_report_lost(device=device, details="Dropped in the car park.", by=dsl)
    client.force_login(office)  # their page still offered the form
    response = client.post(
        reverse("devices:device_report_lost", args=[device.pk]),
        {"details": "Left in the hall after assembly."},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "is already lost or stolen" in page
    assert "Left in the hall after assembly." in page


@pytest.mark.parametrize("role", WITHOUT_THE_RIGHT)
def test_roles_without_the_right_cannot_post_the_actions(client, users, holder, role):
    device = factories.SchoolDeviceFactory()
    client.force_login(users[role])
    for name, data in [
        ("devices:device_issue", {"staff": holder.pk}),
        ("devices:device_return", {}),
        ("devices:device_report_lost", {"details": "Gone."}),
    ]:
        assert client.post(reverse(name, args=[device.pk]), data).status_code == 403, name
    device.refresh_from_db()
    assert device.status == Status.IN_STORE


def _device_post(device, **changes) -> dict:
    data = {
        "asset_tag": device.asset_tag,
        "category": device.category_id,
        "make_model": device.make_model,
        "serial_number": device.serial_number,
        "work_phone_number": device.work_phone_number,
        "passcode_set": "on" if device.passcode_set else "",
        "notes": device.notes,
        "version": device.version,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_add_a_device(client, office):
    category = factories.DeviceCategoryFactory(name="Tablet")
    client.force_login(office)
    response = client.post(
        reverse("devices:device_add"),
        {
            "asset_tag": " VRPS-0100 ",
            "category": category.pk,
            "make_model": "Example Tab 9",
            "work_phone_number": "07700 900123",
            "passcode_set": "on",
        },
    )
    assert response.status_code == 302
    device = SchoolDevice.objects.get(asset_tag="VRPS-0100")
    assert (device.status, device.holder, device.version) == (Status.IN_STORE, None, 1)


def test_an_asset_tag_in_another_case_is_the_same_device(client, office):
    existing = factories.SchoolDeviceFactory(asset_tag="VRPS-0042")
    client.force_login(office)
    data = _device_post(existing, asset_tag="vrps-0042")
    data.pop("version")
    response = client.post(reverse("devices:device_add"), data)
    assert response.status_code == 200
    assert "Another device already has this asset tag." in response.content.decode()
    assert SchoolDevice.objects.count() == 1


def test_edit_never_changes_status_or_holder(client, office):
    device = factories.SchoolDeviceFactory()
    client.force_login(office)
    url = reverse("devices:device_edit", args=[device.pk])
    staff = factories.StaffMemberFactory()
    data = _device_post(device, make_model="Example Phone 13", status="issued", holder=staff.pk)
    assert client.post(url, data).status_code == 302
    device.refresh_from_db()
    assert device.make_model == "Example Phone 13"
    assert (device.status, device.holder, device.version) == (Status.IN_STORE, None, 2)


def test_an_issued_device_keeps_its_passcode(client, office, holder):
    device = factories.SchoolDeviceFactory()
    services.device_issue(device=device, staff=holder, by=office)
    device.refresh_from_db()
    client.force_login(office)
    response = client.post(
        reverse("devices:device_edit", args=[device.pk]), _device_post(device, passcode_set="")
    )
    assert response.status_code == 200
    assert "must keep its passcode" in response.content.decode()
    device.refresh_from_db()
    assert device.passcode_set


def test_a_stale_edit_is_refused_with_both_versions(client, office, dsl, holder):
    device = factories.SchoolDeviceFactory()
    url = reverse("devices:device_edit", args=[device.pk])
    stale = _device_post(device, make_model="Typed-By-Office")
    # a transition in between makes the copy stale too
    services.device_issue(device=device, staff=holder, by=dsl)
    client.force_login(office)
    response = client.post(url, stale)
    assert response.status_code == 409
    assert "Typed-By-Office" in response.content.decode()
    device.refresh_from_db()
    assert device.make_model == "Example Phone 12"


def test_the_register_filters_by_status_category_and_search(client, office, holder):
    tablet = factories.DeviceCategoryFactory(name="Tablet")
    issued = factories.SchoolDeviceFactory(asset_tag="VRPS-1001")
    services.device_issue(device=issued, staff=holder, by=office)
    factories.SchoolDeviceFactory(asset_tag="VRPS-1002", category=tablet, make_model="Slate")
    client.force_login(office)
    url = reverse("devices:device_list")

    def tags(params):
        return {d.asset_tag for d in client.get(url, params).context["object_list"]}

    assert tags({}) == {"VRPS-1001", "VRPS-1002"}
    assert tags({"status": "issued"}) == {"VRPS-1001"}
    assert tags({"category": tablet.pk}) == {"VRPS-1002"}
    assert tags({"q": "holder"}) == {"VRPS-1001"}  # the holder's surname
    assert tags({"q": "slate"}) == {"VRPS-1002"}
    assert tags({"q": "1002"}) == {"VRPS-1002"}
    assert tags({"page": "99"}) == {"VRPS-1001", "VRPS-1002"}  # the nearest page


def test_the_dashboard_panel_counts_by_status(client, office, holder, teacher):
    factories.SchoolDeviceFactory()
    services.device_issue(device=factories.SchoolDeviceFactory(), staff=holder, by=office)
    client.force_login(office)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-panel="school_devices"' in page
    assert '<strong class="fs-3" data-testid="count">2</strong> devices on the register' in page
    client.force_login(teacher)
    assert 'data-panel="school_devices"' not in client.get(reverse("dashboard")).content.decode()


# Query counts ---------------------------------------------------------------------------


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(n: int, office) -> None:
    for _ in range(n):
        staff = factories.StaffMemberFactory()
        factories.AupAcknowledgementFactory(staff=staff, recorded_by=office)
        services.device_issue(device=factories.SchoolDeviceFactory(), staff=staff, by=office)
        factories.SchoolDeviceFactory()


# As every page (tests/test_query_counts.py): the session, the user, the user's roles; the
# layout's school and policy version; the session saved again (savepoint, update, release).
_EVERY_PAGE = 3 + 2 + 3


def test_the_register_list_runs_a_fixed_number_of_queries(client, office):
    client.force_login(office)
    url = reverse("devices:device_list")
    _grow(5, office)  # 10 devices
    small = _count(client, url)
    _grow(45, office)  # 100 devices
    large = _count(client, url)
    assert small == large
    # count, the page of devices (category and holder joined), the categories for the filter
    assert large == _EVERY_PAGE + 3
