"""compliance.listing writes dates and URLs in Python for long pages (issue 8): what it
writes must be exactly what the template filters and `{% url %}` would have written."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from compliance.listing import day_and_time, iso_moment, short_day, url_maker

UTC = datetime.UTC
# across the year and both sides of the clocks changing (GMT and BST), around midnight
MOMENTS = [
    datetime.datetime(2026, month, day, hour, minute, 5, 123456, tzinfo=UTC)
    for month, day in ((1, 1), (3, 29), (5, 9), (10, 25), (12, 31))
    for hour, minute in ((0, 0), (7, 5), (23, 30))
]


def date_filter(moment: datetime.datetime, format: str) -> str:
    """What `{{ moment|date:format }}` writes in a template (in local time, as there)."""
    return Template("{{ moment|date:format }}").render(
        Context({"moment": moment, "format": format})
    )


@pytest.mark.parametrize("moment", MOMENTS)
def test_moments_are_written_as_the_date_filter_writes_them(moment):
    assert day_and_time(moment) == date_filter(moment, "j F Y, H:i")
    assert iso_moment(moment) == date_filter(moment, "c")
    assert short_day(timezone.localdate(moment)) == date_filter(moment, "j M Y")


def test_moments_are_in_the_schools_time_zone(settings):
    summer = datetime.datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    assert timezone.get_current_timezone() == zoneinfo.ZoneInfo(settings.TIME_ZONE)
    if settings.TIME_ZONE == "Europe/London":
        assert day_and_time(summer) == "2 July 2026, 00:30"
        assert iso_moment(summer).endswith("+01:00")


def test_a_url_is_reversed_once_and_made_for_each_key():
    make = url_maker("incidents:incident_detail")
    for pk in (1, 42, 987654):
        assert make(pk) == reverse("incidents:incident_detail", args=[pk])
