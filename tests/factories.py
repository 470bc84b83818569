"""factory_boy factories for the school community."""

import datetime

import factory
from django.utils import timezone

from compliance.models import (
    FormClass,
    Learner,
    ParentCarer,
    PolicyVersion,
    School,
    StaffMember,
    StaffType,
    User,
    Visit,
    Visitor,
    VisitorType,
    YearGroup,
)
from compliance.roles import role_groups

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    email = factory.LazyAttribute(lambda u: f"{u.username}@school.invalid")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set(role_groups(extracted))
        if create:
            self.save()


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School
        django_get_or_create = ("singleton",)

    singleton = True
    name = "Victoria Road Primary School"
    local_authority = "Kent County Council"


class PolicyVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyVersion

    number = factory.Sequence(lambda n: f"{n + 1}.0")
    date_written = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    adopted = factory.LazyAttribute(lambda p: p.date_written)
    next_review = factory.LazyAttribute(lambda p: p.date_written + datetime.timedelta(days=365))


class StaffMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember

    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    staff_type = StaffType.TEACHING
    job_title = "Class teacher"


class FormClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FormClass

    name = factory.Sequence(lambda n: f"3{chr(65 + n % 26)}{n}")
    year_group = YearGroup.Y3


class LearnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Learner

    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    date_of_birth = datetime.date(2018, 5, 17)
    form_class = factory.SubFactory(FormClassFactory)
    year_group = factory.LazyAttribute(lambda learner: learner.form_class.year_group)
    joined = datetime.date(2022, 9, 1)


class ParentCarerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ParentCarer
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    relationship = "mother"
    phone = "01234 567890"

    @factory.post_generation
    def learners(self, create, extracted, **kwargs):
        if create and extracted:
            self.learners.set(extracted)


class VisitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visitor

    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    organisation = "Kent Children's Services"
    visitor_type = VisitorType.MULTI_AGENCY


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    visitor = factory.SubFactory(VisitorFactory)
    purpose = "Meeting"
    host = factory.SubFactory(StaffMemberFactory)


# Devices ---------------------------------------------------------------------------


class DeviceCategoryFactory(factory.django.DjangoModelFactory):
    """Categories come from a data migration; get_or_create survives a flushed database."""

    class Meta:
        model = "devices.DeviceCategory"
        django_get_or_create = ("name",)

    name = "Mobile phone"
    can_communicate = True
    can_record_images = True
    can_record_sound = True


class SchoolDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "devices.SchoolDevice"

    asset_tag = factory.Sequence(lambda n: f"VRPS-{n:04}")
    category = factory.SubFactory(DeviceCategoryFactory)
    make_model = "Example Phone 12"
    passcode_set = True


class AupAcknowledgementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "compliance.Acknowledgement"

    kind = "aup"
    staff = factory.SubFactory(StaffMemberFactory)
    recorded_by = factory.SubFactory(UserFactory)


class ExemptionFactory(factory.django.DjangoModelFactory):
    """A learner's medical exemption, as requested (status set only by services)."""

    class Meta:
        model = "devices.Exemption"

    kind = "learner_exceptional"
    learner = factory.SubFactory(LearnerFactory)
    category = factory.SubFactory(DeviceCategoryFactory)
    reason = "Blood glucose monitoring through an app on her phone (type 1 diabetes)."
    starts = factory.LazyFunction(timezone.localdate)
    ends = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=180))
    requested_by = factory.SubFactory(UserFactory)


# Incidents ---------------------------------------------------------------------------


class LocationFactory(factory.django.DjangoModelFactory):
    """Locations come from a data migration; get_or_create survives a flushed database."""

    class Meta:
        model = "incidents.Location"
        django_get_or_create = ("name",)

    name = "Classroom"
    restricted = True


class IncidentFactory(factory.django.DjangoModelFactory):
    """A reported incident (status is set only by services)."""

    class Meta:
        model = "incidents.Incident"

    reference = factory.Sequence(lambda n: f"INC-2026-T{n:05}")
    location = factory.SubFactory(LocationFactory)
    category = "restricted_area"
    account = "I saw a phone being used to take photos of pupils in the classroom."
    reported_by = factory.SubFactory(UserFactory)
