"""The daily hand-in register (policy section 6): pages, actions, refusals, query counts."""

import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from devices import services
from devices.models import EXCEPTION_KINDS, Exemption, HandIn, HandInException
from tests import factories
from tests.factories_devices_exemptions import exemption_in

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _today() -> datetime.date:
    return timezone.localdate()


def _iso(day: datetime.date) -> str:
    return day.isoformat()


def _class_url(form_class, day=None) -> str:
    url = reverse("devices:handin_class", args=[form_class.pk])
    return f"{url}?date={_iso(day)}" if day else url


def _post(client, name, pk, *, headers=None, follow=False, **data):
    data.setdefault("date", _iso(_today()))
    url = reverse(f"devices:{name}", args=[pk])
    return client.post(url, data, headers=headers or {}, follow=follow)


def _setup(client, name, pk, **data):
    """An action done before the one under test (its message read and gone)."""
    response = _post(client, name, pk, follow=True, **data)
    assert response.status_code == 200
    return response


def _messages(response) -> list[str]:
    """The messages shown after an action's redirect (reading them uses them up)."""
    assert response.status_code == 302, response.status_code
    page = response.client.get(response["Location"])
    return [str(m) for m in page.context["messages"]]


def _grow(form_class, n: int) -> list:
    """n more learners on roll in the class, each with a parent or carer."""
    learners = []
    for _ in range(n):
        learner = factories.LearnerFactory(form_class=form_class)
        factories.ParentCarerFactory(learners=[learner])
        learners.append(learner)
    return learners


def _hand_in(learner, by, day=None, **fields) -> HandIn:
    return HandIn.objects.create(learner=learner, day=day or _today(), received_by=by, **fields)


# Marking one learner --------------------------------------------------------------


def test_one_tap_marks_the_device_handed_in_and_switched_off(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)

    response = _post(client, "handin_mark", learner.pk)

    assert response.status_code == 302
    assert response["Location"] == (
        f"{_class_url(community['my_class'], _today())}#learner-{learner.pk}"
    )
    hand_in = HandIn.objects.get(learner=learner, day=_today())
    assert hand_in.switched_off is True
    assert hand_in.received_by == teacher
    assert not hand_in.collected
    [message] = _messages(response)
    assert message.startswith("Saved: Amira Khan's device handed in at ")
    assert message.endswith(", switched off.")


def test_htmx_tap_returns_the_row_with_counts_and_confirmation(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)

    response = _post(client, "handin_mark", learner.pk, headers=HTMX)

    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith(
        f'<li class="list-group-item handin-row" id="learner-{learner.pk}"'
    )
    assert "Handed in</span>" in page
    assert "switched off" in page
    assert "Collected by the learner" in page
    assert "Hana Khan (mother)" in page  # the parent with parental responsibility
    assert "Saved: Amira Khan&#x27;s device handed in at" in page
    # the counts, the "mark all" form and the announcement, out of band
    assert re.search(r'id="handin-summary"[^>]*hx-swap-oob="true"', page)
    assert "<strong>1</strong> handed in" in page
    assert re.search(r'id="handin-mark-all"[^>]*hx-swap-oob="true"', page)
    assert 'id="handin-status" hx-swap-oob="innerHTML"' in page
    assert "<html" not in page
    assert not list(get_messages(response.wsgi_request))


def test_marking_twice_keeps_one_row(client, teacher, community):
    client.force_login(teacher)
    _setup(client, "handin_mark", community["learner"].pk)
    _setup(client, "handin_mark", community["learner"].pk)
    assert HandIn.objects.filter(learner=community["learner"]).count() == 1


def test_not_switched_off_is_recorded_and_can_be_corrected(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)
    _setup(client, "handin_mark", learner.pk)

    response = _post(client, "handin_mark", learner.pk, switched_off="0", headers=HTMX)
    assert "not switched off" in response.content.decode()
    assert HandIn.objects.get(learner=learner).switched_off is False
    assert "<strong>1</strong> not switched off" in response.content.decode()

    _setup(client, "handin_mark", learner.pk, switched_off="1")
    assert HandIn.objects.get(learner=learner).switched_off is True


def test_undo_before_collection_removes_the_row_and_history_keeps_it(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)
    _setup(client, "handin_mark", learner.pk)

    response = _post(client, "handin_undo", learner.pk, headers=HTMX)

    assert response.status_code == 200
    assert not HandIn.objects.filter(learner=learner).exists()
    page = response.content.decode()
    assert "No device recorded" in page
    assert "Undone: Amira Khan&#x27;s device is no longer recorded as handed in." in page
    kinds = list(
        HandIn.history.filter(learner_id=learner.pk)
        .order_by("history_date")
        .values_list("history_type", "history_user__username")
    )
    assert kinds == [("+", "teacher"), ("-", "teacher")]


def test_undo_after_collection_is_refused(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)
    _setup(client, "handin_mark", learner.pk)
    _setup(client, "handin_collect", learner.pk, collected_by="learner")

    htmx = _post(client, "handin_undo", learner.pk, headers=HTMX)
    assert htmx.status_code == 200
    assert "The device has been collected: that cannot be undone." in htmx.content.decode()
    assert "data-error" in htmx.content.decode()

    plain = _post(client, "handin_undo", learner.pk)
    assert plain.status_code == 302
    assert _messages(plain) == ["The device has been collected: that cannot be undone."]
    assert HandIn.objects.filter(learner=learner).exists()


def test_undo_with_nothing_handed_in_is_refused(client, teacher, community):
    client.force_login(teacher)
    response = _post(client, "handin_undo", community["learner"].pk)
    [message] = _messages(response)
    assert "is not recorded as handed in on" in message


def test_marking_after_collection_is_refused(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)
    _setup(client, "handin_mark", learner.pk)
    _setup(client, "handin_collect", learner.pk, collected_by="learner")

    response = _post(client, "handin_mark", learner.pk, headers=HTMX)

    assert "Amira Khan&#x27;s device was already collected that day." in response.content.decode()


# Collection ------------------------------------------------------------------------


def test_collected_by_the_learner(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)
    _setup(client, "handin_mark", learner.pk)

    response = _post(client, "handin_collect", learner.pk, collected_by="learner", headers=HTMX)

    hand_in = HandIn.objects.get(learner=learner)
    assert hand_in.collected_by == HandIn.CollectedBy.LEARNER
    assert hand_in.collected_by_parent is None
    assert hand_in.released_by == teacher
    page = response.content.decode()
    assert "by the learner" in page
    assert "Saved: Amira Khan&#x27;s device collected by the learner at" in page
    assert "Collected by the learner" not in page  # no more actions on a collected row
    assert "<strong>1</strong> collected" in page


def test_collected_by_a_parent_with_parental_responsibility(client, teacher, community):
    learner, parent = community["learner"], community["parent"]
    client.force_login(teacher)
    _setup(client, "handin_mark", learner.pk)

    response = _post(
        client, "handin_collect", learner.pk, collected_by="parent_carer", parent=parent.pk
    )

    hand_in = HandIn.objects.get(learner=learner)
    assert hand_in.collected_by == HandIn.CollectedBy.PARENT_CARER
    assert hand_in.collected_by_parent == parent
    [message] = _messages(response)
    assert message.startswith("Saved: Amira Khan's device collected by Hana Khan (mother) at ")
    page = client.get(response["Location"]).content.decode()
    assert "by Hana Khan (mother)" in page


def test_a_parent_without_parental_responsibility_is_refused(client, teacher, community):
    learner = community["learner"]
    # a parent of another learner in the same class: the teacher may see them
    classmate = factories.LearnerFactory(form_class=community["my_class"])
    other = factories.ParentCarerFactory(learners=[classmate], first_name="Pat", last_name="Lee")
    client.force_login(teacher)
    _setup(client, "handin_mark", learner.pk)

    response = _post(
        client,
        "handin_collect",
        learner.pk,
        collected_by="parent_carer",
        parent=other.pk,
        headers=HTMX,
    )

    assert "Pat Lee does not hold parental responsibility for this learner." in (
        response.content.decode()
    )
    assert not HandIn.objects.get(learner=learner).collected


def test_a_parent_the_user_may_not_see_is_not_named(client, teacher, dsl, community):
    """The teacher cannot learn the name of another class's parent by trying its number."""
    learner, stranger = community["learner"], community["other_parent"]
    client.force_login(teacher)
    _setup(client, "handin_mark", learner.pk)

    response = _post(
        client, "handin_collect", learner.pk, collected_by="parent_carer", parent=stranger.pk
    )

    assert _messages(response) == ["Say which parent or carer collected the device."]
    # the DSL sees every parent: the service names the one refused
    client.force_login(dsl)
    response = _post(
        client, "handin_collect", learner.pk, collected_by="parent_carer", parent=stranger.pk
    )
    assert _messages(response) == [
        f"{stranger} does not hold parental responsibility for this learner."
    ]
    assert not HandIn.objects.get(learner=learner).collected


def test_collection_needs_a_device_handed_in_and_a_collector(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)

    response = _post(client, "handin_collect", learner.pk, collected_by="learner")
    assert "was not handed in on" in _messages(response)[0]

    _setup(client, "handin_mark", learner.pk)
    response = _post(client, "handin_collect", learner.pk, collected_by="")
    assert _messages(response) == ["Say who collected the device."]
    response = _post(client, "handin_collect", learner.pk, collected_by="parent_carer")
    assert _messages(response) == ["Say which parent or carer collected the device."]
    assert not HandIn.objects.get(learner=learner).collected


def test_collecting_twice_is_refused(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)
    _setup(client, "handin_mark", learner.pk)
    _setup(client, "handin_collect", learner.pk, collected_by="learner")
    response = _post(client, "handin_collect", learner.pk, collected_by="learner")
    assert _messages(response) == ["That device has already been collected."]


# Days --------------------------------------------------------------------------------


def test_the_register_defaults_to_today(client, teacher, community):
    client.force_login(teacher)
    response = client.get(_class_url(community["my_class"]))
    assert response.status_code == 200
    assert response.context["day"] == _today()
    assert "(today)" in response.content.decode()


def test_a_future_date_is_refused_with_a_clear_message(client, teacher, community):
    tomorrow = _today() + datetime.timedelta(days=1)
    client.force_login(teacher)

    for url in (
        _class_url(community["my_class"], tomorrow),
        f"{reverse('devices:handin_index')}?date={_iso(tomorrow)}",
        f"{reverse('devices:handin_uncollected')}?date={_iso(tomorrow)}",
    ):
        response = client.get(url)
        assert response.status_code == 400, url
        page = response.content.decode()
        assert "is in the future: the register is kept for today or an earlier day" in page
        assert f'value="{_iso(tomorrow)}"' in page  # what was asked for is kept
        assert "Handed in<span" not in page

    response = _post(client, "handin_mark", community["learner"].pk, date=_iso(tomorrow))
    assert _messages(response) == ["A device cannot be handed in on a future day."]
    assert not HandIn.objects.exists()


def test_a_date_that_is_not_a_date_is_refused(client, teacher, community):
    client.force_login(teacher)
    response = client.get(f"{_class_url(community['my_class'])}?date=last-tuesday")
    assert response.status_code == 400
    assert "is not a date: choose one with the date picker." in response.content.decode()
    response = _post(client, "handin_mark", community["learner"].pk, date="<b>last</b>")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")  # what was sent is not HTML
    assert not HandIn.objects.exists()


def test_a_past_day_shows_that_days_hand_ins(client, dsl, teacher, community):
    last_week = _today() - datetime.timedelta(days=7)
    _hand_in(community["learner"], teacher, day=last_week)
    client.force_login(dsl)

    then = client.get(_class_url(community["my_class"], last_week)).content.decode()
    now = client.get(_class_url(community["my_class"])).content.decode()

    assert "<strong>1</strong> handed in" in then
    assert "<strong>0</strong> handed in" in now


def test_the_register_lists_the_learners_on_roll_that_day(client, teacher, community):
    form_class = community["my_class"]
    day = _today() - datetime.timedelta(days=30)
    left = factories.LearnerFactory(
        form_class=form_class, first_name="Lefty", left=day - datetime.timedelta(days=1)
    )
    newcomer = factories.LearnerFactory(
        form_class=form_class, first_name="Newton", joined=day + datetime.timedelta(days=1)
    )
    client.force_login(teacher)

    then = client.get(_class_url(form_class, day))
    names = [row.learner.first_name for row in then.context["register"].rows]
    assert "Amira" in names
    assert "Lefty" not in names
    assert "Newton" not in names
    assert "<strong>2</strong> on roll" in then.content.decode()

    response = _post(client, "handin_mark", left.pk, date=_iso(day))
    assert _messages(response) == [f"{left} was not on roll on {day:%A} {day.day} {day:%B %Y}."]
    assert not HandIn.objects.filter(learner__in=[left, newcomer]).exists()


# Who may -----------------------------------------------------------------------------


def test_a_teacher_cannot_touch_another_class(client, teacher, office, community):
    stranger = community["other_learner"]
    _hand_in(stranger, office)
    client.force_login(teacher)

    assert client.get(_class_url(community["other_class"])).status_code == 404
    for name in ("handin_mark", "handin_undo", "handin_collect"):
        response = _post(client, name, stranger.pk, collected_by="learner")
        assert response.status_code == 404, name
    response = _post(client, "handin_mark_class", community["other_class"].pk, learner=stranger.pk)
    assert response.status_code == 404
    hand_in = HandIn.objects.get(learner=stranger)
    assert not hand_in.collected


def test_the_whole_class_form_marks_only_learners_of_that_class(client, teacher, community):
    client.force_login(teacher)
    mine = community["my_class"].learners.all()
    chosen = [learner.pk for learner in mine] + [community["other_learner"].pk]

    _post(client, "handin_mark_class", community["my_class"].pk, learner=chosen)

    assert set(HandIn.objects.values_list("learner", flat=True)) == {m.pk for m in mine}


@pytest.mark.parametrize("role", ["governor", "outsider"])
def test_roles_outside_the_register_are_refused(client, users, community, role):
    client.force_login(users[role])
    learner = community["learner"]
    for name in ("handin_mark", "handin_undo", "handin_collect"):
        assert _post(client, name, learner.pk).status_code == 403, name
    assert _post(client, "handin_mark_class", community["my_class"].pk).status_code == 403
    assert not HandIn.objects.exists()


@pytest.mark.parametrize("role", ["office", "dsl", "deputy_dsl", "headteacher"])
def test_whole_school_roles_keep_any_class(client, users, community, role):
    client.force_login(users[role])
    stranger = community["other_learner"]
    response = _post(client, "handin_mark", stranger.pk)
    assert response.status_code == 302
    assert HandIn.objects.get(learner=stranger).received_by == users[role]


def test_a_teacher_who_left_keeps_no_register(client, teacher, community):
    teacher.staff_member.active = False
    teacher.staff_member.save()
    client.force_login(teacher)
    assert client.get(_class_url(community["my_class"])).status_code == 404
    assert _post(client, "handin_mark", community["learner"].pk).status_code == 404


def test_anonymous_actions_go_to_the_login_page(client, community):
    response = _post(client, "handin_mark", community["learner"].pk)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not HandIn.objects.exists()


# History -----------------------------------------------------------------------------


def test_history_rows_name_the_user(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)
    _setup(client, "handin_mark", learner.pk)
    _setup(client, "handin_collect", learner.pk, collected_by="learner")
    classmates = list(community["my_class"].learners.exclude(pk=learner.pk))
    _post(
        client,
        "handin_mark_class",
        community["my_class"].pk,
        learner=[c.pk for c in classmates],
    )

    rows = HandIn.history.all()
    assert rows.count() == 2 + len(classmates)
    assert {row.history_user for row in rows} == {teacher}
    latest = HandIn.history.filter(learner_id=learner.pk).latest("history_date")
    assert latest.history_type == "~"
    assert latest.collected_by == "learner"


# The whole class at once ------------------------------------------------------------


def test_mark_all_without_htmx_redirects_with_a_message(client, teacher, community):
    form_class = community["my_class"]
    learners = list(form_class.learners.all())
    client.force_login(teacher)
    _setup(client, "handin_mark", learners[0].pk)

    response = _post(client, "handin_mark_class", form_class.pk, learner=[lr.pk for lr in learners])

    assert response.status_code == 302
    assert response["Location"] == _class_url(form_class, _today())
    assert _messages(response) == [
        f"Saved: {len(learners) - 1} device handed in and switched off in 3A."
    ]
    assert HandIn.objects.filter(learner__form_class=form_class).count() == len(learners)


def test_mark_all_with_htmx_returns_the_register(client, teacher, community):
    form_class = community["my_class"]
    learners = list(form_class.learners.all())
    client.force_login(teacher)

    response = _post(
        client,
        "handin_mark_class",
        form_class.pk,
        learner=[lr.pk for lr in learners],
        headers=HTMX,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    assert page.count('class="list-group-item handin-row"') == len(learners)
    assert "No device recorded" not in page
    assert f"<strong>{len(learners)}</strong> handed in" in page
    assert f"Saved: {len(learners)} devices handed in and switched off in 3A." in page
    assert "Mark all" not in page  # nobody is left to mark


def test_mark_all_with_no_one_chosen_says_so(client, teacher, community):
    client.force_login(teacher)
    response = _post(client, "handin_mark_class", community["my_class"].pk)
    assert _messages(response) == ["No learners were chosen: every learner is already recorded."]


def test_the_register_offers_mark_all_for_those_not_yet_recorded(client, teacher, community):
    form_class = community["my_class"]
    learner = community["learner"]
    _hand_in(learner, teacher)
    client.force_login(teacher)

    page = client.get(_class_url(form_class)).content.decode()

    others = form_class.learners.exclude(pk=learner.pk)
    assert f"Mark all {others.count()} not yet recorded as handed in" in page
    posted = re.findall(r'name="learner" value="(\d+)"', page)
    assert sorted(map(int, posted)) == sorted(o.pk for o in others)


# Lists -------------------------------------------------------------------------------


def test_uncollected_list_for_a_teacher_shows_their_classes(client, teacher, office, community):
    mine = community["learner"]
    collected = factories.LearnerFactory(form_class=community["my_class"], first_name="Cleo")
    _hand_in(mine, teacher)
    services.hand_in_collect(
        hand_in=_hand_in(collected, teacher), collected_by="learner", by=teacher
    )
    _hand_in(community["other_learner"], office)
    _hand_in(mine, teacher, day=_today() - datetime.timedelta(days=1))
    client.force_login(teacher)

    response = client.get(reverse("devices:handin_uncollected"))

    assert response.status_code == 200
    assert [h.learner for h in response.context["hand_ins"]] == [mine]
    page = response.content.decode()
    assert "Khan, Amira" in page
    assert "Cleo" not in page
    assert "Other, Zed" not in page
    assert "your classes" in page
    assert f"#learner-{mine.pk}" in page
    assert "data-print" in page


@pytest.mark.parametrize("role", ["office", "dsl", "headteacher"])
def test_uncollected_list_for_whole_school_roles(client, users, teacher, community, role):
    yesterday = _today() - datetime.timedelta(days=1)
    _hand_in(community["learner"], teacher, day=yesterday)
    _hand_in(community["other_learner"], teacher, day=yesterday)
    client.force_login(users[role])

    today = client.get(reverse("devices:handin_uncollected"))
    then = client.get(f"{reverse('devices:handin_uncollected')}?date={_iso(yesterday)}")

    assert today.context["hand_ins"] == []
    assert "Every device handed in on this day has been collected." in today.content.decode()
    assert {h.learner.first_name for h in then.context["hand_ins"]} == {"Amira", "Zed"}
    assert "the whole school" in then.content.decode()


def test_index_lists_the_classes_this_user_keeps(client, teacher, dsl, community):
    _hand_in(community["learner"], teacher)
    client.force_login(teacher)
    response = client.get(reverse("devices:handin_index"))
    assert [c.form_class for c in response.context["class_days"]] == [community["my_class"]]
    page = response.content.decode()
    assert "1 handed in · 0 collected" in page
    assert reverse("devices:handin_school") not in page

    client.force_login(dsl)
    response = client.get(reverse("devices:handin_index"))
    classes = {c.form_class for c in response.context["class_days"]}
    assert classes == {community["my_class"], community["other_class"]}
    assert reverse("devices:handin_school") in response.content.decode()


def test_whole_school_day_counts_each_class_and_the_total(client, teacher, headteacher, community):
    day = _today() - datetime.timedelta(days=3)
    _hand_in(community["learner"], teacher, day=day, switched_off=False)
    stranger = _hand_in(community["other_learner"], teacher, day=day)
    services.hand_in_collect(hand_in=stranger, collected_by="learner", by=headteacher)
    _hand_in(community["other_learner"], teacher)  # another day: not counted
    client.force_login(headteacher)

    response = client.get(f"{reverse('devices:handin_school')}?date={_iso(day)}")

    counts = {c.form_class.name: c for c in response.context["class_days"]}
    assert (counts["3A"].on_roll, counts["3A"].handed_in, counts["3A"].not_switched_off) == (
        2,
        1,
        1,
    )
    assert (counts["3B"].handed_in, counts["3B"].collected, counts["3B"].uncollected) == (1, 1, 0)
    totals = response.context["totals"]
    assert (totals.on_roll, totals.handed_in, totals.collected, totals.uncollected) == (3, 2, 1, 1)


# Dashboard panels --------------------------------------------------------------------


def test_the_teachers_panel_links_to_todays_register(client, teacher, community):
    _hand_in(community["learner"], teacher)
    client.force_login(teacher)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Today&#x27;s hand-in register" in page
    assert f'href="{_class_url(community["my_class"])}"' in page
    assert "1 handed in, 0 collected" in page
    assert "Uncollected devices today" not in page


@pytest.mark.parametrize("role", ["office", "dsl", "headteacher"])
def test_the_uncollected_panel_counts_todays_devices(client, users, teacher, community, role):
    _hand_in(community["learner"], teacher)
    _hand_in(community["other_learner"], teacher)
    client.force_login(users[role])
    page = client.get(reverse("dashboard")).content.decode()
    assert "Uncollected devices today" in page
    assert re.search(r"<strong[^>]*>2</strong> devices handed in today", page)
    assert reverse("devices:handin_uncollected") in page


def test_a_governor_sees_no_register_panel(client, governor, community):
    client.force_login(governor)
    page = client.get(reverse("dashboard")).content.decode()
    assert "hand-in register" not in page.lower()
    assert "Uncollected devices" not in page


# The row's folded actions ------------------------------------------------------------
# Recording an exception, undoing a hand-in and correcting "switched off" are folded in each
# row and fetched when the fold is opened (htmx); without script, the fold's link goes back
# to the register with that row's actions open.


def _actions_url(learner, day=None) -> str:
    url = reverse("devices:handin_actions", args=[learner.pk])
    return f"{url}?date={_iso(day or _today())}"


def _open_url(learner, day=None) -> str:
    url = _class_url(learner.form_class, day or _today())
    return f"{url}&open={learner.pk}#learner-{learner.pk}"


def _row_of(page: str, learner) -> str:
    return page.split(f'id="learner-{learner.pk}"', 1)[1].split("</li>", 1)[0]


def test_the_register_folds_each_rows_secondary_actions(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)
    _hand_in(learner, teacher)

    page = client.get(_class_url(community["my_class"])).content.decode()
    row = _row_of(page, learner)
    assert "Collected by the learner" in row  # the next step stays in the row
    assert "Record an exception, undo or correct<span" in row
    assert f'hx-get="{_actions_url(learner)}" hx-trigger="toggle once"' in row
    assert f'<a href="{_actions_url(learner)}">Show these actions</a>' in row
    # the folded forms are not drawn until asked for
    assert "Undo<span" not in row
    assert 'name="kind"' not in row
    assert "It was not switched off" not in row


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("outsider", 403),
        ("governor", 403),
        ("staff", 200),
        ("office", 200),
        ("deputy_dsl", 200),
        ("headteacher", 200),
        ("dsl", 200),
    ],
)
def test_folded_actions_at_each_role(client, users, teacher, community, role, status):
    learner = community["learner"]
    _hand_in(learner, teacher)
    client.force_login(users[role])

    response = client.get(_actions_url(learner), headers=HTMX)
    assert response.status_code == status
    if status != 200:
        return
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert 'Undo<span class="visually-hidden"> the hand-in of Amira Khan' in fragment
    assert "It was not switched off" in fragment
    assert 'name="kind" value="seen_or_used"' in fragment
    assert 'value="not_handed_in"' not in fragment  # handed in: not "kept back"
    # without script: the register, with this row's actions open
    plain = client.get(_actions_url(learner))
    assert plain.status_code == 302
    assert plain["Location"] == _open_url(learner)


def test_folded_actions_need_a_login(client, community):
    response = client.get(_actions_url(community["learner"]), headers=HTMX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_folded_actions_of_another_class_are_not_found(client, teacher, community):
    client.force_login(teacher)
    response = client.get(_actions_url(community["other_learner"]), headers=HTMX)
    assert response.status_code == 404


@pytest.mark.parametrize("raw", ["yesterday", "2026-02-30", "9999-01-01", "<b>x</b>"])
def test_folded_actions_for_a_bad_date_say_why(client, teacher, community, raw):
    client.force_login(teacher)
    url = reverse("devices:handin_actions", args=[community["learner"].pk])
    for headers in (HTMX, {}):
        response = client.get(url, {"date": raw}, headers=headers)
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/plain")
        text = response.content.decode()
        assert "not a date" in text or "in the future" in text


def test_folded_actions_of_a_learner_not_on_roll_that_day_are_refused(client, teacher, community):
    learner = community["learner"]
    learner.joined = _today()
    learner.save()
    client.force_login(teacher)
    yesterday = _today() - datetime.timedelta(days=1)
    response = client.get(_actions_url(learner, yesterday), headers=HTMX)
    assert response.status_code == 400
    assert "was not on roll on" in response.content.decode()


def test_folded_actions_before_the_hand_in_are_the_exceptions(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)
    page = client.get(_class_url(community["my_class"])).content.decode()
    assert "Record an exception<span" in _row_of(page, learner)

    fragment = client.get(_actions_url(learner), headers=HTMX).content.decode()
    assert f'name="kind" value="not_handed_in" id="exception-{learner.pk}-1" checked' in fragment
    assert "Undo" not in fragment
    assert reverse("devices:handin_exception", args=[learner.pk]) in fragment


def test_the_register_opens_a_rows_actions_when_asked(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)
    _hand_in(learner, teacher)

    page = client.get(_open_url(learner).split("#")[0]).content.decode()
    row = _row_of(page, learner)
    assert f'<details class="handin-more" id="more-{learner.pk}" open>' in row
    assert "Undo<span" in row
    assert 'name="kind" value="seen_or_used"' in row
    # another row stays folded; a nonsense `open` is ignored
    for raw in ("abc", "-1", "99999999", "", "²", "٣", "9" * 5000):
        response = client.get(_class_url(community["my_class"]), {"open": raw})
        assert response.status_code == 200
        assert " open>" not in response.content.decode()


def test_a_refused_exception_comes_back_open_with_what_was_typed(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)
    _hand_in(learner, teacher)

    # handed in, so "kept a phone back" is refused
    response = _post(
        client,
        "handin_exception",
        learner.pk,
        headers=HTMX,
        kind="not_handed_in",
        details="Under the desk <b>",
    )
    assert response.status_code == 200
    row = row_htmx = response.content.decode()
    assert "data-error" in row
    assert f'<details class="handin-more" id="more-{learner.pk}" open>' in row
    assert 'value="Under the desk &lt;b&gt;"' in row
    assert 'name="kind" value="seen_or_used"' in row
    assert not HandInException.objects.exists()

    # without script: back to the register with the row open and the details kept, once
    plain = _post(
        client, "handin_exception", learner.pk, kind="not_handed_in", details="Under the desk"
    )
    assert plain.status_code == 302
    assert plain["Location"] == _open_url(learner)
    page = client.get(plain["Location"])
    [message] = [str(m) for m in page.context["messages"]]
    # the same reason; without script it also says what was typed, as the form it goes
    # back into is drawn by another page
    reason = message.split(" What you wrote:")[0]
    assert escape(reason) in row_htmx
    assert message.endswith("What you wrote: “Under the desk”")
    row = _row_of(page.content.decode(), learner)
    assert 'value="Under the desk"' in row
    again = _row_of(client.get(plain["Location"]).content.decode(), learner)
    assert 'value="Under the desk"' not in again


def test_a_refused_undo_comes_back_with_the_actions_open(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)
    _setup(client, "handin_mark", learner.pk)
    _setup(client, "handin_collect", learner.pk, collected_by="learner")

    plain = _post(client, "handin_undo", learner.pk)
    assert plain["Location"] == _open_url(learner)
    # a tap that is refused keeps the plain way back to the row
    tap = _post(client, "handin_collect", learner.pk, collected_by="learner")
    assert tap["Location"] == f"{_class_url(community['my_class'], _today())}#learner-{learner.pk}"


def test_a_saved_exception_closes_the_fold(client, teacher, community):
    learner = community["learner"]
    client.force_login(teacher)
    response = _post(
        client, "handin_exception", learner.pk, headers=HTMX, kind="seen_or_used", details="x"
    )
    row = response.content.decode()
    assert "Saved: exception for Amira Khan: phone seen, heard or used" in row
    assert " open>" not in row
    assert HandInException.objects.get().details == "x"


# Query counts ------------------------------------------------------------------------

# Every page: the session, the user, the user's roles; the layout's school and policy
# version; and the session saved again (idle timeout slides): savepoint, update, release.
_EVERY_PAGE = 3 + 2 + 3
# An action answered with a redirect: the same, without the layout's two reads.
_EVERY_ACTION = 3 + 3
# A teacher's classes are found through their staff record (devices.access.staff_member_of).
_STAFF_RECORD = 1


def _count(client, method, url, data=None, headers=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(url, data or {}, headers=headers or {})
    assert response.status_code in (200, 302), (url, response.status_code)
    return len(ctx.captured_queries)


def _collect(hand_in, by) -> None:
    parent = hand_in.learner.parents_carers.first()
    services.hand_in_collect(
        hand_in=hand_in,
        collected_by="parent_carer" if parent else "learner",
        parent=parent,
        by=by,
    )


def _history_of_the_class(form_class, teacher, learners) -> None:
    """Past days' hand-ins, collected: rows the page must not read."""
    for days_ago in (1, 2, 3):
        for learner in learners:
            day = _today() - datetime.timedelta(days=days_ago)
            _collect(_hand_in(learner, teacher, day=day), teacher)


def _today_half_marked(learners, teacher) -> None:
    """Today: half the learners handed in, and half of those collected."""
    for n, learner in enumerate(learners[::2]):
        hand_in = _hand_in(learner, teacher)
        if n % 2:
            _collect(hand_in, teacher)


def test_class_register_query_count_is_pinned(client, teacher, community):
    form_class = community["my_class"]
    client.force_login(teacher)
    url = _class_url(form_class)

    _grow(form_class, 8)  # 10 learners
    learners = list(form_class.learners.all())
    _history_of_the_class(form_class, teacher, learners)
    _today_half_marked(learners, teacher)
    # a day with no exceptions asks for none (most days)
    no_exceptions = _count(client, "get", url)
    _exception_today(learners[1], teacher)
    small = _count(client, "get", url)

    grown = _grow(form_class, 30)  # 40 learners
    _history_of_the_class(form_class, teacher, grown)
    _today_half_marked(grown, teacher)
    for learner in grown[1:20:2]:
        _exception_today(learner, teacher)
    large = _count(client, "get", url)

    assert small == large, f"{small} queries with 10 learners, {large} with 40"
    # the teacher's staff record; the class, checked against the classes they teach; the
    # learners on roll that day, each with that day's hand-in and who received, released
    # and collected it joined, and whether they have an exception that day; their
    # exemptions in force; that day's exceptions with who recorded them; the parents and
    # carers of those whose device is still to collect
    assert large == _EVERY_PAGE + _STAFF_RECORD + 5
    assert no_exceptions == large - 1


def _exception_today(learner, teacher) -> None:
    services.hand_in_exception_record(
        learner=learner,
        day=_today(),
        kind=EXCEPTION_KINDS[services.phone_approach()][0],
        by=teacher,
    )


def test_whole_class_marking_query_count_is_pinned(client, teacher, community):
    client.force_login(teacher)
    counts = []
    for size in (10, 30):
        form_class = factories.FormClassFactory()
        form_class.teachers.add(teacher.staff_member)
        learners = _grow(form_class, size)
        data = {"date": _iso(_today()), "learner": [lr.pk for lr in learners]}
        url = reverse("devices:handin_mark_class", args=[form_class.pk])
        counts.append(_count(client, "post", url, data))
        assert HandIn.objects.filter(learner__form_class=form_class).count() == size

    small, large = counts
    assert small == large, f"{small} queries for 10 learners, {large} for 30"
    # the teacher's staff record; the class, checked against the classes they teach; then,
    # in the transition function's transaction (savepoint, release): the class's teachers
    # checked (may keep the register), the school's approach (hand-ins at all?), the chosen
    # learners on roll, the day's rows already there, one insert of the new rows and one of
    # their history rows
    assert large == _EVERY_ACTION + _STAFF_RECORD + 1 + 2 + 6


def test_one_tap_query_count_does_not_grow_with_the_class(client, teacher, community):
    """The htmx answer to a tap redraws the row and the class's counts: fixed queries."""
    form_class = community["my_class"]
    client.force_login(teacher)
    _grow(form_class, 8)
    first, second = list(form_class.learners.all())[:2]
    small = _count(
        client,
        "post",
        reverse("devices:handin_mark", args=[first.pk]),
        {"date": _iso(_today())},
        HTMX,
    )
    _grow(form_class, 30)
    large = _count(
        client,
        "post",
        reverse("devices:handin_mark", args=[second.pk]),
        {"date": _iso(_today())},
        HTMX,
    )
    assert small == large, f"{small} queries with 10 learners, {large} with 40"
    # the teacher's staff record; the learner, checked against the classes they teach; in
    # the transition function's transaction (savepoint, release): the class's teachers
    # checked, the school's approach, no "kept a phone back" exception that day, the
    # learner's row that day locked if there is one, the insert and its history row; then
    # the class redrawn for the counts: learners with the day's rows (and whether they have
    # an exception that day: none here, so none are read), their exemptions in force, the
    # parents of those whose device is still to collect, and the school's approach (the
    # layout's read of the school, which an htmx answer does not draw)
    assert large == _EVERY_ACTION + _STAFF_RECORD + 1 + 2 + 6 + 4


@pytest.mark.parametrize(
    ("name", "role", "expected"),
    [
        # the classes with their learners on roll counted; that day's hand-ins grouped by class
        ("devices:handin_index", "staff", _EVERY_PAGE + _STAFF_RECORD + 2),
        ("devices:handin_index", "dsl", _EVERY_PAGE + 2),
        ("devices:handin_school", "dsl", _EVERY_PAGE + 2),
        # the uncollected hand-ins, with learner, class and receiver joined
        ("devices:handin_uncollected", "staff", _EVERY_PAGE + _STAFF_RECORD + 1),
        ("devices:handin_uncollected", "office", _EVERY_PAGE + 1),
    ],
)
def test_list_query_counts_are_pinned(client, users, teacher, community, name, role, expected):
    client.force_login(users[role])
    url = reverse(name)
    form_class = community["my_class"]

    learners = _grow(form_class, 8)
    _history_of_the_class(form_class, teacher, learners)
    for learner in learners:
        _hand_in(learner, teacher)
    small = _count(client, "get", url)

    for _ in range(3):
        extra = factories.FormClassFactory()
        extra.teachers.add(teacher.staff_member)
        for learner in _grow(extra, 10):
            _hand_in(learner, teacher)
    large = _count(client, "get", url)

    assert small == large, f"{name} as {role}: {small} queries, then {large}"
    assert large == expected, f"{name} as {role}: {large} queries (pinned {expected})"


def test_what_was_typed_is_kept_for_its_learner_and_day_only(client, teacher, community):
    """Carried in the session by a refusal's redirect (no script): used once, by the
    register of that day, and taken from the session by any register page."""
    learner = community["learner"]
    client.force_login(teacher)
    _hand_in(learner, teacher)
    refused = _post(
        client, "handin_exception", learner.pk, kind="not_handed_in", details="In a coat pocket"
    )
    assert refused.status_code == 302
    # the register of another day, with the row open: not filled in, and the text is gone
    yesterday = _today() - datetime.timedelta(days=1)
    page = client.get(_open_url(learner, yesterday).split("#")[0]).content.decode()
    assert "In a coat pocket" not in page.split("<main", 1)[1].split('role="alert"')[0]
    assert "handin_typed" not in client.session
    again = client.get(_open_url(learner).split("#")[0]).content.decode()
    assert 'value="In a coat pocket"' not in again
    # a refusal redirected to a register that answers 400 leaves nothing behind either
    _post(client, "handin_exception", learner.pk, kind="not_handed_in", details="Bag")
    assert "handin_typed" in client.session
    bad = client.get(_class_url(community["my_class"]), {"date": "not a date", "open": learner.pk})
    assert bad.status_code == 400
    assert "handin_typed" not in client.session


def test_a_refusal_with_no_form_to_keep_the_details_says_them(client, teacher, users, community):
    """An exemption approved while the register was open: the exception is refused and the
    row has no exception form any more; the details typed are said with the refusal."""
    learner = community["learner"]
    client.force_login(teacher)
    exemption_in(
        Exemption.Status.ACTIVE,
        learner=learner,
        requester=users["staff"],
        head=users["headteacher"],
    )
    response = _post(
        client,
        "handin_exception",
        learner.pk,
        headers=HTMX,
        kind="seen_or_used",
        details="Filming in the playground",
    )
    assert response.status_code == 200
    row = response.content.decode()
    error = row.split("data-error>", 1)[1].split("</p>", 1)[0]
    assert "What you wrote: “Filming in the playground”" in error
    assert 'name="details"' not in row
    assert not HandInException.objects.exists()


def test_a_register_for_the_first_day_there_is_has_no_previous_day(client, teacher, community):
    client.force_login(teacher)
    response = client.get(_class_url(community["my_class"]), {"date": "0001-01-01"})
    assert response.status_code == 200
    assert "Previous day" not in response.content.decode()


def test_learners_and_their_parents_are_listed_by_last_then_first_name(client, teacher):
    form_class = factories.FormClassFactory()
    form_class.teachers.add(teacher.staff_member)
    names = [("Zoe", "Adams"), ("Amir", "Patel"), ("Bea", "Adams"), ("Amy", "Adams")]
    names += [("Luca", "de Souza"), ("Élodie", "Dubois"), ("Eve", "Dubois"), ("Ed", "Dubois")]
    learners = [
        factories.LearnerFactory(form_class=form_class, first_name=f, last_name=last)
        for f, last in names
    ]
    patel = learners[1]
    for first, last in [("Rani", "Patel"), ("Dev", "Patel"), ("Ali", "Khan"), ("Jo", "al-Amin")]:
        factories.ParentCarerFactory(learners=[patel], first_name=first, last_name=last)
    _hand_in(patel, teacher)  # waiting to be collected: the form offers the parents
    client.force_login(teacher)
    page = client.get(_class_url(form_class)).content.decode()
    rows = re.findall(r'<span class="fw-semibold">([^<]+)</span>', page)
    # as a reader sorts names: "de Souza" with the Ds, "Élodie" with the Es
    assert rows == [
        "Adams, Amy",
        "Adams, Bea",
        "Adams, Zoe",
        "de Souza, Luca",
        "Dubois, Ed",
        "Dubois, Élodie",
        "Dubois, Eve",
        "Patel, Amir",
    ]
    offered = re.findall(r'<option value="\d+">([^<(]+)', page)
    assert [o.strip() for o in offered] == ["Jo al-Amin", "Ali Khan", "Dev Patel", "Rani Patel"]
