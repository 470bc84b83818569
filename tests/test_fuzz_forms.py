"""Every form, fed hostile input through its page: refused or saved, never a server error.

Each row of `FORMS` names a page with a form, who may use it and what to type into it.
For every generated request: no server error; no markup from the input reaches the page
unescaped; a form shown again shows what was typed (escaped); a redirect stays on this
site and leads to a page that renders. A new form needs a row:
`test_every_form_of_the_project_is_fuzzed` lists any form no row covers.
"""

from __future__ import annotations

import base64
import datetime
import importlib
import io
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import django_filters
import pytest
from django import forms as django_forms
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from compliance import (
    filtering,
    filters,
    forms,
    forms_filtering,
    forms_relationships,
    forms_review,
    relationship_services,
    retention,
)
from compliance.importers import (
    LEARNER_OPTIONAL,
    LEARNER_REQUIRED,
    STAFF_OPTIONAL,
    STAFF_REQUIRED,
    ImportKind,
)
from compliance.models import (
    ActionPlanItem,
    FilterDecision,
    FormClass,
    Learner,
    LinkedPolicy,
    MonitoringAlert,
    MonitoringCheck,
    ParentCarer,
    PhoneApproach,
    PolicyCommunication,
    PolicyReview,
    Relationship,
    RelationshipDeclaration,
    School,
    StaffMember,
    StaffType,
    TrainingSession,
    User,
    Visit,
    Visitor,
    VisitorType,
    YearGroup,
)
from compliance.roles import Role
from compliance.subject_access import PersonKind
from compliance.views import evidence as evidence_views
from compliance.views import retention as retention_views
from compliance.views.history import HISTORY_KINDS, AccessLogFilterForm, AuditFilterForm
from compliance.views.imports import ImportForm
from compliance.views.mfa import CodeForm
from compliance.views.subject_access import PersonSearchForm
from devices import forms as device_forms
from devices import forms_reception as device_forms_reception
from devices import services as device_services
from devices.forms_register import (
    ConfiscationFilter,
    ConfiscationForm,
    ConfiscationReturnForm,
    DeviceFilter,
    IssueForm,
    LostForm,
    MoveForm,
    PoliceForm,
    SchoolDeviceForm,
)
from devices.models import (
    CallHome,
    Confiscation,
    DeviceCategory,
    Exemption,
    HandInException,
    SchoolDevice,
    VisitorDeviceAgreement,
)
from incidents import concerns as incident_concerns
from incidents import forms_concerns, forms_dsl, forms_report, forms_search
from incidents import services as incident_services
from incidents.models import (
    Category,
    Incident,
    Involvement,
    Location,
    LowLevelConcern,
    ParentContact,
    Referral,
    Search,
)
from tests import factories
from tests import fuzz_strategies as fz
from tests.factories_devices_exemptions import exemption_in

pytestmark = pytest.mark.django_db

# CI runs 200 requests per form; FUZZ_EXAMPLES=20 makes a quick local run.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))


@dataclass
class World:
    """The records a form is tried against, and a logged-in client per role."""

    users: dict[str, User]
    community: dict[str, Any]
    school: School
    without_login: StaffMember
    clients: dict[str, Client] = field(default_factory=dict)
    retention: dict[str, Any] = field(default_factory=dict)

    def retention_records(self) -> dict[str, Any]:
        """A disposal asked for (of a visit past its retention period) and a legal hold.

        Made on first use: only the retention forms need them."""
        if not self.retention:
            dsl = self.users["dsl"]
            years_ago = timezone.now() - datetime.timedelta(days=12 * 365)
            old, held = factories.VisitFactory.create_batch(2, arrived=years_ago)
            self.retention["disposal"] = retention.disposal_request(
                record=old, rule_key=retention.VISITOR_LOG.key, by=dsl
            )
            self.retention["hold"] = retention.legal_hold_place(
                record=held, reason="A claim", by=dsl
            )
        return self.retention

    def client_for(self, role: str | None) -> Client:
        if role is None:
            return Client()  # a successful login must not carry over to the next example
        if role not in self.clients:
            self.clients[role] = Client()
            self.clients[role].force_login(self.users[role])
        return self.clients[role]


@pytest.fixture
def world(users, community, school) -> World:
    factories.StaffMemberFactory(staff_type=StaffType.GOVERNOR, first_name="Gail")
    factories.StaffMemberFactory(active=False, first_name="Gone")
    return World(
        users=users,
        community=community,
        school=school,
        without_login=factories.StaffMemberFactory(first_name="Nolan", last_name="Login"),
    )


@dataclass(frozen=True)
class FormCase:
    """One form, reached through its page by someone whose role may use it."""

    url_name: str
    kwargs: Callable[[World], dict]
    role: str | None  # a key of the `users` fixture; None for someone not logged in
    method: str  # "post", or "get" for search and filter forms
    fields: st.SearchStrategy[dict]
    form: type  # the form (or FilterSet) the page shows
    echoed: tuple[str, ...] = ()  # fields shown again as typed (not passwords, not choices)
    # the answers it may give: by default a page (200), a save (302) or a stale edit (409)
    statuses: frozenset[int] | None = None
    prepare: Callable[[World], None] | None = None  # run before each request
    marks: tuple = ()
    # forms shown inside this one's page (a formset's form), fuzzed through it
    covers: tuple[type, ...] = ()

    @property
    def id(self) -> str:
        return self.url_name.removeprefix("compliance:")

    @property
    def allowed(self) -> frozenset[int]:
        if self.statuses is not None:
            return self.statuses
        return frozenset({200, 302, 409} if self.method == "post" else {200})


def no_kwargs(world: World) -> dict:
    return {}


def pk_of(key: str) -> Callable[[World], dict]:
    return lambda world: {"pk": world.community[key].pk}


def record(key: str) -> Callable[[World], Any]:
    return lambda world: world.community[key]


def _password_as_it_was(world: World) -> None:
    """Undo the last successful change, so that the next request can change it again."""
    user = world.users["staff"]
    user.refresh_from_db()
    if not user.check_password(factories.PASSWORD):
        user.set_password(factories.PASSWORD)
        user.save()
        world.clients.pop("staff", None)  # its session ended with the change


def _password_change() -> st.SearchStrategy[dict]:
    """The right old password and a new one typed twice, or anything at all."""

    @st.composite
    def fields(draw):
        if draw(st.booleans()):
            new = draw(fz.passwords().valid)
            return {"old_password": factories.PASSWORD, "new_password1": new, "new_password2": new}
        new = draw(fz.passwords().any())
        return {
            "old_password": draw(fz.weighted((1, st.just(factories.PASSWORD)), (1, TEXT))),
            "new_password1": new,
            "new_password2": draw(fz.weighted((2, st.just(new)), (1, TEXT))),
        }

    return fields()


IMPORT_COLUMNS = {
    ImportKind.LEARNERS: {"required": LEARNER_REQUIRED, "optional": LEARNER_OPTIONAL},
    ImportKind.STAFF: {"required": STAFF_REQUIRED, "optional": STAFF_OPTIONAL},
}


def _import() -> st.SearchStrategy[dict]:
    """A good file with the kind it holds, or anything at all; either button."""

    @st.composite
    def fields(draw):
        valid = draw(st.booleans())
        kind = draw(st.sampled_from(ImportKind.values))
        upload = draw(fz.csv_uploads(**IMPORT_COLUMNS[kind], valid=valid))
        button = fz.Field(st.sampled_from(["check", "import"]), TEXT)
        if valid:
            return {"kind": kind, "file": upload, "action": draw(button.valid)}
        maybe = fz.weighted((9, st.just(upload)), (1, st.just(fz.OMITTED)))
        return {
            "kind": draw(fz.choices(ImportKind.values).any()),
            "file": draw(maybe),
            "action": draw(button.any()),
        }

    return fields()


TEXT = fz.hostile_text()
NAMES = ("first_name", "last_name")
NEXT_URLS = (
    "/community/staff/",
    "//evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    "/\\evil.example",
    "/%2F%2Fevil.example",
)
PAGE = {
    "page": fz.Field(st.sampled_from(["1", "2", "last"]), fz.weighted((1, fz.numbers()), (1, TEXT)))
}
DATE_RANGE = {"date_from": fz.dates(required=False), "date_to": fz.dates(required=False)}
STAFF_FIELDS = {
    "first_name": fz.text(100),
    "last_name": fz.text(100),
    "email": fz.emails(),
    "staff_type": fz.choices(StaffType.values),
    "job_title": fz.text(200, required=False),
    "mis_id": fz.text(50, required=False),
    "active": fz.checkbox(),
}
CLASS_FIELDS = {
    "name": fz.text(50),
    "year_group": fz.choices(YearGroup.values),
    "teachers": fz.id_lists(StaffMember, active=True),
}
LEARNER_FIELDS = {
    "first_name": fz.text(100),
    "last_name": fz.text(100),
    "date_of_birth": fz.dates(datetime.date(2015, 1, 1), datetime.date(2021, 12, 31)),
    # the classes the test starts with are Year 3 ones
    "year_group": fz.Field(st.sampled_from(["3", "3", "R", "6"]), TEXT),
    "form_class": fz.ids(FormClass, required=False, year_group="3"),
    "mis_id": fz.text(50, required=False),
    "joined": fz.dates(datetime.date(2022, 1, 1), datetime.date(2025, 12, 31)),
    "left": fz.dates(datetime.date(2026, 1, 1), datetime.date(2030, 12, 31), required=False),
}
PARENT_FIELDS = {
    "first_name": fz.text(100),
    "last_name": fz.text(100),
    "relationship": fz.choices(Relationship.values),
    "phone": fz.phones(),
    "email": fz.emails(),
    "learners": fz.id_lists(Learner),
}
VISITOR_FIELDS = {
    "first_name": fz.text(100),
    "last_name": fz.text(100),
    "organisation": fz.text(200, required=False),
    "visitor_type": fz.choices(VisitorType.values),
    "regular_or_extended": fz.checkbox(),
}
VISIT_FIELDS = {
    "visitor": fz.ids(Visitor),
    "arrived": fz.datetimes(),
    "left": fz.Field(st.just(""), fz.datetimes().any()),
    "purpose": fz.text(300),
    "host": fz.ids(StaffMember, active=True),
}

RECORD_FIELDS = {
    "rule": fz.Field(st.just(retention.VISITOR_LOG.key), TEXT),
    "pk": fz.ids(Visit),
    "page": fz.Field(st.sampled_from(["", "1", "2"]), fz.numbers()),
}


def created(fields: dict) -> st.SearchStrategy[dict]:
    return fz.form({**fields, "version": fz.no_version()})


def edited(fields: dict, key: str) -> st.SearchStrategy[dict]:
    return fz.form({**fields, "version": fz.version_of(record(key))})


FORMS: list[FormCase] = [
    FormCase(
        "login",
        no_kwargs,
        None,
        "post",
        fz.form(
            {
                "username": fz.Field(st.sampled_from(["dsl", "office", "head"]), TEXT),
                "password": fz.Field(st.just(factories.PASSWORD), TEXT),
                "next": fz.Field(st.sampled_from(NEXT_URLS), TEXT),
            }
        ),
        AuthenticationForm,
        echoed=("username",),
        statuses=frozenset({200, 302, 429}),  # 429: locked out after repeated failures
    ),
    FormCase(
        "password_change",
        no_kwargs,
        "staff",
        "post",
        _password_change(),
        PasswordChangeForm,
        prepare=_password_as_it_was,
    ),
    FormCase(
        "compliance:school_edit",
        no_kwargs,
        "headteacher",
        "post",
        fz.form(
            {
                "name": fz.text(200),
                "address": fz.text(1000, required=False),
                "phone": fz.phones(),
                "local_authority": fz.text(200, required=False),
                "lado_contact": fz.text(1000, required=False),
                "safeguarding_partnership_contact": fz.text(1000, required=False),
                "education_safeguarding_service_contact": fz.text(1000, required=False),
                "safeguarding_lead_governor": fz.ids(
                    StaffMember, required=False, staff_type=StaffType.GOVERNOR
                ),
                "phone_approach": fz.choices(PhoneApproach.values),
                "version": fz.version_of(lambda world: School.current()),
            }
        ),
        forms.SchoolForm,
        echoed=(
            "name",
            "address",
            "phone",
            "local_authority",
            "lado_contact",
            "safeguarding_partnership_contact",
            "education_safeguarding_service_contact",
        ),
    ),
    FormCase(
        "compliance:staff_add",
        no_kwargs,
        "office",
        "post",
        created(STAFF_FIELDS),
        forms.StaffMemberForm,
        echoed=(*NAMES, "email", "job_title", "mis_id"),
    ),
    FormCase(
        "compliance:staff_edit",
        pk_of("staff"),
        "headteacher",
        "post",
        edited(STAFF_FIELDS, "staff"),
        forms.StaffMemberForm,
        echoed=(*NAMES, "email", "job_title", "mis_id"),
    ),
    FormCase(
        "compliance:staff_login",
        lambda world: {"pk": world.without_login.pk},
        "dsl",
        "post",
        fz.form(
            {
                "username": fz.text(150),
                "roles": fz.Field(
                    st.lists(st.sampled_from(Role.values), unique=True),
                    st.lists(fz.choices(Role.values).any(), max_size=4),
                ),
                "password": fz.passwords(),
            }
        ),
        forms.StaffLoginForm,
        echoed=("username",),
    ),
    FormCase(
        "compliance:class_add",
        no_kwargs,
        "office",
        "post",
        created(CLASS_FIELDS),
        forms.FormClassForm,
        echoed=("name",),
    ),
    FormCase(
        "compliance:class_edit",
        pk_of("my_class"),
        "dsl",
        "post",
        edited(CLASS_FIELDS, "my_class"),
        forms.FormClassForm,
        echoed=("name",),
    ),
    FormCase(
        "compliance:learner_add",
        no_kwargs,
        "office",
        "post",
        created(LEARNER_FIELDS),
        forms.LearnerForm,
        echoed=(*NAMES, "mis_id", "date_of_birth", "joined", "left"),
    ),
    FormCase(
        "compliance:learner_edit",
        pk_of("learner"),
        "headteacher",
        "post",
        edited(LEARNER_FIELDS, "learner"),
        forms.LearnerForm,
        echoed=(*NAMES, "mis_id", "date_of_birth", "joined", "left"),
    ),
    FormCase(
        "compliance:parent_add",
        no_kwargs,
        "office",
        "post",
        created(PARENT_FIELDS),
        forms.ParentCarerForm,
        echoed=(*NAMES, "phone", "email"),
    ),
    FormCase(
        "compliance:parent_edit",
        pk_of("parent"),
        "dsl",
        "post",
        edited(PARENT_FIELDS, "parent"),
        forms.ParentCarerForm,
        echoed=(*NAMES, "phone", "email"),
    ),
    FormCase(
        "compliance:visitor_add",
        no_kwargs,
        "deputy_dsl",
        "post",
        created(VISITOR_FIELDS),
        forms.VisitorForm,
        echoed=(*NAMES, "organisation"),
    ),
    FormCase(
        "compliance:visitor_edit",
        pk_of("visitor"),
        "office",
        "post",
        edited(VISITOR_FIELDS, "visitor"),
        forms.VisitorForm,
        echoed=(*NAMES, "organisation"),
    ),
    FormCase(
        "compliance:visit_add",
        no_kwargs,
        "office",
        "post",
        created(VISIT_FIELDS),
        forms.VisitForm,
        echoed=("arrived", "left", "purpose"),
    ),
    FormCase(
        "compliance:visit_edit",
        pk_of("visit"),
        "deputy_dsl",
        "post",
        edited(VISIT_FIELDS, "visit"),
        forms.VisitForm,
        echoed=("arrived", "left", "purpose"),
    ),
    FormCase("compliance:import", no_kwargs, "office", "post", _import(), ImportForm),
    FormCase(
        "compliance:audit",
        no_kwargs,
        "dsl",
        "get",
        fz.form(
            {
                "person": fz.ids(User, required=False),
                "kind": fz.choices(HISTORY_KINDS, required=False),
                **DATE_RANGE,
                **PAGE,
            }
        ),
        AuditFilterForm,
        echoed=("date_from", "date_to"),
    ),
    FormCase(
        "compliance:access_log",
        no_kwargs,
        "dsl",
        "get",
        fz.form(
            {
                "person": fz.ids(User, required=False),
                "kind": fz.choices(HISTORY_KINDS, required=False),
                "record": fz.ids(Learner, required=False),
                **DATE_RANGE,
                **PAGE,
            }
        ),
        AccessLogFilterForm,
        echoed=("date_from", "date_to"),
    ),
    FormCase(
        "compliance:subject_access_choose",
        no_kwargs,
        "dsl",
        "get",
        fz.form({"kind": fz.choices(PersonKind.values), "q": fz.text(100), **PAGE}),
        PersonSearchForm,
        echoed=("q",),
    ),
    FormCase(
        "compliance:staff_list",
        no_kwargs,
        "office",
        "get",
        fz.form(
            {
                "q": fz.text(required=False),
                "staff_type": fz.choices(StaffType.values, required=False),
                "active": fz.choices(["true", "false", "unknown"], required=False),
                **PAGE,
            }
        ),
        filters.StaffFilter,
        echoed=("q",),
    ),
    FormCase(
        "compliance:class_list",
        no_kwargs,
        "staff",
        "get",
        fz.form({"year_group": fz.choices(YearGroup.values, required=False), **PAGE}),
        filters.FormClassFilter,
    ),
    FormCase(
        "compliance:learner_list",
        no_kwargs,
        "staff",
        "get",
        fz.form(
            {
                "q": fz.text(required=False),
                "year_group": fz.choices(YearGroup.values, required=False),
                "form_class": fz.ids(FormClass, required=False),
                "on_roll": fz.choices(["true", "false"], required=False),
                **PAGE,
            }
        ),
        filters.LearnerFilter,
        echoed=("q",),
    ),
    FormCase(
        "compliance:parent_list",
        no_kwargs,
        "office",
        "get",
        fz.form(
            {
                "q": fz.text(required=False),
                "relationship": fz.choices(Relationship.values, required=False),
                **PAGE,
            }
        ),
        filters.ParentCarerFilter,
        echoed=("q",),
    ),
    FormCase(
        "compliance:visitor_list",
        no_kwargs,
        "deputy_dsl",
        "get",
        fz.form(
            {
                "q": fz.text(required=False),
                "visitor_type": fz.choices(VisitorType.values, required=False),
                "regular_or_extended": fz.choices(["true", "false"], required=False),
                **PAGE,
            }
        ),
        filters.VisitorFilter,
        echoed=("q",),
    ),
    FormCase(
        "compliance:visit_list",
        no_kwargs,
        "office",
        "get",
        fz.form(
            {
                "q": fz.text(required=False),
                "arrived_from": fz.dates(required=False),
                "arrived_to": fz.dates(required=False),
                "on_site": fz.choices(["true", "false"], required=False),
                **PAGE,
            }
        ),
        filters.VisitFilter,
        echoed=("q", "arrived_from", "arrived_to"),
    ),
    # the retention actions answer every request with a redirect and a message
    FormCase(
        "compliance:retention_disposal_request",
        no_kwargs,
        "deputy_dsl",
        "post",
        fz.form(RECORD_FIELDS),
        retention_views.RecordForm,
    ),
    FormCase(
        "compliance:retention_hold_place",
        no_kwargs,
        "dsl",
        "post",
        fz.form({**RECORD_FIELDS, "reason": fz.text(2000)}),
        retention_views.HoldForm,
    ),
    FormCase(
        "compliance:retention_hold_lift",
        lambda world: {"pk": world.retention_records()["hold"].pk},
        "dsl",
        "post",
        fz.form({"reason": fz.text(2000)}),
        retention_views.LiftForm,
    ),
    FormCase(
        "compliance:retention_disposal_decide",
        lambda world: {"pk": world.retention_records()["disposal"].pk},
        "dsl",
        "post",
        fz.form(
            {
                "decision": fz.choices(["approve", "refuse"]),
                "note": fz.text(2000, required=False),
            }
        ),
        retention_views.DecideForm,
    ),
]


# Devices and incidents ------------------------------------------------------------------


class PdfUpload(fz.Upload):
    def resolve(self, world):
        return SimpleUploadedFile(self.name, self.content, content_type="application/pdf")


class ImageUpload(fz.Upload):
    def resolve(self, world):
        return SimpleUploadedFile(self.name, self.content, content_type="image/png")


def _png_data_url() -> str:
    buffer = io.BytesIO()
    Image.new("RGBA", (200, 80), (10, 20, 80, 255)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _once(key: str, make: Callable[[World], Any]) -> Callable[[World], Any]:
    """The record a row works on, made on first use and kept for the test's examples."""

    def get(world: World) -> Any:
        if key not in world.community:
            world.community[key] = make(world)
        return world.community[key]

    return get


school_device = _once("school_device", lambda world: factories.SchoolDeviceFactory())
confiscation = _once(
    "confiscation",
    lambda world: device_services.confiscation_record(
        learner=world.community["learner"],
        category=factories.DeviceCategoryFactory(),
        description="Black phone",
        reason="Used in class",
        stored_where="Office safe",
        taken_by=world.community["staff"],
        by=world.users["dsl"],
    ),
)


def _own_report(world: World):
    return incident_services.incident_report(
        occurred_at=timezone.now(),
        location=factories.LocationFactory(),
        category="restricted_area",
        account="A phone was used in the classroom.",
        people=[
            incident_services.Person(
                part=Involvement.Part.SUBJECT, learner=world.community["learner"]
            )
        ],
        by=world.users["staff"],
    )


own_report = _once("own_report", _own_report)
search_incident = _once(
    "search_incident",
    lambda world: incident_services.incident_triage(
        incident=_own_report(world), by=world.users["dsl"]
    ),
)
a_search = _once(
    "search",
    lambda world: incident_services.search_record(
        incident=search_incident(world),
        learner=world.community["learner"],
        device="Black phone",
        searched_at=timezone.now() - datetime.timedelta(days=1),
        place="DSL's office",
        led_by=world.users["dsl"],
        no_second_reason="Nobody else was free",
        grounds="Seen filming",
        sought="Photos",
        consent_by="learner",
        consent_how="Said yes",
        outcome="returned",
        by=world.users["dsl"],
    ),
)


def _exemption_in(status: str) -> Callable[[World], dict]:
    def kwargs(world: World) -> dict:
        exemption = exemption_in(
            status,
            learner=world.community["learner"],
            requester=world.users["staff"],
            head=world.users["headteacher"],
        )
        if status == Exemption.Status.AGREEMENT_ISSUED:
            return {"pk": exemption.agreements.get().pk}
        return {"pk": exemption.pk}

    return kwargs


DEVICE_FIELDS = {
    "asset_tag": fz.text(50),
    "category": fz.ids(DeviceCategory),
    "make_model": fz.text(200),
    "serial_number": fz.text(100, required=False),
    "work_phone_number": fz.phones(),
    "passcode_set": fz.checkbox(),
    "notes": fz.text(2000, required=False),
}
DEVICE_ECHOED = ("asset_tag", "make_model", "serial_number", "work_phone_number", "notes")
PERSON_VALUES = fz.Field(
    st.just(fz.Ref("the learner", lambda w: f"learner-{w.community['learner'].pk}")),
    TEXT,
)
SEARCH_FIELDS = {
    "learner": fz.Field(
        st.just(fz.Ref("the involved learner", lambda w: w.community["learner"].pk)),
        fz.weighted((1, fz.numbers()), (1, TEXT)),
    ),
    "device": fz.text(200),
    "searched_at": fz.datetimes(),
    "place": fz.text(200),
    "led_by": fz.ids(User, is_active=True),
    "second_staff": fz.ids(StaffMember, required=False, active=True),
    "no_second_reason": fz.text(1000, required=False),
    "grounds": fz.text(1000),
    "sought": fz.text(1000),
    "consent_by": fz.choices(Search.ConsentBy.values),
    "consent_parent": fz.ids(ParentCarer, required=False),
    "consent_how": fz.text(200),
    "found": fz.text(1000, required=False),
    "nothing_found": fz.checkbox(),
    "deletion": fz.choices(Search.Deletion.values),
    "deletion_reason": fz.text(1000, required=False),
    "outcome": fz.choices(Search.Outcome.values),
    "custody": fz.choices(forms_search.Custody.values),
    "confiscation": fz.ids(Confiscation, required=False),
    "returned_to": fz.text(200, required=False),
    "new_category": fz.ids(DeviceCategory, required=False),
    "new_stored_where": fz.text(200, required=False),
    "police_officer": fz.text(200, required=False),
    "police_reference": fz.text(100, required=False),
    "police_at": fz.datetimes(required=False),
    "parents_told": fz.checkbox(),
    "parents_told_at": fz.datetimes(required=False),
}


def _pk(get: Callable[[World], Any]) -> Callable[[World], dict]:
    return lambda world: {"pk": get(world).pk}


FORMS += [
    FormCase(
        "mfa_enrol",
        no_kwargs,
        "dsl",
        "post",
        fz.form({"code": fz.text(32), "next": fz.Field(st.sampled_from(NEXT_URLS), TEXT)}),
        CodeForm,
        echoed=("code",),
    ),
    FormCase(
        "devices:device_add",
        no_kwargs,
        "office",
        "post",
        created(DEVICE_FIELDS),
        SchoolDeviceForm,
        echoed=DEVICE_ECHOED,
    ),
    FormCase(
        "devices:device_edit",
        _pk(school_device),
        "dsl",
        "post",
        fz.form({**DEVICE_FIELDS, "version": fz.version_of(school_device)}),
        SchoolDeviceForm,
        echoed=DEVICE_ECHOED,
    ),
    FormCase(
        "devices:device_issue",
        _pk(school_device),
        "office",
        "post",
        fz.form({"staff": fz.ids(StaffMember)}),
        IssueForm,
    ),
    FormCase(
        "devices:device_report_lost",
        _pk(school_device),
        "headteacher",
        "post",
        fz.form({"details": fz.text(2000)}),
        LostForm,
        echoed=("details",),
    ),
    FormCase(
        "devices:device_list",
        no_kwargs,
        "office",
        "get",
        fz.form(
            {
                "q": fz.text(required=False),
                "status": fz.choices(SchoolDevice.Status.values, required=False),
                "category": fz.ids(DeviceCategory, required=False),
                **PAGE,
            }
        ),
        DeviceFilter,
        echoed=("q",),
    ),
    FormCase(
        "devices:confiscation_add",
        no_kwargs,
        "staff",
        "post",
        fz.form(
            {
                "learner": fz.ids(Learner),
                "category": fz.ids(DeviceCategory),
                "description": fz.text(200),
                "reason": fz.text(2000),
                "stored_where": fz.text(200),
                "taken_by": fz.ids(StaffMember),
                "taken_at": fz.datetimes(),
            }
        ),
        ConfiscationForm,
        echoed=("description", "reason", "stored_where", "taken_at"),
    ),
    FormCase(
        "devices:confiscation_list",
        no_kwargs,
        "staff",
        "get",
        fz.form(
            {
                "q": fz.text(required=False),
                "status": fz.choices(Confiscation.Status.values, required=False),
                "taken_from": fz.dates(required=False),
                "taken_to": fz.dates(required=False),
                **PAGE,
            }
        ),
        ConfiscationFilter,
        echoed=("q", "taken_from", "taken_to"),
    ),
    FormCase(
        "devices:confiscation_move",
        _pk(confiscation),
        "office",
        "post",
        fz.form({"stored_where": fz.text(200)}),
        MoveForm,
        echoed=("stored_where",),
    ),
    FormCase(
        "devices:confiscation_return",
        _pk(confiscation),
        "deputy_dsl",
        "post",
        fz.form({"returned_to": fz.text(200)}),
        ConfiscationReturnForm,
        echoed=("returned_to",),
    ),
    FormCase(
        "devices:confiscation_police",
        _pk(confiscation),
        "dsl",
        "post",
        fz.form({"officer": fz.text(200), "reference": fz.text(100), "at": fz.datetimes()}),
        PoliceForm,
        echoed=("officer", "reference", "at"),
    ),
    FormCase(
        "devices:exemption_list",
        no_kwargs,
        "headteacher",
        "get",
        fz.form(
            {
                "q": fz.text(required=False),
                "status": fz.choices(Exemption.Status.values, required=False),
                "kind": fz.choices(Exemption.Kind.values, required=False),
                "reason_kind": fz.choices(Exemption.ReasonKind.values, required=False),
                **PAGE,
            }
        ),
        device_forms.ExemptionFilter,
        echoed=("q",),
    ),
    FormCase(
        "devices:exemption_request",
        no_kwargs,
        "staff",
        "post",
        fz.form(
            {
                "kind": fz.choices([Exemption.Kind.LEARNER_EXCEPTIONAL]),
                "learner": fz.ids(Learner),
                "category": fz.ids(DeviceCategory),
                "reason_kind": fz.choices(Exemption.ReasonKind.values),
                "reason": fz.text(4000),
                "starts": fz.dates(),
                "ends": fz.dates(),
                "review_on": fz.dates(),
            }
        ),
        device_forms.ExemptionRequestForm,
        echoed=("reason",),
    ),
    FormCase(
        "devices:handin_exception",
        _pk(lambda world: world.community["learner"]),
        "staff",
        "post",
        # no date: today's register (a date the page did not offer is a tampered form, 400)
        fz.form(
            {
                "kind": fz.choices(HandInException.Kind.values),
                "details": fz.text(300, required=False),
            }
        ),
        device_forms.HandInExceptionForm,
        statuses=frozenset({302}),
    ),
    FormCase(
        "devices:exemption_decide",
        _exemption_in(Exemption.Status.REQUESTED),
        "headteacher",
        "post",
        fz.form(
            {
                "decision": fz.choices(["approve", "refuse"]),
                "reasons": fz.text(4000, required=False),
            }
        ),
        device_forms.DecideForm,
        echoed=("reasons",),
    ),
    FormCase(
        "devices:exemption_risk_assessment",
        _exemption_in(Exemption.Status.REQUESTED),
        "dsl",
        "post",
        fz.form({"hazards": fz.text(8000), "controls": fz.text(8000)}),
        device_forms.RiskAssessmentForm,
    ),
    FormCase(
        "devices:agreement_issue",
        _exemption_in(Exemption.Status.APPROVED),
        "headteacher",
        "post",
        fz.form(
            {
                "permitted_use": fz.text(4000),
                "where": fz.text(300),
                "when": fz.text(300),
                "expectations": fz.text(8000),
                "sanctions": fz.text(8000),
            }
        ),
        device_forms.AgreementForm,
        echoed=("permitted_use", "where", "when", "expectations", "sanctions"),
    ),
    FormCase(
        "devices:exemption_revoke",
        _exemption_in(Exemption.Status.ACTIVE),
        "headteacher",
        "post",
        fz.form({"reason": fz.text(4000)}),
        device_forms.RevokeForm,
        echoed=("reason",),
    ),
    FormCase(
        "devices:signature_record",
        _exemption_in(Exemption.Status.AGREEMENT_ISSUED),
        "headteacher",
        "post",
        fz.form(
            {
                "capacity": fz.choices(["learner", "parent_carer", "headteacher"]),
                "signer_name": fz.text(200),
                "parent": fz.ids(ParentCarer, required=False),
                "method": fz.choices(["drawn", "paper"]),
                "drawn_png": fz.Field(st.just(_png_data_url()), fz.hostile_text()),
                "paper_scan": fz.Field(
                    st.just(PdfUpload("signed.pdf", b"%PDF-1.4\n%signed\n")),
                    st.sampled_from(
                        [
                            PdfUpload("x.pdf", b"GIF89a"),
                            PdfUpload("<script>alert(1)</script>.pdf", b"%PDF-"),
                            PdfUpload("empty.pdf", b""),
                        ]
                    ),
                ),
            }
        ),
        device_forms.SignatureForm,
        echoed=("signer_name",),
    ),
    FormCase(
        "devices:agreement_verify",
        no_kwargs,
        "office",
        "get",
        fz.form({"fingerprint": fz.Field(st.from_regex(r"\A[0-9a-f]{64}\Z"), TEXT)}),
        device_forms.VerifyForm,
        echoed=("fingerprint",),
    ),
    FormCase(
        "incidents:report",
        no_kwargs,
        "staff",
        "post",
        fz.form(
            {
                "occurred_at": fz.datetimes(),
                "location": fz.ids(Location),
                "category": fz.choices(Category.values),
                "account": fz.text(4000),
                "policies": fz.id_lists(LinkedPolicy),
                "people-TOTAL_FORMS": fz.Field(st.just("5"), fz.numbers()),
                "people-INITIAL_FORMS": fz.Field(st.just("0"), fz.numbers()),
                "people-MIN_NUM_FORMS": fz.Field(st.just("0"), fz.numbers()),
                "people-MAX_NUM_FORMS": fz.Field(st.just("5"), fz.numbers()),
                "people-0-person": PERSON_VALUES,
                "people-0-part": fz.choices(Involvement.Part.values, required=False),
                "people-1-person": fz.Field(st.just(""), TEXT),
                "people-1-part": fz.choices(Involvement.Part.values, required=False),
            }
        ),
        forms_report.ReportForm,
        echoed=("account",),
        covers=(forms_report.PersonForm,),
    ),
    FormCase(
        "incidents:report_amend",
        _pk(own_report),
        "staff",
        "post",
        fz.form({"account": fz.text(4000)}),
        forms_report.AmendForm,
        echoed=("account",),
    ),
    FormCase(
        "incidents:report_note",
        _pk(own_report),
        "staff",
        "post",
        fz.form({"text": fz.text(4000)}),
        forms_report.NoteForm,
        echoed=("text",),
    ),
    FormCase(
        "incidents:report_person",
        _pk(own_report),
        "staff",
        "post",
        fz.form(
            {"person": PERSON_VALUES, "part": fz.choices(Involvement.Part.values, required=False)}
        ),
        forms_report.PersonForm,
    ),
    FormCase(
        "incidents:report_attachment",
        _pk(own_report),
        "staff",
        "post",
        fz.form(
            {
                "upload": fz.Field(
                    st.just(ImageUpload("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)),
                    st.sampled_from(
                        [
                            ImageUpload("x.png", b"GIF89a"),
                            ImageUpload("<b>x</b>.png", b"\x89PNG"),
                            ImageUpload("empty.png", b""),
                        ]
                    ),
                ),
                "description": fz.text(200),
            }
        ),
        forms_report.AttachmentForm,
        echoed=("description",),
    ),
    FormCase(
        "incidents:search_add",
        lambda world: {"incident_pk": search_incident(world).pk},
        "dsl",
        "post",
        fz.form(SEARCH_FIELDS),
        forms_search.SearchForm,
        echoed=(
            "device",
            "place",
            "no_second_reason",
            "grounds",
            "sought",
            "consent_how",
            "found",
            "deletion_reason",
            "returned_to",
            "new_stored_where",
            "police_officer",
            "police_reference",
        ),
    ),
    FormCase(
        "incidents:search_parents_told",
        _pk(a_search),
        "dsl",
        "post",
        fz.form({"told_at": fz.datetimes()}),
        forms_search.ParentsToldForm,
    ),
    FormCase(
        "incidents:search_list",
        no_kwargs,
        "dsl",
        "get",
        fz.form(
            {
                "q": fz.text(200, required=False),
                "reference": fz.text(20, required=False),
                "outcome": fz.choices(Search.Outcome.values, required=False),
                "found": fz.choices(["true", "false"], required=False),
                "parents_told": fz.choices(["true", "false"], required=False),
                "searched_from": fz.dates(required=False),
                "searched_to": fz.dates(required=False),
                **PAGE,
            }
        ),
        forms_search.SearchListFilter,
        echoed=("q", "reference"),
    ),
]


# The policy review, the action plan and the governors' report ----------------------------

LAST_YEAR = (
    timezone.localdate().year - 1 if timezone.localdate().month < 9 else (timezone.localdate().year)
)

FORMS += [
    FormCase(
        "compliance:review_add",
        no_kwargs,
        "dsl",
        "post",
        fz.form(
            {
                "trigger": fz.choices(PolicyReview.Trigger.values),
                "changes": fz.text(4000),
                "version_number": fz.text(20),
                "date_written": fz.dates(),
                "next_review": fz.dates(required=False),
                "material_change": fz.checkbox(),
                "follows_kcsie": fz.choices(["2021", "2025"], required=False),
                "follows_phone_guidance": fz.choices(["2024-02", "2026-01"], required=False),
                "follows_filtering_standards": fz.choices(["2023"], required=False),
                "told_staff_on": fz.dates(required=False),
                "told_staff_how": fz.choices(PolicyCommunication.Method.values, required=False),
                "told_parents_on": fz.dates(required=False),
                "told_parents_how": fz.choices(["letter"], required=False),
            }
        ),
        forms_review.ReviewForm,
        echoed=("changes", "version_number", "date_written"),
    ),
    FormCase(
        "compliance:actions_add",
        no_kwargs,
        "deputy_dsl",
        "post",
        fz.form(
            {
                "source": fz.choices(ActionPlanItem.Source.values),
                "source_reference": fz.text(50, required=False),
                "description": fz.text(2000),
                "owner": fz.ids(StaffMember),
                "due": fz.dates(),
            }
        ),
        forms_review.ActionForm,
        echoed=("source_reference", "description", "due"),
    ),
    FormCase(
        "compliance:training_add",
        no_kwargs,
        "headteacher",
        "post",
        fz.form(
            {
                "held_on": fz.dates(),
                "topic": fz.text(200),
                "attendees": fz.id_lists(StaffMember),
            }
        ),
        forms_review.TrainingForm,
        echoed=("held_on", "topic"),
    ),
    FormCase(
        "compliance:monitoring_add",
        no_kwargs,
        "dsl",
        "post",
        fz.form(
            {
                "checked_on": fz.dates(),
                "what_checked": fz.text(2000),
                "findings": fz.text(2000),
                "actions": fz.text(2000, required=False),
            }
        ),
        forms_review.MonitoringForm,
        echoed=("checked_on", "what_checked", "findings", "actions"),
    ),
    FormCase(
        "compliance:report_summary",
        lambda world: {"year": LAST_YEAR},
        "dsl",
        "post",
        fz.form({"text": fz.text(8000)}),
        forms_review.SummaryForm,
        echoed=("text",),
    ),
]


# Filtering and monitoring, and who was told of each policy version ------------------------


def _filtering_record(key: str) -> Callable[[World], dict]:
    """A decision (to reverse) or an alert awaiting review: a fresh alert for each request."""

    def get(world: World) -> dict:
        dsl = world.users["dsl"]
        if key == "alert" or key not in world.community:
            if key == "alert":
                record = filtering.alert_record(
                    by=dsl,
                    raised_at=timezone.now(),
                    system="Monitor",
                    kind="bullying",
                    subject="learner",
                    learner=world.community["learner"],
                    summary="Abusive words typed",
                )
            elif key == "decision":
                record = filtering.filter_decision_record(
                    by=dsl,
                    target="site",
                    what="https://proxy.example",
                    action="block",
                    reason="A proxy",
                    decided_by=dsl.staff_member,
                    decided_on=timezone.localdate(),
                )
            else:
                record = factories.PolicyVersionFactory()
            world.community[key] = record
        return {"pk": world.community[key].pk}

    return get


FORMS += [
    FormCase(
        "compliance:filtering_review_add",
        no_kwargs,
        "dsl",
        "post",
        fz.form(
            {
                "reviewed_on": fz.dates(),
                "participants": fz.id_lists(StaffMember, active=True),
                "other_participants": fz.text(300, required=False),
                "what_tested": fz.text(4000),
                "findings": fz.text(4000),
                "next_review": fz.dates(required=False),
                "action_1_description": fz.text(2000, required=False),
                "action_1_owner": fz.ids(StaffMember, required=False, active=True),
                "action_1_due": fz.dates(required=False),
            }
        ),
        forms_filtering.FilteringReviewForm,
        echoed=("other_participants", "what_tested", "findings", "action_1_description"),
    ),
    FormCase(
        "compliance:filtering_review_list",
        no_kwargs,
        "headteacher",
        "get",
        fz.form(
            {
                "reviewed_from": fz.dates(required=False),
                "reviewed_to": fz.dates(required=False),
                **PAGE,
            }
        ),
        forms_filtering.FilteringReviewFilter,
    ),
    FormCase(
        "compliance:filter_decision_add",
        no_kwargs,
        "deputy_dsl",
        "post",
        fz.form(
            {
                "target": fz.choices(FilterDecision.Target.values, required=False),
                "what": fz.text(300, required=False),
                "action": fz.choices(FilterDecision.Action.values),
                "reason": fz.text(4000),
                "decided_by": fz.ids(StaffMember, active=True),
                "decided_on": fz.dates(),
                # a decision to reverse: an existing one, or a key no decision has (404)
                "reverses": fz.ids(FilterDecision, required=False),
            }
        ),
        forms_filtering.FilterDecisionForm,
        echoed=("reason",),
        statuses=frozenset({200, 302, 404}),
        prepare=lambda world: _filtering_record("decision")(world) and None,
    ),
    FormCase(
        "compliance:filter_decision_list",
        no_kwargs,
        "dsl",
        "get",
        fz.form(
            {
                "q": fz.text(required=False),
                "action": fz.choices(FilterDecision.Action.values, required=False),
                "target": fz.choices(FilterDecision.Target.values, required=False),
                "in_force": fz.choices(["true", "false"], required=False),
                **PAGE,
            }
        ),
        forms_filtering.FilterDecisionFilter,
        echoed=("q",),
    ),
    FormCase(
        "compliance:alert_add",
        no_kwargs,
        "dsl",
        "post",
        fz.form(
            {
                "raised_at": fz.datetimes(),
                "system": fz.text(100),
                "kind": fz.choices(MonitoringAlert.Kind.values),
                "subject": fz.choices(MonitoringAlert.Subject.values),
                "learner": fz.ids(Learner, required=False),
                "staff": fz.ids(StaffMember, required=False, active=True),
                "device": fz.text(100, required=False),
                "summary": fz.text(4000),
            }
        ),
        forms_filtering.MonitoringAlertForm,
        echoed=("system", "device", "summary"),
    ),
    FormCase(
        "compliance:alert_review",
        _filtering_record("alert"),
        "dsl",
        "post",
        fz.form(
            {
                "outcome": fz.choices(MonitoringAlert.Outcome.values),
                "note": fz.text(4000, required=False),
                "incident_reference": fz.Field(
                    st.sampled_from(["", "INC-2026-AB12CD"]), fz.hostile_text()
                ),
            }
        ),
        forms_filtering.AlertReviewForm,
        echoed=("note", "incident_reference"),
    ),
    FormCase(
        "compliance:alert_list",
        no_kwargs,
        "deputy_dsl",
        "get",
        fz.form(
            {
                "status": fz.choices(MonitoringAlert.Status.values, required=False),
                "kind": fz.choices(MonitoringAlert.Kind.values, required=False),
                "subject": fz.choices(MonitoringAlert.Subject.values, required=False),
                "outcome": fz.choices(MonitoringAlert.Outcome.values, required=False),
                "raised_from": fz.dates(required=False),
                "raised_to": fz.dates(required=False),
                **PAGE,
            }
        ),
        forms_filtering.MonitoringAlertFilter,
    ),
    FormCase(
        "compliance:policy_communication_add",
        _filtering_record("version"),
        "headteacher",
        "post",
        fz.form(
            {
                "audience": fz.choices(PolicyCommunication.Audience.values),
                "communicated_on": fz.dates(),
                "method": fz.choices(PolicyCommunication.Method.values),
                "note": fz.text(300, required=False),
            }
        ),
        forms_review.CommunicationForm,
        echoed=("note",),
    ),
]


# Pre-existing relationships and the review's edit pages --------------------------------


def _declaration(key: str) -> Callable[[World], Any]:
    """The teacher's own declaration (one per case, made on first use)."""

    def get(world: World):
        if key not in world.community:
            world.community[key] = relationship_services.declaration_create(
                by=world.users["staff"],
                relationship_with="learner",
                kind="relative",
                who="My niece, Year 3",
                nature="Family gatherings.",
            )
        return world.community[key]

    return get


def _plan_record(key: str) -> Callable[[World], Any]:
    """An open action, a training session or a monitoring check (made on first use)."""

    def get(world: World):
        if key not in world.community:
            dsl, today = world.users["dsl"], timezone.localdate()
            if key == "action":
                made = ActionPlanItem.objects.create(
                    source="review",
                    description="Posters",
                    owner=world.community["staff"],
                    due=today,
                    created_by=dsl,
                )
            elif key == "training":
                made = TrainingSession.objects.create(
                    held_on=today, topic="Induction", recorded_by=dsl
                )
            else:
                made = MonitoringCheck.objects.create(
                    checked_on=today, what_checked="Logs", findings="None", checked_by=dsl
                )
            world.community[key] = made
        return world.community[key]

    return get


def _pk(get: Callable[[World], Any]) -> Callable[[World], dict]:
    return lambda world: {"pk": get(world).pk}


def _first_linked(world: World):
    return LinkedPolicy.objects.order_by("pk").first()


FORMS += [
    FormCase(
        "compliance:relationship_declare",
        no_kwargs,
        "staff",
        "post",
        fz.form(
            {
                "relationship_with": fz.choices(RelationshipDeclaration.With.values),
                "kind": fz.choices(RelationshipDeclaration.Kind.values),
                "who": fz.text(200),
                "nature": fz.text(4000),
            }
        ),
        forms_relationships.DeclarationForm,
        echoed=("who", "nature"),
    ),
    FormCase(
        "compliance:relationship_discuss",
        _pk(_declaration("declaration_discuss")),
        "dsl",
        "post",
        fz.form(
            {
                "version": fz.version_of(_declaration("declaration_discuss")),
                "discussed_on": fz.dates(),
                "discussed_with_dsl": fz.ids(User, groups__name="dsl"),
                "discussed_with_head": fz.ids(User, groups__name="headteacher"),
                "outcome": fz.text(4000),
                "arrangements": fz.text(4000, required=False),
                "learners": fz.id_lists(Learner),
                "parents": fz.id_lists(ParentCarer),
            }
        ),
        forms_relationships.DiscussionForm,
        echoed=("outcome", "arrangements"),
    ),
    FormCase(
        "compliance:relationship_end",
        _pk(_declaration("declaration_end")),
        "staff",
        "post",
        fz.form({"reason": fz.text(2000)}),
        forms_relationships.EndForm,
        statuses=frozenset({302}),
    ),
    FormCase(
        "compliance:relationship_list",
        no_kwargs,
        "deputy_dsl",
        "get",
        fz.form(
            {
                "q": fz.text(200, required=False),
                "status": fz.choices(RelationshipDeclaration.Status.values, required=False),
                "relationship_with": fz.choices(
                    RelationshipDeclaration.With.values, required=False
                ),
                "reconfirm": fz.choices(["true", "false"], required=False),
                **PAGE,
            }
        ),
        forms_relationships.DeclarationFilter,
        echoed=("q",),
    ),
    FormCase(
        "compliance:linked_policy_edit",
        _pk(_first_linked),
        "dsl",
        "post",
        fz.form(
            {
                "name": fz.text(200),
                "owner": fz.ids(StaffMember, required=False, active=True),
                "next_review": fz.dates(required=False),
                "version": fz.version_of(_first_linked),
            }
        ),
        forms_review.LinkedPolicyForm,
        echoed=("name",),
    ),
    FormCase(
        "compliance:actions_edit",
        _pk(_plan_record("action")),
        "deputy_dsl",
        "post",
        fz.form(
            {
                "source": fz.choices(ActionPlanItem.Source.values),
                "source_reference": fz.text(50, required=False),
                "description": fz.text(2000),
                "owner": fz.ids(StaffMember, active=True),
                "due": fz.dates(),
                "version": fz.version_of(_plan_record("action")),
            }
        ),
        forms_review.ActionEditForm,
        echoed=("source_reference", "description"),
    ),
    FormCase(
        "compliance:training_edit",
        _pk(_plan_record("training")),
        "headteacher",
        "post",
        fz.form(
            {
                "held_on": fz.dates(),
                "topic": fz.text(200),
                "attendees": fz.id_lists(StaffMember),
                "version": fz.version_of(_plan_record("training")),
            }
        ),
        forms_review.TrainingEditForm,
        echoed=("topic",),
    ),
    FormCase(
        "compliance:monitoring_edit",
        _pk(_plan_record("monitoring")),
        "dsl",
        "post",
        fz.form(
            {
                "checked_on": fz.dates(),
                "what_checked": fz.text(2000),
                "findings": fz.text(2000),
                "actions": fz.text(2000, required=False),
                "version": fz.version_of(_plan_record("monitoring")),
            }
        ),
        forms_review.MonitoringEditForm,
        echoed=("what_checked", "findings", "actions"),
    ),
]


# The DSL's side of incidents ------------------------------------------------------------


def _incident_at(status: str):
    """An incident the teacher reported about a learner, moved on to `status` (made once)."""

    def kwargs(world) -> dict:
        key = f"incident_{status}"
        if key not in world.community:
            incident = incident_services.incident_report(
                occurred_at=timezone.now(),
                location=factories.LocationFactory(),
                category=Category.UNAUTHORISED_RECORDING,
                account="A phone was used to photograph pupils in the classroom.",
                people=[
                    incident_services.Person(part="subject", learner=world.community["learner"]),
                    incident_services.Person(part="affected", staff=world.community["staff"]),
                ],
                by=world.users["staff"],
            )
            dsl = world.users["dsl"]
            if status != "reported":
                incident_services.incident_triage(incident=incident, by=dsl)
            if status in ("investigating", "debrief"):
                incident_services.incident_start_investigation(incident=incident, by=dsl)
            if status == "debrief":
                incident_services.incident_ready_for_debrief(incident=incident, by=dsl)
            world.community[key] = incident
        return {"pk": world.community[key].pk}

    return kwargs


FORMS += [
    FormCase(
        "incidents:incident_triage",
        _incident_at("reported"),
        "dsl",
        "post",
        fz.form(
            {
                "category": fz.choices(Category.values),
                "child_at_risk": fz.checkbox(),
                "suspected_illegal": fz.checkbox(),
                "staff_allegation": fz.checkbox(),
                "assignee": fz.ids(User, required=False, groups__name="deputy_dsl"),
                "policies": fz.id_lists(LinkedPolicy),
            }
        ),
        forms_dsl.TriageForm,
    ),
    FormCase(
        "incidents:incident_escalate",
        _incident_at("investigating"),
        "dsl",
        "post",
        fz.form(
            {
                "child_at_risk": fz.checkbox(),
                "suspected_illegal": fz.checkbox(),
                "staff_allegation": fz.checkbox(),
            }
        ),
        forms_dsl.EscalateForm,
    ),
    FormCase(
        "incidents:incident_investigate",
        _incident_at("triaged"),
        "dsl",
        "post",
        fz.form({}),
        forms_dsl.StepForm,
    ),
    FormCase(
        "incidents:incident_close",
        _incident_at("debrief"),
        "dsl",
        "post",
        fz.form({}),
        forms_dsl.StepForm,
    ),
    FormCase(
        "incidents:incident_note",
        _incident_at("investigating"),
        "dsl",
        "post",
        fz.form({"text": fz.text(10000)}),
        forms_dsl.NoteForm,
        echoed=("text",),
    ),
    FormCase(
        "incidents:incident_person",
        _incident_at("investigating"),
        "dsl",
        "post",
        fz.form(
            {
                "part": fz.choices(["subject", "affected", "witness"]),
                "learner": fz.ids(Learner, required=False),
                "staff": fz.ids(StaffMember, required=False),
                "visitor": fz.ids(Visitor, required=False),
            }
        ),
        forms_dsl.PersonForm,
    ),
    FormCase(
        "incidents:incident_referral",
        _incident_at("investigating"),
        "dsl",
        "post",
        fz.form(
            {
                "agency": fz.choices(Referral.Agency.values),
                "made_at": fz.datetimes(),
                "contact": fz.text(200),
                "reference": fz.text(100, required=False),
                "advice": fz.text(2000, required=False),
                "outcome": fz.text(2000, required=False),
            }
        ),
        forms_dsl.ReferralForm,
        echoed=("contact", "reference", "advice", "outcome"),
    ),
    FormCase(
        "incidents:incident_parents_told",
        _incident_at("investigating"),
        "dsl",
        "post",
        fz.form(
            {
                "parent": fz.ids(ParentCarer),
                "told_at": fz.datetimes(),
                "how": fz.choices(ParentContact.How.values),
                "summary": fz.text(2000),
            }
        ),
        forms_dsl.ParentsToldForm,
        echoed=("summary",),
    ),
    FormCase(
        "incidents:incident_parents_not_told",
        _incident_at("investigating"),
        "dsl",
        "post",
        fz.form({"reason": fz.text(2000)}),
        forms_dsl.ParentsNotToldForm,
        echoed=("reason",),
    ),
    FormCase(
        "incidents:incident_conduct",
        _incident_at("investigating"),
        "headteacher",
        "post",
        fz.form({"outcome": fz.text(2000)}),
        forms_dsl.ConductForm,
        echoed=("outcome",),
    ),
    FormCase(
        "incidents:incident_debrief",
        _incident_at("debrief"),
        "dsl",
        "post",
        fz.form(
            {
                "held_on": fz.dates(),
                "attendees": fz.id_lists(StaffMember),
                "lessons": fz.text(2000),
                "policy_changes": fz.text(2000, required=False),
                "curriculum_changes": fz.text(2000, required=False),
                "action_1_description": fz.text(2000, required=False),
                "action_1_owner": fz.ids(StaffMember, required=False),
                "action_1_due": fz.dates(required=False),
            }
        ),
        forms_dsl.DebriefForm,
        echoed=("lessons", "policy_changes", "curriculum_changes", "action_1_description"),
    ),
    FormCase(
        "incidents:queue",
        no_kwargs,
        "dsl",
        "get",
        fz.form(
            {
                "status": fz.choices(Incident.Status.values, required=False),
                "category": fz.choices(Category.values, required=False),
                "location": fz.ids(Location, required=False),
                "learner": fz.text(200, required=False),
                "occurred_from": fz.dates(required=False),
                "occurred_to": fz.dates(required=False),
                "assignee": fz.ids(User, required=False, groups__name="dsl"),
                "staff": fz.choices(["true", "false"], required=False),
                "page": fz.Field(
                    st.sampled_from(["1", "2", "last"]), fz.weighted((1, fz.numbers()), (1, TEXT))
                ),
            }
        ),
        forms_dsl.IncidentFilter,
        echoed=("learner",),
    ),
]


def _attachment(world: World) -> dict:
    key = "attachment"
    if key not in world.community:
        incident = incident_services.incident_report(
            occurred_at=timezone.now(),
            location=factories.LocationFactory(),
            category=Category.ABUSIVE_MESSAGE,
            account="A screenshot of an abusive message.",
            people=[],
            by=world.users["dsl"],
        )
        world.community[key] = incident_services.attachment_add(
            incident=incident,
            upload=SimpleUploadedFile("shot.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64),
            description="Screenshot",
            by=world.users["dsl"],
        )
    attachment = world.community[key]
    return {"pk": attachment.incident_id, "attachment_pk": attachment.pk}


FORMS += [
    FormCase(
        "incidents:incident_attachment_remove",
        _attachment,
        "dsl",
        "post",
        # the form's prefix carries the attachment's id, which the strategy cannot know:
        # the generated reason reaches the page as an unknown field, the form is refused
        fz.form({"reason": fz.text(2000), "remove-1-reason": fz.text(2000)}),
        forms_dsl.AttachmentRemoveForm,
    ),
]


# Low-level concerns about staff: raised by anyone, the log the DSL's and head's ------------


def _concern(key: str):
    """A concern the teacher raised about a colleague, one per form (made once)."""

    def get(world):
        key_ = f"concern_{key}"
        if key_ not in world.community:
            world.community[key_] = incident_concerns.concern_raise(
                staff=world.without_login,
                occurred_at=timezone.now(),
                location=factories.LocationFactory(),
                account="Photographed pupils on a personal phone in the hall.",
                by=world.users["staff"],
            )
        return world.community[key_]

    return get


FORMS += [
    FormCase(
        "incidents:concern_raise",
        no_kwargs,
        "staff",
        "post",
        fz.form(
            {
                "staff": fz.ids(StaffMember, active=True),
                "occurred_at": fz.datetimes(),
                "location": fz.ids(Location),
                "account": fz.text(4000),
            }
        ),
        forms_concerns.ConcernRaiseForm,
        echoed=("account",),
    ),
    FormCase(
        "incidents:concern_response",
        _pk(_concern("response")),
        "dsl",
        "post",
        fz.form({"version": fz.version_of(_concern("response")), "response": fz.text(4000)}),
        forms_concerns.ConcernResponseForm,
        echoed=("response",),
    ),
    FormCase(
        "incidents:concern_outcome",
        _pk(_concern("outcome")),
        "headteacher",
        "post",
        fz.form(
            {
                "version": fz.version_of(_concern("outcome")),
                "outcome": fz.choices(LowLevelConcern.Outcome.values),
                "detail": fz.text(4000),
            }
        ),
        forms_concerns.ConcernOutcomeForm,
        echoed=("detail",),
    ),
    FormCase(
        "incidents:concern_escalate",
        _pk(_concern("escalate")),
        "dsl",
        "post",
        fz.form(
            {
                "version": fz.version_of(_concern("escalate")),
                "category": fz.choices(Category.values),
                "reason": fz.text(4000),
            }
        ),
        forms_concerns.ConcernEscalateForm,
        echoed=("reason",),
    ),
    FormCase(
        "incidents:concern_list",
        no_kwargs,
        "dsl",
        "get",
        fz.form(
            {
                "staff": fz.ids(StaffMember, required=False),
                "status": fz.choices(LowLevelConcern.Status.values, required=False),
                **PAGE,
            }
        ),
        forms_concerns.ConcernFilterForm,
    ),
]


# Reception: the office desk, the visitor device agreement, the log export, calls home ------

DEVICE_USE_FIELDS = {
    "briefing_given": fz.checkbox(),
    "briefed_by": fz.ids(StaffMember),
    "use": fz.choices(VisitorDeviceAgreement.Use.values),
    "purpose": fz.text(300, required=False),
    "where": fz.text(200, required=False),
    "when": fz.text(200, required=False),
    "agreed_by": fz.ids(StaffMember, required=False),
    "with_learners": fz.checkbox(),
    "exemption": fz.ids(Exemption, required=False),
    "ask_headteacher": fz.checkbox(),
    "category": fz.ids(DeviceCategory, required=False),
    "aup_acknowledged": fz.checkbox(),
}
DEVICE_USE_ECHOED = ("purpose", "where", "when")

FORMS += [
    FormCase(
        "devices:reception",
        no_kwargs,
        "office",
        "get",
        fz.form({"q": fz.text(200, required=False)}),
        device_forms_reception.FindVisitorForm,
        echoed=("q",),
    ),
    FormCase(
        "devices:reception_visitor_add",
        no_kwargs,
        "office",
        "post",
        created(VISITOR_FIELDS),
        forms.VisitorForm,
        echoed=(*NAMES, "organisation"),
    ),
    FormCase(
        "devices:reception_sign_in",
        pk_of("visitor"),
        "office",
        "post",
        fz.form(
            {
                "host": fz.ids(StaffMember),
                "purpose_of_visit": fz.text(300),
                "arrived": fz.datetimes(),
                **DEVICE_USE_FIELDS,
            }
        ),
        device_forms_reception.SignInForm,
        echoed=("purpose_of_visit", *DEVICE_USE_ECHOED),
    ),
    FormCase(
        "devices:reception_agreement",
        pk_of("visit"),
        "dsl",
        "post",
        fz.form(DEVICE_USE_FIELDS),
        device_forms_reception.DeviceUseForm,
        echoed=DEVICE_USE_ECHOED,
    ),
    FormCase(
        "devices:reception_export",
        no_kwargs,
        "office",
        "get",
        fz.form({"start": fz.dates(), "end": fz.dates()}),
        device_forms_reception.ExportForm,
    ),
    FormCase(
        "devices:call_add",
        no_kwargs,
        "office",
        "post",
        fz.form(
            {
                "learner": fz.ids(Learner),
                "direction": fz.choices(CallHome.Direction.values),
                "contact": fz.ids(ParentCarer, required=False),
                "contact_name": fz.text(200, required=False),
                "caller": fz.ids(StaffMember),
                "called_at": fz.datetimes(),
                "reason": fz.text(300),
                "outcome": fz.choices(CallHome.Outcome.values),
                "notes": fz.text(2000, required=False),
            }
        ),
        device_forms_reception.CallHomeForm,
        echoed=("contact_name", "reason", "notes"),
    ),
    FormCase(
        "devices:call_list",
        no_kwargs,
        "staff",
        "get",
        fz.form(
            {
                "learner": fz.ids(Learner, required=False),
                "q": fz.text(200, required=False),
                "direction": fz.choices(CallHome.Direction.values, required=False),
                "called_from": fz.dates(required=False),
                "called_to": fz.dates(required=False),
                **PAGE,
            }
        ),
        device_forms_reception.CallHomeFilter,
    ),
]

# The inspection evidence pack --------------------------------------------------------------

FORMS += [
    FormCase(
        "compliance:evidence",
        no_kwargs,
        "headteacher",
        "get",
        fz.form({"start": fz.dates(), "end": fz.dates()}),
        evidence_views.PeriodForm,
    ),
    FormCase(
        "compliance:evidence_pdf",
        no_kwargs,
        "dsl",
        "get",
        fz.form({"start": fz.dates(), "end": fz.dates()}),
        evidence_views.PeriodForm,
    ),
]

CASES = {case.id: case for case in FORMS}


def _text_values(payload: dict) -> list[str]:
    values = []
    for value in payload.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                values.append(item)
    return values


# Escaping turns each of these into an entity without it ("&" is left out: "&amp;" starts
# with "&", so a typed "a&" is found inside the escaped "a&amp;").
MARKUP_CHARACTERS = set("<>\"'")


def assert_nothing_unescaped(page: str, payload: dict) -> None:
    for signature in fz.RAW_SIGNATURES:
        assert signature not in page, f"unescaped markup in the page: {signature}"
    for value in _text_values(payload):
        if len(value) >= 8 and MARKUP_CHARACTERS.intersection(value):
            assert value not in page, f"a typed value is in the page unescaped: {value[:80]!r}"


def _shown_form(response):
    """The form on the page, or a filter form's FilterSet; None on a page without one."""
    if response.context is None:
        return None
    for key in ("filter", "form"):
        try:
            return response.context[key]
        except KeyError:
            continue
    return None


def assert_typed_values_shown(page: str, payload: dict, case: FormCase) -> None:
    for name in case.echoed:
        value = payload.get(name)
        # a NUL is refused by the form and may be dropped when shown again; crispy-forms
        # collapses whitespace between tags, so a textarea of spaces shows as one
        if isinstance(value, str) and value.strip() and "\x00" not in value:
            assert escape(value) in page, f"{name}: what was typed is not shown again"


def request_data(drawn: dict, world: World) -> dict:
    return {
        name: fz.resolve(value, world) for name, value in drawn.items() if value is not fz.OMITTED
    }


def send_and_check(case: FormCase, world: World, payload: dict) -> int:
    """Send one request with these fields; check the answer; return its status code."""
    if case.prepare:
        case.prepare(world)
    client = world.client_for(case.role)
    url = reverse(case.url_name, kwargs=case.kwargs(world))

    # the test client raises what the view raised: a server error fails here, with its traceback
    response = getattr(client, case.method)(url, payload)

    status = response.status_code
    assert status < 500
    assert status in case.allowed, f"{case.url_name} answered {status} to someone who may use it"
    if status == 302:
        location = urljoin(f"http://testserver{url}", response["Location"])
        target = urlsplit(location)
        assert (target.scheme, target.netloc) == ("http", "testserver"), f"off the site: {location}"
        followed = client.get(urlunsplit(("", "", target.path, target.query, "")))
        assert followed.status_code < 500, location
        # only a `next` someone typed may lead to a page that does not exist
        assert followed.status_code == 200 or "next" in payload, location
        assert_nothing_unescaped(followed.content.decode(), payload)
        return status
    if not response.get("Content-Type", "").startswith("text/html"):
        return status  # a download (a CSV file): there is no form to show again
    page = response.content.decode()
    assert_nothing_unescaped(page, payload)
    if status != 200:
        return status  # a stale edit (409) or a lockout (429): no form
    shown = _shown_form(response)
    assert isinstance(shown, case.form), f"the page shows {type(shown)}; FORMS says {case.form}"
    if shown.is_bound:
        assert_typed_values_shown(page, payload, case)
    return status


# Bugs found by this module and not fixed yet: each is shown by one request, which is expected
# to fail (strict: the test fails once the bug is fixed, so the entry is removed). Generated
# requests that would hit a known bug are skipped, so every other check keeps running.


@dataclass(frozen=True)
class KnownBug:
    case_id: str
    reason: str
    fields: dict
    hits: Callable[[dict], bool]  # whether a generated request would hit this bug
    only_on: str | None = None  # a database vendor, if the bug needs it
    open: bool = True  # False once mended: then a regression test that must pass


def _out_of_64_bits(value: object) -> bool:
    try:
        number = int(value)  # what Django's IntegerField does with a key
    except (TypeError, ValueError):
        return False
    return not -(2**63) <= number < 2**63


def _any_out_of_64_bits(field: str) -> Callable[[dict], bool]:
    return lambda fields: any(_out_of_64_bits(v) for v in fields.get(field) or [])


_OVERFLOW = (
    "bug: an id beyond 64 bits in a multiple choice ({field}) reaches the database in an "
    "`__in` query, which SQLite refuses with OverflowError (a 500, not a form error)"
)
# Bugs found by fuzzing. An open one is replayed as a strict xfail and its requests are
# kept out of the fuzz rows; a mended one (`open=False`) stays here as a regression test
# that must pass on every database.
_OVERFLOW = (
    "an id beyond 64 bits in a multiple choice ({field}) reached the database in an `__in` "
    "query, which SQLite refused with OverflowError (a 500, not a form error); mended by "
    "compliance.forms.ChoicesById"
)
KNOWN_BUGS = [
    KnownBug(
        "class_add",
        _OVERFLOW.format(field="teachers"),
        {"name": "4Z", "year_group": "4", "teachers": [str(2**63)]},
        _any_out_of_64_bits("teachers"),
        open=False,
    ),
    KnownBug(
        "class_edit",
        _OVERFLOW.format(field="teachers"),
        {"name": "4Z", "year_group": "4", "teachers": [str(2**64)], "version": "1"},
        _any_out_of_64_bits("teachers"),
        open=False,
    ),
    KnownBug(
        "parent_add",
        _OVERFLOW.format(field="learners"),
        {
            "first_name": "A",
            "last_name": "B",
            "relationship": "mother",
            "learners": ["-" + "9" * 20],
        },
        _any_out_of_64_bits("learners"),
        open=False,
    ),
    KnownBug(
        "parent_edit",
        _OVERFLOW.format(field="learners"),
        {"first_name": "A", "last_name": "B", "relationship": "mother", "learners": [str(2**63)]},
        _any_out_of_64_bits("learners"),
        open=False,
    ),
]
DATABASE_VENDOR = {"sqlite3": "sqlite", "postgresql": "postgresql"}.get(
    django_settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
)
OPEN_BUGS = [bug for bug in KNOWN_BUGS if bug.open and bug.only_on in (None, DATABASE_VENDOR)]


@pytest.mark.parametrize("case_id", [pytest.param(c.id, id=c.id, marks=c.marks) for c in FORMS])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written to the working tree; a failure prints its example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_input_is_refused_or_saved_never_a_server_error(case_id: str, world, data):
    case = CASES[case_id]
    payload = request_data(data.draw(case.fields, label="fields"), world)
    assume(not any(bug.hits(payload) for bug in OPEN_BUGS if bug.case_id == case_id))
    status = send_and_check(case, world, payload)
    event(f"HTTP {status}")


@pytest.mark.parametrize(
    "bug",
    [
        pytest.param(
            bug,
            id=f"{bug.case_id}-{bug.only_on or 'any'}",
            # on another database the request must pass: the bug is the database's
            marks=pytest.mark.xfail(bug in OPEN_BUGS, strict=True, reason=bug.reason),
        )
        for bug in KNOWN_BUGS
    ],
)
def test_known_bug(bug: KnownBug, world):
    send_and_check(CASES[bug.case_id], world, request_data(bug.fields, world))


# Every form is in the table


# Base classes no page shows on their own.
NOT_SHOWN_ALONE = {forms.VersionedModelForm, forms.DateRangeForm}


def _project_modules():
    """Every module of this project's apps (not their migrations or commands)."""
    for app in apps.get_app_configs():
        if Path(app.path).parent != Path(django_settings.BASE_DIR):
            continue  # Django's and third-party apps
        yield app.module
        prefix = f"{app.name}."
        for info in pkgutil.walk_packages(app.module.__path__, prefix):
            if not {"migrations", "management"}.intersection(info.name.split(".")):
                yield importlib.import_module(info.name)


def _url_views(resolver: URLResolver):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":  # the admin holds logins only, with Django's forms
                yield from _url_views(pattern)
        elif isinstance(pattern, URLPattern):
            yield getattr(pattern.callback, "view_class", None)


def project_forms() -> set[type]:
    found = set()
    for module in _project_modules():
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and obj.__module__ == module.__name__
                and issubclass(obj, django_forms.BaseForm | django_filters.FilterSet)
            ):
                found.add(obj)
    # class-based views name forms defined elsewhere (django.contrib.auth's)
    for view_class in _url_views(get_resolver()):
        for attribute in ("form_class", "filterset_class"):
            form_class = getattr(view_class, attribute, None)
            if form_class is not None:
                found.add(form_class)
    return found - NOT_SHOWN_ALONE


def test_every_form_of_the_project_is_fuzzed():
    covered = {case.form for case in FORMS} | {f for case in FORMS for f in case.covers}
    missing = sorted(f"{f.__module__}.{f.__qualname__}" for f in project_forms() - covered)
    assert not missing, f"add a row to FORMS for: {', '.join(missing)}"
